import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { readMigrationContract, slotGroup } from '../contract/index.js';
import { STATEFUL_EDGE_P4INFO_PATH } from '../testing/stateful-edge-p4info.js';
import { NumberedChanges } from './numbered-changes.js';

const ct = slotGroup(readMigrationContract(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH)), 'conntrack');

/** A delta digest entry as the data plane sends it: change `n` of tracker 1 / VM 7 left `slot` with `pkts`. */
function digest(n: bigint, slot: number, pkts: bigint, over: Record<string, bigint> = {}): Record<string, bigint> {
  const words = Object.fromEntries(ct.words.map((w, i) => [w.register, BigInt(i)]));
  return { slot: BigInt(slot), vm_id: 7n, tracker: 1n, epoch: 1n, seq: 0n, change: n & 0xffffffffn, ...words, ct_pkts: pkts, ...over };
}

const pktsOf = (words: readonly bigint[]): bigint | undefined => words[ct.words.findIndex((w) => w.register === 'ct_pkts')];

describe('numbered changes — proving a final delta from the delta digests', () => {
  it('numbered changes — every number of [from, to) arrived: each changed slot with its latest content, in slot order', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 100n });
    // Out of order, slot 9 changed twice: its later change (102) wins whatever the arrival order.
    nc.addList([digest(102n, 9, 3n), digest(100n, 9, 1n), digest(101n, 4, 2n)]);
    const r = nc.since(100, 103);
    expect(Array.isArray(r)).toBe(true);
    if (!Array.isArray(r)) return;
    expect(r.map((s) => s.index)).toEqual([4, 9]);
    expect(r.map((s) => pktsOf(s.words))).toEqual([2n, 3n]);
    // A later start leaves out slots whose changes all came before it.
    const later = nc.since(102, 103);
    expect(Array.isArray(later) && later.map((s) => s.index)).toEqual([9]);
    // Nothing changed since: proven empty.
    expect(nc.since(103, 103)).toEqual([]);
  });

  it('numbered changes — a range taken early (later): a slot changed again past its end comes with the newer content; as a final range that is refused', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 100n });
    nc.addList([digest(100n, 9, 1n), digest(101n, 4, 2n), digest(102n, 9, 3n)]);
    // [100, 101) is slot 9 alone, whose latest change (102) is past the range's end.
    expect(nc.since(100, 101)).toMatchObject({ kind: 'not-held' });
    const early = nc.since(100, 101, true);
    expect(Array.isArray(early) && early.map((s) => [s.index, pktsOf(s.words)])).toEqual([[9, 3n]]);
    // The range from there on carries slot 9 again, and slot 4.
    const rest = nc.since(101, 103);
    expect(Array.isArray(rest) && rest.map((s) => s.index)).toEqual([4, 9]);
  });

  it('numbered changes — arrivedUpTo: the first number not arrived at or after a start, the start itself when pruned', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 10n });
    nc.addList([digest(10n, 1, 1n), digest(11n, 2, 1n), digest(13n, 3, 1n)]);
    expect(nc.arrivedUpTo(10)).toBe(12);
    expect(nc.arrivedUpTo(12)).toBe(12);
    expect(nc.arrivedUpTo(13)).toBe(14);
    nc.addList([digest(12n, 4, 1n)]);
    expect(nc.arrivedUpTo(10)).toBe(14);
    // What arrived is provable exactly up to there.
    const r = nc.since(10, nc.arrivedUpTo(10));
    expect(Array.isArray(r) && r.map((s) => s.index)).toEqual([1, 2, 3, 4]);
    nc.prune(12);
    expect(nc.arrivedUpTo(10)).toBe(10);
  });

  it('numbered changes — a lost number is a gap: not proven, naming how many and the first', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 0n });
    nc.addList([digest(0n, 1, 1n), digest(2n, 2, 1n), digest(4n, 3, 1n)]);
    expect(nc.since(0, 5)).toEqual({ kind: 'missing', missing: 2, first: 1 });
    expect(nc.since(4, 5)).toEqual([{ index: 3, words: expect.any(Array) }]);
  });

  it('numbered changes — ignores other trackers, other VMs and unnumbered digests', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 0n });
    nc.addList([digest(0n, 1, 1n, { tracker: 2n }), digest(0n, 1, 1n, { vm_id: 8n }), { slot: 1n, vm_id: 7n, tracker: 1n }]);
    expect(nc.held).toBe(0);
    expect(nc.since(0, 1)).toEqual({ kind: 'missing', missing: 1, first: 0 });
  });

  it('numbered changes — 32-bit numbers wrap: counted on past 2^32 - 1 from the count at prepare', () => {
    const base = 0xfffffffen;
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base });
    nc.addList([digest(0xfffffffen, 5, 1n), digest(0xffffffffn, 6, 1n), digest(0n, 5, 2n), digest(1n, 7, 1n)]);
    const from = nc.unwrap(base) as number;
    const to = nc.unwrap(2n) as number;
    expect(to - from).toBe(4);
    const r = nc.since(from, to);
    expect(Array.isArray(r) && r.map((s) => [s.index, pktsOf(s.words)])).toEqual([[5, 2n], [6, 1n], [7, 1n]]);
    // A number from before prepare (a late digest of an earlier migration on this tracker) is not taken.
    expect(nc.unwrap(base - 1n)).toBeUndefined();
  });

  it('numbered changes — a count below a change that arrived means the count was read too early: not proven', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 0n });
    nc.addList([digest(0n, 1, 1n), digest(1n, 1, 2n)]);
    expect(nc.since(0, 1)).toMatchObject({ kind: 'not-held', detail: expect.stringMatching(/past the count 1/) });
  });

  it('numbered changes — past its capacity it drops what it holds and proves only ranges starting above', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 0n, maxHeld: 4 });
    nc.addList([0n, 1n, 2n, 3n, 4n].map((n) => digest(n, Number(n), 1n)));
    expect(nc.held).toBe(0);
    expect(nc.since(0, 5)).toMatchObject({ kind: 'not-held' });
    // A late digest below the new floor is not taken; numbers above it prove again.
    nc.addList([digest(2n, 2, 9n), digest(5n, 8, 1n)]);
    expect(nc.held).toBe(1);
    expect(nc.since(5, 6)).toEqual([{ index: 8, words: expect.any(Array) }]);
  });

  it('numbered changes — prune forgets numbers below a round no final delta starts before', () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 0n });
    nc.addList([digest(0n, 1, 1n), digest(1n, 2, 1n), digest(2n, 3, 1n)]);
    nc.prune(2);
    expect(nc.held).toBe(1);
    expect(nc.since(1, 3)).toMatchObject({ kind: 'not-held' });
    expect(nc.since(2, 3)).toEqual([{ index: 3, words: expect.any(Array) }]);
    expect(nc.pendingFrom(2)).toBe(true);
    expect(nc.pendingFrom(3)).toBe(false);
  });

  it('numbered changes — arrival() resolves when a held number arrives, not for ignored ones', async () => {
    const nc = new NumberedChanges({ tracker: 1, vmId: 7, group: ct, base: 0n });
    let woke = false;
    const p = nc.arrival().then(() => (woke = true));
    nc.addList([digest(0n, 1, 1n, { tracker: 3n })]);
    await Promise.resolve();
    expect(woke).toBe(false);
    nc.addList([digest(0n, 1, 1n)]);
    await p;
    expect(woke).toBe(true);
  });
});
