/** PEM material for mutual TLS on the migration protocol: given as text, bytes, or a file path. */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PemSource } from 'p4runtime-ts';
import { EdgePluginError } from '../errors.js';

/** One side's mutual-TLS material: the CA that signs the peers, and our certificate and key. */
export interface MutualTls {
  readonly ca: PemSource;
  readonly cert: PemSource;
  readonly key: PemSource;
  /** The name the server's certificate must carry, when it differs from the address's host. */
  readonly serverName?: string;
}

/** PEM loaded into Buffers. */
export interface LoadedTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly serverName: string | undefined;
}

function pem(src: PemSource | undefined, field: string): Buffer {
  if (src === undefined) throw new EdgePluginError('BAD_OPTIONS', `${field}: missing; pass the PEM text or a path to a PEM file (mutual TLS is required)`);
  if (typeof src !== 'string') return Buffer.from(src);
  if (src.includes('-----BEGIN')) return Buffer.from(src);
  try {
    return readFileSync(src);
  } catch (e) {
    throw new EdgePluginError('BAD_OPTIONS', `${field}: cannot read PEM file "${src}" (${(e as Error).message})`, { cause: e });
  }
}

/** Loads `t`; `what` prefixes the field names in errors. @throws EdgePluginError BAD_OPTIONS. */
export function loadMutualTls(t: MutualTls | undefined, what: string): LoadedTls {
  if (!t) throw new EdgePluginError('BAD_OPTIONS', `${what}: tls is required ({ ca, cert, key }); the migration protocol runs only over mutual TLS`);
  return { ca: pem(t.ca, `${what}.ca`), cert: pem(t.cert, `${what}.cert`), key: pem(t.key, `${what}.key`), serverName: t.serverName };
}

/** extendedKeyUsage OIDs (RFC 5280 §4.2.1.12) by what they allow. */
const EKU: Readonly<Record<string, string>> = { '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth', '2.5.29.37.0': 'anyExtendedKeyUsage' };

/**
 * Why `cert` and `key` cannot be this side's identity for mutual TLS as a `use` (a daemon serves,
 * a controller calls), or undefined when they can: the key must be the certificate's, and an
 * certificate must be valid at `nowMs`, and an extendedKeyUsage, when the certificate has one,
 * must allow that use — else the peer's TLS refuses the handshake with words that name neither file.
 *
 * @example
 * tlsIdentityProblem(readFileSync('edge-1.pem'), readFileSync('edge-1.key'), 'client');
 * // "the certificate (CN=edge-1) is not for client authentication: its extendedKeyUsage allows serverAuth only; …"
 */
export function tlsIdentityProblem(cert: Buffer | string, key: Buffer | string, use: 'client' | 'server', nowMs = Date.now()): string | undefined {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (e) {
    return `the certificate does not parse (${(e as Error).message})`;
  }
  const who = x.subject.replace(/\n/g, ', ');
  try {
    if (!x.checkPrivateKey(createPrivateKey(key))) return `the key is not the private key of the certificate (${who}); give the key it was issued with`;
  } catch (e) {
    return `the key does not parse (${(e as Error).message})`;
  }
  // Every peer's TLS refuses a certificate outside its validity period.
  const from = new Date(x.validFrom);
  const to = new Date(x.validTo);
  if (nowMs > to.getTime()) return `the certificate (${who}) expired at ${to.toISOString()} (valid from ${from.toISOString()}); renew it`;
  if (nowMs < from.getTime()) return `the certificate (${who}) is not valid before ${from.toISOString()} (this host's clock reads ${new Date(nowMs).toISOString()}); check the clock here and where it was issued, or issue it again`;
  // Node 20 names the extendedKeyUsage OIDs `keyUsage`; later versions `extKeyUsage`.
  const usages = (x as { extKeyUsage?: string[] }).extKeyUsage ?? (x.keyUsage as string[] | undefined);
  const wanted = use === 'client' ? '1.3.6.1.5.5.7.3.2' : '1.3.6.1.5.5.7.3.1';
  if (usages === undefined || usages.includes(wanted) || usages.includes('2.5.29.37.0')) return undefined;
  const allows = usages.map((o) => EKU[o] ?? o).join(', ') || 'nothing';
  return `the certificate (${who}) is not for ${use} authentication: its extendedKeyUsage allows ${allows} only; issue it with extendedKeyUsage ${EKU[wanted] ?? wanted}${use === 'client' ? '' : ' (a daemon sending peer to peer needs clientAuth too)'}`;
}

/** The certificates of a PEM text, in order (a block that does not parse is left out). */
function pemCertificates(pem: Buffer | string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const m of String(pem).matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) {
    try {
      out.push(new X509Certificate(m[0]));
    } catch {
      // Reported where the file is checked as a whole.
    }
  }
  return out;
}

const issuedBy = (x: X509Certificate, by: X509Certificate): boolean => x.checkIssued(by) && x.verify(by.publicKey);

/**
 * Why the CAs in `ca` do not verify `cert` (its first certificate, through any intermediates the
 * same text carries), or undefined when they do — or when either holds no certificate to compare.
 * @example
 * caIssuerProblem(readFileSync('edge-1.pem'), readFileSync('site-ca.pem')); // "it was issued by CN=other CA; the CA file holds CN=site CA"
 */
export function caIssuerProblem(cert: Buffer | string, ca: Buffer | string): string | undefined {
  const chain = pemCertificates(cert);
  const roots = pemCertificates(ca);
  let at = chain[0];
  if (at === undefined || roots.length === 0) return undefined;
  const leaf = at;
  for (let hops = 0; hops <= chain.length; hops++) {
    const here: X509Certificate = at;
    if (roots.some((r) => issuedBy(here, r))) return undefined;
    const next = chain.find((c) => c !== here && issuedBy(here, c));
    if (!next) break;
    at = next;
  }
  const name = (x: X509Certificate): string => x.subject.replace(/\n/g, ', ');
  return `it (${name(leaf)}) was issued by ${at.issuer.replace(/\n/g, ', ')}; the CA file holds ${roots.map(name).join(' and ')}`;
}

/** What a file's PEM blocks say they hold ("a CERTIFICATE", "an EC PRIVATE KEY"), or that it holds no PEM. */
export function pemHolds(text: string): string {
  const kinds = [...new Set([...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1] as string))];
  if (kinds.length === 0) return 'no PEM block';
  return kinds.map((k) => `${/^[AEIOU]/.test(k) ? 'an' : 'a'} ${k}`).join(' and ');
}
