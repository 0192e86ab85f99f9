/**
 * Virtual time for plugin tests: a p4runtime-ts `Clock` whose timers fire only when the test
 * advances it, in due order.
 */
import type { Clock, TimerHandle } from 'p4runtime-ts';

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** A Clock driven by hand. */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, Timer>();

  constructor(startMs = 1_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (in due order, ties by creation). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers.values()) if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      if (!next) break;
      this.timers.delete(next.id);
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = target;
  }
}

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
