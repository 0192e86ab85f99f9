/**
 * Where and how an HTTP/2 connection to a gRPC server is made: the URL and `:authority`, the
 * SETTINGS we send, and for TLS our own socket (SNI and the name the certificate is checked
 * against). Plain TCP, TLS, mutual TLS, or a Unix socket.
 */
import type { SecureClientSessionOptions } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { ResolvedCredentials } from './options.js';

/** Per-stream and connection receive windows: large reads are not held to 64 KiB round trips. */
export const STREAM_WINDOW_BYTES = 4 << 20;
export const CONNECTION_WINDOW_BYTES = 16 << 20;
export const USER_AGENT = 'p4runtime-ts http2';

/** The URL authority and connect options for an address. */
export function endpoint(o: { readonly address: string; readonly credentials: ResolvedCredentials }): { url: string; authority: string; options: SecureClientSessionOptions } {
  const c = o.credentials;
  // A Write's per-update errors come in one trailer: take header lists well past Node's 64 KiB
  // default (nghttp2 still refuses any one field over 64 KiB; see Http2Connection.checkAlive).
  const settings = { enablePush: false, initialWindowSize: STREAM_WINDOW_BYTES, maxHeaderListSize: 16 << 20 };
  const serverName = c.kind === 'insecure' ? undefined : c.serverName;
  const unix = o.address.startsWith('unix:');
  const colon = o.address.lastIndexOf(':');
  const host = unix ? 'localhost' : o.address.slice(0, colon).replace(/^\[|\]$/g, '');
  const target = unix ? { path: o.address.slice('unix:'.length).replace(/^\/\/(?=\/)/, '') } : { host, port: Number(o.address.slice(colon + 1)) };
  const authority = serverName ?? (unix ? host : o.address);
  if (c.kind === 'insecure') {
    return { url: `http://${authority}`, authority, options: unix ? { settings, createConnection: () => net.connect(target) } : { settings } };
  }
  // Our own TLS socket: http2.connect would set the URL's host as SNI, an IP address included,
  // which RFC 6066 forbids (Node warns, DEP0123). SNI is a host name or nothing; the certificate
  // is checked against `serverName` when given, else against the host as written.
  const tlsOptions: tls.ConnectionOptions = c.kind === 'tls' ? { ...(c.ca ? { ca: c.ca } : {}) } : { ca: c.ca, cert: c.cert, key: c.key };
  const name = serverName ?? host;
  const sni = net.isIP(name) ? undefined : name;
  const checkServerIdentity = serverName === undefined ? undefined : (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(serverName, cert);
  const createConnection = (): tls.TLSSocket =>
    tls.connect({ ...target, ...tlsOptions, ...(sni === undefined ? {} : { servername: sni }), ...(checkServerIdentity ? { checkServerIdentity } : {}), ALPNProtocols: ['h2'] });
  return { url: `https://${unix ? authority : o.address}`, authority, options: { settings, createConnection } };
}

