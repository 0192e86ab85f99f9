/**
 * Who is calling: the identities a client certificate names (its subject CN and its
 * subjectAltName DNS and URI entries), checked against the callers a plugin's configuration
 * trusts. The certificate itself was verified by TLS against the configured CA.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { DeviceApiFailure } from '../device-api/migration-sessions.js';

/** The identities a certificate names: CN, then SAN DNS and URI entries. */
export function certificateIdentities(cert: Partial<PeerCertificate> | undefined): string[] {
  if (!cert) return [];
  const out: string[] = [];
  const cn = cert.subject?.CN;
  for (const c of Array.isArray(cn) ? cn : cn ? [cn] : []) out.push(c);
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*(DNS|URI):(.+?)\s*$/.exec(part);
    if (m?.[2]) out.push(m[2]);
  }
  return out;
}

/** The identities a PEM certificate names (as certificateIdentities does for a peer's): what a peer's trustedCallers must list to trust its holder. */
export function pemIdentities(pem: Buffer | string): string[] {
  const x = new X509Certificate(pem);
  const cn = x.subject.split('\n').flatMap((l) => (l.startsWith('CN=') ? [l.slice(3)] : []));
  // A CN repeated as a SAN (the usual way) is one name.
  return [...new Set(certificateIdentities({ subject: { CN: cn } as PeerCertificate['subject'], subjectaltname: x.subjectAltName ?? '' }))];
}

/**
 * The caller's identity when one of them is trusted.
 * @throws DeviceApiFailure UNAUTHORIZED naming the identities presented and those trusted.
 */
export function trustedCaller(cert: Partial<PeerCertificate> | undefined, trusted: readonly string[]): string {
  const ids = certificateIdentities(cert);
  if (ids.length === 0) throw new DeviceApiFailure('UNAUTHORIZED', 'caller refused: no client certificate identity (CN or subjectAltName); connect with mutual TLS');
  const ok = ids.find((i) => trusted.includes(i));
  if (ok === undefined) throw new DeviceApiFailure('UNAUTHORIZED', `caller refused: '${ids.join("', '")}' is not a trusted caller of this plugin (trusted: ${trusted.join(', ') || 'none'})`);
  return ok;
}
