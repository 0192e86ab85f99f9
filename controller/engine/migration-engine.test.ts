// The engine's orchestration against FAKE in-memory devices (controller/testing/fake-device-api.ts):
// step order, the completeness proof, the deadline policy, rollback at every step, 1:N routing.
// End-to-end runs against the sim come with the data plane's migration ops.
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { MemoryJournal } from '../journal/journal.js';
import { parseInventory } from '../inventory/load-inventory.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { destinationOf, planMigration } from '../plan/plan-migration.js';
import { FAKE_KEY_FIELDS, FakeDeviceApi, fakeFlowKey as keyOf } from '../testing/fake-device-api.js';
import { MigrationEngine } from './migration-engine.js';
import { reasonOfError, runMigration } from './run-migration.js';
import { abortedRun } from './engine-phase-handler.js';
import { migrateReportLines } from '../cli.js';
import { P4Schema } from 'p4runtime-ts';
import { describeSchema, readMigrationContract } from '../../plugin/index.js';
import { rehashedStatefulEdgeText, statefulEdgeP4InfoText } from '../../plugin/testing/stateful-edge-p4info.js';
import type { MigrationEngineOptions } from './migration-engine.js';
import { engineTestFlow, engineTestInventory } from '../testing/engine-site.js';

const inv = engineTestInventory();
const flow = engineTestFlow;

async function setup(to = 'host-b', over: Partial<MigrationEngineOptions> = {}, journal: MemoryJournal = new MemoryJournal()): Promise<{ engine: MigrationEngine; machine: MigrationMachine; dev: Map<string, FakeDeviceApi>; journal: MemoryJournal }> {
  const plan = planMigration(inv, 'vm-7', 'host-a', to);
  const machine = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: plan.sources.map((d) => d.name), destinations: plan.destinations.map((d) => d.name) }, { journal, now: () => Date.now() });
  const dev = new Map(['src', 'dst', 'c1', 'c2'].map((n) => [n, new FakeDeviceApi(n)]));
  for (let i = 0; i < 20; i++) dev.get('src')?.change(flow(i));
  const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 200, precopy: { intervalMs: 5, policy: { maxRounds: 3, convergedAtSlots: -1 } }, graceMs: 0, ...over });
  return { engine, machine, dev, journal };
}
/** Resolves once `cond` holds (polled on the event loop; fails the test after 5 s). */
async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached within 5 s');
}
const src = (d: Map<string, FakeDeviceApi>): FakeDeviceApi => d.get('src') as FakeDeviceApi;
const dst = (d: Map<string, FakeDeviceApi>): FakeDeviceApi => d.get('dst') as FakeDeviceApi;

describe('migration engine — 1:1 over fake devices', () => {
  it('engine — snapshot, deltas while running, the pause sync and commit leave the destination holding exactly the source state at the freeze', async () => {
    const { engine, machine, dev, journal } = await setup('host-b', { precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } } });
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await new Promise((r) => setTimeout(r, 20)); // the snapshot is taken and deltas subscribed
    src(dev).change(flow(3, 4n));
    src(dev).change(flow(20));
    src(dev).push();
    await new Promise((r) => setTimeout(r, 30));
    src(dev).change(flow(21));
    src(dev).push();
    stop$.next();
    const rounds = await running;
    expect(engine.precopyEnd).toEqual({ by: 'paused', maxRounds: 1000 });
    src(dev).change(flow(5, 7n)); // the last change before the freeze: only the final delta carries it
    const atFreeze = new Map(src(dev).active);
    const sync = await engine.pauseSync();
    expect(sync.lost).toBeUndefined();
    expect(dst(dev).active).toEqual(atFreeze);
    // Flows 3 and 20 in pre-copy; flow 21, pushed just before the pause, is left to the final
    // delta (which reads it again from the first sequence installed nowhere) with flow 5.
    expect(rounds.reduce((n, r) => n + r.slots, 0)).toBe(2);
    expect(sync.slots).toBe(2);
    const c = await engine.commit();
    expect(c.deleted).toBe(22);
    expect(src(dev).active.size).toBe(0);
    expect(machine.state).toMatchObject({ phase: 'COMMITTED', sourceCleaned: true });
    expect((await journal.load('m1')).map((e) => e.type)).toEqual(['planned', 'prepared', 'round', ...rounds.map(() => 'round'), 'frozen', 'synced', 'activated', 'committed', 'source-cleaned']);
  });

  it('engine — how pre-copy ended is told apart: cut at the round limit while slots still change, or converged on a quiet round (walkthrough 23: the report could not say)', async () => {
    const cut = await setup('host-b', { precopy: { intervalMs: 5, policy: { maxRounds: 3, convergedAtSlots: 0 } } });
    await cut.engine.prepare();
    let n = 100;
    const churn = setInterval(() => {
      src(cut.dev).change(flow(n++));
      src(cut.dev).push();
    }, 1);
    try {
      const rounds = await cut.engine.precopy();
      expect(rounds.length).toBe(3);
    } finally {
      clearInterval(churn);
    }
    expect(cut.engine.precopyEnd).toMatchObject({ by: 'round-limit', maxRounds: 3 });
    expect((cut.engine.precopyEnd as { lastSlots: number }).lastSlots).toBeGreaterThan(0);
    const quiet = await setup('host-b', { precopy: { intervalMs: 5, policy: { maxRounds: 30, convergedAtSlots: 0 } } });
    await quiet.engine.prepare();
    expect((await quiet.engine.precopy()).length).toBeLessThan(30);
    expect(quiet.engine.precopyEnd).toEqual({ by: 'converged', maxRounds: 30 });
  });

  it('engine — a lost delta notification is recovered by the final pull from the last installed sequence', async () => {
    const { engine, dev } = await setup();
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    src(dev).change(flow(30));
    src(dev).dropNextPush = true;
    src(dev).push();
    stop$.next();
    await running;
    const atFreeze = new Map(src(dev).active);
    expect((await engine.pauseSync()).lost).toBeUndefined();
    expect(dst(dev).active).toEqual(atFreeze);
  });

  it('engine — a device whose final delta skips a change leaves a sequence gap: INCOMPLETE_STATE, never activated', async () => {
    const { engine, machine, dev } = await setup();
    await engine.prepare();
    await engine.precopy();
    src(dev).change(flow(30));
    src(dev).lieOnFinal = true;
    await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'INCOMPLETE_STATE', message: expect.stringMatching(/sequence gaps .*src 21\.\.22/) });
    expect(machine.state.phase).toBe('FROZEN');
  });

  it('engine — a schema that differs is refused before any device is prepared', async () => {
    const { engine, dev } = await setup();
    dst(dev).schema = { conntrack: 'ct-v2' };
    await expect(engine.prepare()).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', message: expect.stringMatching(/src → dst: conntrack has schema ct-v1 at src but ct-v2 at dst; src → dst: src does not describe its schema/) });
    expect(src(dev).prepared || dst(dev).prepared).toBe(false);
  });

  it('engine — a schema mismatch names the register and both widths when the capabilities carry them', async () => {
    const { engine, dev } = await setup();
    src(dev).registers = [{ name: 'ct_state', bits: 64 }];
    dst(dev).registers = [{ name: 'ct_state', bits: 48 }];
    dst(dev).schema = { conntrack: 'ct-v2' };
    await expect(engine.prepare()).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', message: expect.stringMatching(/register 'ct_state' is 64 bits at src but 48 bits at dst/) });
    expect(src(dev).prepared || dst(dev).prepared).toBe(false);
  });
});

