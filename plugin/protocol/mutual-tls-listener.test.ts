import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { Server, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { silentLogger } from 'p4runtime-ts';
import { afterAll, describe, expect, it } from 'vitest';
import { TestPki, opensslAvailable } from '../testing/test-pki.js';
import { listenMutualTls } from './mutual-tls-listener.js';

describe.skipIf(!opensslAvailable())('mutual-TLS listener — callers that never finish their handshake (needs openssl)', () => {
  const pki = new TestPki();
  afterAll(() => pki.dispose());

  /** Resolves with how long the server took to close a connection that `send`s and then waits. */
  async function closedAfter(port: number, send: Buffer | undefined): Promise<number> {
    const t0 = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => (send ? socket.write(send) : undefined));
    socket.on('error', () => undefined);
    return new Promise((resolve) => socket.on('close', () => resolve(Date.now() - t0)));
  }

  it('mutual-TLS listener — a connection that sends nothing, or something that is no handshake, is closed by the listener at its handshake timeout (walkthrough 18: one stayed open 400 s)', async () => {
    const ca = pki.ca('listener-ca');
    const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['DNS:edge-1'] });
    const grpc = new Server();
    const l = await listenMutualTls(grpc, { listen: '127.0.0.1:0', ca: Buffer.from(ca.certPem), cert: Buffer.from(server.certPem), key: Buffer.from(server.keyPem), logger: silentLogger, service: 'test', handshakeTimeoutMs: 300 });
    try {
      const [silent, half] = await Promise.all([closedAfter(l.port, undefined), closedAfter(l.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]))]);
      // Closed by the timeout (not left open, as it was until the socket was destroyed here).
      expect(silent).toBeLessThan(5_000);
      expect(half).toBeLessThan(5_000);
    } finally {
      await l.close();
      grpc.forceShutdown();
    }
  }, 30_000);

  const same = (b: Buffer): Buffer => b;
  const PING: ServiceDefinition = {
    ping: { path: '/test.Test/Ping', requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same },
  };

  it('mutual-TLS listener — an authenticated caller that sends nothing after its handshake is closed; one that speaks gRPC is served, calls apart (the last note: an idle authenticated connection stayed open)', async () => {
    const ca = pki.ca('listener-ca-2');
    const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['DNS:edge-1'] });
    const client = pki.issue(ca, { cn: 'controller', usage: 'client' });
    const grpc = new Server();
    grpc.addService(PING, { ping: (_call: unknown, cb: (e: null, r: Buffer) => void) => cb(null, Buffer.from('pong')) });
    const l = await listenMutualTls(grpc, { listen: '127.0.0.1:0', ca: Buffer.from(ca.certPem), cert: Buffer.from(server.certPem), key: Buffer.from(server.keyPem), logger: silentLogger, service: 'test', handshakeTimeoutMs: 300 });
    const Client = makeGenericClientConstructor(PING, 'Test');
    const c = new Client(`127.0.0.1:${l.port}`, credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(client.keyPem), Buffer.from(client.certPem)), { 'grpc.ssl_target_name_override': 'edge-1' });
    const ping = (): Promise<string> => new Promise((resolve, reject) => c.makeUnaryRequest('/test.Test/Ping', same, same, Buffer.alloc(0), (e, r) => (e ? reject(e) : resolve(String(r)))));
    try {
      // A caller with a good certificate that completes its handshake and then says nothing.
      const quiet = connectTls({ host: '127.0.0.1', port: l.port, ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'edge-1', ALPNProtocols: ['h2'] });
      quiet.on('error', () => undefined);
      let handshaken = false;
      quiet.once('secureConnect', () => (handshaken = true));
      const closed = new Promise<number>((resolve) => {
        const t0 = Date.now();
        quiet.on('close', () => resolve(Date.now() - t0));
      });
      expect(await ping()).toBe('pong');
      // Longer apart than the listener waits for a first byte: the gRPC connection is not closed by it.
      await new Promise((r) => setTimeout(r, 700));
      expect(await ping()).toBe('pong');
      // Still open after 5 s: not closed (as before the listener waited for a first byte).
      const stillOpen = new Promise<number>((resolve) => setTimeout(() => resolve(Number.POSITIVE_INFINITY), 5_000).unref());
      expect(await Promise.race([closed, stillOpen])).toBeLessThan(5_000);
      quiet.destroy();
      expect(handshaken).toBe(true);
    } finally {
      c.close();
      await l.close();
      grpc.forceShutdown();
    }
  }, 30_000);
});

