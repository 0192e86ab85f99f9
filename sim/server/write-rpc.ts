/**
 * The Write RPC: device, primary and pipeline checks in the spec's order (or PI's), then every
 * update with the batch's atomicity. Failures come back as UNKNOWN with one p4.v1.Error per
 * update (OK ones included) in the status details.
 */
import type { ServerErrorResponse } from '@grpc/grpc-js';
import type { p4 } from 'p4runtime-ts/proto';
import { GrpcStatus, SimError, batchError, rpcError } from '../p4rt/status.js';
import type { ItemStatus } from '../p4rt/status.js';
import { applyUpdate } from '../pipeline/entity-writer.js';
import type { Undo } from '../pipeline/entity-writer.js';
import { checkPrimaryRequest } from './primary-check.js';
import type { SimDevice } from './sim-device.js';

const ATOMICITY = ['CONTINUE_ON_ERROR', 'ROLLBACK_ON_ERROR', 'DATAPLANE_ATOMIC'] as const;
const CODE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(GrpcStatus).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

/** Handles a WriteRequest; returns the error to answer with, or null for OK. */
export function handleWrite(dev: SimDevice, req: p4.v1.WriteRequest.$Properties): ServerErrorResponse | null {
  const gate = checkPrimaryRequest(dev, req);
  if ('error' in gate) return gate.error;
  const { deviceId } = gate;
  const pipeline = deviceId === dev.deviceId ? dev.current() : null;
  if (!pipeline) return rpcError(GrpcStatus.FAILED_PRECONDITION, dev.msgs.noPipeline());

  const atomicity = req.atomicity ?? 0;
  const mode = ATOMICITY[atomicity];
  if (mode === undefined) return rpcError(GrpcStatus.INVALID_ARGUMENT, `atomicity ${atomicity} is not a WriteRequest.Atomicity value (0..2)`);
  if (mode !== 'CONTINUE_ON_ERROR' && !dev.profile.atomicModes) return rpcError(GrpcStatus.UNIMPLEMENTED, dev.msgs.atomicUnimplemented(mode));

  const ctx = { ...dev.ctx(pipeline), state: pipeline.state, nowMs: dev.scheduler.now() };
  const updates = req.updates ?? [];
  // Per-update statuses are built only when something failed: a Write of thousands of register
  // cells that all apply allocates nothing per update but its undo.
  const errors = new Map<number, ItemStatus>();
  const undos: Undo[] = [];
  let failedAt = -1;
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i] ?? {};
    try {
      undos.push(applyUpdate(ctx, u));
    } catch (e) {
      if (!(e instanceof SimError)) throw e;
      errors.set(i, { code: e.code, message: e.message });
      if (mode !== 'CONTINUE_ON_ERROR') {
        failedAt = i;
        break;
      }
    }
  }
  if (errors.size === 0) return null;
  const OK: ItemStatus = { code: GrpcStatus.OK, message: '' };
  const items: ItemStatus[] = Array.from({ length: failedAt >= 0 ? failedAt + 1 : updates.length }, (_, i) => errors.get(i) ?? OK);
  if (failedAt >= 0) {
    for (let j = undos.length - 1; j >= 0; j--) undos[j]?.();
    for (let j = 0; j < failedAt; j++) items[j] = { code: GrpcStatus.ABORTED, message: `rolled back (${mode}): update #${failedAt} failed` };
    for (let j = failedAt + 1; j < updates.length; j++) items.push({ code: GrpcStatus.ABORTED, message: `not attempted (${mode}): update #${failedAt} failed` });
  }
  const failed = items.map((it, i) => ({ ...it, i })).filter((it) => it.code !== GrpcStatus.OK && it.code !== GrpcStatus.ABORTED);
  if (failed.length === 0) return null;
  const shown = failed.slice(0, 3).map((f) => `#${f.i} ${CODE_NAMES[f.code] ?? f.code}: ${f.message}`).join('; ');
  const rolled = failedAt >= 0 ? ' (batch rolled back, nothing applied)' : '';
  return batchError(`Write failed: ${failed.length} of ${updates.length} updates failed${rolled}: ${shown}${failed.length > 3 ? '; …' : ''}`, items);
}
