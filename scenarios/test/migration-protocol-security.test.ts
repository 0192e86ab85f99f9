/**
 * The migration protocol's refusals against a real plugin on a simulated switch: each bad caller
 * or bad request is refused with a clear error, and the switch holds exactly what it held before
 * (every slot of the slot group, the VM control entries, the VM's counters). Certificates are made
 * with openssl at test time; tickets are signed with a throwaway coordinator key.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketVerifier, connectMigrationPeer, createDeviceApi, encodeWire, issueTicket, methodPath, serveMigrationProtocol } from '../../plugin/index.js';
import type { EdgeDeviceApi, MigrationRef, MigrationServer, MigrationTicket, MutualTls, StateBatch } from '../../plugin/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { PemPair } from '../../plugin/testing/test-pki.js';
import { startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { DST_ID, topology } from '../migration-fixture.js';

const REF: MigrationRef = { migrationId: 'm-sec', vm: '10.0.0.5' };

describe.skipIf(!opensslAvailable())('migration protocol security — refusals change nothing on the switch (needs the openssl CLI)', () => {
  let rig: EdgeRig;
  let api: EdgeDeviceApi;
  let srv: MigrationServer;
  let pki: TestPki;
  let ca: PemPair;
  let otherCa: PemPair;
  let controller: PemPair;
  const coordinator = generateKeyPairSync('ed25519');
  const impostor = generateKeyPairSync('ed25519');
  const ticket = (o: Partial<{ migrationId: string; vm: string; destinations: string[]; ttlMs: number; nowMs: number }> = {}, key = coordinator.privateKey): MigrationTicket =>
    issueTicket({ migrationId: REF.migrationId, vm: REF.vm, sources: ['src'], destinations: ['dst'], ttlMs: 60_000, ...o }, 'dc-a', key);
  const tls = (cert: PemPair = controller): MutualTls => ({ ca: ca.certPem, cert: cert.certPem, key: cert.keyPem });
  const peer = (t: MigrationTicket, cert?: PemPair) => connectMigrationPeer({ address: srv.address, name: 'dst', tls: tls(cert), ticket: () => t, callTimeoutMs: 10_000 });

  /** Everything a refused call could have touched: the group's slots, the control table, the VM's counters. */
  async function switchState(): Promise<string> {
    const g = rig.plugin.group;
    const words: string[] = [];
    for (let i = 0; i < g.slots; i++) words.push(g.words.map((w) => rig.sim.state.registerRead(w.register, i).toString(16)).join(','));
    const table = rig.plugin.contract.control?.table;
    const control = table ? rig.sim.state.tableEntries(table) : [];
    const counters = await Promise.all(rig.plugin.contract.counters.map((c) => rig.plugin.registerAccess.readCounter(c.counter, DST_ID)));
    return JSON.stringify({ words, control, counters }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }

  beforeAll(async () => {
    pki = new TestPki();
    ca = pki.ca('site CA');
    otherCa = pki.ca('a CA nobody trusts');
    controller = pki.issue(ca, { cn: 'controller-a', usage: 'client' });
    const server = pki.issue(ca, { cn: 'dst', usage: 'server', san: ['IP:127.0.0.1'] });
    rig = await startEdgeRig({ profile: 'full', topology: false });
    await topology(rig.sw, DST_ID);
    api = createDeviceApi(rig.plugin, { name: 'dst', snapshotSource: 'index', reconcile: false });
    await api.ready();
    srv = await serveMigrationProtocol({
      api, device: 'dst', tls: { ca: ca.certPem, cert: server.certPem, key: server.keyPem }, trustedCallers: ['controller-a'],
      tickets: new TicketVerifier({ trusted: { 'dc-a': coordinator.publicKey } }), maxMessageBytes: 256 * 1024,
    });
  }, 60_000);
  afterAll(async () => {
    await srv?.stop();
    api?.stop();
    await rig?.stop();
    pki?.dispose();
  });

  it('migration protocol security — no client certificate, another CA\'s, an expired one, an untrusted caller: refused, nothing changed', async () => {
    const before = await switchState();
    const bare = new Client(srv.address, credentials.createSsl(Buffer.from(ca.certPem)));
    const noCert = await new Promise<Error>((resolve) => bare.makeUnaryRequest(methodPath('Prepare'), (b: Buffer) => b, (b: Buffer) => b, encodeWire('MigrationCall', {}), new Metadata(), { deadline: Date.now() + 5000 }, (e) => resolve(e as Error)));
    bare.close();
    expect(noCert).toMatchObject({ code: 14 });
    const cases: [PemPair, RegExp][] = [
      [pki.issue(otherCa, { cn: 'controller-a', usage: 'client' }), /mutual TLS with .* refused/],
      [pki.issue(ca, { cn: 'controller-a', usage: 'client', expired: true }), /mutual TLS with .* refused/],
      [pki.issue(ca, { cn: 'someone-else', usage: 'client' }), /'someone-else' is not a trusted caller/],
    ];
    for (const [cert, why] of cases) {
      const c = peer(ticket(), cert);
      await expect(c.prepare(REF)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: why });
      c.close();
    }
    expect(await switchState()).toBe(before);
  });

  it('migration protocol security — forged, expired, mismatched and replayed tickets: refused, nothing changed', async () => {
    const cases: [MigrationTicket, RegExp][] = [
      [ticket({}, impostor.privateKey), /signature of 'dc-a' does not verify/],
      [ticket({ nowMs: Date.now() - 3_600_000, ttlMs: 60_000 }), /expired at/],
      [ticket({ vm: '10.0.0.6' }), /issued for VM '10.0.0.6'/],
      [ticket({ migrationId: 'm-other' }), /issued for migration 'm-other'/],
      [ticket({ destinations: ['dst-2'] }), /does not name device 'dst'/],
    ];
    const before = await switchState();
    for (const [t, why] of cases) {
      const c = peer(t);
      await expect(c.prepare(REF)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: why });
      c.close();
    }
    expect(await switchState()).toBe(before);
    // A ticket used by a migration that has ended here cannot start another.
    const used = ticket();
    const c = peer(used);
    await c.prepare(REF);
    await c.abort(REF);
    const after = await switchState();
    await expect(c.prepare(REF)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: /replayed/ });
    expect(await switchState()).toBe(after);
    c.close();
  });

  it('migration protocol security — records wider than their field, unknown field names, an oversized message: refused, nothing changed', async () => {
    const t = ticket({ migrationId: 'm-bad-data' });
    const ref = { ...REF, migrationId: 'm-bad-data' };
    const c = peer(t);
    await c.prepare(ref);
    const g = rig.plugin.group;
    const key = Object.fromEntries(g.key.map((k) => [k.name, 1n]));
    const valid = g.valid.name;
    const batch = (fields: Record<string, bigint>): StateBatch => ({ migrationId: ref.migrationId, round: 0, slots: [{ fields: { ...key, [valid]: 1n } }, { fields }], removed: [], coversSeq: { from: 0n, to: 0n } });
    const wide = g.key[0];
    const before = await switchState();
    await expect(c.importStaged(ref, batch({ ...key, [valid]: 1n, [wide?.name ?? '']: 1n << BigInt(wide?.bits ?? 0) }))).rejects.toMatchObject({
      reason: 'PEER_REJECTED', message: new RegExp(`slot 1 field '${wide?.name}' = \\d+ does not fit its ${wide?.bits} bits`),
    });
    await expect(c.importStaged(ref, batch({ ...key, [valid]: 1n, tunnel_secret: 5n }))).rejects.toMatchObject({ reason: 'PEER_REJECTED', message: /field 'tunnel_secret', which slot group '.*' does not declare/ });
    await expect(c.importStaged(ref, { ...batch(key), counters: { not_a_counter: { packets: 1n, bytes: 1n } } })).rejects.toMatchObject({ reason: 'PEER_REJECTED', message: /counter 'not_a_counter' is not a per-VM counter here/ });
    const huge: StateBatch = { migrationId: ref.migrationId, round: 0, slots: Array.from({ length: 20_000 }, (_, i) => ({ fields: { ...key, [valid]: 1n, [wide?.name ?? '']: BigInt(i) } })), removed: [], coversSeq: { from: 0n, to: 0n } };
    await expect(c.importStaged(ref, huge)).rejects.toMatchObject({ reason: 'PEER_REJECTED', message: /larger than max/ });
    expect(await switchState()).toBe(before);
    await c.abort(ref);
    c.close();
  });
});
