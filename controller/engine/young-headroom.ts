/**
 * Room in V8's young generation for the pause-window sync.
 *
 * V8 collects its young generation (a scavenge) when that space fills, wherever the process is.
 * A pause that moves 1,000 changed slots at 10^5 tracked flows allocates about 4.4 MB in the
 * controller, and the young generation holds up to 16 MB: about one pause in five paid a 6–15 ms
 * scavenge while the VM was stopped (BENCHMARKS.md, session of 2026-12-04 from 23:28). While
 * pre-copy runs and the engine waits for the pause, this keeper looks at the young generation
 * every few milliseconds and, once less than `fraction` of it is left, collects it there — so the
 * pause starts with room for its own garbage. It stops when the pause starts.
 *
 * @example
 * ```ts
 * const young = v8YoungGeneration();
 * const keeper = young ? keepYoungHeadroom(young, parseYoungHeadroomOptions({})) : undefined;
 * // … pre-copy, then the trigger says the VM paused:
 * const { collections } = keeper?.stop() ?? { collections: 0 };
 * ```
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pausesInProcess } from './pauses-in-process.js';

/** The young generation of a V8 heap: how full it is, and a way to collect it now. */
export interface YoungGeneration {
  /** Bytes in use and bytes it holds before V8 must collect it (in use + available). */
  usage(): { readonly used: number; readonly capacity: number };
  /** A young-generation collection (scavenge), now. */
  collect(): void;
}

/** How the keeper decides. */
export interface YoungHeadroomOptions {
  /** Collect once less than this share of the young generation is left (0 < fraction < 1). */
  readonly fraction?: number;
  /** How often it looks, in ms (integer ≥ 1). */
  readonly intervalMs?: number;
}

/** Half the young generation kept free (16 MB at most in V8's default: 8 MB, room for ~1,800 changed slots); looked at every 20 ms. */
export const DEFAULT_YOUNG_HEADROOM: Readonly<Required<YoungHeadroomOptions>> = Object.freeze({ fraction: 0.5, intervalMs: 20 });

/** YoungHeadroomOptions out of range: names the option and what it takes. */
export class YoungHeadroomOptionsError extends Error {
  override readonly name = 'YoungHeadroomOptionsError';
}

/** Validates `o` (defaults filled in) and returns a frozen copy; throws YoungHeadroomOptionsError naming the option. */
export function parseYoungHeadroomOptions(o: YoungHeadroomOptions): Readonly<Required<YoungHeadroomOptions>> {
  const fraction = o.fraction ?? DEFAULT_YOUNG_HEADROOM.fraction;
  const intervalMs = o.intervalMs ?? DEFAULT_YOUNG_HEADROOM.intervalMs;
  if (!(fraction > 0 && fraction < 1)) throw new YoungHeadroomOptionsError(`young headroom fraction ${fraction}: expected a share of the young generation between 0 and 1 (exclusive), e.g. 0.5`);
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) throw new YoungHeadroomOptionsError(`young headroom intervalMs ${intervalMs}: expected a whole number of milliseconds ≥ 1, e.g. 20`);
  return Object.freeze({ fraction, intervalMs });
}

type Gc = (options?: { type?: 'minor' | 'major' }) => void;
let cachedGc: Gc | null | undefined;

/**
 * V8's gc(): the process's own (`node --expose-gc`), else one made by turning that flag on just
 * long enough to create a context that has it; null where V8 refuses.
 */
export function exposedGc(): Gc | null {
  if (cachedGc !== undefined) return cachedGc;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return (cachedGc = own as Gc);
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    cachedGc = typeof gc === 'function' ? (gc as Gc) : null;
  } catch {
    cachedGc = null;
  } finally {
    // Contexts made later (a user's vm sandbox) do not get gc().
    setFlagsFromString('--no-expose-gc');
  }
  return cachedGc;
}

/** This process's young generation (V8's `new_space`), or undefined where gc() cannot be had. */
export function v8YoungGeneration(): YoungGeneration | undefined {
  const gc = exposedGc();
  if (!gc) return undefined;
  return {
    usage: () => {
      for (const s of getHeapSpaceStatistics()) {
        if (s.space_name === 'new_space') return { used: s.space_used_size, capacity: s.space_used_size + s.space_available_size };
      }
      return { used: 0, capacity: 0 };
    },
    collect: () => gc({ type: 'minor' }),
  };
}

/** Calls `fn` every `ms` until the returned function is called; the default does not keep the process alive. */
export type Every = (ms: number, fn: () => void) => () => void;

const unrefInterval: Every = (ms, fn) => {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
};

/** A running keeper; `stop()` ends it (idempotent) and says what it did. */
export interface YoungHeadroomKeeper {
  stop(): { readonly checks: number; readonly collections: number };
}

/**
 * Collects `young` whenever less than `o.fraction` of it is left and at least an eighth of it was
 * filled since the keeper's last collection (survivors a collection could not free do not make
 * it collect again at every look). Never while a pause window of this process is open: another
 * migration's VM would wait for it (pauses-in-process.ts).
 */
export function keepYoungHeadroom(young: YoungGeneration, o: Readonly<Required<YoungHeadroomOptions>>, every: Every = unrefInterval): YoungHeadroomKeeper {
  let checks = 0;
  let collections = 0;
  let usedAfter = 0;
  let cancel: (() => void) | undefined = every(o.intervalMs, () => {
    checks++;
    const { used, capacity } = young.usage();
    usedAfter = Math.min(usedAfter, used); // V8 collected on its own since
    if (capacity - used >= o.fraction * capacity || used - usedAfter < capacity / 8 || pausesInProcess() > 0) return;
    young.collect();
    collections++;
    usedAfter = young.usage().used;
  });
  return {
    stop: () => {
      cancel?.();
      cancel = undefined;
      return { checks, collections };
    },
  };
}
