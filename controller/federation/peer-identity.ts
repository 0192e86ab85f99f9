/**
 * Which peer domain is calling. TLS already verified the caller's certificate against the union
 * of the peers' CAs; here it must also name a peer's controller identity (CN or subjectAltName)
 * AND be signed by that same peer's CA — so a certificate from domain C's CA naming domain A's
 * controller is refused: each CA is trusted for its own peer only.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { certificateIdentities } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';

/** A peer as the server checks it: its name, identity and CA certificate (PEM). */
export interface PeerTrust {
  readonly name: string;
  readonly identity: string;
  readonly caPem: string;
}

/** Whether `cert` (DER) was issued and signed by `caPem`. */
function signedBy(der: Buffer, caPem: string): boolean {
  try {
    const cert = new X509Certificate(der);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/**
 * The peer calling with `cert`. @throws ControllerError PEER_REJECTED naming what the certificate
 * presented and which peers are trusted.
 */
export function callingPeer(cert: Partial<PeerCertificate> | undefined, peers: readonly PeerTrust[]): PeerTrust {
  const ids = certificateIdentities(cert);
  if (ids.length === 0 || !cert?.raw) throw new ControllerError('PEER_REJECTED', 'caller refused: no client certificate; a peer controller connects with mutual TLS');
  const named = peers.filter((p) => ids.includes(p.identity));
  if (named.length === 0) throw new ControllerError('PEER_REJECTED', `caller refused: '${ids.join("', '")}' is not a peer controller of this domain (peers: ${peers.map((p) => `${p.name} as ${p.identity}`).join(', ') || 'none'})`);
  const peer = named.find((p) => signedBy(cert.raw as Buffer, p.caPem));
  if (!peer) throw new ControllerError('PEER_REJECTED', `caller refused: the certificate names '${named.map((p) => p.identity).join("', '")}' but was not issued by ${named.map((p) => `${p.name}'s CA`).join(' or ')}; each peer's CA is trusted for that peer only`);
  return peer;
}
