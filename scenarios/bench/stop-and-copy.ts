/**
 * The naive baseline of `bench migrate`: stop-and-copy over the same device API — nothing is copied
 * while the VM runs; in the pause the source is frozen, every slot of the VM is read there and
 * written at the destination (with the counters), and the destination is activated, as the
 * engine's pause does. It finds the VM's slots through the source's slot index, as the engine's
 * snapshot does (a scan of the whole table would only make the baseline slower).
 */
import { performance } from 'node:perf_hooks';
import type { DeviceApi, MigrationRef } from '../../plugin/index.js';

/** What the copy moved and how long its pause took. */
export interface StopAndCopyResult {
  readonly slots: number;
  readonly pauseMs: number;
}

/** Tracking and control flags set at both ends before the pause (the engine's prepare step). */
export async function prepareStopAndCopy(src: DeviceApi, dst: DeviceApi, ref: MigrationRef): Promise<void> {
  await src.prepare(ref);
  await dst.prepare(ref);
}

/** The pause: freeze, read everything, write everything with the counters, activate. */
export async function stopAndCopyPause(src: DeviceApi, dst: DeviceApi, ref: MigrationRef): Promise<StopAndCopyResult> {
  const t0 = performance.now();
  await src.freeze(ref);
  const all = await src.exportSnapshot(ref);
  // Nothing ran between prepare and the freeze: the final delta is empty and brings the counters.
  const last = await src.finalDelta(ref, all.coversSeq.to);
  const done = await dst.importStaged(ref, { ...all, round: 1, slots: [...all.slots, ...last.slots], ...(last.counters ? { counters: last.counters } : {}) });
  await dst.activate(ref);
  return { slots: done.installed + done.alreadyPresent, pauseMs: performance.now() - t0 };
}
