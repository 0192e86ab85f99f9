/**
 * The QMP client's and the QEMU trigger's default clock. The trigger reports the time it held QEMU
 * in `pre-switchover` as the difference of two readings (event received, `migrate-continue` sent);
 * on `Date.now()` that difference came in whole milliseconds and moved with any step of the wall
 * clock (an NTP correction mid-pause). This clock reads epoch milliseconds at process start plus
 * the monotonic time since, with sub-millisecond resolution: readings never go back, and they stay
 * close to wall-clock time for log correlation.
 */
import type { Clock } from 'p4runtime-ts';

/**
 * Epoch-anchored monotonic milliseconds and the global timers.
 *
 * @example
 * const t0 = monotonicClock.now();
 * // … work …
 * const heldMs = monotonicClock.now() - t0; // e.g. 0.354
 */
export const monotonicClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
