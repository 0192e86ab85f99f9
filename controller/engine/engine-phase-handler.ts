/**
 * Binds the migration engine to a trigger (the QEMU trigger's MigrationPhaseHandler): pre-copy
 * runs while QEMU copies memory, the pause window runs the sync while QEMU holds the VM stopped,
 * completion commits, failure rolls back. The engine's failure reasons reach QEMU as a cancel
 * (the VM resumes at the source, where its state still is) and the report.
 */
import { Subject } from 'rxjs';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { ControllerError } from '../errors.js';
import type { FailureReason } from '../errors.js';
import type { MigrationPhaseHandler, PauseOutcome, PauseWindow, PrecopyInfo, QemuMigrationReport, TriggerFailure } from '../trigger/index.js';
import type { MigrationEngine, PauseSyncResult, PrecopyRound } from './migration-engine.js';

/** What happened, for the caller's report. */
export interface EngineRun {
  readonly rounds: readonly PrecopyRound[];
  readonly sync: PauseSyncResult | undefined;
  readonly committed: { readonly deleted: number; readonly skipped: number } | undefined;
  /** Why it was aborted; `undoFailed` names the devices whose rollback failed (the journal keeps it open for `carryover recover`). */
  readonly aborted: { readonly reason: FailureReason; readonly detail: string; readonly undoFailed?: readonly string[] } | undefined;
}

/** An aborted run's record: the reason, and the devices whose undo failed when there are any. */
export function abortedRun(reason: FailureReason, detail: string, undo: { readonly failed: readonly string[] }): NonNullable<EngineRun['aborted']> {
  return { reason, detail, ...(undo.failed.length > 0 ? { undoFailed: undo.failed } : {}) };
}

/** The trigger's failure as the controller's reason. */
function reasonOf(f: TriggerFailure): FailureReason {
  return f.code === 'qmp-lost' ? 'DEVICE_UNREACHABLE' : 'ABORTED_BY_TRIGGER';
}

/**
 * A phase handler driving `engine`; `done` resolves once the migration committed or rolled back.
 * The engine must already be prepared (negotiation happens before QEMU starts copying).
 * @example
 * const h = engineAsPhaseHandler(engine);
 * await QemuTrigger.attach({ source, handler: h.handler, pauseDeadlineMs: 50 });
 * const run = await h.done;
 */
export function engineAsPhaseHandler(engine: MigrationEngine, logger: Logger = silentLogger): { readonly handler: MigrationPhaseHandler; readonly done: Promise<EngineRun> } {
  const paused$ = new Subject<void>();
  let precopy: Promise<readonly PrecopyRound[]> | undefined;
  let sync: PauseSyncResult | undefined;
  let aborted: EngineRun['aborted'];
  let finish: (r: EngineRun) => void = () => undefined;
  const done = new Promise<EngineRun>((r) => (finish = r));
  let pausing: Promise<PauseOutcome> | undefined;
  const rounds = async (): Promise<readonly PrecopyRound[]> => (precopy ? await precopy.catch(() => []) : []);

  const rollBack = async (reason: FailureReason, detail: string): Promise<void> => {
    paused$.next();
    await rounds();
    aborted = { reason, detail };
    const r = await engine.abort(reason, detail);
    if (r.failed.length > 0) logger.error('rollback incomplete; the journal keeps the abort open for recovery', { failed: r.failed });
    aborted = abortedRun(reason, detail, r);
    finish({ rounds: await rounds(), sync, committed: undefined, aborted });
  };

  const handler: MigrationPhaseHandler = {
    onPrecopy: (_info: PrecopyInfo) => {
      precopy ??= engine.precopy(paused$);
    },
    onPause: (w: PauseWindow): Promise<PauseOutcome> => (pausing = pauseSync(w)),
    onCompleted: async (_report: QemuMigrationReport) => {
      // QEMU may complete while a late sync still runs (it was released at its deadline): the
      // commit waits for it, or the machine would be asked to commit before it synced.
      await pausing?.catch(() => undefined);
      if (aborted) return;
      const committed = await engine.commit();
      finish({ rounds: await rounds(), sync, committed, aborted: undefined });
    },
    onFailed: async (f: TriggerFailure) => {
      await pausing?.catch(() => undefined);
      if (aborted) return;
      await rollBack(reasonOf(f), f.message);
    },
  };
  return { handler, done };

  /** The pause window: pre-copy ends, the engine syncs; a failure rolls back and cancels. */
  async function pauseSync(w: PauseWindow): Promise<PauseOutcome> {
    paused$.next();
    try {
      // Pre-copy's last batch, if one is being installed, finishes behind the freeze (pauseSync).
      sync = await engine.pauseSync();
      if (w.signal.aborted) logger.warn('pause sync finished after QEMU was released', { budgetMs: w.budgetMs });
      return { decision: 'continue', detail: `synced ${sync.slots} slots${sync.lost ? `; lost: ${sync.lost.detail}` : ''}` };
    } catch (e) {
      const err = ControllerError.from(e, 'pause-window sync');
      const reason: FailureReason = err.code === 'ILLEGAL_TRANSITION' || err.code === 'JOURNAL' || err.code === 'BAD_CONFIG' || err.code === 'INTERNAL' ? 'PEER_REJECTED' : err.code;
      await rollBack(reason, err.message);
      return { decision: 'cancel', reason: `${reason}: ${err.message}` };
    }
  }
}
