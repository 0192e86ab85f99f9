/**
 * QEMU's migration statuses (qapi/migration.json, MigrationStatus) and how carryover reads them:
 * their order within one migration, and the carryover phase each one means.
 */

/** The carryover phase of a migration as the trigger follows it. */
export type TriggerPhase = 'idle' | 'precopy' | 'pause' | 'switchover' | 'committed' | 'rolled-back';

/** QEMU statuses that end a migration. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/**
 * Order of statuses within one migration. A status ranked at or below the current one is stale
 * (an event older than a query's answer) and ignored. Postcopy and COLO are ranked with `device`
 * because the VM already runs (or is about to run) elsewhere; carryover does not pause for them.
 */
const RANK: Readonly<Record<string, number>> = {
  none: 0,
  setup: 1,
  active: 2,
  'wait-unplug': 2,
  'pre-switchover': 3,
  device: 4,
  'postcopy-active': 4,
  'postcopy-paused': 4,
  'postcopy-recover': 4,
  colo: 4,
  cancelling: 5,
  completed: 6,
  failed: 6,
  cancelled: 6,
};

/** Rank of a status, or undefined for one this QEMU version should not send. */
export function statusRank(status: string): number | undefined {
  return RANK[status];
}

/** True when `status` is a migration in progress (not none, not ended). */
export function isInProgress(status: string): boolean {
  return status !== 'none' && !TERMINAL_STATUSES.has(status) && RANK[status] !== undefined;
}

/** The phase a status means: setup/active → precopy, pre-switchover → pause, … */
export function phaseOf(status: string): TriggerPhase {
  const r = RANK[status] ?? 0;
  if (status === 'completed') return 'committed';
  if (status === 'failed' || status === 'cancelled') return 'rolled-back';
  if (r >= 4) return 'switchover';
  if (r === 3) return 'pause';
  if (r >= 1) return 'precopy';
  return 'idle';
}
