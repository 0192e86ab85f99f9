/**
 * Virtual time for plugin tests: p4runtime-ts's `ManualClock`, plus helpers that let queued
 * asynchronous work run between steps of virtual time.
 */
import type { ManualClock } from 'p4runtime-ts';

export { ManualClock } from 'p4runtime-ts';

/** Lets queued microtasks and immediates run (answers delivered "asynchronously"). */
export function flushAsync(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits for `p` while moving virtual time in steps of `stepMs` whenever nothing else is left to
 * run; fails after `maxSteps` steps so a stuck test ends instead of hanging.
 */
export async function driveUntilSettled<T>(p: Promise<T>, clock: ManualClock, stepMs: number, maxSteps = 10_000): Promise<T> {
  let done = false;
  const watched = p.finally(() => {
    done = true;
  });
  watched.catch(() => undefined);
  for (let i = 0; i < maxSteps && !done; i++) {
    await flushAsync();
    if (!done) clock.advance(stepMs);
  }
  if (!done) throw new Error(`driveUntilSettled: still pending after ${maxSteps} steps of ${stepMs} ms`);
  return watched;
}
