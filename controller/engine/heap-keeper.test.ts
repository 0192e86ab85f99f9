import { describe, expect, it } from 'vitest';
import { silentLogger } from 'p4runtime-ts';
import { HeapKeeper } from './heap-keeper.js';
import { OldHeadroomOptionsError } from './old-headroom.js';
import type { OldGeneration } from './old-headroom.js';
import { YoungHeadroomOptionsError } from './young-headroom.js';
import type { YoungGeneration } from './young-headroom.js';

const MB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Counts its looks: a keeper left running after stop() would go on looking. */
class CountedYoung implements YoungGeneration {
  looks = 0;
  usage(): { used: number; capacity: number } {
    this.looks++;
    return { used: 0, capacity: 1000 };
  }
  collect(): void {}
}

describe("heap keeper — one migration's care of the heap", () => {
  it('heap keeper — starting twice runs one keeper; stop ends it and a second stop does nothing', async () => {
    const young = new CountedYoung();
    const heap = new HeapKeeper({ youngGeneration: young, youngHeadroom: { intervalMs: 1 }, oldGeneration: false }, silentLogger);
    heap.startPrecopy();
    heap.startPrecopy();
    await sleep(20);
    heap.stop();
    heap.stop();
    const n = young.looks;
    expect(n).toBeGreaterThan(0);
    await sleep(20);
    expect(young.looks).toBe(n); // a second keeper from the second start would still be looking
  });

  it('heap keeper — collects after the snapshot only past the threshold, and only with a reading from before it', () => {
    let used = 200 * MB;
    let collected = 0;
    const old: OldGeneration = { used: () => used, collect: () => (collected++, (used = 200 * MB)) };
    const heap = new HeapKeeper({ youngGeneration: false, oldGeneration: old }, silentLogger);
    const before = heap.beforeSnapshot();
    expect(before).toBe(200 * MB);
    used = 250 * MB; // under half again
    heap.afterSnapshot(before);
    expect(collected).toBe(0);
    used = 500 * MB;
    heap.afterSnapshot(undefined);
    expect(collected).toBe(0);
    heap.afterSnapshot(before);
    expect(collected).toBe(1);
    const off = new HeapKeeper({ youngGeneration: false, oldGeneration: false }, silentLogger);
    expect(off.beforeSnapshot()).toBeUndefined();
  });

  it("heap keeper — options out of range throw the options' own errors", () => {
    expect(() => new HeapKeeper({ youngHeadroom: { intervalMs: 0 } }, silentLogger)).toThrow(YoungHeadroomOptionsError);
    expect(() => new HeapKeeper({ oldHeadroom: { fraction: -1 } }, silentLogger)).toThrow(OldHeadroomOptionsError);
  });
});
