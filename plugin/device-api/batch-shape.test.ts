import { describe, expect, it } from 'vitest';
import { inOneShape } from './batch-shape.js';
import type { StateBatch } from './device-api.js';

describe('batch shape', () => {
  const delta: StateBatch = { migrationId: 'm', round: 3, slots: [], removed: [], coversSeq: { from: 1n, to: 4n }, clock: 9n };
  const final: StateBatch = { ...delta, round: 99, proof: 'change-numbers', removed: [{ k: 1n }], counters: { vm_tx: { packets: 2n, bytes: 3n } }, tableEntries: [], source: 'src' };

  it('batch shape — batches built differently come out with the same fields in the same order', () => {
    expect(Object.keys(final)).not.toEqual(Object.keys(delta));
    expect(Object.keys(inOneShape(final))).toEqual(Object.keys(inOneShape(delta)));
    expect(Object.keys(inOneShape(delta))).toEqual(['migrationId', 'source', 'round', 'slots', 'removed', 'coversSeq', 'tableEntries', 'counters', 'clock', 'proof']);
  });

  it('batch shape — every value is kept, and what a batch lacks stays undefined', () => {
    expect(inOneShape(final)).toStrictEqual({ ...final });
    const d = inOneShape(delta);
    expect(d.counters).toBeUndefined();
    expect(d.proof).toBeUndefined();
    expect(d.slots).toBe(delta.slots);
    expect(d).toEqual(delta);
  });
});
