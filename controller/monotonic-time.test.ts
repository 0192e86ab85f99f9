import { afterEach, describe, expect, it, vi } from 'vitest';
import { firstValueFrom, timer } from 'rxjs';
import { monotonicClock, monotonicScheduler } from './monotonic-time.js';
import { parseQmpClientOptions } from './qmp/options.js';

afterEach(() => vi.restoreAllMocks());

describe('monotonic time', () => {
  it('monotonic clock — readings never go back, resolve below a millisecond, and start near wall-clock time', () => {
    const first = monotonicClock.now();
    expect(Math.abs(first - Date.now())).toBeLessThan(5_000);
    const xs = Array.from({ length: 2_000 }, () => monotonicClock.now());
    for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThanOrEqual(xs[i - 1]!);
    expect(xs.some((x) => !Number.isInteger(x))).toBe(true);
  });

  it('monotonic clock — a step of the wall clock does not move it', () => {
    const before = monotonicClock.now();
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    expect(monotonicClock.now() - before).toBeLessThan(1_000);
  });

  it('monotonic clock — the QMP client takes it when given no clock', () => {
    expect(parseQmpClientOptions({ address: 'unix:/tmp/x.qmp' }).clock).toBe(monotonicClock);
  });

  it('monotonic time — the engine\'s scheduler runs timers like asyncScheduler and measures them on monotonic time', async () => {
    const t0 = monotonicScheduler.now();
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
    await firstValueFrom(timer(5, monotonicScheduler));
    const elapsed = monotonicScheduler.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(4);
    expect(elapsed).toBeLessThan(1_000);
  });
});