describe('migration engine — schemas that differ compatibly are translated', () => {
  const described = describeSchema(readMigrationContract(P4Schema.fromText(statefulEdgeP4InfoText(), 'stateful_edge')));
  const larger = describeSchema(readMigrationContract(P4Schema.fromText(rehashedStatefulEdgeText('crc16', 131072, 'crc32', 524288), 'stateful_edge, larger')));

  it('engine — a destination with a larger table and swapped hashes proceeds; the translation is journalled with prepared', async () => {
    const { engine, machine, dev, journal } = await setup();
    src(dev).schemaDescription = described;
    dst(dev).schemaDescription = larger;
    dst(dev).schema = { conntrack: 'ct-v2' };
    await engine.prepare();
    expect(src(dev).prepared && dst(dev).prepared).toBe(true);
    const expected = ["conntrack: 327680 slots at src, 655360 at dst — placed by dst's size", "conntrack: placement crc32/crc16 at src vs crc16/crc32 at dst — placed by dst's hashes"];
    expect(machine.state.translations).toEqual(expected);
    expect((await journal.load('m1')).find((e) => e.type === 'prepared')).toMatchObject({ translations: expected });
  });

  it('engine — an incompatible pair is refused before any device is prepared, every reason named', async () => {
    const { engine, dev, journal } = await setup();
    src(dev).schemaDescription = described;
    dst(dev).schemaDescription = { ...larger, groups: larger.groups.map((g) => ({ ...g, fields: g.fields.filter((f) => f.register !== 'ct_pkts').map((f) => (f.name === 'end_in' ? { ...f, bits: 24 } : f)) })) };
    dst(dev).schema = { conntrack: 'ct-v2' };
    const err = await engine.prepare().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    expect((err as Error).message).toContain("src → dst: slot group 'conntrack': field 'end_in' is 32 bits at src but 24 bits at dst — values might not fit");
    expect((err as Error).message).toContain("src → dst: slot group 'conntrack': register 'ct_pkts' (pkts_out:32, pkts_in:32) exists at src, not at dst — its values would be lost");
    expect(src(dev).prepared || dst(dev).prepared).toBe(false);
    expect((await journal.load('m1')).map((e) => e.type)).toEqual(['planned']);
  });
});

