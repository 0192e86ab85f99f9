// The pause pipelined over devices that offer freezeFinal and importActivate (devices over the
// network): fewer calls while the VM is stopped, the same guarantees — nothing activates before the
// proof holds, a failure rolls back clean. FAKE in-memory devices (controller/testing).
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { planMigration } from '../plan/plan-migration.js';
import { FakeDeviceApi } from '../testing/fake-device-api.js';
import { engineTestFlow as flow, engineTestInventory, precopyFor } from '../testing/engine-site.js';
import { migrateReportLines } from '../cli.js';
import { MigrationEngine } from './migration-engine.js';
import { runMigration } from './run-migration.js';
import type { MigrationEngineOptions } from './migration-engine.js';

const inv = engineTestInventory();

async function pipelined(to = 'host-b', over: Partial<MigrationEngineOptions> = {}) {
  const plan = planMigration(inv, 'vm-7', 'host-a', to);
  const journal = new MemoryJournal();
  const machine = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: plan.sources.map((d) => d.name), destinations: plan.destinations.map((d) => d.name) }, { journal, now: () => Date.now() });
  const dev = new Map(['src', 'dst', 'c1', 'c2'].map((n) => [n, new FakeDeviceApi(n, { pipelines: true })]));
  const src = dev.get('src') as FakeDeviceApi;
  for (let i = 0; i < 20; i++) src.change(flow(i));
  const engine = new MigrationEngine({ plan, machine, devices: dev, pauseDeadlineMs: 200, precopy: { intervalMs: 5, policy: { maxRounds: 3, convergedAtSlots: -1 } }, graceMs: 0, ...over });
  return { engine, machine, journal, src, dst: dev.get('dst') as FakeDeviceApi, dev };
}

/** The calls a fake received from the pause on (those after pre-copy's). */
const pauseCalls = (d: FakeDeviceApi, from: number): string[] => d.calls.slice(from).filter((c) => c !== 'pauseStarted');

