// The engine keeps the young generation's room from pre-copy until the pause (young-headroom.ts)
// and collects the snapshot's garbage once it is staged (old-headroom.ts), over FAKE in-memory
// devices (controller/testing/fake-device-api.ts) and FAKE generations: a young one that is
// always full (every look collects, so the test sees exactly when the keeper runs) and an old
// one that grows by what the test says between the looks before and after the snapshot.
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import type { MigrationPhase } from '../migration/events.js';
import { planMigration } from '../plan/plan-migration.js';
import { FakeDeviceApi } from '../testing/fake-device-api.js';
import { engineTestFlow, engineTestInventory } from '../testing/engine-site.js';
import { ControllerError } from '../errors.js';
import { MigrationEngine } from './migration-engine.js';
import type { MigrationEngineOptions } from './migration-engine.js';
import type { YoungGeneration } from './young-headroom.js';
import type { OldGeneration } from './old-headroom.js';
import { enterPause } from './pauses-in-process.js';

/** Always past the threshold; records the migration's phase at each collection. */
class FullYoung implements YoungGeneration {
  readonly phases: MigrationPhase[] = [];
  machine: MigrationMachine | undefined;
  private justCollected = false;
  usage(): { used: number; capacity: number } {
    const used = this.justCollected ? 0 : 900;
    this.justCollected = false;
    return { used, capacity: 1000 };
  }
  collect(): void {
    this.phases.push(this.machine?.state.phase ?? 'PLANNED');
    this.justCollected = true;
  }
}

/** Holds `before` bytes at the first look and `before + grows` after; records what each collection saw. */
class GrowingOld implements OldGeneration {
  readonly collections: { phase: MigrationPhase; imports: number }[] = [];
  machine: MigrationMachine | undefined;
  dst: FakeDeviceApi | undefined;
  looks = 0;
  constructor(
    readonly before: number,
    readonly grows: number,
  ) {}
  used(): number {
    return this.looks++ === 0 ? this.before : this.before + this.grows;
  }
  collect(): void {
    this.collections.push({ phase: this.machine?.state.phase ?? 'PLANNED', imports: this.dst?.calls.filter((c) => c === 'importStaged').length ?? 0 });
  }
}

async function engineWith(over: Partial<MigrationEngineOptions>): Promise<{ engine: MigrationEngine; machine: MigrationMachine; dev: Map<string, FakeDeviceApi> }> {
  const plan = planMigration(engineTestInventory(), 'vm-7', 'host-a', 'host-b');
  const machine = await MigrationMachine.plan({ migrationId: 'm-young', vm: 'vm-7', sources: plan.sources.map((d) => d.name), destinations: plan.destinations.map((d) => d.name) }, { journal: new MemoryJournal(), now: () => Date.now() });
  const dev = new Map(['src', 'dst', 'c1', 'c2'].map((n) => [n, new FakeDeviceApi(n)]));
  for (let i = 0; i < 20; i++) dev.get('src')?.change(engineTestFlow(i));
  const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 200, precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } }, graceMs: 0, ...over });
  return { engine, machine, dev };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('migration engine — room in the young generation for the pause', () => {
  it('engine — collects during pre-copy and stops when the pause starts: no collection inside the pause or after it', async () => {
    const young = new FullYoung();
    const { engine, machine } = await engineWith({ youngGeneration: young, youngHeadroom: { intervalMs: 1 } });
    young.machine = machine;
    await engine.prepare();
    await sleep(10);
    expect(young.phases).toEqual([]); // not before pre-copy
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await sleep(40);
    stop$.next();
    await running;
    await sleep(10); // pre-copy over, the VM not yet paused: still collecting
    const beforePause = young.phases.length;
    expect(beforePause).toBeGreaterThan(1);
    expect(new Set(young.phases)).toEqual(new Set(['PRECOPY']));
    await engine.pauseSync();
    await sleep(20);
    expect(young.phases.length).toBe(beforePause);
    await engine.commit();
    expect(machine.state.phase).toBe('COMMITTED');
  });

  it('engine — a migration rolled back before its pause stops the keeper too', async () => {
    const young = new FullYoung();
    const { engine, machine } = await engineWith({ youngGeneration: young, youngHeadroom: { intervalMs: 1 } });
    young.machine = machine;
    await engine.prepare();
    void engine.precopy(new Subject<void>()).catch(() => undefined);
    await sleep(20);
    await engine.abort('ABORTED_BY_TRIGGER', 'test');
    const n = young.phases.length;
    expect(n).toBeGreaterThan(0);
    await sleep(20);
    expect(young.phases.length).toBe(n);
  });

  it('engine — youngGeneration false leaves collection to V8; bad keeper options are BAD_CONFIG before anything runs', async () => {
    const { engine } = await engineWith({ youngGeneration: false });
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    stop$.next();
    await running;
    expect((await engine.pauseSync()).lost).toBeUndefined();
    await expect(engineWith({ youngHeadroom: { fraction: 2 } })).rejects.toThrow(ControllerError);
    await expect(engineWith({ youngHeadroom: { fraction: 2 } })).rejects.toThrow(/young headroom fraction 2: expected a share/);
  });
});

