/**
 * A virtual clock for tests: timers fire only when the test advances time, so back-off, timeouts
 * and retries are tested without waiting. Anything in p4runtime-ts (and code built on it) that
 * takes a `Clock` accepts it.
 */
import type { Clock, TimerHandle } from './clock.js';

/**
 * A Clock whose time moves only through `advance`.
 * @example
 * const clock = new ManualClock();
 * const sw = await P4Switch.connect({ address, deviceId: 1, clock });
 * clock.advance(5_000); // fires every timer due in the next 5 s, in order
 */
export class ManualClock implements Clock {
  private t: number;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Delays of the pending timers from now, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((x) => x.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
  }
}
