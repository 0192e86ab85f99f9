/**
 * The one error class of the controller. Its `code` is a closed set: the failure reasons a
 * migration reports to its trigger, its logs and its report (DESIGN.md §1 "failure notification
 * with a reason"), plus the controller's own faults. `cause` keeps what it wraps; `from(unknown)`
 * turns anything thrown into one.
 */
import { P4RuntimeError } from 'p4runtime-ts';
import type { P4RuntimeErrorCode } from 'p4runtime-ts';
import { EdgePluginError } from '../plugin/index.js';

/** Why a migration failed: reported across every boundary, word for word. */
export const FAILURE_REASONS = [
  'CAPACITY_EXCEEDED', // a destination has no room for the VM's state
  'SCHEMA_MISMATCH', // source and destination pipelines cannot hold the same state
  'KEY_COLLISION', // a flow's every candidate slot at the destination holds another flow
  'DEVICE_UNREACHABLE', // a switch or plugin did not answer
  'NOT_PRIMARY', // another controller is primary on a switch
  'UNSUPPORTED_STATE', // a state class the destination cannot take
  'PAUSE_DEADLINE_MISSED', // the pause-window sync did not finish in time
  'INCOMPLETE_STATE', // completeness could not be proven
  'ABORTED_BY_TRIGGER', // the hypervisor or operator cancelled the migration
  'PEER_REJECTED', // a device or peer refused a step
  'CONTROLLER_RESTARTED', // the controller restarted before activation: the journal rolls it back
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Every code a controller error carries: a failure reason, or one of the controller's own. */
export const CONTROLLER_ERROR_CODES = [
  ...FAILURE_REASONS,
  'ILLEGAL_TRANSITION', // an event that the migration's current phase does not allow
  'JOURNAL', // the journal could not be written or read back
  'BAD_CONFIG', // configuration rejected at the edge
  'VM_BUSY', // another carryover process is moving the VM now
  'INTERNAL', // anything else: a bug
] as const;

export type ControllerErrorCode = (typeof CONTROLLER_ERROR_CODES)[number];

/** Whether `code` is a failure reason (as opposed to a controller fault). */
export function isFailureReason(code: string): code is FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(code);
}

const P4RT_REASON: Partial<Record<P4RuntimeErrorCode, FailureReason>> = {
  UNAVAILABLE: 'DEVICE_UNREACHABLE',
  DEADLINE_EXCEEDED: 'DEVICE_UNREACHABLE',
  CONNECTION_CLOSED: 'DEVICE_UNREACHABLE',
  NOT_PRIMARY: 'NOT_PRIMARY',
  PERMISSION_DENIED: 'NOT_PRIMARY',
  RESOURCE_EXHAUSTED: 'CAPACITY_EXCEEDED',
};

/** The error every controller API throws or rejects with. */
export class ControllerError extends Error {
  override readonly name = 'ControllerError';
  readonly code: ControllerErrorCode;

  constructor(code: ControllerErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /**
   * Wraps anything thrown: passes ours through, maps switch and plugin failures to the reason an
   * operator can act on (unreachable, not primary, peer rejected), anything else to INTERNAL.
   * @example
   * catch (e) { const err = ControllerError.from(e, 'freeze at edge-1'); journal.abort(err.code); }
   */
  static from(e: unknown, context?: string): ControllerError {
    if (e instanceof ControllerError) return e;
    const prefix = context ? `${context}: ` : '';
    const p4rt = e instanceof P4RuntimeError ? e : e instanceof EdgePluginError && e.cause instanceof P4RuntimeError ? e.cause : undefined;
    if (p4rt) {
      const code = P4RT_REASON[p4rt.code] ?? 'PEER_REJECTED';
      return new ControllerError(code, `${prefix}${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (e instanceof EdgePluginError) return new ControllerError('PEER_REJECTED', `${prefix}${e.code}: ${e.message}`, { cause: e });
    if (e instanceof Error) return new ControllerError('INTERNAL', `${prefix}${e.message}`, { cause: e });
    return new ControllerError('INTERNAL', `${prefix}${String(e)}`, { cause: e });
  }
}
