/**
 * One step of the engine at several devices at once (migration-engine.ts), and the mapping of a
 * device's failure to the reason the controller reports.
 */
import type { DeviceApi } from '../../plugin/index.js';
import { DeviceApiFailure } from '../../plugin/index.js';
import { explainTransport } from '../devices/transport-cause.js';
import { ControllerError } from '../errors.js';
import type { FailureReason } from '../errors.js';

/** A step failed: the reason to report, and which device. */
export function stepFailure(e: unknown, what: string): ControllerError {
  if (e instanceof DeviceApiFailure) {
    const reason: FailureReason = e.reason === 'CONCURRENCY_LIMIT' || e.reason === 'WRONG_PHASE' || e.reason === 'UNAUTHORIZED' ? 'PEER_REJECTED' : e.reason;
    return new ControllerError(reason, `${what}: ${explainTransport(e.message)}`, { cause: e });
  }
  return ControllerError.from(e, what);
}

/**
 * Calls `fn` on every named device of `devices` at once; the first failure fails the step with
 * its reason — once every call has settled, so a rollback never races a call still in flight (an
 * abort that overtook a slow prepare would find nothing to undo, and the prepare would then leave
 * the VM tracked at that device).
 * @example
 * const caps = await callEach(devices, ['src', 'dst'], 'capabilities', (api) => api.capabilities());
 */
export async function callEach<T>(devices: ReadonlyMap<string, DeviceApi>, names: readonly string[], what: string, fn: (api: DeviceApi, name: string) => Promise<T>): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  let first: ControllerError | undefined;
  await Promise.all(
    names.map(async (n) => {
      try {
        out.set(n, await fn(devices.get(n) as DeviceApi, n));
      } catch (e) {
        first ??= stepFailure(e, `${what} at ${n}`);
      }
    }),
  );
  if (first) throw first;
  return out;
}
