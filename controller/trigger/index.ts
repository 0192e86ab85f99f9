/** controller/trigger — where migration phases come from: the QEMU trigger (QMP) and its bench. */
export { QemuTrigger } from './qemu-trigger.js';
export type { TriggerPhaseChange } from './qemu-trigger.js';
export type {
  MigrationPhaseHandler, PrecopyInfo, PauseWindow, PauseOutcome, TriggerFailure, PauseReport, QemuMigrationReport, StatusSeen,
} from './phase-handler.js';
export { QemuTriggerError, QEMU_TRIGGER_ERROR_CODES } from './errors.js';
export type { QemuTriggerErrorCode } from './errors.js';
export { parseQemuTriggerOptions, DEFAULT_QEMU_TRIGGER_OPTIONS } from './options.js';
export type { QemuTriggerOptions, ResolvedQemuTriggerOptions, MonitorOption } from './options.js';
export { phaseOf, isInProgress, statusRank, TERMINAL_STATUSES } from './migration-status.js';
export type { TriggerPhase } from './migration-status.js';
export { benchQemuDowntime, downtimeParts, medianParts, noopPhaseHandler } from './downtime-bench.js';
export type { DowntimeParts, QemuDowntimeBenchResult, QemuDowntimeBenchOptions, QemuDowntimeSample, DowntimeSummary } from './downtime-bench.js';
