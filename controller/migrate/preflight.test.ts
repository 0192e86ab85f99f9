/**
 * The migration check's findings over in-process fake devices (capabilities and footprints as
 * plain values; the real devices' side is in scenarios/test/migrate-check.test.ts and
 * migrate-daemons.test.ts): what refuses, what is only a note, and that an answer is never guessed.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceApi, DeviceCapabilities, VmFootprint } from '../../plugin/index.js';
import { DeviceApiFailure } from '../../plugin/index.js';
import { fakeCapabilities, fakeInventoryDevice } from '../testing/check-fakes.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { preflightMigration } from './preflight.js';
import type { CheckConnector } from './preflight.js';

const device = fakeInventoryDevice;

const plan = (sources: string[], destinations: string[]): MigrationPlan => ({
  vm: { name: 'vm-7', address: '10.0.0.5', host: 'host-a' },
  fromHost: 'host-a',
  toHost: 'host-b',
  sources: sources.map(device),
  destinations: destinations.map(device),
  topology: sources.length === 1 ? (destinations.length === 1 ? '1:1' : '1:N') : 'N:1',
  placement: destinations.length > 1 ? { name: 'ecmp', kind: 'hash', algorithm: 'crc32', fields: ['k'], devices: destinations } : undefined,
  edgeDestinations: destinations.map(device),
  counterparts: new Map(),
});

const caps = (name: string, free: number, fingerprint = 'f1'): DeviceCapabilities => fakeCapabilities(name, free, fingerprint);

const foot = (name: string, o: Partial<VmFootprint> = {}): VmFootprint => ({ device: name, vmId: 3, runsHere: true, controlled: false, slots: 0, indexComplete: true, migrations: [], ...o });

/** A fake device per name: its capabilities and footprint (undefined: an older daemon), or a failure to connect. */
function fakes(devices: Record<string, { caps?: DeviceCapabilities; foot?: VmFootprint; fails?: Error }>): { connect: CheckConnector; stopped: string[] } {
  const stopped: string[] = [];
  const connect: CheckConnector = async (d) => {
    const f = devices[d.name];
    if (!f || f.fails) throw f?.fails ?? new Error(`no fake for ${d.name}`);
    const api = {
      capabilities: async () => f.caps as DeviceCapabilities,
      footprint: async () => f.foot,
    } as unknown as DeviceApi;
    return { api, stop: async () => void stopped.push(d.name) };
  };
  return { connect, stopped };
}

