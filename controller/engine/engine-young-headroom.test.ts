// The engine keeps the young generation's room from pre-copy until the pause (young-headroom.ts),
// over FAKE in-memory devices (controller/testing/fake-device-api.ts) and a FAKE young generation
// that is always full: every look collects, so the test sees exactly when the keeper runs.
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
