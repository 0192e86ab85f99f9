/**
 * The engine as a trigger's phase handler, driven by hand (no QEMU) over FAKE devices: where the
 * network state ends follows where QEMU says the VM ended, whatever the pause-window sync said.
 * With real QEMU: engine-qemu.test.ts and scenarios/test/qemu-deadline.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { planMigration } from '../plan/plan-migration.js';
import { engineTestFlow, engineTestInventory } from '../testing/engine-site.js';
import { FakeDeviceApi } from '../testing/fake-device-api.js';
import type { QemuMigrationReport } from '../trigger/index.js';
import { engineAsPhaseHandler } from './engine-phase-handler.js';
import type { DeadlinePolicy } from './engine-types.js';
import { MigrationEngine } from './migration-engine.js';

async function engineOver(src: FakeDeviceApi, dst: FakeDeviceApi, onDeadline: DeadlinePolicy = 'abort'): Promise<{ engine: MigrationEngine; machine: MigrationMachine }> {
  const plan = planMigration(engineTestInventory(), 'vm-7', 'host-a', 'host-b');
  const machine = await MigrationMachine.plan({ migrationId: 'h1', vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
  const engine = new MigrationEngine({ plan, machine, devices: new Map([['src', src], ['dst', dst]]), pauseDeadlineMs: 5_000, onDeadline, precopy: { intervalMs: 10, policy: { maxRounds: 1000, convergedAtSlots: -1 } }, graceMs: 0 });
  return { engine, machine };
}

/** A prepared engine over fake devices, the source holding `flows` flows, bound as a phase handler. */
async function preparedHandler(flows: number): Promise<{ h: ReturnType<typeof engineAsPhaseHandler>; machine: MigrationMachine; src: FakeDeviceApi; dst: FakeDeviceApi }> {
  const src = new FakeDeviceApi('src');
  const dst = new FakeDeviceApi('dst');
  for (let i = 0; i < flows; i++) src.change(engineTestFlow(i));
  const { engine, machine } = await engineOver(src, dst);
  await engine.prepare();
  return { h: engineAsPhaseHandler(engine), machine, src, dst };
}

/** A prepared engine in pre-copy whose pause-window sync fails (the source's final delta unreachable). */
async function failingSync(): Promise<{ h: ReturnType<typeof engineAsPhaseHandler>; machine: MigrationMachine; dst: FakeDeviceApi }> {
  const { h, machine, src, dst } = await preparedHandler(20);
  await h.handler.onPrecopy({ qemuStatus: 'active', pauseWindow: true, startedByTrigger: true });
  await new Promise((r) => setTimeout(r, 50));
  src.failNext('finalDelta', 'DEVICE_UNREACHABLE', 10);
  return { h, machine, dst };
}

/** A pause window the trigger already closed (its deadline passed, or QEMU left pre-switchover). */
const closedWindow = (): { deadlineAt: number; budgetMs: number; signal: AbortSignal } => {
  const c = new AbortController();
  c.abort(new Error('pause window closed: late'));
  return { deadlineAt: 0, budgetMs: 50, signal: c.signal };
};

const report = (outcome: QemuMigrationReport['outcome']): QemuMigrationReport => ({
  outcome, reason: undefined, startedByTrigger: true, pause: undefined, qemuDowntimeMs: undefined, guestDowntimeMs: undefined,
  totalTimeMs: undefined, transferredBytes: undefined, destinationStatus: outcome === 'completed' ? 'running' : undefined, statuses: [],
});