describe('migration engine — the pause pipelined', () => {
  it('pipelined pause — one freezeFinal at the source and one importActivate at the destination, which then holds the source state at the freeze', async () => {
    const { engine, journal, src, dst } = await pipelined();
    await engine.prepare();
    await precopyFor(engine);
    src.change(flow(5, 7n)); // only the final delta carries it
    const atFreeze = new Map(src.active);
    const [s0, d0] = [src.calls.length, dst.calls.length];
    const sync = await engine.pauseSync();
    expect(pauseCalls(src, s0)).toEqual(['freezeFinal']);
    expect(pauseCalls(dst, d0)).toEqual(['importActivate']);
    expect(sync).toMatchObject({ slots: 1, aheadSlots: 0 });
    expect(sync.lost).toBeUndefined();
    expect(dst.active).toEqual(atFreeze);
    expect(dst.staged.size).toBe(0);
    expect((await journal.load('m1')).map((e) => e.type).slice(-3)).toEqual(['frozen', 'synced', 'activated']);
  });

  it('pipelined pause — a final delta that leaves a sequence gap is installed but never activated: INCOMPLETE_STATE, and the rollback leaves the destination clean', async () => {
    const { engine, machine, src, dst } = await pipelined();
    await engine.prepare();
    await precopyFor(engine);
    src.change(flow(30));
    src.lieOnFinal = true;
    const before = new Map(src.active);
    const d0 = dst.calls.length;
    await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'INCOMPLETE_STATE' });
    expect(pauseCalls(dst, d0)).toEqual(['importStaged']);
    expect(dst.active.size).toBe(0);
    await engine.abort('INCOMPLETE_STATE', 'gap');
    expect(dst.active.size + dst.staged.size).toBe(0);
    expect(src.frozen).toBe(false);
    expect(src.active).toEqual(before);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
  });

  it.each([
    ['freezeFinal', 'src', 'NOT_PRIMARY'],
    ['importActivate', 'dst', 'KEY_COLLISION'],
  ] as const)('pipelined pause — %s failing at %s aborts with %s; the destination is clean and the source unfrozen and unchanged', async (step, where, reason) => {
    const { engine, machine, dev, src, dst } = await pipelined();
    await engine.prepare();
    await precopyFor(engine);
    dev.get(where)?.failNext(step, reason);
    const before = new Map(src.active);
    const err = await engine.pauseSync().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: reason, message: expect.stringContaining(`at ${where}`) });
    await engine.abort(reason, (err as Error).message);
    expect(dst.active.size + dst.staged.size).toBe(0);
    expect(src.frozen).toBe(false);
    expect(src.active).toEqual(before);
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true, abort: { reason } });
  });

  it('pipelined pause — 1:N: the sources pipeline, but each destination activates on its own once every one has its batch (two-phase)', async () => {
    const { engine, dev, src } = await pipelined('host-c');
    await engine.prepare();
    await precopyFor(engine);
    const c1 = dev.get('c1') as FakeDeviceApi;
    const c2 = dev.get('c2') as FakeDeviceApi;
    const [s0, c10, c20] = [src.calls.length, c1.calls.length, c2.calls.length];
    await engine.pauseSync();
    expect(pauseCalls(src, s0)).toEqual(['freezeFinal']);
    for (const [c, from] of [[c1, c10], [c2, c20]] as const) expect(pauseCalls(c, from)).toEqual(['importStaged', 'activate']);
    expect(c1.active.size + c2.active.size).toBe(20);
  });

  it('pipelined pause — off (pipelinedPause: false), or an import of pre-copy under way when the pause comes: one call per step', async () => {
    const off = await pipelined('host-b', { pipelinedPause: false });
    await off.engine.prepare();
    await precopyFor(off.engine);
    const [s0, d0] = [off.src.calls.length, off.dst.calls.length];
    await off.engine.pauseSync();
    expect(pauseCalls(off.src, s0)).toEqual(['freeze', 'finalDelta']);
    expect(pauseCalls(off.dst, d0)).toEqual(['importStaged', 'activate']);

    const busy = await pipelined('host-b', { precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } } });
    await busy.engine.prepare();
    const running = busy.engine.precopy();
    for (let i = 0; i < 500 && busy.dst.staged.size < 20; i++) await new Promise((r) => setTimeout(r, 10));
    busy.dst.stall('importStaged');
    busy.src.change(flow(40));
    busy.src.push();
    for (let i = 0; i < 500 && busy.dst.calls.filter((c) => c === 'importStaged').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const s1 = busy.src.calls.length;
    const pausing = busy.engine.pauseSync();
    busy.dst.unstall('importStaged');
    await pausing;
    await running;
    expect(pauseCalls(busy.src, s1)).toEqual(['freeze', 'finalDelta']);
    expect(busy.dst.active.size).toBe(21);
  });

  it('pipelined pause — table entries (pinholes) are journalled as moved once each, though the snapshot and the final batch both list them, pipelined or not; the report names them, and says nothing of a pre-copy that never started', async () => {
    const pinhole = { table: 'dyn_acl', match: { vm_id: 7n, remote_addr: 0xc6336401n }, action: 'allow', remainingNs: 5_000_000_000n };
    for (const pipelinedPause of [true, false]) {
      const { engine, machine, src } = await pipelined('host-b', { pipelinedPause });
      // Pinholes travel whole: the snapshot lists the VM's entries, the final batch lists them again.
      src.snapshotEntries = [pinhole];
      src.finalEntries = [pinhole];
      const run = await runMigration(engine);
      expect(run.committed).toBeDefined();
      expect(machine.state.moved.tableEntries).toBe(1);
      const lines = migrateReportLines({ migrationId: 'm1', run, rounds: [20], translations: [], tableEntries: machine.state.moved.tableEntries });
      expect(lines).toContain('  table entries: 1 installed at the destinations (pinholes, with their remaining lifetime and direct counters)');
      expect(lines.some((l) => l.startsWith('  pre-copy: snapshot 20 slots'))).toBe(true);
      expect(migrateReportLines({ migrationId: 'm1', run, rounds: [], translations: [] }).some((l) => l.includes('pre-copy') || l.includes('table entries'))).toBe(false);
    }
  });
});
