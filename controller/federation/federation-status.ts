/**
 * Failures between controllers: a ControllerError leaves a federation server as a gRPC status
 * (the reason in the `carryover-reason` trailer, the message saying what failed) and comes back
 * at the peer as a ControllerError with the same reason — so each side reports the other's reason
 * word for word. Transport failures without a reason map to one: an unreachable peer is
 * DEVICE_UNREACHABLE, a passed deadline what the caller says (inside the pause:
 * PAUSE_DEADLINE_MISSED), anything else PEER_REJECTED.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerErrorResponse, ServiceError } from '@grpc/grpc-js';
import { DeviceApiFailure, REASON_METADATA } from '../../plugin/index.js';
import { ControllerError, isFailureReason } from '../errors.js';
import type { FailureReason } from '../errors.js';

const CODE_OF: Readonly<Record<FailureReason, GrpcStatus>> = {
  CAPACITY_EXCEEDED: GrpcStatus.RESOURCE_EXHAUSTED,
  SCHEMA_MISMATCH: GrpcStatus.FAILED_PRECONDITION,
  KEY_COLLISION: GrpcStatus.ALREADY_EXISTS,
  DEVICE_UNREACHABLE: GrpcStatus.UNAVAILABLE,
  NOT_PRIMARY: GrpcStatus.FAILED_PRECONDITION,
  UNSUPPORTED_STATE: GrpcStatus.FAILED_PRECONDITION,
  PAUSE_DEADLINE_MISSED: GrpcStatus.DEADLINE_EXCEEDED,
  INCOMPLETE_STATE: GrpcStatus.DATA_LOSS,
  ABORTED_BY_TRIGGER: GrpcStatus.ABORTED,
  PEER_REJECTED: GrpcStatus.INVALID_ARGUMENT,
  CONTROLLER_RESTARTED: GrpcStatus.ABORTED,
};

/** The failure reason an error stands for (a controller fault is PEER_REJECTED to the peer). */
export function reasonOf(e: unknown): { readonly reason: FailureReason; readonly message: string } {
  // A device's reason (or a malformed message's, from the shared codecs) passes through when it is one of ours.
  if (e instanceof DeviceApiFailure) return { reason: isFailureReason(e.reason) ? e.reason : 'PEER_REJECTED', message: e.message };
  const err = ControllerError.from(e);
  return { reason: isFailureReason(err.code) ? err.code : 'PEER_REJECTED', message: err.message };
}

/** Anything a handler threw, as the status the peer decodes back into a ControllerError. */
export function federationStatus(e: unknown, what: string): ServerErrorResponse {
  const { reason, message } = reasonOf(e);
  const metadata = new Metadata();
  metadata.set(REASON_METADATA, reason);
  const text = `${what}: ${message}`;
  const err = new Error(text) as ServerErrorResponse;
  err.code = CODE_OF[reason];
  err.details = text;
  err.metadata = metadata;
  return err;
}

/**
 * A failed call at the client as a ControllerError (the peer's reason when it sent one); a passed
 * deadline is `onDeadline` (the commit inside the pause: PAUSE_DEADLINE_MISSED).
 */
export function federationFailure(e: unknown, what: string, onDeadline: FailureReason = 'DEVICE_UNREACHABLE'): ControllerError {
  if (e instanceof ControllerError) return e;
  const se = e as Partial<ServiceError>;
  if (typeof se.code !== 'number') return ControllerError.from(e, what);
  // The peer names itself and the method as this side does (drop its copy), and grpc-js may end
  // with an empty "Resolution note:".
  const own = `${what.replace(/^peer /, '')}: `;
  const raw = (se.details ?? se.message ?? '').replace(/\s*Resolution note:\s*$/, '');
  const details = raw.startsWith(own) ? raw.slice(own.length) : raw;
  const sent = se.metadata?.get(REASON_METADATA)[0];
  if (typeof sent === 'string' && isFailureReason(sent)) return new ControllerError(sent, `${what}: ${details}`, { cause: e });
  const reason: FailureReason =
    se.code === GrpcStatus.DEADLINE_EXCEEDED ? onDeadline
    : se.code === GrpcStatus.UNAVAILABLE || se.code === GrpcStatus.CANCELLED || se.code === GrpcStatus.INTERNAL || se.code === GrpcStatus.UNKNOWN ? 'DEVICE_UNREACHABLE'
    : 'PEER_REJECTED';
  return new ControllerError(reason, `${what}: ${details} (gRPC ${GrpcStatus[se.code] ?? se.code})`, { cause: e });
}

/** Whether a failed call met a peer whose server does not know the method (an older carryover): UNIMPLEMENTED anywhere in its causes. */
export function isUnimplemented(e: unknown): boolean {
  for (let c: unknown = e; c !== undefined && c !== null; c = (c as { cause?: unknown }).cause) {
    if ((c as { code?: unknown }).code === GrpcStatus.UNIMPLEMENTED) return true;
  }
  return false;
}
