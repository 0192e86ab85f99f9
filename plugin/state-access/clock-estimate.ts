/**
 * The data-plane clock as last heard from a switch, carried forward on the controller's monotonic
 * clock. Every in-band answer of a group with a clock carries the data plane's time (READ_CLOCK
 * in w0, the others in their timestamp field); the in-band backend notes it from its READ_CLOCK and
 * TRK_READ answers, so a source in pre-copy is heard at least every delta round (and by the
 * snapshot's clock read), and a destination by every import that rebases clocks. The freeze and
 * the destination's pause start (carriedOrReadClock) then need no READ_CLOCK of their own: a
 * request the switch would serve while the VM is stopped (BENCHMARKS.md, sessions of 2026-12-05
 * from 06:16 and from 08:54).
 *
 * The estimate is as good as the reading: off by the reading's one-way trip (the time is taken
 * somewhere between request and answer; it is counted as heard at the answer, so the estimate
 * runs early, never late) and by the two clocks' drift over at most `maxAgeMs`. A flow moved with
 * it keeps its age to within that — as the in-band read it replaces, which also arrives after the
 * fact — against idle timeouts of seconds.
 */
import { performance } from 'node:perf_hooks';
import type { RegisterAccess } from './register-access.js';

/** How old a reading may be and still be carried forward (ms); older, the clock is read again. */
export const DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS = 1_000;

/**
 * The switch's data-plane clock for the pause: carried forward from a reading at most
 * DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS old when the backend keeps one, else read (in-band).
 * @example
 * const clock = carriedOrReadClock(plugin.registerAccess); // no request when a reading is recent
 */
export function carriedOrReadClock(access: Pick<RegisterAccess, 'estimateClock' | 'readClock'>): Promise<bigint> {
  const estimate = access.estimateClock?.(DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS);
  return estimate !== undefined ? Promise.resolve(estimate) : access.readClock();
}

/** Clock units per millisecond, as a numerator and a denominator (the unit `s` is 1/1000). */
const PER_MS: Readonly<Record<string, readonly [number, number]>> = { ns: [1_000_000, 1], us: [1_000, 1], ms: [1, 1], s: [1, 1_000] };

/**
 * The data-plane clock as last heard.
 * @example
 * const c = new ClockEstimate('us', 48);
 * c.heard(ans.ts);                                      // on every answer that carries the time
 * const t = c.now(DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS);   // undefined: read the clock instead
 */
export class ClockEstimate {
  private last: { readonly value: bigint; readonly atMs: number } | undefined;

  /**
   * @param unit the @migrate_clock field's unit (ns, us, ms or s; any other: never estimated)
   * @param bits the width the data plane answers its time in (it wraps there); 0 or less: no wrap
   * @param monotonicMs the controller's monotonic clock in ms (tests pass their own)
   */
  constructor(
    private readonly unit: string,
    private readonly bits: number,
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {}

  /** Notes `value`, the data plane's time in an answer received just now. */
  heard(value: bigint): void {
    this.last = { value, atMs: this.monotonicMs() };
  }

  /** The data plane's time now, from a reading at most `maxAgeMs` old; undefined when there is none. */
  now(maxAgeMs: number): bigint | undefined {
    const last = this.last;
    if (last === undefined) return undefined;
    const elapsed = this.monotonicMs() - last.atMs;
    if (!(elapsed >= 0) || elapsed > maxAgeMs) return undefined;
    const per = PER_MS[this.unit];
    if (per === undefined) return undefined;
    const [num, den] = per;
    const v = last.value + BigInt(Math.floor((elapsed * num) / den));
    return this.bits > 0 ? BigInt.asUintN(this.bits, v) : v;
  }
}
