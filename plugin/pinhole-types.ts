/**
 * What the pinhole learner (pinhole-learner.ts) takes and reports: its inputs, its counts, the
 * migration phases expiry respects, and entries as exported and imported with their lifetime.
 */
import type { Clock, Logger, P4Switch } from 'p4runtime-ts';
import type { MigratableTableSpec } from './contract/index.js';
import type { EdgePluginError } from './errors.js';
import type { IdleTimeReport } from './idle-time.js';

/** Counts of the learner's work. */
export interface PinholeStats {
  /** Entries this learner inserted. */
  readonly installed: number;
  /** Inserts answered ALREADY_EXISTS (the entry was there already). */
  readonly alreadyPresent: number;
  /** Digest entries for keys installed or being installed. */
  readonly duplicates: number;
  /** Idle entries deleted. */
  readonly expired: number;
  /** Deletes answered NOT_FOUND (someone removed the entry first). */
  readonly alreadyGone: number;
  readonly errors: number;
  /** Idle notices not acted on because the entry's VM is frozen or staged. */
  readonly deferred: number;
  /** Imported entries whose carried lifetime ran out before traffic refreshed them (deleted). */
  readonly lifetimeEnded: number;
}

/** A VM's migration phase as expiry sees it: frozen (source) and staged (destination) entries never expire. */
export type PinholePhase = 'normal' | 'frozen' | 'staged';

/** One entry exported with its remaining lifetime. */
export interface PinholeExport {
  readonly match: Readonly<Record<string, bigint>>;
  /** Action alias. */
  readonly action: string;
  /** Idle time left at the source when read: its idle timeout minus the time since its last hit (as idle-time.ts reads it). */
  readonly remainingNs: bigint;
  /** The entry's direct counter when read (tables with one). */
  readonly counter?: { readonly packets: bigint; readonly bytes: bigint };
}

/** What an import did. */
export interface PinholeImportResult {
  readonly installed: number;
  readonly alreadyPresent: number;
  /** Entries whose lifetime had run out in transit: not installed. */
  readonly expired: number;
}

/** What the learner needs. */
export interface PinholeLearnerInput {
  readonly sw: P4Switch;
  readonly table: MigratableTableSpec;
  readonly idleTimeoutNs: bigint;
  /** Notifications, or polling of time_since_last_hit every pollMs on `clock`. */
  readonly expiry: 'notify' | { readonly pollMs: number };
  /** How the switch fills time_since_last_hit (BMv2 wraps the remaining time at 2^32 ns; idle-time.ts). */
  readonly idleTimeReport: IdleTimeReport;
  readonly clock: Clock;
  readonly digest: { readonly maxListSize: number; readonly maxTimeoutNs: bigint; readonly ackTimeoutNs: bigint };
  readonly logger: Logger;
  /** Called with every failure (the plugin keeps the last one for health()). */
  readonly onError: (e: EdgePluginError) => void;
}
