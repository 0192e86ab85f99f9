/**
 * The migration protocol bound before there is a device API to serve (the daemon binds before it
 * touches its switch): calls are refused, saying why, until the API is given; then served.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DeviceApi, DeviceCapabilities } from '../device-api/device-api.js';
import { TicketVerifier, issueTicket } from '../security/migration-ticket.js';
import { TestPki, opensslAvailable } from '../testing/test-pki.js';
import { connectMigrationPeer } from './migration-client.js';
import { listenMigrationProtocol } from './migration-server.js';

const CAPS: DeviceCapabilities = {
  device: 'edge-1', apiVersion: 1, stateClasses: ['tcp-state'], schema: { 'group:flow': 'f1' }, slots: { total: 64, free: 64 },
  registerAccess: 'p4runtime', deltas: ['pull'], maxConcurrentMigrations: 1, keyFields: [{ name: 'k', bits: 32 }],
};

describe.skipIf(!opensslAvailable())('migration protocol — bound before its device API (needs the openssl CLI)', () => {
  it('migration protocol — a listener bound before the daemon\'s plugin runs refuses calls (DEVICE_UNREACHABLE: the daemon is starting) and serves them once given the device API', async () => {
    const pki = new TestPki();
    const coordinator = generateKeyPairSync('ed25519');
    const ca = pki.ca('site CA');
    const server = pki.issue(ca, { cn: 'edge-1', usage: 'server', san: ['IP:127.0.0.1'] });
    const controller = pki.issue(ca, { cn: 'controller-a', usage: 'client' });
    const l = await listenMigrationProtocol({ device: 'edge-1', tls: { ca: ca.certPem, cert: server.certPem, key: server.keyPem }, trustedCallers: ['controller-a'], tickets: new TicketVerifier({ trusted: { 'dc-a': coordinator.publicKey } }) });
    const ref = { migrationId: 'm1', vm: '10.0.0.5' };
    const ticket = issueTicket({ ...ref, sources: ['edge-1'], destinations: ['edge-2'], ttlMs: 60_000 }, 'dc-a', coordinator.privateKey);
    const c = connectMigrationPeer({ address: l.address, name: 'edge-1', tls: { ca: ca.certPem, cert: controller.certPem, key: controller.keyPem }, ticket: () => ticket, callTimeoutMs: 5_000 });
    const prepared: string[] = [];
    try {
      await expect(c.capabilities()).rejects.toMatchObject({ reason: 'DEVICE_UNREACHABLE', message: /device edge-1: the plugin daemon is starting \(connecting to its switch, checking its pipeline\) and serves no call yet; retry once it runs/ });
      await expect(c.prepare(ref)).rejects.toMatchObject({ reason: 'DEVICE_UNREACHABLE', message: /the plugin daemon is starting/ });
      l.serve({ capabilities: async () => CAPS, prepare: async (m: { migrationId: string }) => void prepared.push(m.migrationId) } as unknown as DeviceApi);
      expect((await c.capabilities()).device).toBe('edge-1');
      await c.prepare(ref);
      expect(prepared).toEqual(['m1']);
    } finally {
      c.close();
      await l.stop();
      pki.dispose();
    }
  });
});
