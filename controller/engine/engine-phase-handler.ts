/**
 * Binds the migration engine to a trigger (the QEMU trigger's MigrationPhaseHandler): pre-copy
 * runs while QEMU copies memory, the pause window runs the sync while QEMU holds the VM stopped.
 * Where the network state ends follows where the VM ends, as QEMU reports it: completion
 * activates (if the sync had not) and commits, failure or cancellation rolls back. The engine's
 * failure reasons reach QEMU as a cancel (the VM resumes at the source) and the report.
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
  /**
   * Why it was aborted; `undoFailed` names the devices whose rollback failed (the journal keeps it
   * open for `carryover recover`), `undoErrors` what each answered; `journalError` why the
   * journal could not record the rollback (done at the devices all the same).
   */
  readonly aborted: { readonly reason: FailureReason; readonly detail: string; readonly undoFailed?: readonly string[]; readonly undoErrors?: Readonly<Record<string, string>>; readonly journalError?: string; readonly mayBeActive?: readonly string[] } | undefined;
  /**
   * The VM runs at the destination (QEMU completed) but the activation or commit that follows it
   * failed: no rollback (it would strand the VM without its state); `carryover recover` finishes it.
   */
  readonly unfinished?: { readonly reason: FailureReason; readonly detail: string; readonly vmAt?: 'destination' | 'unknown' };
}

/** The controller's reason for an error from any step. */
export function reasonOfError(e: unknown): { reason: FailureReason; detail: string } {
  const err = ControllerError.from(e, 'migration');
  const internal = err.code === 'ILLEGAL_TRANSITION' || err.code === 'JOURNAL' || err.code === 'BAD_CONFIG' || err.code === 'VM_BUSY' || err.code === 'INTERNAL';
  return { reason: internal ? 'PEER_REJECTED' : err.code, detail: err.message };
}

/** An aborted run's record: the reason, and the devices whose undo failed when there are any. */
export function abortedRun(reason: FailureReason, detail: string, undo: { readonly failed: readonly string[]; readonly errors?: Readonly<Record<string, string>>; readonly journalError?: string; readonly mayBeActive?: readonly string[] }): NonNullable<EngineRun['aborted']> {
  return { reason, detail, ...(undo.failed.length > 0 ? { undoFailed: undo.failed, undoErrors: undo.errors ?? {} } : {}), ...(undo.journalError !== undefined ? { journalError: undo.journalError } : {}), ...(undo.mayBeActive?.length ? { mayBeActive: undo.mayBeActive } : {}) };
}

/** The trigger's failure as the controller's reason. */
function reasonOf(f: TriggerFailure): FailureReason {
  return f.code === 'qmp-lost' ? 'DEVICE_UNREACHABLE' : f.code === 'pause-deadline' ? 'PAUSE_DEADLINE_MISSED' : 'ABORTED_BY_TRIGGER';
}

/** The engine bound to a trigger, and what its caller may do before QEMU's migration starts. */
export interface EnginePhaseHandler {
  readonly handler: MigrationPhaseHandler;
  /** Resolves once the migration committed or rolled back (or was rolled back by `abort`). */
  readonly done: Promise<EngineRun>;
  /** What the trigger must tell QEMU past the deadline (the engine's policy). */
  readonly onDeadline: 'cancel' | 'continue';
  /**
   * Starts pre-copy now, before QEMU's migration (its later `setup`/`active` then starts nothing
   * more); resolves once the snapshot is staged at the destinations, rejects when pre-copy fails.
   */
  stageSnapshot(): Promise<void>;
  /** Rolls back before QEMU's migration ran (pre-copy stopped first); later QEMU phases change nothing. */
  abort(reason: FailureReason, detail: string): Promise<EngineRun>;
}

/**
 * A phase handler driving `engine`; `done` resolves once the migration committed or rolled back.
 * `onDeadline` is what the trigger must tell QEMU when the deadline passes before the sync ends
 * (the engine's own policy: abort → cancel, continue → continue); pass it to the trigger.
 * The engine must already be prepared (negotiation happens before QEMU starts copying).
 * @example
 * const h = engineAsPhaseHandler(engine);
 * await QemuTrigger.attach({ source, handler: h.handler, pauseDeadlineMs: 50, onDeadline: h.onDeadline });
 * const run = await h.done;
 */
