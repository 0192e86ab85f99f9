import { describe, expect, it } from 'vitest';
import { exposedGc } from '../../controller/index.js';
import { settleHeap } from './settle-heap.js';

describe('bench — settling the heap', () => {
  it('bench — gets V8\'s gc() without --expose-gc and settles with it', async () => {
    expect(typeof exposedGc()).toBe('function');
    expect(await settleHeap()).toBe(true);
  });

  it('bench — a settled heap has promoted what was built before it: young-generation use drops', async () => {
    const kept = Array.from({ length: 50_000 }, (_, i) => ({ i, s: `k${i}` }));
    const { getHeapSpaceStatistics } = await import('node:v8');
    const young = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? NaN;
    const before = young();
    await settleHeap();
    expect(young()).toBeLessThan(before);
    expect(kept).toHaveLength(50_000);
  });
});