describe('migration engine — the pause arrives early', () => {
  it('engine — a pause signalled while the snapshot is still moving ends pre-copy right after it (no delta round)', async () => {
    const { engine, dev } = await setup('host-b', { precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } } });
    await engine.prepare();
    src(dev).stall('exportSnapshot');
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    stop$.next(); // before the snapshot was read: a plain Subject does not replay it
    src(dev).unstall('exportSnapshot');
    const rounds = await running;
    expect(rounds).toEqual([]);
    expect(dst(dev).staged.size).toBe(20);
  });

  it('engine — the pause does not wait for the pre-copy interval: a stop between rounds ends pre-copy before the timer fires', async () => {
    // Virtual time that never advances: only the stop can end the wait between rounds.
    const scheduler = new VirtualTimeScheduler();
    const { engine, dev, journal } = await setup('host-b', { scheduler, precopy: { intervalMs: 60_000, policy: { maxRounds: 1000, convergedAtSlots: -1 } } });
    await engine.prepare();
    const stop$ = new Subject<void>();
    const events: string[] = [];
    const running = engine.precopy(stop$).then((r) => events.push('pre-copy ended') && r);
    await until(async () => (await journal.load('m1')).some((e) => e.type === 'round'));
    src(dev).change(flow(40));
    src(dev).push(); // queued for the next round, which the pause pre-empts
    events.push('paused');
    stop$.next();
    expect(await running).toEqual([]);
    const sync = await engine.pauseSync();
    expect(events).toEqual(['paused', 'pre-copy ended']);
    expect(scheduler.now()).toBe(0);
    // Nothing left scheduled: neither the interval pre-copy was waiting out nor the pause's
    // deadline (a timer left behind kept a process alive for its whole length).
    expect(scheduler.actions).toHaveLength(0);
    // The queued batch was not installed in pre-copy: the final delta read flow 40 again.
    expect(sync.slots).toBe(1);
    expect(dst(dev).active.get(keyOf(flow(40)))).toEqual(flow(40));
    expect(src(dev).calls.filter((c) => c === 'finalDelta')).toHaveLength(1);
    expect(dst(dev).calls.filter((c) => c === 'importStaged')).toHaveLength(2); // the snapshot, the final batch
  });

  it('engine — a batch being installed when the pause comes finishes behind the freeze, not before it; the final delta starts after it', async () => {
    const { engine, dev, journal } = await setup('host-b', { precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } } });
    await engine.prepare();
    const running = engine.precopy(); // no stop$: the pause ends pre-copy itself
    await until(() => dst(dev).staged.size === 20);
    dst(dev).stall('importStaged');
    src(dev).change(flow(40));
    src(dev).push();
    await until(() => dst(dev).calls.filter((c) => c === 'importStaged').length === 2); // the round's import, held
    const pausing = engine.pauseSync();
    await until(() => src(dev).calls.includes('freeze'));
    // The freeze went out while the round's import was still held; the final delta waits for it.
    expect(src(dev).calls).not.toContain('finalDelta');
    dst(dev).unstall('importStaged');
    const sync = await pausing;
    expect(sync.slots).toBe(0); // flow 40 came with the round: the final delta started after it
    expect(dst(dev).active.get(keyOf(flow(40)))).toEqual(flow(40));
    expect((await running).map((r) => r.slots).filter((n) => n > 0)).toEqual([1]); // the held round installed flow 40
    const types = (await journal.load('m1')).map((e) => e.type);
    expect(types.lastIndexOf('round')).toBeLessThan(types.indexOf('frozen'));
  });

  it('engine — pre-copy that failed: the pause reports its failure and freezes nothing', async () => {
    const { engine, dev } = await setup('host-b', { precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } } });
    await engine.prepare();
    const running = engine.precopy();
    await until(() => dst(dev).staged.size === 20);
    dst(dev).failNext('importStaged', 'CAPACITY_EXCEEDED');
    src(dev).change(flow(41));
    src(dev).push();
    await expect(running).rejects.toMatchObject({ code: 'CAPACITY_EXCEEDED' });
    await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'CAPACITY_EXCEEDED' });
    expect(src(dev).calls).not.toContain('freeze');
  });

  it('engine — a removal in a batch queued when the VM pauses reaches the destination with the final batch', async () => {
    const { engine, dev } = await setup('host-b', { precopy: { intervalMs: 60_000, policy: { maxRounds: 1000, convergedAtSlots: -1 } } });
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await until(() => dst(dev).staged.size === 20);
    src(dev).remove(flow(7));
    src(dev).push(); // the only batch that reports the removal; the pause comes before it is installed
    stop$.next();
    await running;
    expect(dst(dev).staged.has(keyOf(flow(7)))).toBe(true);
    const atFreeze = new Map(src(dev).active);
    const sync = await engine.pauseSync();
    expect(sync.lost).toBeUndefined();
    expect(dst(dev).active).toEqual(atFreeze);
    expect(dst(dev).active.has(keyOf(flow(7)))).toBe(false);
  });
});

