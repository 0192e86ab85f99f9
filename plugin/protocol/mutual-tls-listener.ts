/**
 * A gRPC server's mutual-TLS listener that says who it refused and why. grpc-js performs the TLS
 * handshake inside its own HTTP/2 server and keeps a refused handshake to itself, so the side that
 * refuses a caller (a wrong CA, no client certificate, an expired one) logged nothing and only the
 * caller learnt the cause. Here the handshake is ours (node:tls); an authorized connection is
 * handed to the gRPC server through its connection injector, where the peer certificate is still
 * what `call.getAuthContext()` returns.
 *
 * @example
 * const server = new Server();
 * server.addService(SERVICE, impl);
 * const l = await listenMutualTls(server, { listen: '127.0.0.1:0', ca, cert, key, logger, service: 'migration protocol' });
 * // … l.port; at the end: await l.close(); await shutDownServer(server);
 */
import { ServerCredentials } from '@grpc/grpc-js';
import type { Server } from '@grpc/grpc-js';
import { createServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'p4runtime-ts';

/** Where and with what material to listen. */
export interface MutualTlsListenOptions {
  /** host:port (IPv6 in brackets); port 0 picks a free one. */
  readonly listen: string;
  /** The CA (or CAs, concatenated) a caller's certificate must chain to. */
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly logger: Logger;
  /** What the log lines call this listener ("migration protocol", "federation"). */
  readonly service: string;
  /** How long a caller has to complete its TLS handshake, and then to send its first bytes, before it is closed. Default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  readonly handshakeTimeoutMs?: number;
}

/** A caller's TLS handshake must complete within this (ms): on loopback or a WAN it takes a few round trips. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** A listening mutual-TLS endpoint. */
export interface MutualTlsListener {
  /** The bound port. */
  readonly port: number;
  /** How many handshakes were refused since it started. */
  refused(): number;
  /** Stops accepting connections (those handed to the gRPC server are closed by its shutdown). */
  close(): Promise<void>;
}

/** Splits `host:port`, IPv6 in brackets. */
function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** What an operator can do about one refused caller, from Node's verification code (e.g. CERT_HAS_EXPIRED). */
export function refusedHandshakeHint(reason: string): string {
  if (reason === 'NO_CLIENT_CERTIFICATE') return 'the caller sent no client certificate: give it one (mutual TLS), issued by this side\'s CA';
  if (/EXPIRED|NOT_YET_VALID/.test(reason)) return 'the caller\'s certificate is outside its validity period: renew it';
  if (/PURPOSE/.test(reason)) return 'the caller\'s certificate is not for client authentication: issue it with extendedKeyUsage clientAuth';
  if (/ISSUER|SELF_SIGNED|VERIFY_LEAF|UNTRUSTED|REJECTED|SIGNATURE/.test(reason)) return 'the caller\'s certificate is not signed by a CA this side trusts: issue it from this side\'s CA, or add its CA here';
  return 'check the caller\'s TLS material (CA, certificate, key)';
}

/** What to change in `field` (an address to listen on, like `example`) when it cannot be bound, from the listen error's words. */
export function listenErrorHint(message: string, field: string, example: string): string {
  if (/EADDRINUSE/.test(message)) return `another process listens there (a second daemon for this switch?): stop it, or choose a free port in ${field}`;
  if (/EADDRNOTAVAIL/.test(message)) return `that address is not one of this host's: give one of its addresses, or 0.0.0.0, in ${field}`;
  if (/EACCES/.test(message)) return `ports below 1024 need privileges: choose a port above 1023 in ${field}`;
  return `check ${field} (host:port of this host, e.g. ${example})`;
}

/**
 * Hands an authorized connection to the gRPC server once its first bytes (the HTTP/2 preface)
 * have arrived, or closes it when none arrive within `ms`. grpc-js ends an idle HTTP/2 session
 * with a graceful close, which never ends one whose peer sent no preface: an authenticated caller
 * that said nothing held a descriptor for good (the last note's "left alone"). The bytes stay in
 * the socket's buffer, where Node's HTTP/2 session reads them first.
 */
function handOverOnPreface(socket: TLSSocket, injector: { injectConnection(s: TLSSocket): void }, ms: number, o: MutualTlsListenOptions): void {
  const from = `${socket.remoteAddress}:${socket.remotePort}`;
  const onReadable = (): void => {
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('close', onClose);
    if (socket.destroyed) return;
    // 'readable' with nothing buffered is the end of the stream: nothing to hand over.
    if (socket.readableLength === 0) socket.destroy();
    else injector.injectConnection(socket);
  };
  const onClose = (): void => {
    clearTimeout(timer);
    socket.off('readable', onReadable);
  };
  const timer = setTimeout(() => {
    socket.off('readable', onReadable);
    o.logger.debug(`${o.service}: closed an authenticated connection that sent nothing`, { from, waitedMs: ms });
    socket.destroy();
  }, ms);
  timer.unref();
  socket.on('readable', onReadable);
  socket.once('close', onClose);
}

/**
 * Listens on `o.listen` for `server`, requiring a client certificate from `o.ca`.
 * @throws the listen error (EADDRINUSE, EADDRNOTAVAIL, EACCES…), for the caller to explain.
 */
export async function listenMutualTls(server: Server, o: MutualTlsListenOptions): Promise<MutualTlsListener> {
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  // The certificate is checked here, after the handshake, rather than by OpenSSL inside it: Node
  // drops a connection it refused during the handshake without saying why or from where.
  const tls = createServer({ ca: o.ca, cert: o.cert, key: o.key, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['h2'], handshakeTimeout: o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS });
  let refused = 0;
  const prefaceMs = o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  tls.on('secureConnection', (socket: TLSSocket) => {
    // The HTTP/2 session handles the socket's errors once injected; this one keeps an early
    // reset from being an unhandled 'error' event.
    socket.on('error', (e) => o.logger.debug(`${o.service}: connection error`, { from: `${socket.remoteAddress}:${socket.remotePort}`, error: e.message }));
    if (!socket.authorized) {
      refused++;
      const presented = socket.getPeerCertificate();
      const reason = presented.raw ? String(socket.authorizationError) : 'NO_CLIENT_CERTIFICATE';
      o.logger.warn(`${o.service}: refused a caller in the TLS handshake`, { from: `${socket.remoteAddress}:${socket.remotePort}`, reason, ...(presented.raw ? { subject: presented.subject.CN } : {}), hint: refusedHandshakeHint(reason) });
      socket.destroy();
      return;
    }
    handOverOnPreface(socket, injector, prefaceMs, o);
  });
  tls.on('tlsClientError', (e: NodeJS.ErrnoException, socket: TLSSocket) => {
    o.logger.debug(`${o.service}: a connection closed before its TLS handshake completed`, { from: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, error: e.message });
    // With a listener for this event Node leaves the socket open: a caller that never completes
    // its handshake (a port scan, a stuck peer) held a descriptor for good (field walkthrough 18).
    socket.destroy();
  });
  const { host, port } = hostPort(o.listen);
  await new Promise<void>((resolve, reject) => {
    tls.once('error', reject);
    tls.listen({ host, port }, () => {
      tls.off('error', reject);
      resolve();
    });
  });
  tls.on('error', (e) => o.logger.error(`${o.service}: listener error`, { error: e.message }));
  const bound = tls.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : port,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        injector.destroy();
        if (!tls.listening) resolve();
        else tls.close(() => resolve());
      }),
  };
}
