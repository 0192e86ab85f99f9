/**
 * The migration protocol over real gRPC and real mutual TLS (certificates made with openssl at
 * test time), serving a recording device API: calls and typed failures cross the wire both ways,
 * and every refusal — transport, caller, ticket, oversized message — leaves the device untouched.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Client, Metadata, Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import type { Observable} from 'rxjs';
import { Subject, firstValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from 'p4runtime-ts';
import type { DeviceApi, DeviceCapabilities, MigrationRef, StateBatch } from '../device-api/device-api.js';
import { DeviceApiFailure } from '../device-api/migration-sessions.js';
import { TicketVerifier, issueTicket } from '../security/migration-ticket.js';
import type { MigrationTicket } from '../security/migration-ticket.js';
import { TestPki, opensslAvailable } from '../testing/test-pki.js';
import type { PemPair } from '../testing/test-pki.js';
import { connectMigrationPeer } from './migration-client.js';
import type { MigrationClientOptions } from './migration-client.js';
import { serveMigrationProtocol } from './migration-server.js';
import type { MigrationServer } from './migration-server.js';
import { batchToWire, wireToBigint } from './codec.js';
import { MIGRATION_SERVICE, encodeWire, methodPath } from './wire.js';
import type { Decoded, WireMessage } from './wire.js';

const CAPS: DeviceCapabilities = {
  device: 'dst', apiVersion: 1, stateClasses: ['tcp-state'], schema: { 'group:flow': 'f1' }, slots: { total: 64, free: 64 },
  registerAccess: 'p4runtime', deltas: ['pull'], maxConcurrentMigrations: 1, keyFields: [{ name: 'k', bits: 32 }],
};
const REF: MigrationRef = { migrationId: 'm1', vm: 'vm-7' };

/** A device API that records what reached it. */
function recordingApi(deltas: () => Observable<StateBatch> = () => new Subject<StateBatch>()): DeviceApi & { readonly calls: string[]; imported: StateBatch[]; carried: unknown[] } {
  const calls: string[] = [];
  const imported: StateBatch[] = [];
  const carried: unknown[] = [];
  const rec = <T>(name: string, v: T) => async () => {
    calls.push(name);
    return v;
  };
  return {
    calls,
    imported,
    carried,
    capabilities: rec('capabilities', CAPS),
    prepare: rec('prepare', undefined),
    exportSnapshot: rec('exportSnapshot', { migrationId: 'm1', round: 0, slots: [{ fields: { k: 1n, big: (1n << 90n) + 1n } }], removed: [], coversSeq: { from: 0n, to: 0n }, clock: 5n }),
    exportDeltas: () => {
      calls.push('exportDeltas');
      return deltas();
    },
    importStaged: async (_m, b) => {
      calls.push('importStaged');
      if (b.slots.some((s) => s.fields['k'] === 13n)) throw new DeviceApiFailure('KEY_COLLISION', 'dst: flow 13 has no free slot');
      imported.push(b);
      return { installed: b.slots.length, alreadyPresent: 0 };
    },
    freeze: rec('freeze', undefined),
    pauseStarted: () => void calls.push('pauseStarted'),
    finalDelta: async (_m, since) => {
      calls.push(`finalDelta:${since}`);
      return { migrationId: 'm1', round: 99, slots: [], removed: [], coversSeq: { from: since, to: since + 1n }, counters: { c: { packets: 1n, bytes: (1n << 63n) + 5n } } };
    },
    activate: async (_m, c) => {
      calls.push('activate');
      carried.push(c);
    },
    deleteAtSource: rec('deleteAtSource', { deleted: 3, skipped: 1 }),
    abort: rec('abort', undefined),
    committed: rec('committed', undefined),
  };
}

