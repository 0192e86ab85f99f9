/**
 * The snapshot's garbage collected before the pause, not in it.
 *
 * Staging a snapshot leaves its garbage in V8's old generation: the old generation grew by
 * 370–410 MB while a snapshot of 10^5 flows was read, translated and staged (about 92 MB of it
 * is what the migration keeps), by 33–54 MB at 10^4. V8 then starts a major collection on its
 * own, marking for 150–230 ms on
 * the main thread and on a helper thread, and finishing with a 5–125 ms atomic step. In one
 * probe those ran into 7 of 12 pauses at 10^5 flows, which took 14–53 ms (BENCHMARKS.md, session
 * of 2026-12-05 from 21:40). So, once the snapshot is staged — the VM
 * still running, nothing else of the migration in flight — the engine looks at how much the
 * heap grew while the snapshot was read, translated and staged and, past a threshold, collects
 * it all at once there. That costs the VM nothing; pre-copy's next round starts a little later.
 * Small snapshots leave little garbage, and a pause that came during the collection would wait
 * for it, so below the threshold it is left to V8.
 *
 * A collection stops the whole process. Where one controller process runs several migrations,
 * one of them may be in its pause window right then: the collection is skipped (pausesInProcess).
 *
 * @example
 * ```ts
 * const old = v8OldGeneration();
 * const o = parseOldHeadroomOptions({});
 * const before = old?.used();
 * // … the snapshot exported, translated and staged …
 * if (old && before !== undefined) collectAfterBurst(old, before, o); // { grewBytes, collected, ms }
 * ```
 */
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Logger } from 'p4runtime-ts';
import { exposedGc } from './young-headroom.js';
import { pausesInProcess } from './pauses-in-process.js';

/** V8's old generation (everything but the young one): bytes in use, and a full collection now. */
export interface OldGeneration {
  /** Bytes in use outside the young generation. */
  used(): number;
  /** A full (mark-compact) collection, now. */
  collect(): void;
}

/** When the engine collects after the snapshot. */
export interface OldHeadroomOptions {
  /** Collect when the heap grew by at least this share of what it held before the snapshot (> 0)… */
  readonly fraction?: number;
  /** …and by at least this many bytes (integer ≥ 0). */
  readonly minBytes?: number;
}

/**
 * Half the heap again and 64 MiB: after a 10^5-flow snapshot (370–410 MB grown) it collects,
 * after a 10^4-flow one (33–54 MB) it leaves the heap to V8.
 */
export const DEFAULT_OLD_HEADROOM: Readonly<Required<OldHeadroomOptions>> = Object.freeze({ fraction: 0.5, minBytes: 64 * 1024 * 1024 });

/** OldHeadroomOptions out of range: names the option and what it takes. */
export class OldHeadroomOptionsError extends Error {
  override readonly name = 'OldHeadroomOptionsError';
}

/** Validates `o` (defaults filled in) and returns a frozen copy; throws OldHeadroomOptionsError naming the option. */
export function parseOldHeadroomOptions(o: OldHeadroomOptions): Readonly<Required<OldHeadroomOptions>> {
  const fraction = o.fraction ?? DEFAULT_OLD_HEADROOM.fraction;
  const minBytes = o.minBytes ?? DEFAULT_OLD_HEADROOM.minBytes;
  if (!(fraction > 0 && Number.isFinite(fraction))) throw new OldHeadroomOptionsError(`old headroom fraction ${fraction}: expected a share of the heap greater than 0, e.g. 0.5`);
  if (!Number.isSafeInteger(minBytes) || minBytes < 0) throw new OldHeadroomOptionsError(`old headroom minBytes ${minBytes}: expected a whole number of bytes ≥ 0, e.g. 67108864 (64 MiB)`);
  return Object.freeze({ fraction, minBytes });
}

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/** This process's old generation (V8), or undefined where gc() cannot be had. */
export function v8OldGeneration(): OldGeneration | undefined {
  const gc = exposedGc();
  if (!gc) return undefined;
  return {
    used: () => getHeapSpaceStatistics().reduce((n, s) => (YOUNG_SPACES.has(s.space_name) ? n : n + s.space_used_size), 0),
    // No options: in Node 20, gc({ type: 'major' }) runs a scavenge; plain gc() is the full collection.
    collect: () => gc(),
  };
}

/** What collectAfterBurst saw and did. */
export interface BurstCollection {
  /** Growth of the old generation since `before`, bytes (negative if V8 collected meanwhile). */
  readonly grewBytes: number;
  /** Whether it collected; when not, why not. */
  readonly collected: boolean;
  readonly skipped?: 'below-threshold' | 'another-pause-in-progress';
  /** How long the collection took (the process stood still), ms. */
  readonly ms?: number;
}

/** Whether growth from `before` to `now` bytes is past `o`'s threshold. */
export function pastThreshold(before: number, now: number, o: Readonly<Required<OldHeadroomOptions>>): boolean {
  const grew = now - before;
  return grew >= o.minBytes && grew >= o.fraction * before;
}

/**
 * Collects `old` if it grew past `o`'s threshold since `before` (its `used()` then) and no pause
 * window is open in this process; `now` times the collection.
 */
export function collectAfterBurst(old: OldGeneration, before: number, o: Readonly<Required<OldHeadroomOptions>>, now: () => number = () => performance.now()): BurstCollection {
  const used = old.used();
  const grewBytes = used - before;
  if (!pastThreshold(before, used, o)) return { grewBytes, collected: false, skipped: 'below-threshold' };
  if (pausesInProcess() > 0) return { grewBytes, collected: false, skipped: 'another-pause-in-progress' };
  const t0 = now();
  old.collect();
  return { grewBytes, collected: true, ms: now() - t0 };
}

/** Logs what collectAfterBurst did: info when it collected or had to skip, debug below the threshold. */
export function logBurstCollection(logger: Logger, c: BurstCollection): void {
  const grewMB = (c.grewBytes / 1e6).toFixed(1);
  if (c.collected) logger.info("the snapshot's garbage collected before the pause", { grewMB, collectMs: (c.ms ?? 0).toFixed(1) });
  else if (c.skipped === 'another-pause-in-progress') logger.info("the snapshot's garbage left to V8: another migration of this process is in its pause window", { grewMB });
  else logger.debug("the snapshot's garbage left to V8: below the threshold", { grewMB });
}