describe("migration engine — the snapshot's garbage collected before the pause", () => {
  const MB = 1024 * 1024;

  async function precopyThenPause(old: GrowingOld, over: Partial<MigrationEngineOptions> = {}, beforeStop?: () => void): Promise<MigrationMachine> {
    const { engine, machine, dev } = await engineWith({ youngGeneration: false, oldGeneration: old, ...over });
    old.machine = machine;
    old.dst = dev.get('dst');
    await engine.prepare();
    const stop$ = new Subject<void>();
    const running = engine.precopy(stop$);
    await sleep(30);
    beforeStop?.();
    stop$.next();
    await running;
    expect((await engine.pauseSync()).lost).toBeUndefined();
    await engine.commit();
    return machine;
  }

  it('engine — a snapshot that left much garbage is collected once, in PRECOPY, after it was staged and before the pause', async () => {
    const old = new GrowingOld(200 * MB, 230 * MB);
    const machine = await precopyThenPause(old);
    expect(old.collections).toHaveLength(1);
    expect(old.collections[0]?.phase).toBe('PRECOPY');
    expect(old.collections[0]?.imports).toBeGreaterThanOrEqual(1); // the snapshot was staged first
    expect(old.looks).toBe(2); // one look before the snapshot, one after: none in the pause
    expect(machine.state.phase).toBe('COMMITTED');
  });

  it('engine — a snapshot that left little garbage is left to V8; oldGeneration false never looks', async () => {
    const small = new GrowingOld(200 * MB, 23 * MB);
    await precopyThenPause(small);
    expect(small.collections).toEqual([]);
    expect(small.looks).toBe(2);
    const off = new GrowingOld(200 * MB, 230 * MB);
    await precopyThenPause(off, { oldGeneration: false });
    expect(off.looks).toBe(0);
  });

  it('engine — not while another migration of this process is in its pause window', async () => {
    const old = new GrowingOld(200 * MB, 230 * MB);
    const leave = enterPause(); // the other migration's pause, open from before the snapshot
    try {
      await precopyThenPause(old);
    } finally {
      leave();
    }
    expect(old.looks).toBe(2);
    expect(old.collections).toEqual([]);
  });

  it('engine — the threshold from oldHeadroom; a bad one is BAD_CONFIG before anything runs', async () => {
    const old = new GrowingOld(200 * MB, 23 * MB);
    await precopyThenPause(old, { oldHeadroom: { fraction: 0.1, minBytes: 16 * MB } });
    expect(old.collections).toHaveLength(1);
    await expect(engineWith({ oldHeadroom: { minBytes: -1 } })).rejects.toThrow(ControllerError);
    await expect(engineWith({ oldHeadroom: { minBytes: -1 } })).rejects.toThrow(/old headroom minBytes -1: expected a whole number of bytes/);
  });
});
