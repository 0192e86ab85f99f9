import { PerformanceObserver, constants } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DEFAULT_YOUNG_HEADROOM, YoungHeadroomOptionsError, keepYoungHeadroom, parseYoungHeadroomOptions, v8YoungGeneration } from './young-headroom.js';
import type { Every, YoungGeneration } from './young-headroom.js';
import { enterPause } from './pauses-in-process.js';

/** A young generation whose fill the test sets; counts collections (survivors: what `keep` says). */
class FakeYoung implements YoungGeneration {
  used = 0;
  keep = 0;
  collected = 0;
  constructor(readonly capacity: number) {}
  usage(): { used: number; capacity: number } {
    return { used: this.used, capacity: this.capacity };
  }
  collect(): void {
    this.collected++;
    this.used = this.keep;
  }
}

/** A ticker the test turns by hand. */
function manual(): { every: Every; tick: () => void; running: () => boolean; ms: () => number } {
  let fn: (() => void) | undefined;
  let ms = 0;
  return {
    every: (m, f) => {
      ms = m;
      fn = f;
      return () => (fn = undefined);
    },
    tick: () => fn?.(),
    running: () => fn !== undefined,
    ms: () => ms,
  };
}

describe('young headroom — the keeper', () => {
  it('young headroom — collects once less than the fraction is left, not before', () => {
    const young = new FakeYoung(1000);
    const t = manual();
    const k = keepYoungHeadroom(young, parseYoungHeadroomOptions({ fraction: 0.5, intervalMs: 7 }), t.every);
    expect(t.ms()).toBe(7);
    young.used = 499;
    t.tick();
    expect(young.collected).toBe(0);
    young.used = 501;
    t.tick();
    expect(young.collected).toBe(1);
    expect(young.used).toBe(0);
    expect(k.stop()).toEqual({ checks: 2, collections: 1 });
  });

  it('young headroom — not while a pause window of this process is open (another migration waits); at the next look after it closed', () => {
    const young = new FakeYoung(1000);
    const t = manual();
    const k = keepYoungHeadroom(young, DEFAULT_YOUNG_HEADROOM, t.every);
    young.used = 900;
    const leave = enterPause();
    try {
      t.tick();
      expect(young.collected).toBe(0);
    } finally {
      leave();
    }
    t.tick();
    expect(young.collected).toBe(1);
    k.stop();
  });

  it('young headroom — survivors that fill the space do not make it collect at every look; new garbage does', () => {
    const young = new FakeYoung(1000);
    const t = manual();
    const k = keepYoungHeadroom(young, DEFAULT_YOUNG_HEADROOM, t.every);
    young.keep = 600; // a collection frees little: what is left stays above half
    young.used = 700;
    t.tick();
    expect(young.collected).toBe(1);
    t.tick();
    young.used = 700; // less than an eighth allocated since: no second collection
    t.tick();
    expect(young.collected).toBe(1);
    young.used = 726; // an eighth (125) filled since the collection left 600
    t.tick();
    expect(young.collected).toBe(2);
    expect(k.stop().collections).toBe(2);
  });

  it('young headroom — a collection V8 made on its own resets what counts as new garbage', () => {
    const young = new FakeYoung(1000);
    const t = manual();
    keepYoungHeadroom(young, DEFAULT_YOUNG_HEADROOM, t.every);
    young.keep = 550;
    young.used = 900;
    t.tick(); // collects: 550 survive
    young.used = 100; // V8 scavenged by itself
    t.tick();
    young.used = 560; // above half again, 460 filled since V8's collection
    t.tick();
    expect(young.collected).toBe(2);
  });

  it('young headroom — stop ends the looks, and a second stop reports the same', () => {
    const young = new FakeYoung(1000);
    const t = manual();
    const k = keepYoungHeadroom(young, DEFAULT_YOUNG_HEADROOM, t.every);
    t.tick();
    expect(k.stop()).toEqual({ checks: 1, collections: 0 });
    expect(t.running()).toBe(false);
    expect(k.stop()).toEqual({ checks: 1, collections: 0 });
  });

  it('young headroom — options out of range are refused naming the option and its range', () => {
    expect(() => parseYoungHeadroomOptions({ fraction: 1 })).toThrow(YoungHeadroomOptionsError);
    expect(() => parseYoungHeadroomOptions({ fraction: 0 })).toThrow(/fraction 0: expected a share .* between 0 and 1/);
    expect(() => parseYoungHeadroomOptions({ fraction: Number.NaN })).toThrow(/fraction NaN/);
    expect(() => parseYoungHeadroomOptions({ intervalMs: 0.5 })).toThrow(/intervalMs 0.5: expected a whole number of milliseconds ≥ 1/);
    const o = parseYoungHeadroomOptions({});
    expect(o).toEqual({ fraction: 0.5, intervalMs: 20 });
    expect(Object.isFrozen(o)).toBe(true);
  });
});

describe('young headroom — on this process\'s V8 heap', () => {
  it('young headroom — reads the young generation and collects it: V8 reports a minor collection, and the space empties', async () => {
    const young = v8YoungGeneration();
    expect(young).toBeDefined();
    const kinds: number[] = [];
    const obs = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind);
    });
    obs.observe({ entryTypes: ['gc'] });
    // Garbage, not kept: a collection frees it.
    let sink = 0;
    for (let i = 0; i < 20_000; i++) sink += { i, s: `g${i}` }.s.length;
    const before = young?.usage();
    young?.collect();
    const after = young?.usage();
    await new Promise((r) => setTimeout(r, 20));
    obs.disconnect();
    expect(sink).toBeGreaterThan(0);
    expect(before?.capacity).toBeGreaterThan(0);
    expect(after?.used).toBeLessThan(before?.used ?? 0);
    expect(kinds).toContain(constants.NODE_PERFORMANCE_GC_MINOR);
  });

  it('young headroom — getting gc() leaves it out of the global scope and of contexts made later', () => {
    const own = typeof (globalThis as { gc?: unknown }).gc === 'function'; // node --expose-gc: nothing to hide
    expect(v8YoungGeneration()).toBeDefined();
    if (!own) {
      expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
      expect(runInNewContext('typeof gc')).toBe('undefined');
    }
  });
});
