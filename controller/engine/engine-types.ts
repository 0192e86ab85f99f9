/**
 * What the migration engine (migration-engine.ts) is given and reports: its options, a pre-copy
 * round, the pause-window sync's result, and the policy for a missed pause deadline.
 */
import type { SchedulerLike } from 'rxjs';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, FinalProof } from '../../plugin/index.js';
import type { LostState } from '../migration/events.js';
import type { MigrationMachine } from '../migration/migration-machine.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import type { ConvergencePolicy } from '../precopy/delta-rounds.js';
import type { TransferStarter } from './peer-rounds.js';
import type { OldGeneration, OldHeadroomOptions } from './old-headroom.js';
import type { YoungGeneration, YoungHeadroomOptions } from './young-headroom.js';

/** What the engine does when the pause-window sync misses its deadline. */
export type DeadlinePolicy = 'abort' | 'continue';

/** What one engine runs on: the plan, its machine, the devices, and the pause's and pre-copy's knobs. */
export interface MigrationEngineOptions {
  readonly plan: MigrationPlan;
  readonly machine: MigrationMachine;
  /** The device API of every device in the plan, by device name. */
  readonly devices: ReadonlyMap<string, DeviceApi>;
  /**
   * Migrate even when the sources hold no flow of the VM while a destination holds some and does
   * not mark the VM left (vm-whereabouts.ts: refused PEER_REJECTED otherwise). Default false.
   */
  readonly ignoreDestinationFlows?: boolean;
  /** Pause-window budget. Default 50 ms. */
  readonly pauseDeadlineMs?: number;
  readonly onDeadline?: DeadlinePolicy;
  readonly precopy?: { readonly intervalMs?: number; readonly policy?: ConvergencePolicy; readonly maxPending?: number };
  /** After a missed deadline, how long the rollback waits for writes still in flight. Default 5000 ms. */
  readonly settleMs?: number;
  /**
   * How long a rollback keeps retrying a device whose undo failed twice (a plugin daemon being
   * restarted; a frozen source drops the VM's traffic until it is undone) before it reports the
   * rollback incomplete. Default DEFAULT_UNDO_RETRY_MS (30 s); 0: report at once.
   */
  readonly undoRetryMs?: number;
  /**
   * After the commit deleted the VM at the sources, before the journal says so: a migration to a
   * peer domain has it record the commit (Finish). Its failure fails the commit, which leaves the
   * journal COMMITTED with the sources' cleanup owed, so carryover recover repeats both.
   */
  readonly beforeSourceCleaned?: (deleted: number) => Promise<void>;
  /** Lines for the operator (the CLI's progress): the rollback's retries. Default: none (logged only). */
  readonly progress?: (line: string) => void;
  /** How long deleted-at-source waits for packets in flight. Default 1000 ms. */
  readonly graceMs?: number;
  /** Timers and time (pre-copy intervals, the pause deadline, elapsedMs); default monotonicScheduler; tests pass virtual time. */
  readonly scheduler?: SchedulerLike;
  readonly logger?: Logger;
  /**
   * Peer to peer: how to start a transfer at a source, which then sends its state straight to the
   * destinations; the controller keeps the phases and the proof (absent: the state passes through
   * the controller).
   */
  readonly transfer?: TransferStarter;
  /**
   * The controller's young generation, kept with room for the pause from pre-copy until the pause
   * starts (young-headroom.ts). Default: this process's (V8); false: left to V8 alone.
   */
  readonly youngGeneration?: YoungGeneration | false;
  /** When the keeper collects. Default DEFAULT_YOUNG_HEADROOM. */
  readonly youngHeadroom?: YoungHeadroomOptions;
  /**
   * The controller's old generation, collected once the snapshot is staged when staging it left
   * much garbage, so that V8 does not collect it in the pause (old-headroom.ts). Default: this
   * process's (V8); false: left to V8 alone.
   */
  readonly oldGeneration?: OldGeneration | false;
  /** When that collection runs. Default DEFAULT_OLD_HEADROOM. */
  readonly oldHeadroom?: OldHeadroomOptions;
  /**
   * In the pause, while the freeze is on its way: the changes the sources' pushed deltas already
   * brought are taken (DeviceApi.pauseDelta) and staged at the destinations, so only later ones
   * wait for the freeze's answer. Default true; false: everything waits for the final delta.
   */
  readonly takeAhead?: boolean;
  /**
   * In the pause, over devices that offer them (DeviceApi.freezeFinal, importActivate: those
   * reached over the network): each source frozen and its final delta read in one call, and a
   * single destination's last import and its activation in one call — two round trips fewer while
   * the VM is stopped. Default true; false: one call per step.
   */
  readonly pipelinedPause?: boolean;
}

/** One pre-copy round: slots installed, batches merged. */
/** The convergence policy pre-copy follows unless MigrationEngineOptions.precopy gives one. */
export const DEFAULT_CONVERGENCE_POLICY: ConvergencePolicy = Object.freeze({ maxRounds: 30, convergedAtSlots: 0 });

/** How pre-copy ended: the VM paused (the trigger stopped it), a round converged, or the round limit cut it short (`lastSlots` still changing per round). */
export type PrecopyEnd = { readonly by: 'paused' | 'converged'; readonly maxRounds: number } | { readonly by: 'round-limit'; readonly maxRounds: number; readonly lastSlots: number };

export interface PrecopyRound {
  readonly round: number;
  readonly slots: number;
  readonly batches: number;
}

/** What the pause-window sync did. */
export interface PauseSyncResult {
  /** Slots installed in the pause: the final batches', and those taken ahead of them (`aheadSlots`). */
  readonly slots: number;
  /** Of `slots`, those the sources sent ahead of their final batches (takeAhead). */
  readonly aheadSlots: number;
  readonly lost: LostState | undefined;
  /** Milliseconds from freeze to activation (scheduler time: monotonic by default, sub-millisecond). */
  readonly elapsedMs: number;
  /**
   * Per source, how its final batch was proven complete against its data plane's record
   * (StateBatch.proof): every numbered change arrived as a digest, or the change log was read.
   * Empty when the sources did not say (peer-to-peer transfer, older plugins).
   */
  readonly proofs: Readonly<Record<string, FinalProof>>;
}
