/**
 * A migration's phases and the events that move it between them. Events are what the journal
 * records (each before it is acted on), so a migration's state is always `replay(events)`.
 */
import type { FailureReason } from '../errors.js';

/**
 * PLANNED → PREPARED → PRECOPY (rounds) → FROZEN → SYNCED → ACTIVATED → COMMITTED, or ABORTED
 * from any phase before COMMITTED.
 */
export type MigrationPhase = 'PLANNED' | 'PREPARED' | 'PRECOPY' | 'FROZEN' | 'SYNCED' | 'ACTIVATED' | 'COMMITTED' | 'ABORTED';

/** Every phase, in the order a successful migration passes them. */
export const MIGRATION_PHASES: readonly MigrationPhase[] = ['PLANNED', 'PREPARED', 'PRECOPY', 'FROZEN', 'SYNCED', 'ACTIVATED', 'COMMITTED', 'ABORTED'];

/** Per-VM counter values as the journal holds them: decimal strings (JSON has no 64-bit integers). */
export type JournalCounters = Readonly<Record<string, { readonly packets: string; readonly bytes: string }>>;

/** What was left behind when a pause-window sync ended without proving completeness. */
export interface LostState {
  /** Slots changed before the freeze that did not reach the destination. */
  readonly slots: number;
  /** Table entries (pinholes) not installed at the destination. */
  readonly tableEntries: number;
  /** Free-form detail for the report (e.g. which devices). */
  readonly detail: string;
}

/** Fields every event carries. */
interface EventBase {
  /** The controller's clock (ms) when the event was recorded. */
  readonly atMs: number;
}

/** The events of a migration, as recorded in its journal. */
export type MigrationEvent =
  | (EventBase & {
      readonly type: 'planned';
      readonly migrationId: string;
      readonly vm: string;
      readonly sources: readonly string[];
      readonly destinations: readonly string[];
    })
  /**
   * Every device agreed (capabilities, schemas) and tracks the VM's changes; `translations` lists
   * what the destinations translate (schemas that differ compatibly), in operator terms.
   * `activationDelegated`: peer to peer, a source's plugin may activate a destination itself in
   * the pause, before this journal records `frozen` — a recovery treats the destinations of a
   * migration left in PRECOPY as possibly active.
   */
  | (EventBase & { readonly type: 'prepared'; readonly translations?: readonly string[]; readonly activationDelegated?: boolean })
  /**
   * A pre-copy round was installed staged at the destinations: round 0 is the snapshot.
   * `tableEntries` here and in `synced` is the change in the pinholes the destinations hold (each
   * batch that carries them lists a source's all; negative when some expired at the source), so
   * the records add up to what is held (MigrationState.moved).
   */
  | (EventBase & { readonly type: 'round'; readonly round: number; readonly slots: number; readonly tableEntries: number })
  /** The VM stopped and its state is frozen at the sources. */
  | (EventBase & { readonly type: 'frozen' })
  /**
   * The final changes reached the destinations; `lost` when completeness could not be proven and
   * the policy let it continue. `counters`, by destination: the sources' per-VM counter values at
   * the freeze that the final batches brought it (what its activation adds where the switch writes
   * them atomically with it) — so a recovery that activates a destination whose plugin no longer
   * remembers the migration can still carry them (DeviceApi.activate's `carried`). Absent when
   * the controller did not see them (peer-to-peer transfer) or no final batch carried any.
   */
  | (EventBase & { readonly type: 'synced'; readonly slots: number; readonly tableEntries: number; readonly lost?: LostState; readonly counters?: Readonly<Record<string, JournalCounters>> })
  /** The destinations serve the VM's state. */
  | (EventBase & { readonly type: 'activated' })
  /** The VM runs at the destination: no way back. Source state is deleted after the grace period. */
  | (EventBase & { readonly type: 'committed' })
  /** The sources' copies are deleted (conditionally: never a slot someone else took). */
  | (EventBase & { readonly type: 'source-cleaned'; readonly slots: number; readonly tableEntries: number })
  /** The migration gives up; `reason` is reported to the trigger. */
  | (EventBase & { readonly type: 'abort'; readonly reason: FailureReason; readonly detail: string })
  /** Everything staged or activated at the destinations is removed and the sources unfrozen. */
  | (EventBase & { readonly type: 'rolled-back' })
  /**
   * The cleanup (a rollback's undo, a commit's delete at the sources) finished at these devices
   * while it failed at others: recorded only then, so that a recovery does not repeat it there and
   * a later migration may use those switches (a repeated undo there would undo that one's state).
   * Only devices whose cleanup is certain: not a destination a running rollback undid once the
   * pause began (it may have been active, and a plugin restarted since answers done).
   */
  | (EventBase & { readonly type: 'cleaned-at'; readonly devices: readonly string[] });

/** The event types, for validation of journal records. */
export const MIGRATION_EVENT_TYPES = ['planned', 'prepared', 'round', 'frozen', 'synced', 'activated', 'committed', 'source-cleaned', 'abort', 'rolled-back', 'cleaned-at'] as const;

export type MigrationEventType = MigrationEvent['type'];
