/**
 * The trigger against a fake QMP server (a scripted stand-in for QEMU's monitor) in virtual time:
 * orders and failures real QEMU will not produce on demand.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from 'p4runtime-ts';
import type { Clock } from 'p4runtime-ts';
import { QmpClient } from '../qmp/index.js';
import { FakeQmpServer, fakeEvent } from '../testing/fake-qmp-server.js';
import type { FakeQmpPeer } from '../testing/fake-qmp-server.js';
import { QemuTrigger } from './qemu-trigger.js';
import type { QemuTriggerOptions } from './options.js';
import { QemuTriggerError } from './errors.js';
import type { TriggerFailure, MigrationPhaseHandler, PauseOutcome, PauseWindow, PrecopyInfo } from './phase-handler.js';

let server: FakeQmpServer | undefined;
const extraServers: FakeQmpServer[] = [];
afterEach(async () => {
  await server?.stop();
  server = undefined;
  for (const x of extraServers.splice(0)) await x.stop();
});

const T0 = 1_800_000_000_000;

/** A fake source monitor answering the queries; `state` is what query-migrate reports (virtual time unless `realClock`). */
async function fakeSource(status: string, caps: Record<string, boolean> = {}, realClock = false, clientClock?: Clock) {
  server = await FakeQmpServer.start();
  const clock = new ManualClock(T0);
  // realClock: the client's default clock (monotonicClock), as in production.
  const connecting = QmpClient.connect({ address: server.address, ...(realClock ? {} : { clock: clientClock ?? clock }) });
  const peer: FakeQmpPeer = await server.nextPeer();
  const state: { migrate: Record<string, unknown> } = { migrate: status === 'none' ? {} : { status } };
  const capSets: unknown[] = [];
  peer.auto.set('query-migrate', () => state.migrate);
  peer.auto.set('query-status', () => ({ status: state.migrate.status === 'completed' ? 'postmigrate' : 'running' }));
  peer.auto.set('query-migrate-capabilities', () =>
    ['xbzrle', 'events', 'pause-before-switchover'].map((capability) => ({ capability, state: caps[capability] ?? false })));
  peer.auto.set('migrate-set-capabilities', (c) => {
    capSets.push(c.arguments);
    return {};
  });
  const client = await connecting;
  const issued: string[] = [];
  const orig = client.executeOrdered.bind(client);
  vi.spyOn(client, 'executeOrdered').mockImplementation((cmd, args, o) => {
    issued.push(cmd);
    return orig(cmd, args, o);
  });
  const migration = (s: string, atMs: number) => peer.send(fakeEvent('MIGRATION', { status: s }, atMs));
  return { peer, clock, client, state, capSets, issued, migration };
}

/** A fake destination monitor (a second server, stopped after each test) answering query-status with `status()`. */
async function fakeDestination(clock: ManualClock, status: () => string) {
  const dst = await FakeQmpServer.start();
  extraServers.push(dst);
  const connecting = QmpClient.connect({ address: dst.address, clock });
  const peer = await dst.nextPeer();
  peer.auto.set('query-status', () => ({ status: status(), running: status() === 'running' }));
  return { peer, client: await connecting };
}

/** A handler whose onPause is settled by the test. */
function controllable() {
  const calls: string[] = [];
  const failures: TriggerFailure[] = [];
  let precopy: PrecopyInfo | undefined;
  let window: PauseWindow | undefined;
  let answer!: (o: PauseOutcome) => void;
  let fail!: (e: Error) => void;
  let pauseCalled!: () => void;
  const paused = new Promise<void>((r) => (pauseCalled = r));
  const handler: MigrationPhaseHandler = {
    onPrecopy: (info) => {
      precopy = info;
      calls.push('precopy');
    },
    onPause: (w) => {
      window = w;
      calls.push('pause');
      pauseCalled();
      return new Promise((resolve, reject) => {
        answer = resolve;
        fail = reject;
      });
    },
    onCompleted: () => void calls.push('completed'),
    onFailed: (r) => {
      calls.push(`failed:${r.code}`);
      failures.push(r);
    },
  };
  return { handler, calls, failures, paused, answer: (o: PauseOutcome) => answer(o), fail: (e: Error) => fail(e), get window() { return window; }, get precopy() { return precopy; } };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await tick();
  expect(cond()).toBe(true);
}