describe('engine phase handler — the network state follows the VM', () => {
  it('engine phase handler — the sync fails after QEMU was already released to the destination: the destination is activated with what arrived and the migration commits, nothing is rolled back', async () => {
    const { h, machine, dst } = await failingSync();
    const verdict = await h.handler.onPause(closedWindow());
    expect(verdict.decision).toBe('cancel');
    // Nothing undone before QEMU says where the VM is.
    expect(machine.state.phase).not.toBe('ABORTED');
    await h.handler.onCompleted(report('completed'));
    const run = await h.done;
    expect(run.aborted).toBeUndefined();
    expect(run.sync?.lost?.detail).toMatch(/the pause-window sync failed \(DEVICE_UNREACHABLE: .*finalDelta.*\) after the VM had been switched over to the destination; activated with what had arrived/);
    expect(machine.state.phase).toBe('COMMITTED');
    expect(dst.active.size).toBe(20);
  });

  it('engine phase handler — the sync fails and QEMU cancels: rolled back with the sync\'s own reason, the destination clean', async () => {
    const { h, machine, dst } = await failingSync();
    expect((await h.handler.onPause({ deadlineAt: Date.now() + 5_000, budgetMs: 5_000, signal: new AbortController().signal })).decision).toBe('cancel');
    await h.handler.onFailed({ code: 'pause-cancelled', message: 'DEVICE_UNREACHABLE: …' }, report('cancelled'));
    const run = await h.done;
    expect(run.aborted?.reason).toBe('DEVICE_UNREACHABLE');
    expect(machine.state.phase).toBe('ABORTED');
    expect(dst.active.size + dst.staged.size).toBe(0);
  });

  it('engine phase handler — QEMU released, then its monitor lost with no word of where the VM runs (qmp-lost-released): nothing rolled back, the run unfinished with vmAt unknown, the journal left ACTIVATED for carryover recover', async () => {
    const { h, machine, dst } = await preparedHandler(20);
    await h.handler.onPrecopy({ qemuStatus: 'active', pauseWindow: true, startedByTrigger: true });
    await new Promise((r) => setTimeout(r, 50));
    expect((await h.handler.onPause({ deadlineAt: Infinity, budgetMs: 5_000, signal: new AbortController().signal })).decision).toBe('continue');
    await h.handler.onFailed({ code: 'qmp-lost-released', message: 'lost the source monitor …; the VM may run at either side' }, undefined);
    const run = await h.done;
    expect(run.aborted).toBeUndefined();
    expect(run.unfinished).toMatchObject({ reason: 'DEVICE_UNREACHABLE', vmAt: 'unknown', detail: expect.stringMatching(/nothing was rolled back — run carryover recover --trigger qemu:SOCK/) as unknown });
    expect(machine.state.phase).toBe('ACTIVATED');
    expect(dst.active.size).toBe(20);
    expect(dst.calls).not.toContain('abort');
  });

  it('engine phase handler — stageSnapshot() before QEMU starts: resolves once round 0 is staged; QEMU\'s setup/active afterwards starts no second pre-copy, and the pause syncs and commits', async () => {
    const { h, machine, src, dst } = await preparedHandler(20);
    await h.stageSnapshot();
    expect(machine.state.rounds).toBeGreaterThanOrEqual(1);
    expect(dst.calls).toContain('importStaged');
    await h.handler.onPrecopy({ qemuStatus: 'setup', pauseWindow: true, startedByTrigger: true });
    await h.handler.onPrecopy({ qemuStatus: 'active', pauseWindow: true, startedByTrigger: true });
    const verdict = await h.handler.onPause({ deadlineAt: Infinity, budgetMs: 5_000, signal: new AbortController().signal });
    expect(verdict.decision).toBe('continue');
    await h.handler.onCompleted(report('completed'));
    const run = await h.done;
    expect(run.aborted).toBeUndefined();
    expect(src.calls.filter((c) => c === 'exportSnapshot')).toHaveLength(1);
  });

  it('engine phase handler — stageSnapshot() failing (the snapshot unreachable) rejects, and abort() rolls back before QEMU ran: the source unfrozen, the journal ABORTED', async () => {
    const { h, machine, src } = await preparedHandler(0);
    src.failNext('exportSnapshot', 'DEVICE_UNREACHABLE');
    await expect(h.stageSnapshot()).rejects.toThrow(/exportSnapshot|snapshot/);
    const run = await h.abort('DEVICE_UNREACHABLE', 'snapshot failed');
    expect(run.aborted?.reason).toBe('DEVICE_UNREACHABLE');
    expect(machine.state.phase).toBe('ABORTED');
    // QEMU's later statuses change nothing.
    await h.handler.onFailed({ code: 'qemu-cancelled', message: 'x' }, undefined);
    expect(src.calls.filter((c) => c === 'abort')).toHaveLength(1);
  });

  it('engine phase handler — the trigger\'s deadline verdict matches the engine\'s policy: abort → cancel, continue → continue', async () => {
    const verdict = async (p: DeadlinePolicy): Promise<string> => engineAsPhaseHandler((await engineOver(new FakeDeviceApi('src'), new FakeDeviceApi('dst'), p)).engine).onDeadline;
    expect(await verdict('abort')).toBe('cancel');
    expect(await verdict('continue')).toBe('continue');
  });
});
