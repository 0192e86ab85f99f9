/**
 * The target's own words out of an error: the gRPC code and the message the switch sent, not our
 * client's wrapping of them ("read from device 0: Register reads are not supported yet" becomes
 * UNIMPLEMENTED / "Register reads are not supported yet"). Per-update failures of a Write keep
 * each update's code and message.
 */
import { GRPC_CODE_NAMES, P4RuntimeError, grpcCodeName, perUpdateErrors, statusDetails } from 'p4runtime-ts';
import type { UpdateError } from 'p4runtime-ts';

/** What the target answered. */
export interface TargetStatus {
  /** gRPC code name (`UNIMPLEMENTED`), or our local code when the target never answered. */
  readonly code: string;
  /** The target's message verbatim, or ours when it never answered. */
  readonly message: string;
  /** Per-update failures of a Write, in update order. */
  readonly updates: readonly UpdateError[];
  /** True when code and message came from the target. */
  readonly fromTarget: boolean;
  /** The p4.v1.Error details of a failed call that is not a Write (e.g. one per request of a Read). */
  readonly details: readonly { readonly code: string; readonly message: string }[];
}

interface StatusLike {
  readonly code: number;
  readonly details: string;
}

function isStatusLike(x: unknown): x is StatusLike {
  return typeof x === 'object' && x !== null && typeof (x as StatusLike).code === 'number' && typeof (x as StatusLike).details === 'string';
}

/** The non-OK p4.v1.Error details in a call's status trailer. */
function detailsOf(c: unknown): { code: string; message: string }[] {
  const st = statusDetails(c);
  const errs = st ? perUpdateErrors(st) : undefined;
  return (errs ?? []).filter((x) => (x.canonicalCode ?? 0) !== 0).map((x) => ({ code: grpcCodeName(x.canonicalCode ?? 2), message: x.message ?? '' }));
}

/** True when a failed call says "not found": NOT_FOUND itself, or every per-request error NOT_FOUND. */
export function isNotFound(e: unknown): boolean {
  const s = targetStatus(e);
  return s.code === 'NOT_FOUND' || (s.details.length > 0 && s.details.every((d) => d.code === 'NOT_FOUND'));
}

/** Walks `cause` links to the first P4RuntimeError (plugin errors wrap them). */
function findP4RuntimeError(e: unknown): P4RuntimeError | undefined {
  let x: unknown = e;
  for (let depth = 0; depth < 8 && x !== undefined && x !== null; depth++) {
    if (x instanceof P4RuntimeError) return x;
    x = (x as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The target's code and message in an error thrown by p4runtime-ts or the plugin. */
export function targetStatus(e: unknown): TargetStatus {
  const p = findP4RuntimeError(e);
  if (p) {
    if (p.updates.length > 0) {
      const first = p.updates[0] as UpdateError;
      return { code: first.code, message: first.message, updates: p.updates, fromTarget: true, details: [] };
    }
    let c: unknown = p.cause;
    for (let depth = 0; depth < 4 && c !== undefined && c !== null; depth++) {
      if (isStatusLike(c)) return { code: GRPC_CODE_NAMES[c.code] ?? 'UNKNOWN', message: c.details, updates: [], fromTarget: true, details: detailsOf(c) };
      c = (c as { cause?: unknown }).cause;
    }
    if (p.grpcCode !== undefined) return { code: GRPC_CODE_NAMES[p.grpcCode] ?? p.code, message: p.message, updates: [], fromTarget: true, details: [] };
    return { code: p.code, message: p.message, updates: [], fromTarget: false, details: [] };
  }
  const code = typeof (e as { code?: unknown })?.code === 'string' ? String((e as { code: string }).code) : 'ERROR';
  return { code, message: e instanceof Error ? e.message : String(e), updates: [], fromTarget: false, details: [] };
}

/** One line per failed update: `#1 ALREADY_EXISTS: Match entry exists …`. */
export function describeUpdates(updates: readonly UpdateError[]): string {
  return updates.map((u) => `#${u.index} ${u.code}: ${u.message}`).join('; ');
}

/** The gRPC code of the call itself (a Write with per-update errors fails as a whole with e.g. UNKNOWN). */
export function callCode(e: unknown): string {
  const p = findP4RuntimeError(e);
  if (!p) return 'ERROR';
  return p.grpcCode !== undefined ? (GRPC_CODE_NAMES[p.grpcCode] ?? p.code) : p.code;
}
