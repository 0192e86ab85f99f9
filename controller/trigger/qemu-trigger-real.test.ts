/**
 * The trigger against real QEMU processes (two per test, on loopback). Skipped, with the reason,
 * where qemu-system-x86_64 is not installed. No assertion on wall time: "on time" is shown by
 * order (QEMU completes while the slow handler is still blocked).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { QmpClient } from '../qmp/index.js';
import { QEMU_SKIP_REASON, startQemuPair } from '../testing/qemu-pair.js';
import type { QemuPair } from '../testing/qemu-pair.js';
import { QemuTrigger } from './qemu-trigger.js';
import { QemuTriggerError } from './errors.js';
import type { TriggerFailure, MigrationPhaseHandler, QemuMigrationReport, PauseWindow } from './phase-handler.js';

const SLOW = 120_000;
let pair: QemuPair | undefined;
const clients: QmpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await pair?.stop();
  pair = undefined;
});

async function connect(address: string): Promise<QmpClient> {
  const c = await QmpClient.connect({ address, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
  clients.push(c);
  return c;
}

/** A handler that records its calls; `pause` decides what onPause does. */
function recordingHandler(pause: (w: PauseWindow) => Promise<{ decision: 'continue' } | { decision: 'cancel'; reason: string }>) {
  const calls: string[] = [];
  const failures: TriggerFailure[] = [];
  const handler: MigrationPhaseHandler = {
    onPrecopy: (info) => void calls.push(`precopy(${info.pauseWindow ? 'pause' : 'no-pause'})`),
    onPause: async (w) => {
      calls.push('pause');
      return pause(w);
    },
    onCompleted: (r: QemuMigrationReport) => void calls.push(`completed(${r.outcome})`),
    onFailed: (reason) => {
      calls.push(`failed(${reason.code})`);
      failures.push(reason);
    },
  };
  return { handler, calls, failures };
}

const slowMigration = (source: QmpClient): Promise<unknown> => source.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 });

