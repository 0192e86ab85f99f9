/**
 * Time as a dependency: the client's timers (reconnect back-off, connect timeout, default election
 * ids) go through a `Clock` so tests can drive them with virtual time.
 */

/** An opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/** The clock and timer functions the client uses. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: Date.now and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
