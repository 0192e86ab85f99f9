/**
 * Why a mutual-TLS connection fails. gRPC reports a refused handshake as a bare "failed to
 * connect"; after such a failure the client opens one plain TLS connection with the same
 * material and reports what TLS itself says (our certificate refused by the peer, the peer's not
 * signed by our CA, expired, connection refused), so the operator reads the real cause.
 */
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { LoadedTls } from './tls-material.js';

/** The outcome of one diagnostic handshake. */
export type TlsDiagnosis =
  | { readonly kind: 'ok' }
  /** TCP did not connect: the peer is not there. */
  | { readonly kind: 'unreachable'; readonly message: string }
  /** TCP connected, TLS refused (by either side). */
  | { readonly kind: 'refused'; readonly message: string }
  /** TCP connected, and nothing answered our TLS handshake in time: not a TLS server, or one that hangs. */
  | { readonly kind: 'silent'; readonly message: string };

/** Splits `host:port` (IPv6 in brackets). */
function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** Connects once to `address` with `tls` and says how it went (waits at most `timeoutMs`). */
export function diagnoseTls(address: string, tls: LoadedTls, timeoutMs = 3000): Promise<TlsDiagnosis> {
  const { host, port } = hostPort(address);
  const servername = tls.serverName ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    let handshaken = false;
    let tcp = false;
    const socket = connect({ host, port, ca: tls.ca, cert: tls.cert, key: tls.key, ALPNProtocols: ['h2'], ...(servername ? { servername } : {}) });
    const done = (d: TlsDiagnosis): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(d);
    };
    // A peer that accepts TCP and never answers the handshake (field walkthrough 22) is told apart.
    const timer = setTimeout(() => done(tcp && !handshaken ? { kind: 'silent', message: `it accepted the TCP connection but did not answer the TLS handshake within ${timeoutMs} ms` } : { kind: 'ok' }), timeoutMs);
    timer.unref();
    socket.once('connect', () => {
      tcp = true;
    });
    socket.once('secureConnect', () => {
      handshaken = true;
    });
    // A server that accepted our certificate speaks first (HTTP/2 settings); one that did not
    // sends an alert, which arrives as an error after our side of the handshake completed.
    socket.once('data', () => done({ kind: 'ok' }));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const tcp = !handshaken && (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || e.code === 'ECONNRESET');
      done(tcp ? { kind: 'unreachable', message: e.message } : { kind: 'refused', message: e.message });
    });
    socket.once('close', () => done(handshaken ? { kind: 'refused', message: 'the peer closed the connection right after the TLS handshake (it refused our certificate)' } : { kind: 'unreachable', message: 'connection closed before the TLS handshake' }));
  });
}
