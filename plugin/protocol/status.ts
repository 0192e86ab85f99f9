/**
 * Failures across the migration protocol: a DeviceApiFailure leaves the server as a gRPC status
 * (a code that fits, the message, and the reason in the `carryover-reason` trailer) and comes back
 * at the client as the same DeviceApiFailure. Transport failures without a reason map to one:
 * an unreachable peer is DEVICE_UNREACHABLE, a refused credential UNAUTHORIZED.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerErrorResponse, ServiceError } from '@grpc/grpc-js';
import type { DeviceFailureReason } from '../device-api/device-api.js';
import { asDeviceFailure } from '../device-api/device-failure.js';
import { DeviceApiFailure } from '../device-api/migration-sessions.js';

/** The trailing metadata key that carries the reason. */
export const REASON_METADATA = 'carryover-reason';

const CODE_OF: Readonly<Record<DeviceFailureReason, GrpcStatus>> = {
  CAPACITY_EXCEEDED: GrpcStatus.RESOURCE_EXHAUSTED,
  SCHEMA_MISMATCH: GrpcStatus.FAILED_PRECONDITION,
  KEY_COLLISION: GrpcStatus.ALREADY_EXISTS,
  DEVICE_UNREACHABLE: GrpcStatus.UNAVAILABLE,
  NOT_PRIMARY: GrpcStatus.FAILED_PRECONDITION,
  UNSUPPORTED_STATE: GrpcStatus.FAILED_PRECONDITION,
  INCOMPLETE_STATE: GrpcStatus.DATA_LOSS,
  PEER_REJECTED: GrpcStatus.INVALID_ARGUMENT,
  CONCURRENCY_LIMIT: GrpcStatus.RESOURCE_EXHAUSTED,
  WRONG_PHASE: GrpcStatus.FAILED_PRECONDITION,
  UNAUTHORIZED: GrpcStatus.PERMISSION_DENIED,
};

/** The gRPC status code a reason travels with. */
export const grpcCodeOf = (reason: DeviceFailureReason): GrpcStatus => CODE_OF[reason];

/** Anything a handler threw, as the status the client decodes back into a DeviceApiFailure. */
export function failureToStatus(e: unknown, what: string): ServerErrorResponse {
  const f = asDeviceFailure(e, what);
  const metadata = new Metadata();
  metadata.set(REASON_METADATA, f.reason);
  const err = new Error(f.message) as ServerErrorResponse;
  err.code = CODE_OF[f.reason];
  err.details = f.message;
  err.metadata = metadata;
  return err;
}

/** The reason for a status that carries none (a transport failure, or a peer that is not ours). */
function reasonOfCode(code: number, details: string): DeviceFailureReason {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.CANCELLED:
      // A TLS handshake refused by either side surfaces as UNAVAILABLE: say what it was.
      return /certificate|handshake|ssl|tls|alert/i.test(details) ? 'UNAUTHORIZED' : 'DEVICE_UNREACHABLE';
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return 'UNAUTHORIZED';
    case GrpcStatus.UNIMPLEMENTED:
      return 'UNSUPPORTED_STATE';
    case GrpcStatus.INTERNAL:
    case GrpcStatus.UNKNOWN:
      return 'DEVICE_UNREACHABLE';
    default:
      return 'PEER_REJECTED';
  }
}

/** A failed call at the client as a DeviceApiFailure (the server's reason when it sent one). */
export function statusToFailure(e: unknown, what: string): DeviceApiFailure {
  if (e instanceof DeviceApiFailure) return e;
  const se = e as Partial<ServiceError>;
  if (typeof se.code !== 'number') return asDeviceFailure(e, what);
  const details = se.details ?? se.message ?? '';
  const sent = se.metadata?.get(REASON_METADATA)[0];
  const reason = DeviceApiFailure.isReason(sent) ? sent : reasonOfCode(se.code, details);
  const text = DeviceApiFailure.isReason(sent) ? details : `${details} (gRPC ${GrpcStatus[se.code] ?? se.code})`;
  // Our server names the device and the step itself: "device a: Prepare: device a: prepare of …" says it twice.
  const device = /^device [^:]+: /.exec(what)?.[0];
  if (DeviceApiFailure.isReason(sent) && device !== undefined && details.startsWith(device)) return new DeviceApiFailure(reason, details, { cause: e });
  return new DeviceApiFailure(reason, `${what}: ${text}`, { cause: e });
}
