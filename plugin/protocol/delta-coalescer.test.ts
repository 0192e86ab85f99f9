import { describe, expect, it } from 'vitest';
import type { StateBatch } from '../device-api/device-api.js';
import { DeltaCoalescer, mergeBatches } from './delta-coalescer.js';

const b = (round: number, from: bigint, to: bigint, slots: [bigint, bigint][], removed: bigint[] = []): StateBatch => ({
  migrationId: 'm', round, coversSeq: { from, to },
  slots: slots.map(([k, v]) => ({ fields: { k, v } })),
  removed: removed.map((k) => ({ k })),
});

describe('delta coalescer — flow control of the delta stream', () => {
  it('delta coalescer — a later record of a flow wins, a removal drops the slot, the range spans both', () => {
    const m = mergeBatches(['k'], b(1, 0n, 5n, [[1n, 10n], [2n, 20n]]), b(2, 5n, 9n, [[1n, 11n]], [2n]));
    expect(m.slots).toEqual([{ fields: { k: 1n, v: 11n } }]);
    expect(m.removed).toEqual([{ k: 2n }]);
    expect(m.coversSeq).toEqual({ from: 0n, to: 9n });
  });
  it('delta coalescer — a flow removed then seen again is cleared and reinstalled', () => {
    const m = mergeBatches(['k'], b(1, 0n, 5n, [], [3n]), b(2, 5n, 9n, [[3n, 30n]]));
    expect(m.removed).toEqual([{ k: 3n }]);
    expect(m.slots).toEqual([{ fields: { k: 3n, v: 30n } }]);
  });
  it('delta coalescer — while the sink is full at most one merged batch waits, sent on drain', () => {
    const sent: StateBatch[] = [];
    let room = 1;
    const c = new DeltaCoalescer(['k'], (x) => {
      sent.push(x);
      return --room > 0;
    });
    c.push(b(1, 0n, 1n, [[1n, 1n]]));
    for (let i = 2; i <= 100; i++) c.push(b(i, BigInt(i - 1), BigInt(i), [[BigInt(i % 4), BigInt(i)]]));
    expect(sent).toHaveLength(1);
    expect(c.pending).toBe(true);
    expect(c.stats).toEqual({ written: 1, merged: 98 });
    room = 10;
    c.drain();
    expect(sent).toHaveLength(2);
    const last = sent[1] as StateBatch;
    expect(last.coversSeq).toEqual({ from: 1n, to: 100n });
    expect(last.slots).toHaveLength(4); // one per flow, however many batches merged
    expect(last.slots.find((s) => s.fields['k'] === 0n)?.fields['v']).toBe(100n);
  });
});
