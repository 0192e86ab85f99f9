/** PEM material for mutual TLS on the migration protocol: given as text, bytes, or a file path. */
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