describe('migration engine — the pause deadline', () => {
  it('engine — policy abort: a final delta past the deadline is PAUSE_DEADLINE_MISSED, and rollback leaves the source authoritative', async () => {
    const { engine, machine, dev } = await setup('host-b', { pauseDeadlineMs: 20, onDeadline: 'abort', settleMs: 20 });
    await engine.prepare();
    await engine.precopy(new Subject<void>().asObservable());
    src(dev).stall('finalDelta');
    await expect(engine.pauseSync()).rejects.toMatchObject({
      code: 'PAUSE_DEADLINE_MISSED',
      // How late it was, and the two settings that would have let it activate.
      message: expect.stringMatching(/not done within 20 ms: it had not finished \d+ ms after the pause began; .*--pause-deadline-ms.*--on-deadline/),
    });
    const r = await engine.abort('PAUSE_DEADLINE_MISSED', 'final delta late');
    expect(r.failed).toEqual([]);
    expect(src(dev).frozen).toBe(false);
    expect(src(dev).active.size).toBe(20);
    expect(dst(dev).active.size + dst(dev).staged.size).toBe(0);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true, abort: { reason: 'PAUSE_DEADLINE_MISSED', inPhase: 'FROZEN' } });
  });

  it('engine — past the deadline the sources are unfrozen as soon as their calls answered, while the destination\'s writes still in flight are waited for (walkthrough 17: a source frozen 5.3 s past a 300 ms deadline)', async () => {
    const plan = planMigration(inv, 'vm-7', 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
    const dev = new Map(['src', 'dst'].map((n) => [n, new FakeDeviceApi(n, { pipelines: true })]));
    for (let i = 0; i < 20; i++) dev.get('src')?.change(flow(i));
    const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 50, settleMs: 5_000, precopy: { intervalMs: 5, policy: { maxRounds: 1, convergedAtSlots: -1 } }, graceMs: 0 });
    await engine.prepare();
    await engine.precopy();
    src(dev).change(flow(99));
    dst(dev).stall('importActivate');
    dst(dev).stall('importStaged');
    const pause = engine.pauseSync();
    pause.catch(() => undefined);
    // Unfrozen during the settle wait, the destination still writing.
    await until(() => src(dev).calls.includes('abort') && !src(dev).frozen);
    expect(src(dev).calls.filter((c) => c === 'freezeFinal')).toHaveLength(1);
    dst(dev).unstall('importActivate');
    dst(dev).unstall('importStaged');
    await expect(pause).rejects.toMatchObject({ code: 'PAUSE_DEADLINE_MISSED' });
    const r = await engine.abort('PAUSE_DEADLINE_MISSED', 'late');
    expect(r.failed).toEqual([]);
    expect(dst(dev).active.size + dst(dev).staged.size).toBe(0);
    expect(src(dev).frozen).toBe(false);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
  });

  it('engine — a wall-clock step during the freeze neither uses up the deadline nor shows in the sync time (the default scheduler is monotonic)', async () => {
    const { engine, dev } = await setup('host-b', { pauseDeadlineMs: 200, onDeadline: 'abort' });
    await engine.prepare();
    await engine.precopy(new Subject<void>().asObservable());
    const freeze = src(dev).freeze.bind(src(dev));
    vi.spyOn(src(dev), 'freeze').mockImplementation(async (m) => {
      await freeze(m);
      // NTP steps the wall clock an hour forward while the source freezes.
      vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    });
    const sync = await engine.pauseSync().finally(() => vi.restoreAllMocks());
    expect(sync.lost).toBeUndefined();
    expect(sync.elapsedMs).toBeGreaterThan(0);
    expect(sync.elapsedMs).toBeLessThan(200);
  });

  it('engine — policy continue: activates without the late changes and reports the loss', async () => {
    const { engine, machine, dev } = await setup('host-b', { pauseDeadlineMs: 20, onDeadline: 'continue' });
    await engine.prepare();
    await engine.precopy();
    src(dev).stall('finalDelta');
    const r = await engine.pauseSync();
    expect(r.lost?.detail).toMatch(/not installed within 20 ms; activated without waiting for them \(slot count unknown: the final read had not completed\)/);
    expect(machine.state.phase).toBe('ACTIVATED');
    expect(dst(dev).active.size).toBe(20);
  });

  it('engine — policy continue, the sources\' final reads answered and only the install late: the loss says so (walkthrough 17 F8 read "not completed")', async () => {
    const plan = planMigration(inv, 'vm-7', 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
    const dev = new Map(['src', 'dst'].map((n) => [n, new FakeDeviceApi(n, { pipelines: true })]));
    for (let i = 0; i < 20; i++) dev.get('src')?.change(flow(i));
    const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 20, onDeadline: 'continue', precopy: { intervalMs: 5, policy: { maxRounds: 1, convergedAtSlots: -1 } }, graceMs: 0 });
    await engine.prepare();
    await engine.precopy();
    src(dev).change(flow(99));
    dst(dev).stall('importActivate');
    dst(dev).stall('importStaged');
    setTimeout(() => {
      dst(dev).unstall('importActivate');
      dst(dev).unstall('importStaged');
    }, 200);
    const r = await engine.pauseSync();
    expect(r.lost?.detail).toMatch(/\(slot count unknown: the final read had completed and its batches were still being installed, so they may land after the activation\)/);
  });
});

/** A memory journal whose `synced` record waits for `gate` first, or fails; once `full` (its disk filled up), every record fails. */
class SyncedGateJournal extends MemoryJournal {
  gate: (() => Promise<void>) | undefined;
  fail = false;
  full = false;
  override async append(migrationId: string, event: Parameters<MemoryJournal['append']>[1]): Promise<void> {
    if (this.full) throw new Error('ENOSPC: no space left on device, write');
    if (event.type === 'synced') {
      if (this.fail) throw new Error('injected: the disk refused the record');
      await this.gate?.();
    }
    return super.append(migrationId, event);
  }
}

