import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { P4Switch } from './p4-switch.js';
import { generateTestPki } from './testing/certs.js';
import type { TestPki } from './testing/certs.js';
import { FakeP4RuntimeServer } from './testing/fake-p4rt-server.js';

describe.each(['http2', 'grpc-js'] as const)('tls over %s', (grpcClient) => {
  let pki: TestPki;
  beforeAll(() => {
    pki = generateTestPki();
  });
  afterAll(() => pki.cleanup());

  it('tls — a TLS client verifying the server against the test CA connects and arbitrates', async () => {
    const server = await new FakeP4RuntimeServer({ tls: { cert: pki.serverCert, key: pki.serverKey } }).start();
    try {
      const sw = await P4Switch.connect({ grpcClient, address: server.address, deviceId: 1, electionId: 1n, credentials: { kind: 'tls', ca: pki.caCert } });
      expect(sw.isPrimary).toBe(true);
      expect(await sw.capabilities()).toBe('1.3.0');
      await sw.close();
    } finally {
      server.stop();
    }
  });

  it('tls — a client that does not trust the server CA is refused', async () => {
    const other = generateTestPki();
    const server = await new FakeP4RuntimeServer({ tls: { cert: pki.serverCert, key: pki.serverKey } }).start();
    try {
      const err = await P4Switch.connect({ grpcClient, address: server.address, deviceId: 1, credentials: { kind: 'tls', ca: other.caCert }, connectTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(P4RuntimeError);
      expect((err as P4RuntimeError).code).toBe('UNAVAILABLE');
    } finally {
      server.stop();
      other.cleanup();
    }
  });

  it('tls — the certificate is checked against serverName when one is given (the server cert names 127.0.0.1 only)', async () => {
    const server = await new FakeP4RuntimeServer({ tls: { cert: pki.serverCert, key: pki.serverKey } }).start();
    try {
      const err = await P4Switch.connect({ grpcClient, address: server.address, deviceId: 1, credentials: { kind: 'tls', ca: pki.caCert, serverName: 'switch.example' }, connectTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(P4RuntimeError);
      expect((err as P4RuntimeError).code).toBe('UNAVAILABLE');
      expect(server.connectedElectionIds()).toEqual([]);
    } finally {
      server.stop();
    }
  });

  it('tls — mTLS: a client presenting a CA-signed certificate (PEM files by path) is accepted', async () => {
    const server = await new FakeP4RuntimeServer({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } }).start();
    try {
      const sw = await P4Switch.connect({
        grpcClient,
        address: server.address,
        deviceId: 1,
        electionId: 2n,
        credentials: { kind: 'mtls', ca: pki.paths.caCert, cert: pki.paths.clientCert, key: pki.paths.clientKey },
      });
      expect(sw.arbitration).toEqual({ kind: 'primary', electionId: 2n });
      await sw.close();
    } finally {
      server.stop();
    }
  });

  it('tls — mTLS: a client without a certificate is rejected by the server', async () => {
    const server = await new FakeP4RuntimeServer({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert } }).start();
    try {
      const err = await P4Switch.connect({ grpcClient, address: server.address, deviceId: 1, credentials: { kind: 'tls', ca: pki.caCert }, connectTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(P4RuntimeError);
      expect((err as P4RuntimeError).code).toBe('UNAVAILABLE');
      expect((err as Error).message).toMatch(/certificate required/);
      expect(server.connectedElectionIds()).toEqual([]);
    } finally {
      server.stop();
    }
  });
});