describe.skipIf(!opensslAvailable())('migration protocol — over gRPC with mutual TLS (needs the openssl CLI)', () => {
  let pki: TestPki;
  let ca: PemPair;
  let otherCa: PemPair;
  let server: PemPair;
  let controller: PemPair;
  const coordinator = generateKeyPairSync('ed25519');
  const impostor = generateKeyPairSync('ed25519');
  let srv: MigrationServer | undefined;
  const clients: { close(): void }[] = [];

  beforeAll(() => {
    pki = new TestPki();
    ca = pki.ca('carryover test CA');
    otherCa = pki.ca('another CA');
    server = pki.issue(ca, { cn: 'dst', usage: 'server', san: ['DNS:localhost', 'IP:127.0.0.1'] });
    controller = pki.issue(ca, { cn: 'controller-a', usage: 'client', san: ['URI:spiffe://dc-a/controller'] });
  });
  afterAll(() => pki?.dispose());
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await srv?.stop();
    srv = undefined;
  });

  const ticket = (o: Partial<{ migrationId: string; vm: string; sources: string[]; destinations: string[]; ttlMs: number; nowMs: number }> = {}, key = coordinator.privateKey, signer = 'dc-a'): MigrationTicket =>
    issueTicket({ migrationId: 'm1', vm: 'vm-7', sources: ['src'], destinations: ['dst'], ttlMs: 60_000, ...o }, signer, key);

  let logged: Readonly<Record<string, unknown>>[] = [];
  async function serve(api: DeviceApi, extra: { maxMessageBytes?: number; trustedCallers?: string[] } = {}): Promise<MigrationServer> {
    logged = [];
    srv = await serveMigrationProtocol({
      logger: createLogger({ level: 'debug', sink: (r) => void logged.push(r) }),
      api, device: 'dst', tls: { ca: ca.certPem, cert: server.certPem, key: server.keyPem },
      trustedCallers: extra.trustedCallers ?? ['controller-a'], tickets: new TicketVerifier({ trusted: { 'dc-a': coordinator.publicKey } }),
      ...(extra.maxMessageBytes ? { maxMessageBytes: extra.maxMessageBytes } : {}),
    });
    return srv;
  }
  function connect(address: string, o: Partial<MigrationClientOptions> = {}) {
    const t = ticket();
    const c = connectMigrationPeer({ address, name: 'dst', tls: { ca: ca.certPem, cert: controller.certPem, key: controller.keyPem }, ticket: () => t, callTimeoutMs: 10_000, ...o });
    clients.push(c);
    return c;
  }

  it('migration protocol — every device API call crosses the wire; values above 53 bits arrive exactly', async () => {
    const api = recordingApi();
    const s = await serve(api);
    const c = connect(s.address);
    // With the daemon's own side: its certificate's names (this one is for servers only) and whom it trusts.
    expect(await c.capabilities()).toEqual({ ...CAPS, daemon: { identities: ['dst', 'localhost'], clientAuth: false, trustedCallers: ['controller-a'] } });
    expect(c.peerProtocolVersion).toBe(1);
    await c.prepare(REF);
    const batch: StateBatch = { migrationId: 'm1', round: 1, slots: [{ fields: { k: 2n, w: (1n << 70n) - 1n } }], removed: [{ k: 4n }], coversSeq: { from: 1n, to: 2n }, clock: 1n << 60n };
    expect(await c.importStaged(REF, batch)).toEqual({ installed: 1, alreadyPresent: 0 });
    expect(api.imported).toEqual([batch]);
    await c.activate(REF);
    // A recovery's activation carries the journalled counter values; an ordinary one carries none.
    await c.activate(REF, { vm_tx: { packets: (1n << 63n) + 1n, bytes: 2n } });
    expect(api.carried).toEqual([undefined, { vm_tx: { packets: (1n << 63n) + 1n, bytes: 2n } }]);
    // Source-role calls need a ticket naming this device a source.
    const srcTicket = ticket({ sources: ['dst'], destinations: ['other'] });
    const asSource = connect(s.address, { ticket: () => srcTicket });
    expect((await asSource.exportSnapshot(REF)).slots[0]?.fields['big']).toBe((1n << 90n) + 1n);
    await asSource.freeze(REF);
    expect((await asSource.finalDelta(REF, (1n << 62n) + 9n)).counters).toEqual({ c: { packets: 1n, bytes: (1n << 63n) + 5n } });
    expect(await asSource.deleteAtSource(REF, 0)).toEqual({ deleted: 3, skipped: 1 });
    await c.abort({ migrationId: 'm2', vm: 'vm-7' }).catch(() => undefined); // another migration: the ticket does not cover it
    // The commit told to a destination (its call: a source's ticket is refused), which uses its
    // ticket up there as the delete did m1's at this (source) device: another migration, m3.
    const m3 = { migrationId: 'm3', vm: 'vm-7' };
    const t3 = ticket({ migrationId: 'm3' });
    const t3src = ticket({ migrationId: 'm3', sources: ['dst'], destinations: ['other'] });
    await expect(connect(s.address, { ticket: () => t3src }).committed(m3)).rejects.toMatchObject({ reason: 'UNAUTHORIZED' });
    const asDestination = connect(s.address, { ticket: () => t3 });
    await asDestination.committed(m3);
    await expect(asDestination.abort(m3)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: /has ended on this device/ });
    expect(api.calls).toEqual(['capabilities', 'prepare', 'importStaged', 'activate', 'activate', 'exportSnapshot', 'freeze', `finalDelta:${(1n << 62n) + 9n}`, 'deleteAtSource', 'committed']);
  });

  it('migration protocol — PauseDelta reaches a device that takes changes ahead; a device without it answers an empty batch; a peer that predates it (UNIMPLEMENTED) gives an empty batch', async () => {
    const srcTicket = ticket({ sources: ['dst'], destinations: ['other'] });
    const taking = recordingApi();
    const ahead: StateBatch = { migrationId: 'm1', source: 'dst', round: 98, slots: [{ fields: { k: 3n, w: (1n << 64n) + 3n } }], removed: [], coversSeq: { from: 7n, to: 7n }, clock: 9n };
    const s1 = await serve({ ...taking, pauseDelta: async (_m, since) => {
      taking.calls.push(`pauseDelta:${since}`);
      return ahead;
    } });
    expect(await connect(s1.address, { ticket: () => srcTicket }).pauseDelta(REF, 7n)).toEqual(ahead);
    expect(taking.calls).toEqual(['pauseDelta:7']);
    // A destination's ticket does not cover it: a source's call.
    await expect(connect(s1.address).pauseDelta(REF, 7n)).rejects.toMatchObject({ reason: 'UNAUTHORIZED' });
    await s1.stop();
    srv = undefined;
    const without = recordingApi();
    const s2 = await serve(without);
    expect(await connect(s2.address, { ticket: () => srcTicket }).pauseDelta(REF, 7n)).toEqual({ migrationId: 'm1', round: 98, slots: [], removed: [], coversSeq: { from: 7n, to: 7n } });
    await s2.stop();
    srv = undefined;
    // A server with none of our methods: every call is UNIMPLEMENTED, as PauseDelta is at an older peer.
    const bare = new Server();
    const port = await new Promise<number>((resolve, reject) => bare.bindAsync('127.0.0.1:0', ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ cert_chain: Buffer.from(server.certPem), private_key: Buffer.from(server.keyPem) }], true), (e, p) => (e ? reject(e) : resolve(p))));
    try {
      const old = connect(`127.0.0.1:${port}`, { ticket: () => srcTicket });
      expect(await old.pauseDelta(REF, 7n)).toEqual({ migrationId: 'm1', round: 98, slots: [], removed: [], coversSeq: { from: 7n, to: 7n } });
      expect((await old.pauseDelta(REF, 8n)).coversSeq).toEqual({ from: 8n, to: 8n });
      // Only PauseDelta is forgiven: any other call to such a peer fails.
      await expect(old.finalDelta(REF, 7n)).rejects.toMatchObject({ reason: 'UNSUPPORTED_STATE' });
    } finally {
      bare.forceShutdown();
    }
  });

  it('migration protocol — FreezeFinal and ImportActivate do two steps in one call each, the second only after the first succeeded; a peer that predates them is sent both calls', async () => {
    const srcTicket = ticket({ sources: ['dst'], destinations: ['other'] });
    const api = recordingApi();
    const s = await serve(api);
    const asSource = connect(s.address, { ticket: () => srcTicket });
    const final = await asSource.freezeFinal(REF, 7n);
    expect(final).toMatchObject({ round: 99, coversSeq: { from: 7n, to: 8n }, counters: { c: { packets: 1n, bytes: (1n << 63n) + 5n } } });
    const c = connect(s.address);
    const batch: StateBatch = { migrationId: 'm1', round: 99, slots: [{ fields: { k: 2n } }], removed: [], coversSeq: { from: 7n, to: 8n } };
    expect(await c.importActivate(REF, batch)).toEqual({ installed: 1, alreadyPresent: 0 });
    // A refused import activates nothing (flow 13 collides at this device).
    await expect(c.importActivate(REF, { ...batch, slots: [{ fields: { k: 13n } }] })).rejects.toMatchObject({ reason: 'KEY_COLLISION' });
    // The roles as for the single calls: a destination's ticket does not freeze, a source's does not activate.
    await expect(c.freezeFinal(REF, 7n)).rejects.toMatchObject({ reason: 'UNAUTHORIZED' });
    await expect(asSource.importActivate(REF, batch)).rejects.toMatchObject({ reason: 'UNAUTHORIZED' });
    expect(api.calls).toEqual(['freeze', 'finalDelta:7', 'importStaged', 'activate', 'importStaged']);
    await s.stop();
    srv = undefined;
    // A peer from before them: it serves the single calls only (every other method UNIMPLEMENTED).
    const older: string[] = [];
    const bare = new Server();
    const answer = (name: string, reply: WireMessage) => (call: { request: Decoded<WireMessage> }, cb: (e: null, r: WireMessage) => void): void => {
      older.push(name + (name === 'FinalDelta' && call.request.ok ? `:${String(call.request.value['sinceSeq'] ? wireToBigint(call.request.value['sinceSeq'], 'since') : '')}` : ''));
      cb(null, reply);
    };
    bare.addService({ Freeze: MIGRATION_SERVICE.Freeze, FinalDelta: MIGRATION_SERVICE.FinalDelta, ImportStaged: MIGRATION_SERVICE.ImportStaged, Activate: MIGRATION_SERVICE.Activate }, {
      Freeze: answer('Freeze', {}),
      FinalDelta: answer('FinalDelta', batchToWire({ migrationId: 'm1', round: 99, slots: [], removed: [], coversSeq: { from: 7n, to: 9n } })),
      ImportStaged: answer('ImportStaged', { installed: 1, alreadyPresent: 0 }),
      Activate: answer('Activate', {}),
    });
    const port = await new Promise<number>((resolve, reject) => bare.bindAsync('127.0.0.1:0', ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ cert_chain: Buffer.from(server.certPem), private_key: Buffer.from(server.keyPem) }], true), (e, p) => (e ? reject(e) : resolve(p))));
    try {
      const old = connect(`127.0.0.1:${port}`);
      expect((await old.freezeFinal(REF, 7n)).coversSeq).toEqual({ from: 7n, to: 9n });
      expect(await old.importActivate(REF, batch)).toEqual({ installed: 1, alreadyPresent: 0 });
      // And again (the client remembers the peer predates them).
      await old.freezeFinal(REF, 7n);
      // Committed, which it predates too, is nothing to do: the peer keeps its record until the VM moves on.
      await old.committed(REF);
      expect(older).toEqual(['Freeze', 'FinalDelta:7', 'ImportStaged', 'Activate', 'Freeze', 'FinalDelta:7']);
    } finally {
      bare.forceShutdown();
    }
  });

  it('migration protocol — Footprint asks what a device holds of a VM with no ticket (a trusted caller only); absent and zero stay apart; a device without it and a peer that predates it tell nothing', async () => {
    const api = recordingApi();
    const asked: string[] = [];
    const s = await serve({ ...api, footprint: async (vm) => {
      asked.push(vm);
      return vm === '10.0.0.5' ? { device: 'dst', vmId: 0, runsHere: true, controlled: false, slots: 0, indexComplete: true, migrations: ['m9'] } : { device: 'dst', runsHere: false, controlled: false, indexComplete: false, migrations: [] };
    } });
    // No ticket at all: the client is given none.
    const c = connect(s.address, { ticket: () => {
      throw new Error('no ticket for a read-only question');
    } });
    expect(await c.footprint('10.0.0.5')).toEqual({ device: 'dst', vmId: 0, runsHere: true, controlled: false, slots: 0, indexComplete: true, migrations: ['m9'] });
    // Not mapped and not counted: absent, not 0.
    const none = await c.footprint('10.0.0.6');
    expect(none).toEqual({ device: 'dst', runsHere: false, controlled: false, indexComplete: false, migrations: [] });
    expect(none && 'vmId' in none).toBe(false);
    expect(asked).toEqual(['10.0.0.5', '10.0.0.6']);
    // A caller the plugin does not trust learns nothing.
    const stranger = pki.issue(ca, { cn: 'intern-laptop', usage: 'client' });
    await expect(connect(s.address, { tls: { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem } }).footprint('10.0.0.5')).rejects.toMatchObject({ reason: 'UNAUTHORIZED' });
    expect(asked).toHaveLength(2);
    await s.stop();
    srv = undefined;
    // A device API without footprint: the call fails with a reason, the client does not guess.
    const s2 = await serve(recordingApi());
    await expect(connect(s2.address).footprint('10.0.0.5')).rejects.toMatchObject({ reason: 'UNSUPPORTED_STATE' });
    await s2.stop();
    srv = undefined;
    // A peer that predates Footprint (UNIMPLEMENTED): undefined, "cannot tell".
    const bare = new Server();
    const port = await new Promise<number>((resolve, reject) => bare.bindAsync('127.0.0.1:0', ServerCredentials.createSsl(Buffer.from(ca.certPem), [{ cert_chain: Buffer.from(server.certPem), private_key: Buffer.from(server.keyPem) }], true), (e, p) => (e ? reject(e) : resolve(p))));
    try {
      expect(await connect(`127.0.0.1:${port}`).footprint('10.0.0.5')).toBeUndefined();
    } finally {
      bare.forceShutdown();
    }
  });

  it('migration protocol — a typed failure keeps its reason and message across the wire', async () => {
    const s = await serve(recordingApi());
    const c = connect(s.address);
    const err = await c.importStaged(REF, { migrationId: 'm1', round: 1, slots: [{ fields: { k: 13n } }], removed: [], coversSeq: { from: 0n, to: 1n } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceApiFailure);
    expect(err).toMatchObject({ reason: 'KEY_COLLISION', message: 'device dst: ImportStaged: dst: flow 13 has no free slot' });
  });

  it('migration protocol — a listen address already taken is refused naming it and the fix, not grpc-js\'s words alone', async () => {
    const first = await serve(recordingApi());
    const err = await serveMigrationProtocol({
      api: recordingApi(), device: 'dst', listen: first.address, tls: { ca: ca.certPem, cert: server.certPem, key: server.keyPem },
      trustedCallers: ['controller-a'], tickets: new TicketVerifier({ trusted: { 'dc-a': coordinator.publicKey } }),
    }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(new RegExp(`cannot listen on ${first.address.replace(/\./g, '\\.')} \\(.*\\); another process listens there .*choose a free port in migration\\.listen`));
  });

  it('migration protocol — an unreachable peer is DEVICE_UNREACHABLE', async () => {
    const s = await serve(recordingApi());
    const address = s.address;
    await s.stop();
    srv = undefined;
    const c = connect(address, { callTimeoutMs: 3000 });
    await expect(c.capabilities()).rejects.toMatchObject({ reason: 'DEVICE_UNREACHABLE', message: /^device dst: Capabilities: no plugin daemon answers at 127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]*\); check that it runs and that the inventory's plugin address is its migration\.listen$/ });
  });

  it('migration protocol — a peer that accepts TCP and never answers the TLS handshake is DEVICE_UNREACHABLE saying so, once the call\'s deadline passes (walkthrough 22: a raw "Waiting for LB pick")', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const sockets: Socket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));
    try {
      const c = connect(`127.0.0.1:${(silent.address() as AddressInfo).port}`, { callTimeoutMs: 1_000 });
      await expect(c.capabilities()).rejects.toMatchObject({ reason: 'DEVICE_UNREACHABLE', message: /^device dst: Capabilities: no plugin daemon answers at 127\.0\.0\.1:\d+: it accepted the TCP connection but did not answer the TLS handshake within \d+ ms; check that the inventory's plugin address is the daemon's migration\.listen/ });
      c.close();
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 30_000);

  it('migration protocol — the delta stream arrives in order and ends with the device\'s; a slow reader gets merged batches, nothing lost', async () => {
    const deltas = new Subject<StateBatch>();
    const api = recordingApi(() => deltas);
    const s = await serve(api);
    const c = connect(s.address, { ticket: () => ticket({ sources: ['dst'], destinations: ['x'] }) });
    const got = firstValueFrom(c.exportDeltas(REF).pipe(toArray()));
    expect(await eventually(() => api.calls.includes('exportDeltas'))).toBe(true);
    // Large batches, far more than the HTTP/2 window holds, emitted at once: the server must wait.
    const big = (i: number): StateBatch => ({ migrationId: 'm1', round: i, slots: Array.from({ length: 2000 }, (_, n) => ({ fields: { k: BigInt(n), v: BigInt(i), pad: (1n << 200n) + BigInt(n) } })), removed: [], coversSeq: { from: BigInt(i - 1), to: BigInt(i) } });
    for (let i = 1; i <= 40; i++) deltas.next(big(i));
    deltas.complete();
    const batches = await got;
    expect(batches.length).toBeLessThan(40);
    expect(batches.length + s.stats().mergedBatches).toBe(40);
    // Every sequence is covered once, in order, and each flow ends at its last value.
    expect(batches[0]?.coversSeq.from).toBe(0n);
    for (let i = 1; i < batches.length; i++) expect(batches[i]?.coversSeq.from).toBe(batches[i - 1]?.coversSeq.to);
    expect(batches.at(-1)?.coversSeq.to).toBe(40n);
    expect(batches.at(-1)?.slots.every((x) => x.fields['v'] === 40n)).toBe(true);
  });

  describe('migration protocol — refusals change nothing', () => {
    const raw = (address: string, creds: ReturnType<typeof credentials.createSsl>): Promise<Error> => {
      const client = new Client(address, creds);
      clients.push(client);
      return new Promise((resolve) => {
        client.makeUnaryRequest(methodPath('Prepare'), (b: Buffer) => b, (b: Buffer) => b, encodeWire('MigrationCall', {}), new Metadata(), { deadline: Date.now() + 5000 }, (err) => resolve(err as Error));
      });
    };

    it('migration protocol — a client without a certificate is refused in the TLS handshake', async () => {
      const api = recordingApi();
      const s = await serve(api);
      const err = await raw(s.address, credentials.createSsl(Buffer.from(ca.certPem)));
      expect(err).toMatchObject({ code: 14 });
      expect(api.calls).toEqual([]);
      expect(s.stats().calls).toBe(0);
      // The refusing side says so too, naming the caller's address and what to do.
      expect(s.stats().refusedHandshakes).toBeGreaterThanOrEqual(1);
      expect(logged.find((r) => r['msg'] === 'migration protocol: refused a caller in the TLS handshake')).toMatchObject({ level: 'warn', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/), hint: expect.stringMatching(/no client certificate/) });
    });

    it('migration protocol — a certificate from another CA, and an expired one, are refused in the handshake', async () => {
      const api = recordingApi();
      const s = await serve(api);
      const foreign = pki.issue(otherCa, { cn: 'controller-a', usage: 'client' });
      const expired = pki.issue(ca, { cn: 'controller-a', usage: 'client', expired: true });
      for (const cert of [foreign, expired]) {
        const c = connect(s.address, { tls: { ca: ca.certPem, cert: cert.certPem, key: cert.keyPem }, callTimeoutMs: 5000 });
        const err = await c.prepare(REF).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DeviceApiFailure);
        expect(err).toMatchObject({ reason: 'UNAUTHORIZED', message: /mutual TLS with 127\.0\.0\.1:\d+ refused: .*(alert|certificate)/ });
      }
      expect(api.calls).toEqual([]);
      expect(s.stats().calls).toBe(0);
      const hints = logged.filter((r) => r['msg'] === 'migration protocol: refused a caller in the TLS handshake').map((r) => String(r['hint']));
      expect(hints.some((h) => /not signed by a CA this side trusts/.test(h))).toBe(true);
      expect(hints.some((h) => /outside its validity period/.test(h))).toBe(true);
    });

    it('migration protocol — a caller whose own certificate is for servers only (a daemon sending peer to peer without clientAuth) is told that, not only that TLS refused', async () => {
      const api = recordingApi();
      const s = await serve(api);
      const serverOnly = pki.issue(ca, { cn: 'edge-a', usage: 'server' });
      const c = connect(s.address, { tls: { ca: ca.certPem, cert: serverOnly.certPem, key: serverOnly.keyPem }, callTimeoutMs: 5000 });
      const err = await c.prepare(REF).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: 'UNAUTHORIZED', message: /mutual TLS with 127\.0\.0\.1:\d+ refused: .*; this side's the certificate \(CN=edge-a\) is not for client authentication: .*issue it with extendedKeyUsage clientAuth$/ });
      expect(api.calls).toEqual([]);
      expect(logged.find((r) => r['msg'] === 'migration protocol: refused a caller in the TLS handshake')).toMatchObject({ subject: 'edge-a', hint: expect.stringMatching(/extendedKeyUsage clientAuth/) });
    });

    it('migration protocol — a certificate of the right CA naming a caller the plugin does not trust is UNAUTHORIZED', async () => {
      const api = recordingApi();
      const s = await serve(api);
      const stranger = pki.issue(ca, { cn: 'intern-laptop', usage: 'client' });
      const c = connect(s.address, { tls: { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem } });
      await expect(c.capabilities()).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: /'intern-laptop' is not a trusted caller of this plugin \(trusted: controller-a\)/ });
      // Trust by subjectAltName works as by CN.
      await srv?.stop();
      const s2 = await serve(api, { trustedCallers: ['spiffe://dc-a/controller'] });
      expect((await connect(s2.address).capabilities()).device).toBe('dst');
      expect(api.calls).toEqual(['capabilities']);
    });

    it('migration protocol — forged, expired, replayed, mismatched and wrong-role tickets are UNAUTHORIZED, and reach no device', async () => {
      const api = recordingApi();
      const s = await serve(api);
      const forged = ticket({}, impostor.privateKey);
      const tampered: MigrationTicket = { ...ticket(), claims: { ...ticket().claims, vm: 'vm-666' } };
      const expired = ticket({ nowMs: Date.now() - 120_000, ttlMs: 60_000 });
      const otherVm = ticket({ vm: 'vm-8' });
      const otherDevice = ticket({ destinations: ['dst-2'] });
      const cases: [MigrationTicket, RegExp][] = [
        [forged, /does not verify/],
        [tampered, /does not verify/],
        [expired, /expired at/],
        [otherVm, /issued for VM 'vm-8', not 'vm-7'/],
        [otherDevice, /does not name device 'dst'/],
      ];
      for (const [t, why] of cases) {
        const c = connect(s.address, { ticket: () => t });
        await expect(c.prepare(REF)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: why });
      }
      // A destination's ticket does not let anyone export from it.
      await expect(connect(s.address).exportSnapshot(REF)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: /ExportSnapshot needs device 'dst' to be a source/ });
      expect(api.calls).toEqual([]);
      // Replay: once the migration ended here, its ticket is used up.
      const used = ticket();
      const c = connect(s.address, { ticket: () => used });
      await c.prepare(REF);
      await c.abort(REF);
      await expect(c.prepare(REF)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: /replayed: migration 'm1' has ended on this device/ });
      // An Abort repeated (a recovery after the rollback that did undo here) answers done and reaches no device.
      await c.abort(REF);
      expect(api.calls).toEqual(['prepare', 'abort']);
      // So does a delete at a source repeated (a recovery repeating a commit's cleanup, walkthrough 19); an Abort after it is refused.
      const asSource = ticket({ migrationId: 'm1', sources: ['dst'], destinations: ['other'] });
      const d = connect(s.address, { ticket: () => asSource });
      await d.deleteAtSource(REF, 0);
      await expect(d.deleteAtSource(REF, 0)).resolves.toEqual({ deleted: 0, skipped: 0 });
      await expect(d.abort(REF)).rejects.toMatchObject({ reason: 'UNAUTHORIZED', message: /replayed/ });
      expect(api.calls).toEqual(['prepare', 'abort', 'deleteAtSource']);
      expect(s.stats().refused).toBe(cases.length + 3);
    });

    it('migration protocol — a message over the server\'s size limit is refused before any device work', async () => {
      const api = recordingApi();
      const s = await serve(api, { maxMessageBytes: 64 * 1024 });
      const huge: StateBatch = { migrationId: 'm1', round: 1, slots: Array.from({ length: 5000 }, (_, n) => ({ fields: { k: BigInt(n), v: 1n << 100n } })), removed: [], coversSeq: { from: 0n, to: 1n } };
      await expect(connect(s.address).importStaged(REF, huge)).rejects.toMatchObject({ reason: 'PEER_REJECTED', message: /larger than max|RESOURCE_EXHAUSTED/ });
      expect(api.calls).toEqual([]);
    });
  });
});

async function eventually(check: () => boolean, tries = 500): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}
