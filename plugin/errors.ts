/**
 * The one error class of the edge plugin. Like p4runtime-ts's P4RuntimeError, its `code` is a
 * closed set, it keeps what it wraps as `cause`, and `from(unknown)` turns anything thrown into
 * one. Contract errors also carry the entity and annotation they are about, so a caller (or a
 * config validator) can point at the exact place in the P4 program.
 */
import { P4RuntimeError } from 'p4runtime-ts';
import type { P4RuntimeErrorCode } from 'p4runtime-ts';

/** Every failure the plugin reports. */
export const EDGE_PLUGIN_ERROR_CODES = [
  'CONTRACT_INVALID', // an annotation is malformed, or contradicts the P4Info (widths, sizes, names)
  'CONTRACT_MISSING', // a needed annotation or entity is absent
  'BAD_OPTIONS', // plugin options rejected at the edge
  'VALUE_RANGE', // an index or value outside what the contract allows
  'REGISTER_ACCESS_UNAVAILABLE', // neither P4Runtime registers nor in-band access can serve the group
  'INBAND_TIMEOUT', // an in-band request stayed unanswered through every retry
  'INBAND_REJECTED', // the pipeline answered an in-band request with a non-OK status
  'STATE_CONFLICT', // the switch's state is not what the caller saw (e.g. the epoch moved under a conditional flip)
  'VM_UNKNOWN', // a VM address the VM map does not hold
  'NOT_RUNNING', // the plugin is not in a state that allows the call
  'PIPELINE_MISMATCH', // the switch runs another P4 program than the plugin's, or none it can push; nothing pushed
  'TICKET_REJECTED', // a caller's migration ticket is forged, expired, replayed or for another migration
  'SWITCH', // the switch (or the P4Runtime client) failed; `cause` is the P4RuntimeError
  'CLOSED', // the plugin or backend was closed while the call was pending
  'INTERNAL', // anything else: a bug
] as const;

export type EdgePluginErrorCode = (typeof EDGE_PLUGIN_ERROR_CODES)[number];

export interface EdgePluginErrorOptions {
  readonly cause?: unknown;
  /** The P4Info entity the error is about, e.g. `register 'ct_key_addr'`. */
  readonly entity?: string;
  /** The annotation the error is about, e.g. `@migrate_hash`. */
  readonly annotation?: string;
}

/** The error every plugin API throws or rejects with. */
export class EdgePluginError extends Error {
  override readonly name = 'EdgePluginError';
  readonly code: EdgePluginErrorCode;
  readonly entity: string | undefined;
  readonly annotation: string | undefined;

  constructor(code: EdgePluginErrorCode, message: string, options: EdgePluginErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.entity = options.entity;
    this.annotation = options.annotation;
  }

  /** The P4RuntimeError code when this error wraps one (code `SWITCH`). */
  get switchCode(): P4RuntimeErrorCode | undefined {
    return this.cause instanceof P4RuntimeError ? this.cause.code : undefined;
  }

  /**
   * Wraps anything thrown: passes ours through, turns a P4RuntimeError into `SWITCH` (or
   * `BAD_OPTIONS` for the client's own option errors), anything else into `INTERNAL`.
   * @example
   * try { await plugin.start(); } catch (e) { const err = EdgePluginError.from(e); log.error('start', { code: err.code }); }
   */
  static from(e: unknown, context?: string): EdgePluginError {
    if (e instanceof EdgePluginError) return e;
    const prefix = context ? `${context}: ` : '';
    if (e instanceof P4RuntimeError) {
      const code: EdgePluginErrorCode = e.code === 'BAD_OPTIONS' ? 'BAD_OPTIONS' : 'SWITCH';
      return new EdgePluginError(code, `${prefix}${e.code}: ${e.message}`, { cause: e });
    }
    if (e instanceof Error) return new EdgePluginError('INTERNAL', `${prefix}${e.message}`, { cause: e });
    return new EdgePluginError('INTERNAL', `${prefix}${String(e)}`, { cause: e });
  }
}

/** Whether any update of a failed batched write (or the error itself) says `code` — e.g. the one that made a DATAPLANE_ATOMIC batch fail. */
export function anyP4RuntimeCode(e: unknown, code: P4RuntimeErrorCode): boolean {
  const err = P4RuntimeError.from(e);
  return err.code === code || err.updates.some((u) => u.code === code);
}

/** Whether a switch error is `code` — for a batched write, when every failed update says so. */
export function hasP4RuntimeCode(e: unknown, code: P4RuntimeErrorCode): boolean {
  const err = P4RuntimeError.from(e);
  return err.code === code || (err.updates.length > 0 && err.updates.every((u) => u.code === code));
}
