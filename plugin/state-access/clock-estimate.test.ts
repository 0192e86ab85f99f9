import { describe, expect, it } from 'vitest';
import { ClockEstimate, DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS, carriedOrReadClock } from './clock-estimate.js';

/** A hand-driven monotonic clock (ms). */
function manual(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('clock estimate', () => {
  it('clock estimate — nothing heard: no estimate', () => {
    expect(new ClockEstimate('us', 48, manual().now).now(1_000)).toBeUndefined();
  });

  it('clock estimate — carries the last reading forward by the time since, in the field unit', () => {
    for (const [unit, after2500us] of [['ns', 5_002_500_000n], ['us', 5_002_500n], ['ms', 5_002n], ['s', 5_000n]] as const) {
      const m = manual();
      const c = new ClockEstimate(unit, 0, m.now);
      c.heard(unit === 'ns' ? 5_000_000_000n : unit === 'us' ? 5_000_000n : 5_000n);
      m.advance(2.5);
      expect(c.now(1_000), unit).toBe(after2500us);
    }
  });

  it('clock estimate — the latest reading wins', () => {
    const m = manual();
    const c = new ClockEstimate('us', 48, m.now);
    c.heard(100n);
    m.advance(10);
    c.heard(90_000n);
    m.advance(1);
    expect(c.now(1_000)).toBe(91_000n);
  });

  it('clock estimate — a reading older than the bound is not carried forward', () => {
    const m = manual();
    const c = new ClockEstimate('us', 48, m.now);
    c.heard(7n);
    m.advance(1_000);
    expect(c.now(1_000)).toBe(1_000_007n);
    m.advance(0.5);
    expect(c.now(1_000)).toBeUndefined();
  });

  it('clock estimate — wraps at the width the data plane answers in', () => {
    const m = manual();
    const c = new ClockEstimate('us', 16, m.now);
    c.heard(65_000n);
    m.advance(1);
    expect(c.now(1_000)).toBe((65_000n + 1_000n) % 65_536n);
  });

  it('clock estimate — an unknown unit is never estimated', () => {
    const m = manual();
    const c = new ClockEstimate('fortnights', 48, m.now);
    c.heard(1n);
    expect(c.now(1_000)).toBeUndefined();
  });

  it('clock estimate — carriedOrReadClock takes a recent estimate without a request, else reads (and asks for the default age)', async () => {
    const asked: number[] = [];
    let reads = 0;
    const access = (estimate: bigint | undefined) => ({
      estimateClock: (maxAgeMs: number) => (asked.push(maxAgeMs), estimate),
      readClock: () => (reads++, Promise.resolve(42n)),
    });
    expect(await carriedOrReadClock(access(7n))).toBe(7n);
    expect(reads).toBe(0);
    expect(await carriedOrReadClock(access(undefined))).toBe(42n);
    expect(reads).toBe(1);
    expect(asked).toEqual([DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS, DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS]);
    // A backend that keeps no estimate at all reads.
    expect(await carriedOrReadClock({ readClock: () => Promise.resolve(9n) })).toBe(9n);
  });
});
