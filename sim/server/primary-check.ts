/**
 * The gate of every mutating RPC (Write, SetForwardingPipelineConfig): the request's device must
 * exist and its election id (and, on spec targets, role) must be the primary's.
 */
import type { ServerErrorResponse } from '@grpc/grpc-js';
import { fromUint128, toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { GrpcStatus, rpcError } from '../p4rt/status.js';
import type { SimDevice } from './sim-device.js';

/** The fields a mutating request carries to identify its controller. */
type MutatingRequest = Pick<p4.v1.WriteRequest.$Properties, 'deviceId' | 'electionId' | 'role'>;

/** The request's device id when it comes from the primary, else the error to answer with. */
export function checkPrimaryRequest(dev: SimDevice, req: MutatingRequest): { readonly deviceId: bigint } | { readonly error: ServerErrorResponse } {
  const deviceId = toBigInt(req.deviceId as LongLike);
  const electionId = req.electionId != null ? fromUint128(req.electionId) : null;
  const role = dev.profile.arbitration === 'spec' ? (req.role ?? '') : '';
  const arbiter = dev.arbiterFor(deviceId);
  if (!arbiter) return { error: rpcError(GrpcStatus.NOT_FOUND, dev.unknownDevice(deviceId)) };
  const primary = arbiter.checkPrimary(role, electionId);
  if (!primary.ok) return { error: rpcError(primary.code, primary.message) };
  return { deviceId };
}
