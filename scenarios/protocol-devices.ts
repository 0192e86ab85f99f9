/**
 * The source and destination device APIs of a 1:1 migration as an engine sees them: in process,
 * or over the migration protocol (each served by its own gRPC server with mutual TLS and tickets,
 * certificates made at call time with the openssl CLI) — one device API implementation behind both.
 */
import { generateKeyPairSync } from 'node:crypto';
import { TicketIssuer, connectRemoteDevices } from '../controller/index.js';
import { TicketVerifier, serveMigrationProtocol } from '../plugin/index.js';
import type { DeviceApi } from '../plugin/index.js';
import { TestPki } from '../plugin/testing/test-pki.js';

/**
 * How the engine reaches the devices: in process, or over the migration protocol (each device
 * API served by its own gRPC server with mutual TLS, the engine calling remote clients with this
 * coordinator's tickets) — one device API implementation behind both.
 */
export type Transport = 'in-process' | 'protocol';

/** The device APIs as the engine sees them over `transport`; `close` stops servers and channels. */
export async function devicesOver(transport: Transport, apis: Record<'src' | 'dst', DeviceApi>): Promise<{ devices: Map<string, DeviceApi>; close(): Promise<void> }> {
  if (transport === 'in-process') return { devices: new Map(Object.entries(apis)), close: async () => undefined };
  const pki = new TestPki();
  const ca = pki.ca('site CA');
  const controller = pki.issue(ca, { cn: 'controller-a', usage: 'client' });
  const coordinator = generateKeyPairSync('ed25519');
  const servers = await Promise.all((['src', 'dst'] as const).map(async (name) => {
    const cert = pki.issue(ca, { cn: name, usage: 'server', san: ['IP:127.0.0.1'] });
    return serveMigrationProtocol({ api: apis[name], device: name, tls: { ca: ca.certPem, cert: cert.certPem, key: cert.keyPem }, trustedCallers: ['controller-a'], tickets: new TicketVerifier({ trusted: { 'dc-a': coordinator.publicKey } }) });
  }));
  pki.dispose();
  const remote = connectRemoteDevices({
    devices: servers.map((srv, i) => ({ name: i === 0 ? 'src' : 'dst', address: srv.address })),
    scope: { sources: ['src'], destinations: ['dst'] },
    tls: { ca: ca.certPem, cert: controller.certPem, key: controller.keyPem },
    issuer: new TicketIssuer({ signer: 'dc-a', key: coordinator.privateKey }),
  });
  return {
    devices: new Map(remote.devices),
    close: async () => {
      remote.close();
      await Promise.all(servers.map((x) => x.stop()));
    },
  };
}
