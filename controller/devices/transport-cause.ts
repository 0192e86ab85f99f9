/**
 * gRPC's raw transport texts, given their cause and fix. A peer that accepts TCP and never speaks
 * gRPC yields "Deadline exceeded … Waiting for LB pick"; a server certificate from another CA
 * yields "unable to verify the first certificate" — neither names the peer's nature or the
 * inventory field to change (walkthrough 22).
 */

/** What each raw text means and what to do about it; the first that matches is said. */
const CAUSES: readonly { readonly match: RegExp; readonly says: string }[] = [
  {
    match: /Waiting for LB pick/,
    says: 'the peer accepted the connection but no gRPC session came up (no TLS or HTTP/2 handshake completed): whatever listens there is not a carryover plugin daemon or P4Runtime server, or it hangs; check the address in the inventory (a daemon\'s is its migration.listen) and that the right process serves it',
  },
  {
    match: /unable to verify the first certificate|unable to get local issuer certificate|self[- ]signed certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE/i,
    says: "the peer's certificate is not signed by the CA this controller trusts: set the inventory's controller.tls.ca (plugin daemons) or devices.NAME.tls.ca (switches) to the CA that signed it, or give the peer a certificate from that CA",
  },
  {
    match: /certificate has expired|CERT_HAS_EXPIRED/i,
    says: "the peer's certificate has expired: renew it (or check this machine's clock)",
  },
];

/** `message` with the cause and fix of the raw transport failure it carries appended, or unchanged when none is recognised. */
export function explainTransport(message: string): string {
  const cause = CAUSES.find((c) => c.match.test(message));
  return cause ? `${message}; ${cause.says}` : message;
}