describe('migration engine — the journal in the pause', () => {
  it('engine — a journal that refuses the commit record after the activation: the run ends NOT FINISHED with the VM at the destination (never rolled back under it), its report naming carryover recover', async () => {
    const journal = new SyncedGateJournal();
    const { engine, machine, dev } = await setup('host-b', {}, journal);
    const append = journal.append.bind(journal);
    journal.append = (id, e) => (e.type === 'committed' ? Promise.reject(new Error('ENOSPC: no space left on device, write')) : append(id, e));
    const run = await runMigration(engine, { paused$: new Subject<void>() });
    expect(run).toMatchObject({ aborted: undefined, committed: undefined, unfinished: { reason: 'PEER_REJECTED', vmAt: 'destination', detail: expect.stringMatching(/recording 'committed' failed: ENOSPC/) as unknown } });
    expect(machine.state.phase).toBe('ACTIVATED');
    expect(dst(dev).active.size).toBe(20);
    const lines = migrateReportLines({ migrationId: 'm1', run, rounds: [], translations: [] });
    expect(lines[0]).toMatch(/^migration m1: NOT FINISHED \(PEER_REJECTED\) — the VM runs at the destination, .*run carryover recover \(it says when it needs --vm-at destination\)/);
  });

  it('engine — a journal whose disk fills in the pause: the rollback is done at the devices all the same (source unfrozen, destination clean) and says the journal refused it; the journal is left where a recovery rolls back', async () => {
    const journal = new SyncedGateJournal();
    const { engine, machine, dev } = await setup('host-b', {}, journal);
    const before = new Map(src(dev).active);
    await engine.prepare();
    await engine.precopy();
    dst(dev).stall('importStaged');
    const pause = engine.pauseSync();
    await until(() => src(dev).frozen);
    journal.full = true;
    dst(dev).failNext('importStaged', 'DEVICE_UNREACHABLE', 1);
    dst(dev).unstall('importStaged');
    const err = await pause.catch((e: unknown) => e);
    const { reason, detail } = reasonOfError(err);
    const undo = await engine.abort(reason, detail);
    expect(undo).toMatchObject({ failed: [], journalError: expect.stringMatching(/ENOSPC/) as unknown });
    expect(src(dev).frozen).toBe(false);
    expect(src(dev).active).toEqual(before);
    expect(dst(dev).active.size + dst(dev).staged.size).toBe(0);
    expect(machine.state.phase).not.toBe('ABORTED'); // not recorded: a recovery rolls it back again
    const lines = migrateReportLines({ migrationId: 'm1', run: { rounds: [], sync: undefined, committed: undefined, aborted: abortedRun(reason, detail, undo) }, rounds: [], translations: [] });
    expect(lines[0]).toMatch(/^migration m1: ABORTED \(DEVICE_UNREACHABLE\) — rolled back: every device as before the migration, the VM's state where it was; but the journal refused to record it \(.*recording 'abort' failed: ENOSPC.*\): once it takes records again \(free its disk\), run carryover recover/);
  });

  it('engine — the synced record is written while the destinations activate, not before (a record waiting for the activation does not hold the pause)', async () => {
    const journal = new SyncedGateJournal();
    const { engine, machine, dev } = await setup('host-b', {}, journal);
    // Written before the activation, this record would wait forever.
    journal.gate = () => until(() => dst(dev).calls.includes('activate'));
    await engine.prepare();
    await engine.precopy();
    await engine.pauseSync();
    expect(machine.state.phase).toBe('ACTIVATED');
    expect((await journal.load('m1')).map((e) => e.type).slice(-3)).toEqual(['frozen', 'synced', 'activated']);
  });

  it('engine — a synced record that cannot be written fails the pause after the activation; the rollback cleans the destination and unfreezes the source', async () => {
    const journal = new SyncedGateJournal();
    const { engine, machine, dev } = await setup('host-b', {}, journal);
    const before = new Map(src(dev).active);
    await engine.prepare();
    await engine.precopy();
    journal.fail = true;
    await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'JOURNAL' });
    expect(dst(dev).calls).toContain('activate');
    expect(machine.state.phase).toBe('FROZEN');
    await engine.abort('PEER_REJECTED', 'synced not recorded (the journal refused it)');
    expect(dst(dev).active.size + dst(dev).staged.size).toBe(0);
    expect(src(dev).frozen).toBe(false);
    expect(src(dev).active).toEqual(before);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
  });
});

