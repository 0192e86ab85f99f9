/**
 * A promise raced against a timer that is cancelled when the promise settles first. The
 * `Promise.race([p, firstValueFrom(timer(ms))])` it replaces left the timer scheduled after `p`
 * won: a pause deadline or a pre-copy interval kept the process alive (and a virtual scheduler
 * busy) for up to its whole length after the work was done.
 */
import { timer } from 'rxjs';
import type { SchedulerLike } from 'rxjs';

/**
 * Settles as `p` does, or resolves `onTimeout` once `ms` pass on `scheduler`, whichever comes first.
 *
 * @example
 * ```ts
 * const outcome = await raceTimer(work, 50, monotonicScheduler, 'late' as const);
 * ```
 */
export function raceTimer<T, U>(p: Promise<T>, ms: number, scheduler: SchedulerLike, onTimeout: U): Promise<T | U> {
  return new Promise<T | U>((resolve, reject) => {
    // Whole milliseconds, rounded up (never early): Node's timers keep one list per duration, and a
    // fractional one (a deadline less the time already spent) made a new list and a Timeout of
    // another shape in every pause — a deoptimization in Node's timer code each time (--trace-deopt).
    const sub = timer(Math.max(0, Math.ceil(ms)), scheduler).subscribe(() => resolve(onTimeout));
    p.then(
      (v) => {
        sub.unsubscribe();
        resolve(v);
      },
      (e: unknown) => {
        sub.unsubscribe();
        reject(e);
      },
    );
  });
}
