import { connect } from 'node:net';
import { Server } from '@grpc/grpc-js';
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
});
