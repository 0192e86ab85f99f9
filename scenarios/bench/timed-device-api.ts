/**
 * A DeviceApi that records every call of the one it wraps — device, method, start and end, slots
 * carried — so `bench migrate` can say where a pause's time went (freeze, final delta, import,
 * activation, and the engine's own work in between) without touching the engine.
 */
import { performance } from 'node:perf_hooks';
import type { DeviceApi, MigrationRef } from '../../plugin/index.js';

/** One call, as recorded. */
export interface DeviceCall {
  readonly device: string;
  readonly method: string;
  /** importStaged: the batch's round. */
  readonly round?: number;
  /** Slots in the batch exported or imported. */
  slots?: number;
  readonly startMs: number;
  endMs?: number;
  failed?: boolean;
}

/** Wraps `api` (named `device`); each call is appended to `calls` when it starts and completed when it ends. */
export function timedDeviceApi(device: string, api: DeviceApi, calls: DeviceCall[], now: () => number = () => performance.now()): DeviceApi {
  async function timed<T>(method: string, fn: () => Promise<T>, extra: { round?: number; slots?: number } = {}, slotsOf?: (r: T) => number): Promise<T> {
    const call: DeviceCall = { device, method, startMs: now(), ...extra };
    calls.push(call);
    try {
      const r = await fn();
      if (slotsOf) call.slots = slotsOf(r);
      return r;
    } catch (e) {
      call.failed = true;
      throw e;
    } finally {
      call.endMs = now();
    }
  }
  return {
    capabilities: () => api.capabilities(),
    prepare: (m) => timed('prepare', () => api.prepare(m)),
    exportSnapshot: (m) => timed('exportSnapshot', () => api.exportSnapshot(m), {}, (b) => b.slots.length),
    exportDeltas: (m, o) => api.exportDeltas(m, o),
    importStaged: (m, b) => timed('importStaged', () => api.importStaged(m, b), { round: b.round, slots: b.slots.length }),
    freeze: (m) => timed('freeze', () => api.freeze(m)),
    pauseStarted: (m) => api.pauseStarted(m),
    ...(api.pauseDelta ? { pauseDelta: (m: MigrationRef, since: bigint) => timed('pauseDelta', () => (api.pauseDelta as NonNullable<DeviceApi['pauseDelta']>).call(api, m, since), {}, (b) => b.slots.length) } : {}),
    finalDelta: (m, since) => timed('finalDelta', () => api.finalDelta(m, since), {}, (b) => b.slots.length),
    activate: (m) => timed('activate', () => api.activate(m)),
    deleteAtSource: (m, graceMs) => timed('deleteAtSource', () => api.deleteAtSource(m, graceMs)),
    abort: (m) => timed('abort', () => api.abort(m)),
  };
}

/** Where a window's time went: milliseconds in each method's calls, and the rest. */
export interface StepTimes {
  readonly totalMs: number;
  /** Per method: summed duration of its calls that started in the window (calls on several devices at once overlap). */
  readonly steps: Readonly<Record<string, number>>;
  /** The window's time in no call at all (calls overlap: on several devices at once, or one taken ahead of another): the engine's own work and waits. */
  readonly otherMs: number;
}

/** Splits [fromMs, toMs] into the calls recorded in it. */
export function stepTimes(calls: readonly DeviceCall[], fromMs: number, toMs: number): StepTimes {
  const inWindow = calls.filter((c) => c.startMs >= fromMs && c.startMs <= toMs && c.endMs !== undefined);
  const steps: Record<string, number> = {};
  for (const c of inWindow) steps[c.method] = (steps[c.method] ?? 0) + (c.endMs as number) - c.startMs;
  // The union of the calls' intervals, clipped to the window.
  let busy = 0;
  let reach = fromMs;
  for (const c of [...inWindow].sort((a, b) => a.startMs - b.startMs)) {
    const end = Math.min(c.endMs as number, toMs);
    if (end > reach) {
      busy += end - Math.max(c.startMs, reach);
      reach = end;
    }
  }
  return { totalMs: toMs - fromMs, steps, otherMs: Math.max(0, toMs - fromMs - busy) };
}
