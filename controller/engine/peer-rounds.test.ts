// The engine with peer-to-peer transfer against FAKE in-memory devices: the sources send straight
// to the destinations (transferState over the fakes' device APIs) while the engine keeps phases and
// the proof. The engine's own view of a destination refuses imports, so any state passing through
// the controller would fail the test.
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DeviceApi, StateBatch } from '../../plugin/index.js';
import { MemoryJournal } from '../journal/journal.js';
import { parseInventory } from '../inventory/load-inventory.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { destinationOf, planMigration } from '../plan/plan-migration.js';
import { FAKE_KEY_FIELDS, FakeDeviceApi } from '../testing/fake-device-api.js';
import { controllerView, fakeAt, peerEngine } from '../testing/peer-engine-site.js';
import { precopyFor } from '../testing/engine-site.js';
import { migrateReportLines } from '../cli.js';
import { MigrationEngine } from './migration-engine.js';
import { runMigration } from './run-migration.js';
import { inProcessTransfer } from './peer-rounds.js';
import { engineTestFlow } from '../testing/engine-site.js';

const flow = engineTestFlow;

const setup = peerEngine;
const at = fakeAt;

describe('migration engine — peer to peer over fake devices', () => {
  it('engine p2p — the source sends straight to the destination: it holds exactly the source state at the freeze; the controller imported nothing', async () => {
    const { engine, machine, dev, journal } = await setup();
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await new Promise((r) => setTimeout(r, 20));
    at(dev, 'src').change(flow(3, 4n));
    at(dev, 'src').change(flow(20));
    at(dev, 'src').push();
    await new Promise((r) => setTimeout(r, 30));
    stop$.next();
    await running;
    at(dev, 'src').change(flow(5, 7n)); // after pre-copy: only the final delta carries it
    const atFreeze = new Map(at(dev, 'src').active);
    const sync = await engine.pauseSync();
    expect(sync.lost).toBeUndefined();
    expect(at(dev, 'dst').active).toEqual(atFreeze);
    await engine.commit();
    expect(machine.state).toMatchObject({ phase: 'COMMITTED', sourceCleaned: true });
    const types = (await journal.load('m1')).map((e) => e.type);
    expect(types.slice(-5)).toEqual(['frozen', 'synced', 'activated', 'committed', 'source-cleaned']);
  });

  it('engine p2p — table entries (pinholes) the source sends straight to the destination are journalled and reported as with controller transfer: each once, though the snapshot and the final batch both list them', async () => {
    const pinhole = (remote: bigint) => ({ table: 'dyn_acl', match: { vm_id: 7n, remote_addr: remote }, action: 'allow', remainingNs: 5_000_000_000n });
    const { engine, machine, dev, journal } = await setup();
    at(dev, 'src').snapshotEntries = [pinhole(1n), pinhole(2n), pinhole(3n)];
    // One expired at the source before the pause: the final batch lists the two left.
    at(dev, 'src').finalEntries = [pinhole(1n), pinhole(2n)];
    const run = await runMigration(engine);
    expect(run.committed).toBeDefined();
    const events = await journal.load('m1');
    expect(events.find((e) => e.type === 'round' && e.round === 0)).toMatchObject({ tableEntries: 3 });
    expect(events.find((e) => e.type === 'synced')).toMatchObject({ tableEntries: -1 });
    expect(machine.state.moved.tableEntries).toBe(2);
    const lines = migrateReportLines({ migrationId: 'm1', run, rounds: [20], translations: [], tableEntries: machine.state.moved.tableEntries });
    expect(lines).toContain('  table entries: 2 installed at the destinations (pinholes, with their remaining lifetime and direct counters)');
  });

  it('engine p2p — 1:N: the source places each flow on the destination its path hits', async () => {
    const { plan, engine, dev } = await setup('host-c');
    await engine.prepare();
    await precopyFor(engine);
    await engine.pauseSync();
    for (let i = 0; i < 20; i++) {
      const f = flow(i);
      const want = destinationOf(plan, FAKE_KEY_FIELDS.map((k) => ({ name: k.name, bits: k.bits, value: f[k.name] ?? 0n }))).name;
      const other = want === 'c1' ? 'c2' : 'c1';
      const key = [...at(dev, want).active.keys()].find((k) => at(dev, want).active.get(k)?.['vm_port'] === f['vm_port']);
      expect(key, `flow ${i} at ${want}`).toBeDefined();
      expect([...at(dev, other).active.values()].some((x) => x['vm_port'] === f['vm_port'])).toBe(false);
    }
  });

  it('engine p2p — flow control: while the destination is slow, the source merges what it produces (one batch in flight), and nothing is lost', async () => {
    let inFlight = 0;
    let most = 0;
    const { engine, dev } = await setup('host-b', {
      intervalMs: 20,
      peers: (d) => new Map<string, DeviceApi>([...d].map(([n, x]) => [n, n !== 'dst' ? x : new Proxy(x, {
        get(target, prop, receiver) {
          const v: unknown = Reflect.get(target, prop, receiver);
          if (prop !== 'importStaged') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          return async (m: unknown, b: StateBatch) => {
            most = Math.max(most, ++inFlight);
            await new Promise((r) => setTimeout(r, 40));
            try {
              return await target.importStaged(m as never, b);
            } finally {
              inFlight--;
            }
          };
        },
      })])),
    });
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await new Promise((r) => setTimeout(r, 60));
    // Ten delta batches in quick succession, each changing the same flows again.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 5; i++) at(dev, 'src').change(flow(i, BigInt(10 + round)));
      at(dev, 'src').push();
    }
    stop$.next();
    await running;
    const atFreeze = new Map(at(dev, 'src').active);
    await engine.pauseSync();
    expect(most).toBe(1);
    expect(at(dev, 'dst').calls.filter((c) => c === 'importStaged').length).toBeLessThan(11);
    expect(at(dev, 'dst').active).toEqual(atFreeze);
  });

  it('engine p2p — a destination without room for the snapshot is refused by the source before anything is sent: CAPACITY_EXCEEDED, nothing staged', async () => {
    const { engine, dev } = await setup();
    await engine.prepare();
    at(dev, 'dst').claimedSlots = { total: 1000, free: 10 };
    await expect(engine.precopy()).rejects.toMatchObject({ code: 'CAPACITY_EXCEEDED', message: expect.stringMatching(/dst has 10 free slots; the VM's snapshot needs 20 there; nothing was staged/) as unknown });
    expect(at(dev, 'dst').calls).not.toContain('importStaged');
    await engine.abort('CAPACITY_EXCEEDED', 'no room');
    expect(at(dev, 'src').prepared).toBe(false);
  });

  it('engine p2p — rollback stops the sources first, then cleans the destinations: nothing the source still sent survives', async () => {
    const { engine, dev, log } = await setup();
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await new Promise((r) => setTimeout(r, 20));
    at(dev, 'src').change(flow(30));
    at(dev, 'src').push();
    stop$.next();
    await running;
    at(dev, 'src').failNext('finalDelta', 'DEVICE_UNREACHABLE');
    await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    expect(at(dev, 'dst').staged.size).toBe(21);
    await engine.abort('DEVICE_UNREACHABLE', 'final delta failed');
    expect(log.filter((l) => l.startsWith('abort'))).toEqual(['abort src', 'abort dst']);
    expect(at(dev, 'dst').staged.size).toBe(0);
    expect(at(dev, 'dst').active.size).toBe(0);
  });

  it.each([false, true])('engine p2p — N:1 (sources freezing in their transfers: %s): two sources each send their flows to the one destination; it holds the union at the freeze, activated by the controller after both', async (freezes) => {
    const merged = parseInventory(`
devices:
  s1: { address: 127.0.0.1:1, deviceId: 1, hosts: [host-a] }
  s2: { address: 127.0.0.1:2, deviceId: 1, hosts: [host-a] }
  dst: { address: 127.0.0.1:3, deviceId: 1, hosts: [host-b] }
hosts:
  host-a: { placement: ecmp }
placement:
  ecmp: { kind: hash, algorithm: crc32, fields: [vm_addr, remote_addr, vm_port, remote_port, protocol], devices: [s1, s2] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`, 'merge.yaml');
    const plan = planMigration(merged, 'vm-7', 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId: 'm2', vm: 'vm-7', sources: ['s1', 's2'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
    const dev = new Map(['s1', 's2', 'dst'].map((n) => [n, new FakeDeviceApi(n, { transferFreezes: freezes, pipelines: n === 'dst' })]));
    for (let i = 0; i < 10; i++) at(dev, i % 2 === 0 ? 's1' : 's2').change(flow(i));
    const log: string[] = [];
    const view = new Map<string, DeviceApi>([...dev].map(([n, d]) => [n, controllerView(d, log, n === 'dst')]));
    const engine = new MigrationEngine({ plan, machine, devices: view, transfer: inProcessTransfer(new Map<string, DeviceApi>(dev)), pauseDeadlineMs: 5_000, precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } }, graceMs: 0 });
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await new Promise((r) => setTimeout(r, 20));
    at(dev, 's2').change(flow(11));
    at(dev, 's2').push();
    await new Promise((r) => setTimeout(r, 20));
    stop$.next();
    await running;
    const union = new Map([...at(dev, 's1').active, ...at(dev, 's2').active]);
    const from = log.length;
    const sync = await engine.pauseSync();
    expect(sync.lost).toBeUndefined();
    expect(at(dev, 'dst').active).toEqual(union);
    expect(union.size).toBe(11);
    // Two sources: no final batch may activate alone; the controller freezes them unless their transfers do.
    expect(log.slice(from)).toContain('activate dst');
    expect(at(dev, 'dst').calls).not.toContain('importActivate');
    expect(log.slice(from).filter((l) => l.startsWith('freeze '))).toEqual(freezes ? [] : ['freeze s1', 'freeze s2']);
  });
});
