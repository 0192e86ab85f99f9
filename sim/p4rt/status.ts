/**
 * Errors as a P4Runtime server reports them: a gRPC status code and message, and for batch RPCs
 * a `google.rpc.Status` in the `grpc-status-details-bin` trailer carrying one `p4.v1.Error` per
 * update (OK ones included), packed as `google.protobuf.Any`.
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerErrorResponse } from '@grpc/grpc-js';
import { google, p4 } from 'p4runtime-ts/proto';

export { GrpcStatus };

/** The type URL of a packed `p4.v1.Error`. */
export const P4_ERROR_TYPE_URL = 'type.googleapis.com/p4.v1.Error';

/** A failure the sim reports to a client with a specific gRPC code. */
export class SimError extends Error {
  override readonly name = 'SimError';
  constructor(
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
  }
}

/** Shorthand constructors, so validation code reads as the spec does. */
export const fail = {
  invalid: (message: string): SimError => new SimError(GrpcStatus.INVALID_ARGUMENT, message),
  notFound: (message: string): SimError => new SimError(GrpcStatus.NOT_FOUND, message),
  exists: (message: string): SimError => new SimError(GrpcStatus.ALREADY_EXISTS, message),
  outOfRange: (message: string): SimError => new SimError(GrpcStatus.OUT_OF_RANGE, message),
  exhausted: (message: string): SimError => new SimError(GrpcStatus.RESOURCE_EXHAUSTED, message),
  denied: (message: string): SimError => new SimError(GrpcStatus.PERMISSION_DENIED, message),
  precondition: (message: string): SimError => new SimError(GrpcStatus.FAILED_PRECONDITION, message),
  unimplemented: (message: string): SimError => new SimError(GrpcStatus.UNIMPLEMENTED, message),
  unknown: (message: string): SimError => new SimError(GrpcStatus.UNKNOWN, message),
  aborted: (message: string): SimError => new SimError(GrpcStatus.ABORTED, message),
  internal: (message: string): SimError => new SimError(GrpcStatus.INTERNAL, message),
};

/** The outcome of one update (or read request) inside a batch. */
export interface ItemStatus {
  readonly code: GrpcStatus;
  readonly message: string;
}

/** A gRPC error response without details (an RPC-wide failure). */
export function rpcError(code: GrpcStatus, message: string): ServerErrorResponse {
  const err = new Error(message) as ServerErrorResponse;
  err.code = code;
  err.details = message;
  return err;
}

/** Converts anything thrown by a handler into a gRPC error response. */
export function toRpcError(e: unknown): ServerErrorResponse {
  if (e instanceof SimError) return rpcError(e.code, e.message);
  const message = e instanceof Error ? e.message : String(e);
  return rpcError(GrpcStatus.INTERNAL, `sim internal error: ${message}`);
}

/** Encodes the `google.rpc.Status` with one packed `p4.v1.Error` per item. */
export function encodeStatusDetails(code: GrpcStatus, message: string, items: readonly ItemStatus[]): Uint8Array {
  const details = items.map((it) => ({
    type_url: P4_ERROR_TYPE_URL,
    value: p4.v1.Error.encode(it.code === GrpcStatus.OK ? {} : { canonicalCode: it.code, message: it.message }).finish(),
  }));
  return google.rpc.Status.encode({ code, message, details }).finish();
}

/**
 * Most bytes of status details sent: base64 in one header field, they must stay under 64 KiB, the
 * largest field an HTTP/2 peer built on nghttp2 (Node's http2, so grpc-js too) accepts. A larger
 * one makes such a client end the connection with COMPRESSION_ERROR — and Node's client then
 * hangs every call on it instead of failing them. Codes are never shortened, only messages.
 */
export const MAX_STATUS_DETAILS_BYTES = 46 * 1024;

/** The per-item messages cut to `max` characters (0: dropped), each code kept. */
function withMessagesCut(items: readonly ItemStatus[], max: number): ItemStatus[] {
  return items.map((it) => (it.message.length <= max ? it : { code: it.code, message: max === 0 ? '' : `${it.message.slice(0, max - 1)}…` }));
}

/**
 * The status details of a batch, fitted to MAX_STATUS_DETAILS_BYTES: every item's code exact,
 * its message shortened (and at worst dropped) when the batch's messages together are too long;
 * undefined when even the codes alone do not fit (≈ 40 bytes an item: past ~1,100 items).
 */
export function fittedStatusDetails(code: GrpcStatus, message: string, items: readonly ItemStatus[]): { readonly details: Uint8Array | undefined; readonly note: string } {
  const whole = encodeStatusDetails(code, message, items);
  if (whole.length <= MAX_STATUS_DETAILS_BYTES) return { details: whole, note: '' };
  for (const max of [120, 60, 24, 0]) {
    const details = encodeStatusDetails(code, message, withMessagesCut(items, max));
    if (details.length <= MAX_STATUS_DETAILS_BYTES) return { details, note: ' (per-update messages shortened to fit one HTTP/2 header)' };
  }
  return { details: undefined, note: ` (per-update errors omitted: ${items.length} do not fit one HTTP/2 header; send at most ~1,000 updates a batch)` };
}

/** A batch failure: code UNKNOWN (per spec), message, and the per-item errors in the trailer. */
export function batchError(message: string, items: readonly ItemStatus[], code: GrpcStatus = GrpcStatus.UNKNOWN): ServerErrorResponse {
  const { details, note } = fittedStatusDetails(code, message, items);
  const err = rpcError(code, `${message}${note}`);
  if (details === undefined) return err;
  const md = new Metadata();
  md.set('grpc-status-details-bin', Buffer.from(details));
  err.metadata = md;
  return err;
}
