/**
 * The one error class of the QEMU trigger. QMP failures underneath keep their QmpError as `cause`.
 */
import { QmpError } from '../qmp/index.js';

/** Every failure the trigger reports. */
export const QEMU_TRIGGER_ERROR_CODES = [
  'BAD_OPTIONS', // trigger options rejected at the edge
  'CAPABILITY_UNAVAILABLE', // a migration capability the trigger needs is off and cannot be changed now
  'MIGRATION_ACTIVE', // asked to start a migration while one runs
  'QMP', // a QMP command or connection failed; `cause` is the QmpError
  'QMP_LOST', // the monitor vanished while a migration was being followed; its outcome is unknown
  'CLOSED', // the trigger was closed
  'INTERNAL', // anything else: a bug
] as const;

export type QemuTriggerErrorCode = (typeof QEMU_TRIGGER_ERROR_CODES)[number];

/** The error every trigger API throws or rejects with. */
export class QemuTriggerError extends Error {
  override readonly name = 'QemuTriggerError';
  readonly code: QemuTriggerErrorCode;

  constructor(code: QemuTriggerErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** The QmpError code underneath, when there is one. */
  get qmpCode(): QmpError['code'] | undefined {
    return this.cause instanceof QmpError ? this.cause.code : undefined;
  }

  /**
   * Wraps anything thrown: passes ours through, QmpError → `QMP` (`BAD_OPTIONS` stays), the rest
   * → `INTERNAL`.
   * @example
   * try { await trigger.startMigration(uri); } catch (e) { log.error('trigger', { code: QemuTriggerError.from(e).code }); }
   */
  static from(e: unknown, context?: string): QemuTriggerError {
    if (e instanceof QemuTriggerError) return e;
    const prefix = context ? `${context}: ` : '';
    if (e instanceof QmpError) return new QemuTriggerError(e.code === 'BAD_OPTIONS' ? 'BAD_OPTIONS' : 'QMP', `${prefix}${e.message}`, { cause: e });
    if (e instanceof Error) return new QemuTriggerError('INTERNAL', `${prefix}${e.message}`, { cause: e });
    return new QemuTriggerError('INTERNAL', `${prefix}${String(e)}`, { cause: e });
  }
}