describe.skipIf(QEMU_SKIP_REASON !== undefined)(`QEMU trigger with real QEMU ${QEMU_SKIP_REASON ? `(skipped: ${QEMU_SKIP_REASON})` : ''}`, () => {
  it('qemu trigger — holds the source in pre-switchover while the pause handler runs, then the destination runs and the source is postmigrate', async () => {
    pair = await startQemuPair();
    const source = await connect(pair.source.qmpAddress);
    const seenDuringPause: { migration?: string; running?: boolean } = {};
    const { handler, calls } = recordingHandler(async () => {
      seenDuringPause.migration = (await source.execute<{ status: string }>('query-migrate')).status;
      seenDuringPause.running = (await source.execute<{ running: boolean }>('query-status')).running;
      return { decision: 'continue' };
    });
    const trigger = await QemuTrigger.attach({ source, destination: pair.destination.qmpAddress, handler, pauseDeadlineMs: 60_000, destinationTimeoutMs: 30_000 });
    const phases: string[] = [];
    trigger.phases.subscribe((p) => phases.push(p.phase));
    await trigger.startMigration(pair.incomingUri);
    const report = await trigger.finished;
    expect(seenDuringPause).toEqual({ migration: 'pre-switchover', running: false });
    expect(calls).toEqual(['precopy(pause)', 'pause', 'completed(completed)']);
    expect(phases).toEqual(['precopy', 'pause', 'switchover', 'committed']);
    expect(report.outcome).toBe('completed');
    expect(report.startedByTrigger).toBe(true);
    expect(report.pause).toMatchObject({ outcome: 'synced', sent: 'migrate-continue' });
    expect(report.pause!.heldMs).toBeGreaterThanOrEqual(0);
    expect(report.pause!.heldQemuMs).toBeGreaterThanOrEqual(0);
    // QEMU's downtime (VM stop to completion) contains the hold it saw in pre-switchover.
    expect(report.qemuDowntimeMs).toBeGreaterThanOrEqual(Math.floor(report.pause!.heldQemuMs!) - 1);
    expect(report.totalTimeMs).toBeGreaterThan(0);
    expect(report.statuses.map((s) => s.status)).toEqual(['setup', 'active', 'pre-switchover', 'device', 'completed']);
    expect(report.destinationStatus).toBe('running');
    // The VM's own downtime runs from its STOP at the source to its RESUME at the destination:
    // it holds the whole hold (one host, one clock).
    expect(report.guestDowntimeMs).toBeGreaterThanOrEqual(report.pause!.heldQemuMs!);
    expect((await source.execute<{ status: string }>('query-status')).status).toBe('postmigrate');
    // The capability the trigger switched on is off again, so a later migration is not held.
    const caps = await source.execute<{ capability: string; state: boolean }[]>('query-migrate-capabilities');
    expect(caps.find((c) => c.capability === 'pause-before-switchover')?.state).toBe(false);
    await trigger.close();
  }, SLOW);

  it('qemu trigger — given a running VM\'s monitor as the destination: refused (BAD_OPTIONS, its run state named), the source\'s capabilities untouched', async () => {
    pair = await startQemuPair();
    // Another running VM: QEMU's monitor takes one client at a time, so not the source's own.
    const other = await startQemuPair();
    try {
      const source = await connect(pair.source.qmpAddress);
      const { handler, calls } = recordingHandler(async () => ({ decision: 'continue' }));
      const refused = QemuTrigger.attach({ source, destination: other.source.qmpAddress, handler });
      await expect(refused).rejects.toMatchObject({ code: 'BAD_OPTIONS' });
      await expect(refused).rejects.toThrow(/is 'running', not waiting for an incoming migration/);
      const caps = await source.execute<{ capability: string; state: boolean }[]>('query-migrate-capabilities');
      expect(caps.filter((c) => c.capability === 'events' || c.capability === 'pause-before-switchover').map((c) => c.state)).toEqual([false, false]);
      expect(calls).toEqual([]);
    } finally {
      await other.stop();
    }
  }, SLOW);

  it('qemu trigger — the destination killed mid-migration: QEMU reports failed, onFailed gets its reason, the source VM runs on', async () => {
    pair = await startQemuPair();
    const source = await connect(pair.source.qmpAddress);
    await slowMigration(source);
    const p = pair;
    const { handler, calls, failures } = recordingHandler(async () => ({ decision: 'continue' }));
    const onPrecopy = handler.onPrecopy;
    handler.onPrecopy = async (info) => {
      await onPrecopy(info);
      await p.destination.kill();
    };
    const trigger = await QemuTrigger.attach({ source, handler });
    await trigger.startMigration(pair.incomingUri);
    const report = await trigger.finished;
    expect(report.outcome).toBe('failed');
    expect(calls).toEqual(['precopy(pause)', 'failed(qemu-failed)']);
    expect(failures[0]!.message.length).toBeGreaterThan(0);
    expect(failures[0]!.message).not.toMatch(/gave no error-desc/);
    expect(report.pause).toBeUndefined();
    expect((await source.execute<{ status: string }>('query-status')).status).toBe('running');
    await trigger.close();
  }, SLOW);

  it('qemu trigger — a pause handler slower than the deadline: QEMU is released on time, the migration completes while the handler is still blocked, the report says late', async () => {
    pair = await startQemuPair();
    let unblock!: () => void;
    const blocked = new Promise<void>((r) => (unblock = r));
    let abortedBeforeUnblock = false;
    const { handler, calls } = recordingHandler(async (w) => {
      await blocked;
      abortedBeforeUnblock = w.signal.aborted;
      return { decision: 'continue' };
    });
    const trigger = await QemuTrigger.attach({ source: pair.source.qmpAddress, destination: pair.destination.qmpAddress, handler, pauseDeadlineMs: 50, destinationTimeoutMs: 30_000 });
    await trigger.startMigration(pair.incomingUri);
    const report = await trigger.finished; // would never settle if the trigger waited for the handler
    expect(report.outcome).toBe('completed');
    expect(report.pause).toMatchObject({ outcome: 'late', sent: 'migrate-continue', budgetMs: 50, handlerMs: undefined });
    expect(report.pause!.detail).toMatch(/did not finish within 50 ms; QEMU released (on time|\d+ ms after the deadline \(this process was not scheduled in time)/);
    expect(report.destinationStatus).toBe('running');
    expect(calls).toEqual(['precopy(pause)', 'pause', 'completed(completed)']);
    unblock();
    await new Promise((r) => setImmediate(r));
    expect(abortedBeforeUnblock).toBe(true);
    await trigger.close();
  }, SLOW);

  it('qemu trigger — the source QEMU killed during the pause window: QMP_LOST with a clear message, onFailed(qmp-lost), no hang', async () => {
    pair = await startQemuPair();
    const p = pair;
    const { handler, failures } = recordingHandler(async (w) => {
      await p.source.kill();
      await new Promise((r) => w.signal.addEventListener('abort', r, { once: true }));
      return { decision: 'continue' };
    });
    const trigger = await QemuTrigger.attach({ source: pair.source.qmpAddress, handler, pauseDeadlineMs: 600_000 });
    await trigger.startMigration(pair.incomingUri);
    const err = await trigger.finished.then(() => undefined, (e: unknown) => e as QemuTriggerError);
    expect(err).toBeInstanceOf(QemuTriggerError);
    expect(err!.code).toBe('QMP_LOST');
    expect(err!.qmpCode).toBe('CLOSED');
    expect(err!.message).toMatch(/lost the source monitor .* in phase pause; the migration's outcome is unknown/);
    expect(failures.map((f) => f.code)).toEqual(['qmp-lost']);
    await trigger.close();
  }, SLOW);

  it('qemu trigger — follows a migration someone else started (attached while it runs) through to completion', async () => {
    pair = await startQemuPair();
    const operator = await connect(pair.source.qmpAddress);
    await operator.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }, { capability: 'pause-before-switchover', state: true }] });
    await slowMigration(operator);
    await operator.execute('migrate', { uri: pair.incomingUri });
    const { handler, calls } = recordingHandler(async () => ({ decision: 'continue' }));
    const trigger = await QemuTrigger.attach({ source: operator, handler, pauseDeadlineMs: 60_000 });
    expect(trigger.phase).toBe('precopy');
    await operator.execute('migrate-set-parameters', { 'max-bandwidth': 1024 * 1024 * 1024 });
    const report = await trigger.finished;
    expect(report.startedByTrigger).toBe(false);
    expect(report.outcome).toBe('completed');
    expect(report.pause?.outcome).toBe('synced');
    expect(calls).toEqual(['precopy(pause)', 'pause', 'completed(completed)']);
    await trigger.close();
  }, SLOW);
});
