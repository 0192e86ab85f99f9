/**
 * The one error class of the p4runtime-ts boundary. Its `code` is a closed set: the gRPC status
 * codes a P4Runtime server answers with, plus the client-side failures of this library.
 */

/** gRPC canonical status codes by number (grpc/doc/statuscodes.md). */
export const GRPC_CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export type GrpcCodeName = (typeof GRPC_CODE_NAMES)[number];

/** Failures that originate in this library rather than on the server. */
export type LocalCodeName =
  | 'SCHEMA_INVALID' // the P4Info itself is malformed or breaks a rule
  | 'SCHEMA_LOOKUP' // a name or id is not in the P4Info (message carries "did you mean")
  | 'VALUE_RANGE' // a value does not fit its field's width or kind
  | 'BAD_OPTIONS' // options rejected at the edge
  | 'NOT_PRIMARY' // this client is not the primary controller for its role
  | 'WRITE_FAILED' // a Write batch in which some updates failed (see `updates`)
  | 'CONNECTION_CLOSED'; // the session was closed by us or the peer

export type P4RuntimeErrorCode = Exclude<GrpcCodeName, 'OK'> | LocalCodeName;

/** One failed update of a Write batch, named by table/action rather than by raw id. */
export interface UpdateError {
  /** Index of the update in the batch the caller passed (after our own splitting is undone). */
  readonly index: number;
  readonly code: GrpcCodeName;
  readonly message: string;
  /** What the update addressed, e.g. `INSERT table ingress.acl (dst=10.0.0.5) action allow`. */
  readonly entity: string;
  /** The target's own error space and code, when it gave one. */
  readonly space?: string;
  readonly targetCode?: number;
}

export interface P4RuntimeErrorOptions {
  readonly cause?: unknown;
  readonly grpcCode?: number;
  readonly updates?: readonly UpdateError[];
  /** The target refused our arbitration bid: another client holds this election id (and role). */
  readonly electionIdConflict?: boolean;
}

/** The error every p4runtime-ts API throws or emits. */
export class P4RuntimeError extends Error {
  override readonly name = 'P4RuntimeError';
  readonly code: P4RuntimeErrorCode;
  /** Numeric gRPC status when the error came from the wire. */
  readonly grpcCode: number | undefined;
  /** Per-update failures of a Write (code `WRITE_FAILED`, or the batch's gRPC code). */
  readonly updates: readonly UpdateError[];
  /**
   * True when the target refused the arbitration bid because another client already holds the
   * election id in the role: targets say so only in words, which the library reads once here.
   */
  readonly electionIdConflict: boolean;

  constructor(code: P4RuntimeErrorCode, message: string, options: P4RuntimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.grpcCode = options.grpcCode;
    this.updates = options.updates ?? [];
    this.electionIdConflict = options.electionIdConflict ?? false;
  }

  /**
   * Wraps anything thrown into a P4RuntimeError: passes ours through, maps gRPC ServiceErrors by
   * their status code, and keeps the original as `cause`.
   * @example
   * try { await sw.write(updates); } catch (e) { const err = P4RuntimeError.from(e); log.warn('write', { code: err.code }); }
   */
  static from(e: unknown, context?: string): P4RuntimeError {
    if (e instanceof P4RuntimeError) return e;
    const prefix = context ? `${context}: ` : '';
    if (isServiceError(e)) {
      const name = GRPC_CODE_NAMES[e.code] ?? 'UNKNOWN';
      const code: P4RuntimeErrorCode = name === 'OK' ? 'UNKNOWN' : name;
      return new P4RuntimeError(code, `${prefix}${e.details || e.message}`, { cause: e, grpcCode: e.code });
    }
    if (e instanceof RangeError) return new P4RuntimeError('VALUE_RANGE', `${prefix}${e.message}`, { cause: e });
    if (e instanceof Error) return new P4RuntimeError('UNKNOWN', `${prefix}${e.message}`, { cause: e });
    return new P4RuntimeError('UNKNOWN', `${prefix}${String(e)}`, { cause: e });
  }
}

/** The gRPC code name for a numeric status code. */
export function grpcCodeName(code: number): GrpcCodeName {
  return GRPC_CODE_NAMES[code] ?? 'UNKNOWN';
}

/** The numeric gRPC status code for a name. */
export function grpcCodeNumber(name: GrpcCodeName): number {
  return GRPC_CODE_NAMES.indexOf(name);
}

interface ServiceErrorLike {
  code: number;
  details: string;
  message: string;
}

function isServiceError(e: unknown): e is ServiceErrorLike {
  return typeof e === 'object' && e !== null && typeof (e as ServiceErrorLike).code === 'number' && 'details' in e;
}
