/**
 * Time for the sim. Everything with a timer (idle-timeout scans, digest list timeouts, injected
 * delays) takes a `Scheduler`, so tests can run the switch on virtual time and advance it by hand
 * instead of sleeping.
 */

/** An opaque handle to a scheduled callback. */
export interface TimerHandle {
  readonly timerId: number;
}

/** A monotonic clock plus one-shot timers. */
export interface Scheduler {
  /** Monotonic time in milliseconds (fractional); only differences are meaningful. */
  now(): number;
  /** Wall-clock time in nanoseconds since the Unix epoch, for timestamps sent on the wire. */
  wallNs(): bigint;
  /** Runs `fn` once after `delayMs` (clamped at 0). */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Cancels a timer; cancelling a fired or unknown timer is a no-op. */
  clearTimer(handle: TimerHandle): void;
  /** Resolves after `ms` of this scheduler's time. */
  sleep(ms: number): Promise<void>;
}

let nextRealId = 1;

/** The real clock: `performance.now()` and Node timers (unref'd so they never keep a process alive). */
export function createRealScheduler(): Scheduler {
  const timers = new Map<number, NodeJS.Timeout>();
  return {
    now: () => performance.now(),
    wallNs: () => BigInt(Date.now()) * 1_000_000n,
    setTimer(delayMs, fn) {
      const timerId = nextRealId++;
      const t = setTimeout(() => {
        timers.delete(timerId);
        fn();
      }, Math.max(0, delayMs));
      t.unref();
      timers.set(timerId, t);
      return { timerId };
    },
    clearTimer(handle) {
      const t = timers.get(handle.timerId);
      if (t !== undefined) {
        clearTimeout(t);
        timers.delete(handle.timerId);
      }
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  };
}

interface VirtualTimer {
  readonly timerId: number;
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * Virtual time for tests: nothing happens until `advance()` runs every timer that falls due, in
 * due-time order (ties in scheduling order), including timers scheduled by those callbacks.
 */
export class VirtualScheduler implements Scheduler {
  private current: number;
  private readonly wallStartNs: bigint;
  private readonly timers = new Map<number, VirtualTimer>();
  private nextId = 1;
  private seq = 0;

  constructor(options: { readonly startMs?: number; readonly wallStartNs?: bigint } = {}) {
    this.current = options.startMs ?? 0;
    this.wallStartNs = options.wallStartNs ?? 1_700_000_000_000_000_000n;
  }

  now(): number {
    return this.current;
  }

  wallNs(): bigint {
    return this.wallStartNs + BigInt(Math.round(this.current * 1e6));
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timerId = this.nextId++;
    this.timers.set(timerId, { timerId, due: this.current + Math.max(0, delayMs), seq: this.seq++, fn });
    return { timerId };
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle.timerId);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  /** Number of timers not yet fired. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualScheduler.advance: ms must be >= 0, got ${ms}`);
    this.advanceTo(this.current + ms);
  }

  /** Moves time forward to `target` (never backwards), firing due timers in order. */
  advanceTo(target: number): void {
    for (;;) {
      let next: VirtualTimer | undefined;
      for (const t of this.timers.values()) {
        if (t.due <= target && (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (next === undefined) break;
      this.timers.delete(next.timerId);
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = Math.max(this.current, target);
  }
}