describe('migration check — findings', () => {
  it('migration check — ready with exact counts: the room each destination needs; every device let go', async () => {
    const { connect, stopped } = fakes({ a: { caps: caps('a', 900), foot: foot('a', { slots: 100 }) }, b: { caps: caps('b', 1000), foot: foot('b') } });
    const r = await preflightMigration(plan(['a'], ['b']), connect);
    expect(r.ready).toBe(true);
    expect(r.findings).toEqual([]);
    expect(r.room).toEqual([{ device: 'b', needs: 100, free: 1000, exact: true }]);
    expect(stopped.sort()).toEqual(['a', 'b']);
  });

  it('migration check — N:1 adds the sources\' slots; more than the destination holds is CAPACITY_EXCEEDED, even against an upper bound', async () => {
    const { connect } = fakes({ a: { caps: caps('a', 400), foot: foot('a', { slots: 600 }) }, c: { caps: caps('c', 500), foot: foot('c', { slots: 500 }) }, b: { caps: caps('b', 1000), foot: foot('b', { indexComplete: false, slots: undefined }) } });
    const r = await preflightMigration(plan(['a', 'c'], ['b']), connect);
    expect(r.ready).toBe(false);
    expect(r.findings.filter((f) => f.severity === 'refuse')).toEqual([{ severity: 'refuse', reason: 'CAPACITY_EXCEEDED', detail: 'b has at most 1000 free slots; the VM\'s flows need 1100 there' }]);
    expect(r.findings.map((f) => f.reason)).toContain('FREE_UPPER_BOUND');
  });

  it('migration check — 1:N by placement: enough together but not on each is a note; too few together refuses', async () => {
    const fit = fakes({ a: { caps: caps('a', 0), foot: foot('a', { slots: 300 }) }, b: { caps: caps('b', 200), foot: foot('b') }, c: { caps: caps('c', 200), foot: foot('c') } });
    const r = await preflightMigration(plan(['a'], ['b', 'c']), fit.connect);
    expect(r.ready).toBe(true);
    expect(r.findings).toEqual([{ severity: 'note', reason: 'ROOM_BY_PLACEMENT', detail: expect.stringMatching(/^the VM's 300 flows fit b \+ c together/) as string }]);
    const tight = fakes({ a: { caps: caps('a', 0), foot: foot('a', { slots: 500 }) }, b: { caps: caps('b', 200), foot: foot('b') }, c: { caps: caps('c', 200), foot: foot('c') } });
    expect((await preflightMigration(plan(['a'], ['b', 'c']), tight.connect)).findings).toEqual([{ severity: 'refuse', reason: 'CAPACITY_EXCEEDED', detail: 'b, c have 400 free slots together; the VM\'s flows need 500' }]);
  });

  it('migration check — a migration of the VM under way is VM_BUSY; a source the VM left and a destination without it are refused; schemas that cannot match are SCHEMA_MISMATCH', async () => {
    const { connect } = fakes({ a: { caps: caps('a', 900), foot: foot('a', { runsHere: false, controlled: true, migrations: ['m-9'] }) }, b: { caps: caps('b', 1000, 'other'), foot: foot('b', { vmId: undefined, runsHere: false }) } });
    const r = await preflightMigration(plan(['a'], ['b']), connect);
    expect(r.ready).toBe(false);
    expect(r.findings.map((f) => f.reason).sort()).toEqual(['PEER_REJECTED', 'PEER_REJECTED', 'SCHEMA_MISMATCH', 'VM_BUSY']);
    expect(r.findings.find((f) => f.reason === 'VM_BUSY')?.detail).toMatch(/^a: a migration of VM vm-7 \(10\.0\.0\.5\) is under way there \(m-9\)/);
  });

  it('migration check — a source left frozen (or a destination left staged) by a migration that did not finish, none under way there: VM_BUSY naming the mark and carryover recover', async () => {
    const { connect } = fakes({ a: { caps: caps('a', 900), foot: foot('a', { controlled: true, unfinished: 'frozen' }) }, b: { caps: caps('b', 1000), foot: foot('b', { controlled: true, unfinished: 'staged' }) } });
    const r = await preflightMigration(plan(['a'], ['b']), connect);
    expect(r.ready).toBe(false);
    expect(r.findings.map((f) => [f.reason, f.detail])).toEqual([
      ['VM_BUSY', expect.stringMatching(/^a: VM vm-7 \(10\.0\.0\.5\)'s control entry still marks a migration \(frozen: the VM's traffic is dropped there\) that its plugin is not running: one that did not finish .*run carryover recover .*or one another carryover process runs .*wait for it$/)],
      ['VM_BUSY', expect.stringMatching(/^b: .*\(staged: state a destination never activated\)/)],
    ]);
  });

  it('migration check — no flow at the source while the destination holds the VM\'s flows and does not mark it left: PEER_REJECTED (the VM seems to run there), a note with --ignore-destination-flows; nothing to say when the destination marks it left, the source cannot count, or nobody holds a flow', async () => {
    const there = { a: { caps: caps('a', 1000), foot: foot('a', { slots: 0 }) }, b: { caps: caps('b', 960), foot: foot('b', { slots: 40 }) } };
    const r = await preflightMigration(plan(['a'], ['b']), fakes(there).connect);
    expect(r.ready).toBe(false);
    expect(r.findings).toEqual([{ severity: 'refuse', reason: 'PEER_REJECTED', detail: expect.stringMatching(/^VM vm-7 \(10\.0\.0\.5\) seems to run at the destination already: the sources hold no flow of it, b holds 40 of its flows, .*--ignore-destination-flows migrates anyway$/) as string }]);
    const ignored = await preflightMigration(plan(['a'], ['b']), fakes(there).connect, { ignoreDestinationFlows: true });
    expect(ignored.ready).toBe(true);
    expect(ignored.findings.map((f) => [f.severity, f.reason])).toEqual([['note', 'VM_AT_DESTINATION']]);
    // Flows left at a switch a migration moved the VM away from (its entry marks it left): leftovers.
    const left = fakes({ ...there, b: { caps: caps('b', 960), foot: foot('b', { slots: 40, runsHere: false, controlled: true }) } });
    expect((await preflightMigration(plan(['a'], ['b']), left.connect)).findings).toEqual([]);
    // The source's index cannot count: nothing is concluded (the migration counts its snapshot).
    const uncounted = fakes({ ...there, a: { caps: caps('a', 1000), foot: foot('a', { slots: undefined, indexComplete: false }) } });
    expect((await preflightMigration(plan(['a'], ['b']), uncounted.connect)).findings.map((f) => f.reason)).toEqual(['SLOTS_UNKNOWN']);
    // A quiet VM with nothing anywhere: nothing to say.
    const quiet = fakes({ a: { caps: caps('a', 1000), foot: foot('a', { slots: 0 }) }, b: { caps: caps('b', 1000), foot: foot('b', { slots: 0 }) } });
    expect((await preflightMigration(plan(['a'], ['b']), quiet.connect)).findings).toEqual([]);
  });

  it('migration check — an older daemon (no footprint) and an unreachable device: a note and a refusal, the others still asked; no claim accepted that no device could have', async () => {
    const { connect } = fakes({ a: { caps: caps('a', 900) }, b: { fails: new DeviceApiFailure('DEVICE_UNREACHABLE', 'b: no answer') } });
    const r = await preflightMigration(plan(['a'], ['b']), connect);
    expect(r.ready).toBe(false);
    expect(r.findings.map((f) => [f.severity, f.reason])).toEqual([['refuse', 'DEVICE_UNREACHABLE'], ['note', 'FOOTPRINT_UNKNOWN'], ['note', 'SLOTS_UNKNOWN']]);
    expect(r.schema).toBeUndefined();
    const lying = fakes({ a: { caps: caps('a', 2000), foot: foot('a') }, b: { caps: caps('b', 1000), foot: foot('b') } });
    expect((await preflightMigration(plan(['a'], ['b']), lying.connect)).findings).toEqual([{ severity: 'refuse', reason: 'PEER_REJECTED', detail: expect.stringMatching(/^a claims 2000 free slots of 1000/) as string }]);
  });

  it('migration check — peer to peer between daemons: a source certificate without clientAuth and a destination that does not trust the source are refused, naming the fix; a daemon that cannot say is a note, and so is a source daemon from before the one-call pause; through the controller none of it matters', async () => {
    const daemonPlan = (): MigrationPlan => {
      const p = plan(['a'], ['b']);
      const viaDaemon = (d: MigrationPlan['sources'][number]) => ({ ...d, plugin: { address: `127.0.0.1:5${d.name === 'a' ? 1 : 2}`, serverName: undefined } });
      return { ...p, sources: p.sources.map(viaDaemon), destinations: p.destinations.map(viaDaemon), edgeDestinations: p.edgeDestinations.map(viaDaemon) } as MigrationPlan;
    };
    const withDaemon = (c: DeviceCapabilities, identities: string[], clientAuth: boolean, trustedCallers: string[], transferFreezes = true): DeviceCapabilities => ({ ...c, daemon: { identities, clientAuth, trustedCallers }, ...(transferFreezes ? { transferFreezes } : {}) });
    const bad = fakes({ a: { caps: withDaemon(caps('a', 900), ['edge-a'], false, ['ctl']), foot: foot('a') }, b: { caps: withDaemon(caps('b', 1000), ['edge-b'], true, ['ctl']), foot: foot('b') } });
    const r = await preflightMigration(daemonPlan(), bad.connect, { transfer: 'peer-to-peer' });
    expect(r.findings).toEqual([
      { severity: 'refuse', reason: 'PEER_REJECTED', detail: expect.stringMatching(/^a: its plugin daemon's certificate is not for client authentication .*reissue it with extendedKeyUsage serverAuth,clientAuth$/) as string },
      { severity: 'refuse', reason: 'PEER_REJECTED', detail: "b does not trust a's plugin daemon as a caller: its certificate names edge-a, b trusts ctl; add edge-a to b's migration.trustedCallers" },
    ]);
    expect((await preflightMigration(daemonPlan(), bad.connect, { transfer: 'controller' })).findings).toEqual([]);
    const good = fakes({ a: { caps: withDaemon(caps('a', 900), ['edge-a'], true, ['ctl']), foot: foot('a') }, b: { caps: withDaemon(caps('b', 1000), ['edge-b'], true, ['ctl', 'edge-a']), foot: foot('b') } });
    expect((await preflightMigration(daemonPlan(), good.connect, { transfer: 'peer-to-peer' })).findings).toEqual([]);
    const older = fakes({ a: { caps: withDaemon(caps('a', 900), ['edge-a'], true, ['ctl']), foot: foot('a') }, b: { caps: caps('b', 1000), foot: foot('b') } });
    expect((await preflightMigration(daemonPlan(), older.connect, { transfer: 'peer-to-peer' })).findings.map((f) => [f.severity, f.reason])).toEqual([['note', 'PEER_TRUST_UNKNOWN']]);
    // A source daemon from before the one-call pause: ready, with a note that the pause is longer.
    const stepping = fakes({ a: { caps: withDaemon(caps('a', 900), ['edge-a'], true, ['ctl'], false), foot: foot('a') }, b: { caps: withDaemon(caps('b', 1000), ['edge-b'], true, ['ctl', 'edge-a']), foot: foot('b') } });
    const s = await preflightMigration(daemonPlan(), stepping.connect, { transfer: 'peer-to-peer' });
    expect(s.ready).toBe(true);
    expect(s.findings).toEqual([{ severity: 'note', reason: 'PAUSE_NOT_PIPELINED', detail: expect.stringMatching(/^a: its plugin daemon predates the one-call peer-to-peer pause .*upgrade the daemon to shorten it$/) as string }]);
  });
});