describe('migration engine — rollback at every step', () => {
  const steps: ['prepare' | 'exportSnapshot' | 'importStaged' | 'freeze' | 'finalDelta' | 'activate', string, string][] = [
    ['prepare', 'dst', 'DEVICE_UNREACHABLE'],
    ['exportSnapshot', 'src', 'DEVICE_UNREACHABLE'],
    ['importStaged', 'dst', 'CAPACITY_EXCEEDED'],
    ['freeze', 'src', 'NOT_PRIMARY'],
    ['finalDelta', 'src', 'DEVICE_UNREACHABLE'],
    ['activate', 'dst', 'KEY_COLLISION'],
  ];
  it.each(steps)('engine — %s failing at %s aborts with %s; the destination is clean and the source unfrozen and unchanged', async (step, where, reason) => {
    const { engine, machine, dev } = await setup();
    dev.get(where)?.failNext(step, reason as never);
    const before = new Map(src(dev).active);
    let err: unknown;
    try {
      await engine.prepare();
      await engine.precopy();
      await engine.pauseSync();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: reason, message: expect.stringContaining(`at ${where}`) });
    await engine.abort((err as { code: never }).code, (err as Error).message);
    expect(dst(dev).active.size + dst(dev).staged.size).toBe(0);
    expect(src(dev).frozen).toBe(false);
    expect(src(dev).active).toEqual(before);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true, abort: { reason } });
  });

  it('engine — an undo that fails twice is reported and the abort stays open for recovery (no retry asked); where it did finish (the source) is journalled, so recovery leaves that switch alone', async () => {
    const { engine, machine, dev } = await setup('host-b', { undoRetryMs: 0 });
    await engine.prepare();
    dst(dev).failNext('abort', 'DEVICE_UNREACHABLE', 2);
    const r = await engine.abort('ABORTED_BY_TRIGGER', 'operator');
    expect(r.failed).toEqual(['dst']);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: false, cleanedAt: ['src'] });
  });

  it('engine — a commit whose delete at one source of two fails journals the other as cleaned, then fails with the first one\'s reason', async () => {
    const { engine, machine, dev } = await setup('host-b');
    await engine.prepare();
    await engine.precopy();
    await engine.pauseSync();
    src(dev).failNext('deleteAtSource', 'DEVICE_UNREACHABLE', 1);
    await expect(engine.commit()).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    // 1:1 here: the one source failed, so nothing is recorded as cleaned.
    expect(machine.state).toMatchObject({ phase: 'COMMITTED', sourceCleaned: false, cleanedAt: [] });
  });

  /** Runs `p` with `scheduler`'s timers fired as soon as they are set (virtual time). */
  async function inVirtualTime<T>(scheduler: VirtualTimeScheduler, p: Promise<T>): Promise<T> {
    let settled = false;
    void p.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      scheduler.flush();
    }
    return p;
  }

  it('engine — a device that does not answer the undo is retried (a plugin being restarted), in virtual time: rolled back once it answers, with waits growing from 250 ms', async () => {
    const scheduler = new VirtualTimeScheduler(undefined, Infinity);
    const progress: string[] = [];
    const { engine, machine, dev } = await setup('host-b', { scheduler, undoRetryMs: 30_000, progress: (l) => progress.push(l) });
    await engine.prepare();
    // Two immediate tries, then tries after 250, 500 and 1,000 ms fail; the one 1,000 ms later answers (waits capped at 1 s).
    dst(dev).failNext('abort', 'DEVICE_UNREACHABLE', 5);
    const r = await inVirtualTime(scheduler, engine.abort('ABORTED_BY_TRIGGER', 'operator'));
    // The operator reads it (the CLI's progress), not only the log.
    expect(progress).toEqual(['retrying the rollback for up to 30 s at dst, which did not answer', 'rollback done at dst after 3 s of retries']);
    expect(r.failed).toEqual([]);
    expect(r.undone).toContain('dst');
    expect(dst(dev).calls.filter((c) => c === 'abort')).toHaveLength(6);
    expect(scheduler.now()).toBe(250 + 500 + 1_000 + 1_000);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
  });

  it('engine — once the pause began, a destination that does not answer the undo is not retried (it may be active, and a restarted plugin would answer done without cleaning it): reported for carryover recover; the source still is', async () => {
    const scheduler = new VirtualTimeScheduler(undefined, Infinity);
    const { engine, machine, dev } = await setup('host-b', { scheduler, undoRetryMs: 10_000 });
    await engine.prepare();
    dst(dev).failNext('activate', 'DEVICE_UNREACHABLE', 2);
    await expect(inVirtualTime(scheduler, engine.pauseSync())).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    dst(dev).failNext('abort', 'DEVICE_UNREACHABLE', 1_000);
    src(dev).failNext('abort', 'DEVICE_UNREACHABLE', 3);
    const r = await inVirtualTime(scheduler, engine.abort('DEVICE_UNREACHABLE', 'destination lost'));
    expect(r.failed).toEqual(['dst']);
    expect(r.undone).toContain('src'); // retried: its second retry, 750 ms on, answered
    expect(dst(dev).calls.filter((c) => c === 'abort')).toHaveLength(2);
    expect(scheduler.now()).toBe(250 + 500);
    // The source's undo is certain; the destination's is owed.
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: false, cleanedAt: ['src'] });
  });

  it('engine — once the pause began, a destination whose plugin is told it may be active (abortCleansActive) is retried like a source; every undo there says mayBeActive, the source\'s does not', async () => {
    const scheduler = new VirtualTimeScheduler(undefined, Infinity);
    const journal = new MemoryJournal();
    const plan = planMigration(inv, 'vm-7', 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal, now: () => Date.now() });
    const dev = new Map([['src', new FakeDeviceApi('src')], ['dst', new FakeDeviceApi('dst', { abortCleansActive: true })]]);
    for (let i = 0; i < 20; i++) dev.get('src')?.change(flow(i));
    const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 200, precopy: { intervalMs: 5, policy: { maxRounds: 3, convergedAtSlots: -1 } }, graceMs: 0, scheduler, undoRetryMs: 10_000 });
    await engine.prepare();
    dst(dev).failNext('activate', 'DEVICE_UNREACHABLE', 2);
    await expect(inVirtualTime(scheduler, engine.pauseSync())).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    dst(dev).failNext('abort', 'DEVICE_UNREACHABLE', 4);
    const r = await inVirtualTime(scheduler, engine.abort('DEVICE_UNREACHABLE', 'destination lost'));
    expect(r.failed).toEqual([]);
    expect(dst(dev).abortOptions).toEqual(Array.from({ length: 5 }, () => ({ mayBeActive: true })));
    expect(src(dev).abortOptions).toEqual([undefined]);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
  });

  it('engine — before the pause no undo says mayBeActive (nothing can be active yet)', async () => {
    const { engine, dev } = await setup('host-b');
    await engine.prepare();
    await engine.abort('ABORTED_BY_TRIGGER', 'operator');
    expect(dst(dev).abortOptions).toEqual([undefined]);
  });

  it('engine — a device that never answers the undo is retried for undoRetryMs only, then reported with its last error; the abort stays open', async () => {
    const scheduler = new VirtualTimeScheduler(undefined, Infinity);
    const { engine, machine, dev } = await setup('host-b', { scheduler, undoRetryMs: 10_000 });
    await engine.prepare();
    dst(dev).failNext('abort', 'NOT_PRIMARY', 1_000);
    const r = await inVirtualTime(scheduler, engine.abort('ABORTED_BY_TRIGGER', 'operator'));
    expect(r.failed).toEqual(['dst']);
    expect(r.errors['dst']).toMatch(/NOT_PRIMARY/);
    expect(scheduler.now()).toBe(10_000);
    // At 250, 750, 1,750, then every second to 9,750; then one more at 10,000 (the last wait cut short).
    expect(dst(dev).calls.filter((c) => c === 'abort')).toHaveLength(2 + 3 + 8 + 1);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: false });
  });

  it('engine — a run whose rollback fails names the devices and what each answered, and the report says the rollback is incomplete rather than done', async () => {
    const { engine, dev } = await setup('host-b', { undoRetryMs: 0 });
    src(dev).failNext('exportSnapshot', 'DEVICE_UNREACHABLE', 1);
    dst(dev).failNext('abort', 'NOT_PRIMARY', 2);
    const run = await runMigration(engine, { paused$: new Subject<void>() });
    expect(run.aborted).toMatchObject({ reason: 'DEVICE_UNREACHABLE', undoFailed: ['dst'], undoErrors: { dst: 'fake dst: abort failed (NOT_PRIMARY)' } });
    const lines = migrateReportLines({ migrationId: 'm1', run, rounds: [], translations: [] });
    expect(lines[0]).toBe('migration m1: ABORTED (DEVICE_UNREACHABLE) — ROLLBACK INCOMPLETE at dst (dst: fake dst: abort failed (NOT_PRIMARY)): run carryover recover once it answers this controller again');
  });

  it('engine — a rollback from inside the pause that cannot reach a destination says that destination may be active, the VM\'s state live there too (walkthrough 22: "staged" could not be told from "live at two switches")', async () => {
    const { engine, dev } = await setup('host-b', { undoRetryMs: 0 });
    dst(dev).failNext('activate', 'DEVICE_UNREACHABLE', 1);
    dst(dev).failNext('abort', 'DEVICE_UNREACHABLE', 2);
    const run = await runMigration(engine);
    expect(run.aborted).toMatchObject({ undoFailed: ['dst'], mayBeActive: ['dst'] });
    const lines = migrateReportLines({ migrationId: 'm1', run, rounds: [], translations: [] });
    expect(lines[0]).toMatch(/ROLLBACK INCOMPLETE at dst .*; dst was in the pause and may be ACTIVE \(the VM's flows and counters live there as well as at the source\) until then$/);
  });

  it('engine — the report of a 1:N move names the one destination that took the VM\'s counters; a 1:1 report has no such line', async () => {
    const split = planMigration(inv, 'vm-7', 'host-a', 'host-c');
    const run = { rounds: [], sync: undefined, committed: { deleted: 0, skipped: 0 }, aborted: undefined };
    const lines = migrateReportLines({ migrationId: 'm1', run, rounds: [0], translations: [] }, split);
    expect(lines).toContain(`  counters: the VM's per-VM counts were added at ${split.destinations[0]?.name} (one destination: they are not split by flow), its pinholes' direct counters there too`);
    expect(migrateReportLines({ migrationId: 'm1', run, rounds: [0], translations: [] }, planMigration(inv, 'vm-7', 'host-a', 'host-b')).join('\n')).not.toContain('counters:');
  });

  it('engine — the report of a pause whose final delta moved nothing says no flow changed, proven from the data plane\'s record, not "0 slots … proven complete"', () => {
    const sync = (slots: number) => ({ slots, aheadSlots: 0, lost: undefined, elapsedMs: 1.25, proofs: { src: 'change-numbers' as const } });
    const report = (slots: number): string[] => migrateReportLines({ migrationId: 'm1', run: { rounds: [], sync: sync(slots), committed: { deleted: 0, skipped: 0 }, aborted: undefined }, rounds: [0], translations: [] });
    expect(report(0)).toContain("  pause-window sync: 1.3 ms, 0 slots in the final delta: no flow changed since pre-copy's last round, proven from the data plane's record (the numbered change digests)");
    expect(report(0).join('\n')).not.toContain('proven complete');
    expect(report(4)).toContain('  pause-window sync: 1.3 ms, 4 slots in the final delta, proven complete by the numbered change digests');
  });

  it('engine — a destination claiming more free slots than it has slots is refused at negotiation: nothing prepared anywhere', async () => {
    const { engine, dev } = await setup();
    dst(dev).claimedSlots = { total: 1000, free: 5000 };
    await expect(engine.prepare()).rejects.toMatchObject({ code: 'PEER_REJECTED', message: expect.stringMatching(/dst claims 5000 free slots of 1000/) as unknown });
    expect(src(dev).calls).not.toContain('prepare');
    expect(dst(dev).calls).not.toContain('prepare');
  });

  it('engine — a destination without room for its share of the snapshot is refused before anything is staged: CAPACITY_EXCEEDED naming it', async () => {
    const { engine, machine, dev } = await setup();
    dst(dev).claimedSlots = { total: 1000, free: 19 };
    await engine.prepare();
    await expect(engine.precopy()).rejects.toMatchObject({ code: 'CAPACITY_EXCEEDED', message: 'dst has 19 free slots; the VM\'s snapshot needs 20 there; nothing was staged' });
    expect(dst(dev).calls).not.toContain('importStaged');
    expect(machine.state.rounds).toBe(0);
    await engine.abort('CAPACITY_EXCEEDED', 'no room');
    expect(dst(dev).staged.size).toBe(0);
    expect(src(dev).prepared).toBe(false);
  });

  it('engine — a step fails only once every device answered: the rollback never overtakes a prepare still in flight', async () => {
    const { engine, dev } = await setup();
    src(dev).stall('prepare');
    dst(dev).failNext('prepare', 'CAPACITY_EXCEEDED');
    let failed = false;
    const preparing = engine.prepare().catch((e: unknown) => {
      failed = true;
      throw e;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(dst(dev).calls).toContain('prepare');
    expect(failed).toBe(false);
    src(dev).unstall('prepare');
    await expect(preparing).rejects.toMatchObject({ code: 'CAPACITY_EXCEEDED' });
    await engine.abort('CAPACITY_EXCEEDED', 'dst refused');
    expect(src(dev).calls.slice(-2)).toEqual(['prepare', 'abort']);
    expect(src(dev).prepared).toBe(false);
  });
});

describe('migration engine — 1:N', () => {
  it('engine — each flow lands on the destination its path hits, by the placement hash', async () => {
    const { engine, dev } = await setup('host-c');
    await engine.prepare();
    await engine.precopy();
    await engine.pauseSync();
    const c1 = dev.get('c1') as FakeDeviceApi;
    const c2 = dev.get('c2') as FakeDeviceApi;
    expect(c1.active.size + c2.active.size).toBe(20);
    expect(c1.active.size).toBeGreaterThan(0);
    expect(c2.active.size).toBeGreaterThan(0);
    const plan = planMigration(inv, 'vm-7', 'host-a', 'host-c');
    for (const [d, fake] of [['c1', c1], ['c2', c2]] as const) {
      for (const f of fake.active.values()) expect(destinationOf(plan, FAKE_KEY_FIELDS.map((k) => ({ name: k.name, bits: k.bits, value: f[k.name] ?? 0n }))).name).toBe(d);
    }
  });
});

describe('migration engine — devices along the path', () => {
  const PATH_SITE = `
devices:
  src: { address: 127.0.0.1:1, deviceId: 1, hosts: [host-a] }
  dst: { address: 127.0.0.1:2, deviceId: 1, hosts: [host-b] }
  agg-a: { address: 127.0.0.1:3, deviceId: 1, role: path, counterpart: agg-b, hosts: [host-a] }
  agg-b: { address: 127.0.0.1:4, deviceId: 1, role: path, counterpart: agg-a, hosts: [host-b] }
  spine: { address: 127.0.0.1:5, deviceId: 1, role: path, hosts: [host-a, host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;
  it('engine — each path device hands its share to its counterpart, edges to edges; a device on both paths keeps its state', async () => {
    const pinv = parseInventory(PATH_SITE, 'site.yaml');
    const plan = planMigration(pinv, 'vm-7', 'host-a', 'host-b');
    expect(plan.sources.map((d) => d.name)).toEqual(['src', 'agg-a']);
    expect(plan.destinations.map((d) => d.name)).toEqual(['dst', 'agg-b']);
    const journal = new MemoryJournal();
    const machine = await MigrationMachine.plan({ migrationId: 'm-path', vm: 'vm-7', sources: ['src', 'agg-a'], destinations: ['dst', 'agg-b'] }, { journal, now: () => Date.now() });
    const dev = new Map(['src', 'dst', 'agg-a', 'agg-b'].map((n) => [n, new FakeDeviceApi(n)]));
    for (let i = 0; i < 6; i++) dev.get('src')?.change(flow(i));
    for (let i = 100; i < 104; i++) dev.get('agg-a')?.change(flow(i));
    const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 200, precopy: { intervalMs: 5, policy: { maxRounds: 2, convergedAtSlots: -1 } }, graceMs: 0 });
    await engine.prepare();
    await engine.precopy();
    await engine.pauseSync();
    const keys = (n: string): string[] => [...(dev.get(n)?.active.values() ?? [])].map((f) => String(f['vm_port'])).sort();
    expect(keys('dst')).toEqual(['40000', '40001', '40002', '40003', '40004', '40005']);
    expect(keys('agg-b')).toEqual(['40100', '40101', '40102', '40103']);
  });

  it('engine — a commit whose delete fails at one of two sources journals the other as cleaned (recovery and a later migration leave it alone), then fails with the reason', async () => {
    const pinv = parseInventory(PATH_SITE, 'site.yaml');
    const plan = planMigration(pinv, 'vm-7', 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId: 'm-path2', vm: 'vm-7', sources: ['src', 'agg-a'], destinations: ['dst', 'agg-b'] }, { journal: new MemoryJournal(), now: () => Date.now() });
    const dev = new Map(['src', 'dst', 'agg-a', 'agg-b'].map((n) => [n, new FakeDeviceApi(n)]));
    for (let i = 0; i < 6; i++) dev.get('src')?.change(flow(i));
    const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 200, precopy: { intervalMs: 5, policy: { maxRounds: 1, convergedAtSlots: -1 } }, graceMs: 0 });
    await engine.prepare();
    await engine.precopy();
    await engine.pauseSync();
    dev.get('agg-a')?.failNext('deleteAtSource', 'DEVICE_UNREACHABLE', 1);
    await expect(engine.commit()).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE', message: expect.stringContaining('at agg-a') });
    expect(dev.get('src')?.active.size).toBe(0);
    expect(machine.state).toMatchObject({ phase: 'COMMITTED', sourceCleaned: false, cleanedAt: ['src'] });
  });
});