const attach = (client: QmpClient, clock: ManualClock, handler: MigrationPhaseHandler, more: Partial<QemuTriggerOptions> = {}) =>
  QemuTrigger.attach({ source: client, handler, clock, pauseDeadlineMs: 100, ...more });

/** A trigger on an idle fake source, driven into the pause window (active, pre-switchover at T0+1). */
async function inPauseWindow(more: Partial<QemuTriggerOptions> = {}) {
  const f = await fakeSource('none');
  const h = controllable();
  const trigger = await attach(f.client, f.clock, h.handler, more);
  f.migration('active', T0);
  f.migration('pre-switchover', T0 + 1);
  await h.paused;
  return { f, h, trigger };
}

describe('QEMU trigger against a fake QMP server', () => {
  it('qemu trigger — on an idle source switches on events and pause-before-switchover, drives the phases, and restores the capabilities', async () => {
    const f = await fakeSource('none');
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler);
    expect(f.capSets).toEqual([{ capabilities: [{ capability: 'events', state: true }, { capability: 'pause-before-switchover', state: true }] }]);
    const migrate = trigger.startMigration('tcp:127.0.0.1:9');
    const cmd = await f.peer.nextCommand();
    expect(cmd).toMatchObject({ execute: 'migrate', arguments: { uri: 'tcp:127.0.0.1:9' } });
    f.migration('setup', T0 + 1);
    f.peer.reply(cmd);
    await migrate;
    f.migration('active', T0 + 2);
    f.migration('pre-switchover', T0 + 500);
    await h.paused;
    expect(h.precopy).toEqual({ qemuStatus: 'setup', pauseWindow: true, startedByTrigger: true });
    expect(h.window!.deadlineAt).toBe(f.clock.now() + 100);
    f.clock.advance(30);
    h.answer({ decision: 'continue', detail: 'all deltas applied' });
    const cont = await f.peer.nextCommand();
    expect(cont).toMatchObject({ execute: 'migrate-continue', arguments: { state: 'pre-switchover' } });
    f.peer.reply(cont);
    f.migration('device', T0 + 531.5);
    f.state.migrate = { status: 'completed', downtime: 42, 'total-time': 900, ram: { transferred: 1234 } };
    f.migration('completed', T0 + 540);
    const report = await trigger.finished;
    expect(h.calls).toEqual(['precopy', 'pause', 'completed']);
    expect(report).toMatchObject({ outcome: 'completed', qemuDowntimeMs: 42, totalTimeMs: 900, transferredBytes: 1234, startedByTrigger: true });
    expect(report.pause).toEqual({ outcome: 'synced', sent: 'migrate-continue', budgetMs: 100, heldMs: 30, heldQemuMs: 31.5, handlerMs: 30, detail: 'all deltas applied' });
    expect(f.capSets[1]).toEqual({ capabilities: [{ capability: 'events', state: false }, { capability: 'pause-before-switchover', state: false }] });
  });

  it('qemu trigger — a handler that never returns: nothing is sent before the deadline, migrate-continue exactly at it, the signal aborts, the report says late', async () => {
    const f = await fakeSource('none', { events: true, 'pause-before-switchover': true });
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler, { pauseDeadlineMs: 250 });
    expect(f.capSets).toEqual([]);
    f.migration('active', T0);
    f.migration('pre-switchover', T0 + 1);
    await h.paused;
    f.clock.advance(249);
    await tick();
    expect(f.issued.filter((c) => c === 'migrate-continue')).toEqual([]);
    expect(h.window!.signal.aborted).toBe(false);
    f.clock.advance(1);
    const cont = await f.peer.nextCommand();
    expect(cont.execute).toBe('migrate-continue');
    expect(h.window!.signal.aborted).toBe(true);
    f.peer.reply(cont);
    f.state.migrate = { status: 'completed', downtime: 260 };
    f.migration('device', T0 + 252);
    f.migration('completed', T0 + 260);
    const report = await trigger.finished;
    expect(report.pause).toMatchObject({ outcome: 'late', sent: 'migrate-continue', heldMs: 250, handlerMs: undefined });
    expect(h.calls).toEqual(['precopy', 'pause', 'completed']);
  });

  it('qemu trigger — onDeadline cancel, the handler slower than the deadline: migrate_cancel exactly at it, its later continue changes nothing, the end is onFailed(pause-deadline)', async () => {
    const { f, h, trigger } = await inPauseWindow({ pauseDeadlineMs: 100, onDeadline: 'cancel' });
    f.clock.advance(99);
    await tick();
    expect(f.issued.filter((c) => c === 'migrate_cancel' || c === 'migrate-continue')).toEqual([]);
    f.clock.advance(1);
    const cancel = await f.peer.nextCommand();
    expect(cancel.execute).toBe('migrate_cancel');
    expect(h.window!.signal.aborted).toBe(true);
    // The engine finishing just after the deadline: too late, QEMU was already told to cancel.
    h.answer({ decision: 'continue', detail: 'synced 3 slots' });
    f.peer.reply(cancel);
    f.migration('cancelling', T0 + 102);
    f.state.migrate = { status: 'cancelled' };
    f.migration('cancelled', T0 + 103);
    const report = await trigger.finished;
    expect(f.issued.filter((c) => c === 'migrate-continue')).toEqual([]);
    expect(report.outcome).toBe('cancelled');
    expect(report.pause).toMatchObject({ outcome: 'late', sent: 'migrate_cancel', heldMs: 100 });
    expect(h.failures).toEqual([{ code: 'pause-deadline', message: 'the pause-window sync did not finish within 100 ms; the migration was cancelled on time, the VM resumes at the source' }]);
  });

  it('qemu trigger — a deadline timer that fires late (the process starved of CPU): the report says how late QEMU was cancelled, not "on time"', async () => {
    // The trigger's clock runs 30 ms ahead once the window is open: its timer fires at the
    // deadline's turn, but its now() is then 30 ms past it, as for a process that ran late.
    let skew = 0;
    const clock = new ManualClock(T0);
    const skewed = { now: () => clock.now() + skew, setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms), clearTimeout: (t: ReturnType<ManualClock['setTimeout']>) => clock.clearTimeout(t) };
    const f = await fakeSource('none', {}, false, skewed);
    const h = controllable();
    const trigger = await QemuTrigger.attach({ source: f.client, handler: h.handler, clock: skewed, pauseDeadlineMs: 100, onDeadline: 'cancel' });
    f.migration('active', T0);
    f.migration('pre-switchover', T0);
    await h.paused;
    skew = 30;
    clock.advance(100);
    const cancel = await f.peer.nextCommand();
    expect(cancel.execute).toBe('migrate_cancel');
    f.peer.reply(cancel);
    f.state.migrate = { status: 'cancelled' };
    f.migration('cancelled', T0 + 140);
    const report = await trigger.finished;
    expect(report.pause).toMatchObject({ outcome: 'late', sent: 'migrate_cancel' });
    expect(h.failures).toEqual([{ code: 'pause-deadline', message: 'the pause-window sync did not finish within 100 ms; the migration was cancelled 30 ms after the deadline (this process was not scheduled in time: the machine is loaded), the VM resumes at the source' }]);
  });

  it('qemu trigger — the handler says cancel: migrate_cancel is sent, and the end is onFailed(pause-cancelled) with its reason', async () => {
    const { f, h, trigger } = await inPauseWindow();
    h.answer({ decision: 'cancel', reason: 'destination refused the import: table full' });
    const cancel = await f.peer.nextCommand();
    expect(cancel.execute).toBe('migrate_cancel');
    f.peer.reply(cancel);
    f.migration('cancelling', T0 + 3);
    f.state.migrate = { status: 'cancelled' };
    f.migration('cancelled', T0 + 4);
    const report = await trigger.finished;
    expect(report.outcome).toBe('cancelled');
    expect(h.failures).toEqual([{ code: 'pause-cancelled', message: 'destination refused the import: table full' }]);
    expect(report.pause).toMatchObject({ outcome: 'cancelled', sent: 'migrate_cancel' });
  });

  it('qemu trigger — a throwing pause handler cancels the migration by default (the source keeps the VM)', async () => {
    const { f, h } = await inPauseWindow();
    h.fail(new Error('engine bug'));
    expect((await f.peer.nextCommand()).execute).toBe('migrate_cancel');
  });

  it('qemu trigger — unexpected order: QEMU leaves pre-switchover by itself while the handler runs → preempted, nothing sent, stale statuses ignored', async () => {
    const { f, h, trigger } = await inPauseWindow();
    f.migration('active', T0 + 2); // older than what we know: ignored
    f.migration('pre-switchover', T0 + 3); // a repeat: no second onPause
    f.state.migrate = { status: 'completed', downtime: 5 };
    f.migration('device', T0 + 4);
    f.migration('completed', T0 + 5);
    const report = await trigger.finished;
    expect(h.window!.signal.aborted).toBe(true);
    expect(report.pause).toMatchObject({ outcome: 'preempted', sent: 'nothing', heldMs: undefined });
    expect(report.statuses.map((s) => s.status)).toEqual(['active', 'pre-switchover', 'device', 'completed']);
    expect(f.issued).not.toContain('migrate-continue');
    expect(h.calls).toEqual(['precopy', 'pause', 'completed']);
    h.answer({ decision: 'continue' });
  });

  it('qemu trigger — attaching to a running migration without the events capability is refused and changes nothing', async () => {
    const f = await fakeSource('active', { 'pause-before-switchover': true });
    const err = await attach(f.client, f.clock, controllable().handler).catch((e: unknown) => e as QemuTriggerError);
    expect(err).toBeInstanceOf(QemuTriggerError);
    expect(err).toMatchObject({ code: 'CAPABILITY_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/without the 'events' capability.*attach the trigger before starting the migration/);
    expect(f.capSets).toEqual([]);
  });

  it('qemu trigger — a running migration without pause-before-switchover: refused by default, followed without a pause window when allowed', async () => {
    const f = await fakeSource('active', { events: true });
    const refused = await attach(f.client, f.clock, controllable().handler).catch((e: unknown) => e as QemuTriggerError);
    expect(refused).toMatchObject({ code: 'CAPABILITY_UNAVAILABLE' });
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler, { requirePauseWindow: false });
    expect(h.precopy).toEqual({ qemuStatus: 'active', pauseWindow: false, startedByTrigger: false });
    f.state.migrate = { status: 'completed', downtime: 7 };
    f.migration('device', T0);
    f.migration('completed', T0 + 1);
    const report = await trigger.finished;
    expect(report.pause).toBeUndefined();
    expect(report.qemuDowntimeMs).toBe(7);
    expect(h.calls).toEqual(['precopy', 'completed']);
  });

  it('qemu trigger — attached while QEMU already waits in pre-switchover: pre-copy then the pause window at once', async () => {
    const f = await fakeSource('pre-switchover', { events: true, 'pause-before-switchover': true });
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler);
    await h.paused;
    expect(h.calls).toEqual(['precopy', 'pause']);
    expect(trigger.phase).toBe('pause');
    await expect(trigger.startMigration('tcp:127.0.0.1:9')).rejects.toMatchObject({ code: 'MIGRATION_ACTIVE' });
    h.answer({ decision: 'continue' });
    expect((await f.peer.nextCommand()).execute).toBe('migrate-continue');
  });

  it('qemu trigger — the socket vanishing during the pause window: QMP_LOST, onFailed(qmp-lost), no timer left behind', async () => {
    const { f, h, trigger } = await inPauseWindow();
    expect(f.clock.pending()).toEqual([100]);
    f.peer.destroy();
    const err = await trigger.finished.catch((e: unknown) => e as QemuTriggerError);
    expect(err).toMatchObject({ code: 'QMP_LOST', qmpCode: 'CLOSED' });
    expect(h.failures.map((x) => x.code)).toEqual(['qmp-lost']);
    expect(h.window!.signal.aborted).toBe(true);
    expect(f.clock.pending()).toEqual([]);
  });

  it('qemu trigger — the source monitor lost after migrate-continue, no destination monitor: onFailed(qmp-lost-released) — the VM may run at either side, so the handler must not roll back', async () => {
    const { f, h, trigger } = await inPauseWindow();
    h.answer({ decision: 'continue' });
    const cont = await f.peer.nextCommand();
    expect(cont.execute).toBe('migrate-continue');
    f.peer.reply(cont);
    await tick();
    f.peer.destroy();
    await expect(trigger.finished).rejects.toMatchObject({ code: 'QMP_LOST' });
    expect(h.failures).toEqual([expect.objectContaining({ code: 'qmp-lost-released', message: expect.stringMatching(/released from pre-switchover and no destination monitor was given/) as unknown })]);
    expect(h.calls).not.toContain('completed');
  });

  it('qemu trigger — the source monitor lost after migrate-continue while the destination runs the VM: completed (the destination monitor tells)', async () => {
    const f = await fakeSource('none');
    let running = false;
    const { client: destination } = await fakeDestination(f.clock, () => (running ? 'running' : 'inmigrate'));
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler, { destination });
    f.migration('active', T0);
    f.migration('pre-switchover', T0 + 1);
    await h.paused;
    h.answer({ decision: 'continue' });
    const cont = await f.peer.nextCommand();
    f.peer.reply(cont);
    await tick();
    running = true;
    f.peer.destroy();
    const report = await trigger.finished;
    expect(report).toMatchObject({ outcome: 'completed', destinationStatus: 'running' });
    expect(h.calls).toContain('completed');
    expect(h.failures).toEqual([]);
    await destination.close();
  });

  it('qemu trigger — close() during the pause window releases QEMU first, then ends with CLOSED', async () => {
    const { f, h, trigger } = await inPauseWindow();
    const closing = trigger.close();
    const cont = await f.peer.nextCommand();
    expect(cont.execute).toBe('migrate-continue');
    expect(h.window!.signal.aborted).toBe(true);
    f.peer.reply(cont);
    await closing;
    await expect(trigger.finished).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('qemu trigger — close() during pre-copy stays until QEMU pauses and releases it at once, without asking the handler', async () => {
    const f = await fakeSource('none');
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler);
    f.migration('active', T0);
    await until(() => h.calls.length === 1);
    let closed = false;
    const closing = trigger.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    f.migration('pre-switchover', T0 + 1);
    const cont = await f.peer.nextCommand();
    expect(cont.execute).toBe('migrate-continue');
    f.peer.reply(cont);
    await closing;
    expect(h.calls).toEqual(['precopy']);
    await expect(trigger.finished).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('qemu trigger — cancelMigration() during pre-copy sends migrate_cancel and resolves once QEMU says cancelled; the end is onFailed naming the trigger\'s reason', async () => {
    const f = await fakeSource('none');
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler);
    expect(await trigger.cancelMigration('nothing runs yet')).toBe('none');
    f.migration('active', T0);
    await until(() => h.calls.length === 1);
    const cancelling = trigger.cancelMigration('interrupted');
    const cancel = await f.peer.nextCommand();
    expect(cancel.execute).toBe('migrate_cancel');
    f.peer.reply(cancel);
    f.state.migrate = { status: 'cancelled' };
    f.migration('cancelled', T0 + 2);
    expect(await cancelling).toBe('cancelled');
    expect((await trigger.finished).outcome).toBe('cancelled');
    expect(h.failures).toEqual([{ code: 'qemu-cancelled', message: 'the trigger cancelled the migration: interrupted' }]);
  });

  it('qemu trigger — cancelMigration() in the pause window cancels through the window (the handler still running), never migrate-continue', async () => {
    const { f, h, trigger } = await inPauseWindow();
    const cancelling = trigger.cancelMigration('interrupted');
    const cancel = await f.peer.nextCommand();
    expect(cancel.execute).toBe('migrate_cancel');
    expect(h.window!.signal.aborted).toBe(true);
    f.peer.reply(cancel);
    f.state.migrate = { status: 'cancelled' };
    f.migration('cancelled', T0 + 3);
    expect(await cancelling).toBe('cancelled');
    h.answer({ decision: 'continue' });
    const report = await trigger.finished;
    expect(report.pause).toMatchObject({ outcome: 'cancelled', sent: 'migrate_cancel', detail: 'interrupted' });
    expect(f.issued.filter((c) => c === 'migrate-continue')).toEqual([]);
  });

  it('qemu trigger — bad options are refused with BAD_OPTIONS before any socket is opened', async () => {
    const h = controllable().handler;
    await expect(QemuTrigger.attach({ source: 'unix:/x', handler: { ...h, onPause: undefined } as unknown as MigrationPhaseHandler })).rejects.toThrow(/missing onPause/);
    await expect(QemuTrigger.attach({ source: 'unix:/x', handler: h, pauseDeadlineMs: 0 })).rejects.toMatchObject({ code: 'BAD_OPTIONS' });
    await expect(QemuTrigger.attach({ source: 42 as unknown as string, handler: h })).rejects.toThrow(/QemuTriggerOptions.source/);
  });

  it('qemu trigger — on its default clocks the hold is reported below the millisecond, and a step of the wall clock mid-pause neither distorts it nor releases QEMU early', async () => {
    const f = await fakeSource('none', {}, true);
    const h = controllable();
    const trigger = await QemuTrigger.attach({ source: f.client, pauseDeadlineMs: 250, handler: h.handler });
    f.migration('active', T0);
    f.migration('pre-switchover', T0 + 1);
    await h.paused;
    // NTP steps the wall clock an hour forward while carryover syncs.
    const t0 = performance.now();
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    // A Node timer may fire up to a millisecond early against performance.now(); wait on the monotonic clock itself.
    while (performance.now() - t0 < 3) await new Promise((r) => setTimeout(r, 1));
    h.answer({ decision: 'continue' });
    const cont = await f.peer.nextCommand();
    expect(cont).toMatchObject({ execute: 'migrate-continue' });
    f.peer.reply(cont);
    f.state.migrate = { status: 'completed', downtime: 9 };
    f.migration('completed', T0 + 12);
    const report = await trigger.finished;
    vi.restoreAllMocks();
    expect(report.pause?.outcome).toBe('synced');
    const held = report.pause?.heldMs ?? NaN;
    expect(held).toBeGreaterThanOrEqual(3);
    expect(held).toBeLessThan(250);
    expect(Number.isInteger(held)).toBe(false);
  });

  it('qemu trigger — with the destination monitor, the report gives the VM\'s own downtime: the source\'s STOP to the destination\'s RESUME by QEMU\'s timestamps', async () => {
    const f = await fakeSource('none');
    let running = false;
    const { peer: dpeer, client: destination } = await fakeDestination(f.clock, () => (running ? 'running' : 'inmigrate'));
    const h = controllable();
    const trigger = await attach(f.client, f.clock, h.handler, { destination });
    f.migration('active', T0);
    f.peer.send(fakeEvent('STOP', {}, T0 + 500));
    f.migration('pre-switchover', T0 + 500.25);
    await h.paused;
    h.answer({ decision: 'continue' });
    const cont = await f.peer.nextCommand();
    expect(cont).toMatchObject({ execute: 'migrate-continue' });
    f.peer.reply(cont);
    f.state.migrate = { status: 'completed', downtime: 9 };
    f.migration('completed', T0 + 509);
    running = true;
    dpeer.send(fakeEvent('RESUME', {}, T0 + 537.5));
    const report = await trigger.finished;
    expect(report.destinationStatus).toBe('running');
    expect(report.qemuDowntimeMs).toBe(9);
    expect(report.guestDowntimeMs).toBeCloseTo(37.5, 3);
    await destination.close();
  });

  it('qemu trigger — a destination monitor whose QEMU is not waiting for an incoming migration is refused with BAD_OPTIONS, and nothing changes at the source', async () => {
    const f = await fakeSource('none');
    const { client: destination } = await fakeDestination(f.clock, () => 'running');
    const h = controllable();
    const refused = attach(f.client, f.clock, h.handler, { destination });
    await expect(refused).rejects.toMatchObject({ code: 'BAD_OPTIONS' });
    await expect(refused).rejects.toThrow(/is 'running', not waiting for an incoming migration \('inmigrate': started with -incoming\)/);
    expect(f.capSets).toEqual([]);
    expect(f.issued).toEqual([]);
    await destination.close();
  });
});
