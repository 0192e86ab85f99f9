import { describe, expect, it } from 'vitest';
import { silentLogger } from 'p4runtime-ts';
import type { LogFields, Logger } from 'p4runtime-ts';
import { DEFAULT_OLD_HEADROOM, OldHeadroomOptionsError, collectAfterBurst, logBurstCollection, parseOldHeadroomOptions, pastThreshold, v8OldGeneration } from './old-headroom.js';
import type { OldGeneration } from './old-headroom.js';
import { enterPause, pausesInProcess } from './pauses-in-process.js';

/** An old generation whose use the test sets; a collection drops it to `live`. */
class FakeOld implements OldGeneration {
  collected = 0;
  constructor(
    public usedBytes: number,
    readonly live: number,
  ) {}
  used(): number {
    return this.usedBytes;
  }
  collect(): void {
    this.collected++;
    this.usedBytes = this.live;
  }
}

const MB = 1024 * 1024;

describe('old headroom — options', () => {
  it('old headroom — defaults filled in and frozen; out-of-range values named with an example', () => {
    const o = parseOldHeadroomOptions({});
    expect(o).toEqual(DEFAULT_OLD_HEADROOM);
    expect(Object.isFrozen(o)).toBe(true);
    expect(parseOldHeadroomOptions({ fraction: 2, minBytes: 0 })).toEqual({ fraction: 2, minBytes: 0 });
    expect(() => parseOldHeadroomOptions({ fraction: 0 })).toThrow(OldHeadroomOptionsError);
    expect(() => parseOldHeadroomOptions({ fraction: Number.NaN })).toThrow(/old headroom fraction NaN: expected a share of the heap greater than 0, e\.g\. 0\.5/);
    expect(() => parseOldHeadroomOptions({ fraction: Number.POSITIVE_INFINITY })).toThrow(OldHeadroomOptionsError);
    expect(() => parseOldHeadroomOptions({ minBytes: -1 })).toThrow(/old headroom minBytes -1: expected a whole number of bytes ≥ 0/);
    expect(() => parseOldHeadroomOptions({ minBytes: 1.5 })).toThrow(OldHeadroomOptionsError);
  });
});

describe('old headroom — the threshold', () => {
  it('old headroom — both the share of the heap before and the bytes must be reached', () => {
    const o = parseOldHeadroomOptions({ fraction: 0.5, minBytes: 64 * MB });
    expect(pastThreshold(200 * MB, 300 * MB, o)).toBe(true); // +100 MB: half of 200, over 64
    expect(pastThreshold(200 * MB, 299 * MB, o)).toBe(false); // under half
    expect(pastThreshold(20 * MB, 80 * MB, o)).toBe(false); // 3× the heap, but under 64 MB
    expect(pastThreshold(20 * MB, 84 * MB, o)).toBe(true);
    expect(pastThreshold(300 * MB, 200 * MB, o)).toBe(false); // V8 collected meanwhile
  });
});

describe('old headroom — collecting after a burst', () => {
  it('old headroom — collects past the threshold and says how much grew and how long it took', () => {
    const old = new FakeOld(500 * MB, 200 * MB);
    let t = 10;
    const c = collectAfterBurst(old, 200 * MB, DEFAULT_OLD_HEADROOM, () => (t += 7));
    expect(c).toEqual({ grewBytes: 300 * MB, collected: true, ms: 7 });
    expect(old.collected).toBe(1);
  });

  it('old headroom — below the threshold it leaves the heap to V8', () => {
    const old = new FakeOld(223 * MB, 200 * MB);
    expect(collectAfterBurst(old, 200 * MB, DEFAULT_OLD_HEADROOM)).toEqual({ grewBytes: 23 * MB, collected: false, skipped: 'below-threshold' });
    expect(old.collected).toBe(0);
  });

  it('old headroom — never while a pause window of this process is open; again once it closed', () => {
    const old = new FakeOld(500 * MB, 200 * MB);
    const base = pausesInProcess();
    const leave = enterPause();
    expect(pausesInProcess()).toBe(base + 1);
    expect(collectAfterBurst(old, 200 * MB, DEFAULT_OLD_HEADROOM)).toMatchObject({ collected: false, skipped: 'another-pause-in-progress' });
    expect(old.collected).toBe(0);
    leave();
    leave(); // closing twice closes once
    expect(pausesInProcess()).toBe(base);
    expect(collectAfterBurst(old, 200 * MB, DEFAULT_OLD_HEADROOM).collected).toBe(true);
  });

  it('old headroom — logs a collection and a skip at info, the threshold at debug', () => {
    const lines: { level: string; msg: string; fields?: LogFields }[] = [];
    const logger: Logger = { ...silentLogger, info: (msg, fields) => lines.push({ level: 'info', msg, ...(fields ? { fields } : {}) }), debug: (msg, fields) => lines.push({ level: 'debug', msg, ...(fields ? { fields } : {}) }) };
    logBurstCollection(logger, { grewBytes: 230e6, collected: true, ms: 191.25 });
    logBurstCollection(logger, { grewBytes: 230e6, collected: false, skipped: 'another-pause-in-progress' });
    logBurstCollection(logger, { grewBytes: 23e6, collected: false, skipped: 'below-threshold' });
    expect(lines).toEqual([
      { level: 'info', msg: "the snapshot's garbage collected before the pause", fields: { grewMB: '230.0', collectMs: '191.3' } },
      { level: 'info', msg: "the snapshot's garbage left to V8: another migration of this process is in its pause window", fields: { grewMB: '230.0' } },
      { level: 'debug', msg: "the snapshot's garbage left to V8: below the threshold", fields: { grewMB: '23.0' } },
    ]);
  });
});

describe('old headroom — this process (V8)', () => {
  it('old headroom — a full collection frees garbage left in the old generation', () => {
    const old = v8OldGeneration();
    expect(old).toBeDefined();
    if (!old) return;
    old.collect();
    const before = old.used();
    // Arrays of 800 KB go straight to V8's old generation (its large-object space): 120 of them
    // (96 MB), garbage once this function returns.
    const grown = ((): number => {
      const garbage = Array.from({ length: 120 }, () => new Array<number>(100_000).fill(0.5));
      expect(garbage.length).toBe(120);
      return old.used();
    })();
    expect(grown - before).toBeGreaterThanOrEqual(60 * MB);
    const c = collectAfterBurst(old, before, parseOldHeadroomOptions({ fraction: 0.01, minBytes: 32 * MB }));
    expect(c.collected).toBe(true);
    expect(old.used()).toBeLessThan(grown - 48 * MB);
  });
});