export function engineAsPhaseHandler(engine: MigrationEngine, logger: Logger = silentLogger): EnginePhaseHandler {
  const paused$ = new Subject<void>();
  let precopy: Promise<readonly PrecopyRound[]> | undefined;
  let sync: PauseSyncResult | undefined;
  /** Why the pause-window sync failed: what the rollback records, or what the destination misses. */
  let syncFailed: { readonly reason: FailureReason; readonly detail: string } | undefined;
  let aborted: EngineRun['aborted'];
  let ended = false;
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

  // Once, whoever comes first: stageSnapshot() or QEMU's setup/active (a second run would stage
  // the snapshot again and the journal would refuse its round 0).
  const startPrecopy = (): void => {
    if (precopy) return;
    precopy = engine.precopy(paused$);
    precopy.catch(() => undefined); // its failure is reported by the pause (or stageSnapshot)
  };

  const handler: MigrationPhaseHandler = {
    onPrecopy: (_info: PrecopyInfo) => startPrecopy(),
    onPause: (w: PauseWindow): Promise<PauseOutcome> => (pausing = pauseSync(w)),
    onCompleted: async (_report: QemuMigrationReport) => {
      // QEMU may complete while a late sync still runs (it was released at its deadline): the
      // commit waits for it, or the machine would be asked to commit before it synced.
      await pausing?.catch(() => undefined);
      if (ended) return;
      ended = true;
      // The VM runs at the destination now, whatever the sync said: its state follows it there.
      try {
        if (syncFailed) {
          logger.warn('QEMU completed the migration although the pause-window sync failed: activating the destinations with what arrived', { reason: syncFailed.reason, detail: syncFailed.detail });
          sync = await engine.activateAfterRelease(`${syncFailed.reason}: ${syncFailed.detail}`);
        }
        const committed = await engine.commit();
        finish({ rounds: await rounds(), sync, committed, aborted: undefined });
      } catch (e) {
        const unfinished = reasonOfError(e);
        logger.error('the VM runs at the destination but its activation or commit failed; carryover recover finishes it', unfinished);
        finish({ rounds: await rounds(), sync, committed: undefined, aborted: undefined, unfinished });
      }
    },
    onFailed: async (f: TriggerFailure) => {
      await pausing?.catch(() => undefined);
      if (ended) return;
      ended = true;
      if (f.code === 'qmp-lost-released') {
        // QEMU was released (the destinations activated and journalled first): the VM may run at
        // either side, so nothing is rolled back; recover asks QEMU or the operator.
        const unfinished = { reason: 'DEVICE_UNREACHABLE' as const, vmAt: 'unknown' as const, detail: `${f.message}; nothing was rolled back — run carryover recover --trigger qemu:SOCK (or --vm-at source|destination) once you know where the VM runs` };
        logger.error('QEMU was released and then its monitor lost: where the VM runs is unknown; carryover recover finishes it', unfinished);
        finish({ rounds: await rounds(), sync, committed: undefined, aborted: undefined, unfinished });
        return;
      }
      // The VM stays at (or resumes at) the source: so does its state. The sync's own failure,
      // when there was one, is the better reason than the cancel it caused.
      await rollBack(syncFailed?.reason ?? reasonOf(f), syncFailed?.detail ?? f.message);
    },
  };
  return {
    handler,
    done,
    onDeadline: engine.deadlinePolicy === 'abort' ? 'cancel' : 'continue',
    stageSnapshot: async () => {
      startPrecopy();
      await engine.snapshotStaged();
    },
    abort: async (reason, detail) => {
      if (!ended) {
        ended = true;
        await rollBack(reason, detail);
      }
      return done;
    },
  };

  /**
   * The pause window: pre-copy ends, the engine syncs. A failure answers cancel at once and
   * undoes nothing yet: the trigger may have released the VM already (its deadline), so what
   * QEMU reports next decides between rollback (onFailed) and activation (onCompleted).
   */
  async function pauseSync(w: PauseWindow): Promise<PauseOutcome> {
    paused$.next();
    try {
      // Pre-copy's last batch, if one is being installed, finishes behind the freeze (pauseSync).
      sync = await engine.pauseSync();
      if (w.signal.aborted) logger.warn('pause sync finished after the pause window closed', { budgetMs: w.budgetMs });
      return { decision: 'continue', detail: `synced ${sync.slots} slots${sync.lost ? `; lost: ${sync.lost.detail}` : ''}` };
    } catch (e) {
      syncFailed = reasonOfError(ControllerError.from(e, 'pause-window sync'));
      return { decision: 'cancel', reason: `${syncFailed.reason}: ${syncFailed.detail}` };
    }
  }
}
