/**
 * Monotonic time for everything that measures or bounds a pause: the QMP client's and the QEMU
 * trigger's default clock, and the migration engine's default scheduler. A pause's hold, its sync
 * time and its deadline are differences of two readings; on `Date.now()` they came in whole
 * milliseconds and moved with any step of the wall clock (an NTP correction mid-pause: a hold
 * reported an hour long, or an engine deadline already past). These read epoch milliseconds at
 * process start plus the monotonic time since, with sub-millisecond resolution: readings never go
 * back, and they stay close to wall-clock time for log correlation.
 */
import { performance } from 'node:perf_hooks';
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { Clock } from 'p4runtime-ts';

/** Epoch-anchored monotonic milliseconds. */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A p4runtime-ts Clock on monotonic time, with the global timers.
 *
 * @example
 * const t0 = monotonicClock.now();
 * // … work …
 * const heldMs = monotonicClock.now() - t0; // e.g. 0.354
 */
export const monotonicClock: Clock = {
  now: monotonicNow,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * RxJS's asyncScheduler (the same timers) with `now()` on monotonic time.
 *
 * @example
 * const t0 = monotonicScheduler.now();
 * await firstValueFrom(timer(5, monotonicScheduler));
 * monotonicScheduler.now() - t0; // ≥ 5, whatever the wall clock did
 */
export const monotonicScheduler: SchedulerLike = {
  now: monotonicNow,
  schedule: asyncScheduler.schedule.bind(asyncScheduler),
};
