/**
 * Options of the QEMU trigger, their defaults, and the one validating parser.
 */
import { silentLogger } from 'p4runtime-ts';
import type { Clock, Logger } from 'p4runtime-ts';
import { monotonicClock } from '../monotonic-time.js';
import { QmpClient } from '../qmp/index.js';
import type { QmpClientOptions } from '../qmp/index.js';
import { QemuTriggerError } from './errors.js';
import type { MigrationPhaseHandler } from './phase-handler.js';

/** A monitor: a connected client (kept open on close), an address, or client options. */
export type MonitorOption = QmpClient | string | QmpClientOptions;

/** Options of `QemuTrigger.attach`. `source` and `handler` are required. */
export interface QemuTriggerOptions {
  /** The source QEMU's monitor. */
  readonly source: MonitorOption;
  /** The destination QEMU's monitor, to confirm it runs after completion (optional). */
  readonly destination?: MonitorOption;
  readonly handler: MigrationPhaseHandler;
  /** Longest time QEMU is held in `pre-switchover` for the pause-window sync. */
  readonly pauseDeadlineMs?: number;
  /** When `onPause` throws: cancel the migration (the source keeps the VM) or let it continue. */
  readonly onHandlerError?: 'cancel' | 'continue';
  /**
   * When `onPause` has not returned by the deadline: let the VM continue to the destination
   * (default) or cancel the migration (the VM resumes at the source). It must match what the
   * engine does past its own deadline (`engineAsPhaseHandler(...).onDeadline`), or the network
   * state and the VM end up on different hosts' terms.
   */
  readonly onDeadline?: 'cancel' | 'continue';
  /**
   * When attaching to a migration already running without `pause-before-switchover` (it cannot
   * be switched on then): refuse (default), or follow it without a pause window.
   */
  readonly requirePauseWindow?: boolean;
  /** Timeout of the trigger's own QMP commands (migrate-continue, query-migrate, …). */
  readonly commandTimeoutMs?: number;
  /** How long to wait for the destination to report `running` after completion. */
  readonly destinationTimeoutMs?: number;
  readonly logger?: Logger;
  /**
   * Clock and timers (the pause deadline, the reported hold); default: a connected `source`
   * client's clock, else monotonicClock (the QMP client's default). It must be the source
   * client's: the hold is measured from an event's `receivedAt`. Tests pass virtual time.
   */
  readonly clock?: Clock;
}

/** Validated, frozen options. */
export interface ResolvedQemuTriggerOptions {
  readonly source: MonitorOption;
  readonly destination: MonitorOption | undefined;
  readonly handler: MigrationPhaseHandler;
  readonly pauseDeadlineMs: number;
  readonly onHandlerError: 'cancel' | 'continue';
  readonly onDeadline: 'cancel' | 'continue';
  readonly requirePauseWindow: boolean;
  readonly commandTimeoutMs: number;
  readonly destinationTimeoutMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Defaults of every optional field. */
export const DEFAULT_QEMU_TRIGGER_OPTIONS = Object.freeze({
  // QEMU's own default downtime-limit is 300 ms; the sync gets most of a budget that size.
  pauseDeadlineMs: 250,
  onHandlerError: 'cancel' as const,
  onDeadline: 'continue' as const,
  requirePauseWindow: true,
  commandTimeoutMs: 10_000,
  destinationTimeoutMs: 10_000,
});

function bad(field: string, message: string): QemuTriggerError {
  return new QemuTriggerError('BAD_OPTIONS', `QemuTriggerOptions.${field}: ${message}`);
}

function positiveInt(field: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw bad(field, `expected an integer >= 1 (milliseconds), got ${String(v)}`);
  return v;
}

function monitor(field: string, v: unknown): MonitorOption {
  if (v instanceof QmpClient || (typeof v === 'string' && v.length > 0)) return v;
  if (typeof v === 'object' && v !== null && ('address' in v || 'transport' in v)) return v as QmpClientOptions;
  throw bad(field, `expected a QMP socket address (e.g. "unix:/run/vm1.qmp"), QmpClientOptions or a connected QmpClient, got ${String(v)}`);
}

/**
 * Validates trigger options at the edge and returns them frozen with defaults filled in.
 * @example
 * const opts = parseQemuTriggerOptions({ source: 'unix:/run/src.qmp', handler, pauseDeadlineMs: 100 });
 */
export function parseQemuTriggerOptions(options: QemuTriggerOptions): ResolvedQemuTriggerOptions {
  if (typeof options !== 'object' || options === null) throw bad('(root)', 'expected an options object with source and handler');
  const h = options.handler as Partial<MigrationPhaseHandler> | undefined;
  const missing = (['onPrecopy', 'onPause', 'onCompleted', 'onFailed'] as const).filter((k) => typeof h?.[k] !== 'function');
  if (missing.length > 0) throw bad('handler', `must implement MigrationPhaseHandler; missing ${missing.join(', ')}`);
  const onHandlerError = options.onHandlerError ?? DEFAULT_QEMU_TRIGGER_OPTIONS.onHandlerError;
  if (onHandlerError !== 'cancel' && onHandlerError !== 'continue') throw bad('onHandlerError', `expected 'cancel' or 'continue', got ${String(onHandlerError)}`);
  const onDeadline = options.onDeadline ?? DEFAULT_QEMU_TRIGGER_OPTIONS.onDeadline;
  if (onDeadline !== 'cancel' && onDeadline !== 'continue') throw bad('onDeadline', `expected 'cancel' or 'continue', got ${String(onDeadline)}`);
  const requirePauseWindow = options.requirePauseWindow ?? DEFAULT_QEMU_TRIGGER_OPTIONS.requirePauseWindow;
  if (typeof requirePauseWindow !== 'boolean') throw bad('requirePauseWindow', `expected true or false, got ${String(requirePauseWindow)}`);
  // The hold is the trigger's clock minus an event's receivedAt, read on the source client's clock.
  const sourceClock = options.source instanceof QmpClient ? options.source.clock : undefined;
  if (options.clock !== undefined && sourceClock !== undefined && options.clock !== sourceClock) {
    throw bad('clock', 'differs from the source QmpClient\'s clock; leave it out (the trigger then uses the client\'s) or connect the client with the same clock');
  }
  return Object.freeze({
    source: monitor('source', options.source),
    destination: options.destination === undefined ? undefined : monitor('destination', options.destination),
    handler: options.handler,
    pauseDeadlineMs: positiveInt('pauseDeadlineMs', options.pauseDeadlineMs, DEFAULT_QEMU_TRIGGER_OPTIONS.pauseDeadlineMs),
    onHandlerError,
    onDeadline,
    requirePauseWindow,
    commandTimeoutMs: positiveInt('commandTimeoutMs', options.commandTimeoutMs, DEFAULT_QEMU_TRIGGER_OPTIONS.commandTimeoutMs),
    destinationTimeoutMs: positiveInt('destinationTimeoutMs', options.destinationTimeoutMs, DEFAULT_QEMU_TRIGGER_OPTIONS.destinationTimeoutMs),
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? sourceClock ?? monotonicClock,
  });
}
