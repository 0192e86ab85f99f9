/**
 * One migration from start to end without a hypervisor (trigger `manual`): prepare, pre-copy
 * until `paused$` fires or the convergence policy ends it, the pause-window sync, commit — and on
 * any failure before the commit, rollback with the reason. The QEMU trigger drives the same
 * engine steps from QEMU's phases instead (engineAsPhaseHandler).
 */
import type { Observable } from 'rxjs';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { abortedRun, reasonOfError } from './engine-phase-handler.js';
import type { EngineRun } from './engine-phase-handler.js';
import type { MigrationEngine } from './migration-engine.js';

export { reasonOfError } from './engine-phase-handler.js';

/** Options of runMigration. */
export interface RunMigrationOptions {
  /** Fires when the VM pauses (or the operator says "now"); without it the policy alone ends pre-copy. */
  readonly paused$?: Observable<unknown>;
  /** Called between pre-copy and the pause (e.g. to stop the VM's traffic and let it drain). */
  readonly beforePause?: () => Promise<void>;
  readonly logger?: Logger;
}

/**
 * Runs `engine` through every phase; resolves with what happened (never rejects for a failed
 * migration: `aborted` says why, and the rollback has run).
 * @example
 * const run = await runMigration(engine, { paused$: vmPaused$ });
 * if (run.aborted) console.error(run.aborted.reason);
 */
export async function runMigration(engine: MigrationEngine, o: RunMigrationOptions = {}): Promise<EngineRun> {
  const logger = o.logger ?? silentLogger;
  let rounds: EngineRun['rounds'] = [];
  let sync: EngineRun['sync'];
  try {
    await engine.prepare();
    rounds = await engine.precopy(o.paused$);
    await o.beforePause?.();
    sync = await engine.pauseSync();
  } catch (e) {
    const { reason, detail } = reasonOfError(e);
    logger.warn('migration failed; rolling back', { reason, detail });
    const undo = await engine.abort(reason, detail);
    if (undo.failed.length > 0) logger.error('rollback incomplete; the journal keeps the abort open for recovery', { failed: undo.failed });
    return { rounds, sync, committed: undefined, aborted: abortedRun(reason, detail, undo) };
  }
  // Activated: the VM moves on to the destination, so a failed commit (its journal record, a
  // source's delete) is left for carryover recover to finish, never rolled back under it.
  try {
    const committed = await engine.commit();
    return { rounds, sync, committed, aborted: undefined };
  } catch (e) {
    const unfinished = reasonOfError(e);
    logger.error('the destinations are active but the commit failed; carryover recover finishes it', unfinished);
    return { rounds, sync, committed: undefined, aborted: undefined, unfinished: { ...unfinished, vmAt: 'destination' } };
  }
}
