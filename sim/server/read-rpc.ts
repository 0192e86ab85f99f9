/**
 * The Read RPC. The spec model attempts every request, streams results in chunks and reports
 * failed requests as UNKNOWN with one p4.v1.Error per request; PI stops at the first failure,
 * sends what it has in one ReadResponse (always one, even empty), then that request's error.
 */
import type { ServerErrorResponse } from '@grpc/grpc-js';
import { toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { GrpcStatus, SimError, batchError, rpcError } from '../p4rt/status.js';
import type { ItemStatus } from '../p4rt/status.js';
import { readEntities } from '../pipeline/entity-reader.js';
import { entityKindOf } from '../pipeline/entity-writer.js';
import type { SimDevice } from './sim-device.js';

type Entity = p4.v1.Entity.$Properties;

const OK_ITEM: ItemStatus = Object.freeze({ code: GrpcStatus.OK, message: '' });

/** Handles a ReadRequest; `send` writes one ReadResponse (awaiting flow control); returns the final error or null. */
export async function handleRead(
  dev: SimDevice,
  req: p4.v1.ReadRequest.$Properties,
  send: (response: p4.v1.ReadResponse.$Properties) => Promise<void>,
): Promise<ServerErrorResponse | null> {
  const deviceId = toBigInt(req.deviceId as LongLike);
  if (deviceId !== dev.deviceId) {
    if (dev.profile.deviceIds === 'spec') return rpcError(GrpcStatus.NOT_FOUND, dev.unknownDevice(deviceId));
    return rpcError(GrpcStatus.FAILED_PRECONDITION, dev.msgs.noPipeline());
  }
  const pipeline = dev.current();
  if (!pipeline) return rpcError(GrpcStatus.FAILED_PRECONDITION, dev.msgs.noPipeline());
  const entities = req.entities ?? [];
  const single = dev.profile.readResponses === 'single';
  const chunk = dev.options.readChunkSize;
  let pending: Entity[] = [];
  const items: ItemStatus[] = [];
  let failures = 0;
  let firstFailure = '';

  // One context per request (a pause reads hundreds of register cells in one): the read is one
  // instant of the switch's clock.
  const ctx = { ...dev.ctx(pipeline), state: pipeline.state, nowMs: dev.scheduler.now() };
  for (let i = 0; i < entities.length; i++) {
    const e = entities[i] ?? {};
    // Stratum syncs registers from the hardware before answering: slower, still correct. A cost
    // model, not behaviour, so it is real time even when the switch runs on virtual time.
    if (dev.profile.registers.readSyncMs > 0 && entityKindOf(e) === 'registerEntry') {
      await new Promise((r) => setTimeout(r, dev.profile.registers.readSyncMs));
      ctx.nowMs = dev.scheduler.now();
    }
    try {
      const found = readEntities(ctx, e);
      items.push(OK_ITEM);
      for (const x of found) {
        pending.push(x);
        if (!single && pending.length >= chunk) {
          await send({ entities: pending });
          pending = [];
        }
      }
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      if (dev.profile.readErrors === 'first-error') {
        await send({ entities: pending });
        return rpcError(err.code, err.message);
      }
      failures++;
      if (firstFailure === '') firstFailure = `#${i}: ${err.message}`;
      items.push({ code: err.code, message: err.message });
    }
  }
  if (pending.length > 0 || single) await send({ entities: pending });
  if (failures > 0) return batchError(`Read failed: ${failures} of ${entities.length} requests failed; first ${firstFailure}`, items);
  return null;
}
