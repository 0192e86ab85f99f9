import { describe, expect, it } from 'vitest';
import { decodeSlotFields, encodeSlotWords, readMigrationContract, slotGroup } from '../../plugin/index.js';
import { SCHEMA } from '../edge-rig.js';
import { BENCH_VMS, changeCounts, checkGoal, dataSegmentFrame, flowEnds, handshakeFrames, median, pickSpread, slotFingerprint } from './migrate-flows.js';
import type { BenchVm } from './migrate-flows.js';

const group = slotGroup(readMigrationContract(SCHEMA));

describe('bench migrate flows', () => {
  it('bench migrate flows — every flow id names its own 5-tuple; ids past the range are refused', () => {
    const seen = new Set<string>();
    for (const i of [0, 1, 59_999, 60_000, 60_001, 99_999, 100_000, 15_359_999]) {
      const e = flowEnds(i);
      seen.add(`${e.vmPort}/${e.remote}`);
      expect(e.vmPort).toBeGreaterThanOrEqual(1024);
      expect(e.vmPort).toBeLessThan(61_024);
    }
    expect(seen.size).toBe(8);
    expect(() => flowEnds(15_360_000)).toThrow(RangeError);
    expect(() => flowEnds(-1)).toThrow(RangeError);
  });

  it('bench migrate flows — a handshake is SYN, SYN+ACK, ACK; data segments advance the sequence by their length', () => {
    const vm = BENCH_VMS[0] as BenchVm;
    const [syn, synAck, ack] = handshakeFrames(vm, 5);
    const flags = (f: { payload: Uint8Array }): number => f.payload[14 + 20 + 13] as number;
    const seq = (f: { payload: Uint8Array }): number => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(14 + 20 + 4);
    expect([flags(syn), flags(synAck), flags(ack)]).toEqual([0x02, 0x12, 0x10]);
    expect([syn.port, synAck.port, ack.port]).toEqual([1, 100, 1]);
    expect(seq(dataSegmentFrame(vm, 5, 0))).toBe(seq(ack));
    expect(seq(dataSegmentFrame(vm, 5, 3)) - seq(dataSegmentFrame(vm, 5, 2))).toBe(10);
    expect(() => dataSegmentFrame(vm, 5, 5_001)).toThrow(RangeError);
  });

  it('bench migrate flows — pickSpread takes k distinct flows spread over the list, all of them when k is larger', () => {
    const tracked = Array.from({ length: 1000 }, (_, i) => i * 3);
    const k = pickSpread(tracked, 100);
    expect(new Set(k).size).toBe(100);
    expect(k[0]).toBe(0);
    expect(k[1]).toBe(30);
    expect(pickSpread(tracked, 5_000)).toEqual(tracked);
    expect(pickSpread(tracked, 0)).toEqual([]);
    expect(() => pickSpread(tracked, -1)).toThrow(RangeError);
  });

  it('bench migrate flows — change counts: shares of the size then absolute counts, each once', () => {
    expect(changeCounts(10_000, [0.01, 0.05], [100])).toEqual([100, 500]);
    expect(changeCounts(100_000, [0.01, 0.05], [100])).toEqual([1000, 5000, 100]);
    expect(changeCounts(50, [0.01], [100])).toEqual([1]);
  });

  it('bench migrate flows — the fingerprint ignores the named fields and the order of slots, and sees any other difference', () => {
    const a = encodeSlotWords(group, { vm_addr: 1n, remote_addr: 2n, vm_port: 3n, remote_port: 4n, protocol: 6n, vm_id: 7n, state: 3n, last_seen: 100n });
    const b = encodeSlotWords(group, { vm_addr: 1n, remote_addr: 2n, vm_port: 5n, remote_port: 4n, protocol: 6n, vm_id: 7n, state: 3n, last_seen: 100n });
    // As an import writes it: the destination's VM id, the clock rebased, everything else equal.
    const moved = (w: bigint[]): bigint[] => encodeSlotWords(group, { ...decodeSlotFields(group, w), vm_id: 9n, last_seen: 555n });
    const ignore = ['vm_id', 'last_seen'];
    expect(slotFingerprint(group, [a, b], ignore)).toEqual(slotFingerprint(group, [moved(b), moved(a)], ignore));
    expect(slotFingerprint(group, [a, b], ignore).flows).toBe(2);
    expect(slotFingerprint(group, [a, b], [])).not.toEqual(slotFingerprint(group, [moved(a), moved(b)], []));
    const c = [...b];
    c[6] = (c[6] ?? 0n) + 1n; // one more packet on one flow
    expect(slotFingerprint(group, [a, c], ignore).digest).not.toBe(slotFingerprint(group, [a, b], ignore).digest);
  });

  it('bench migrate flows — median and goals', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
    expect(checkGoal('g', 4, { max: 5 }, 'ms')).toEqual({ goal: 'g', measured: 4, unit: 'ms', reached: true });
    expect(checkGoal('g', 6, { max: 5 }, 'ms').reached).toBe(false);
    expect(checkGoal('g', 19, { min: 20 }, '×').reached).toBe(false);
    expect(checkGoal('g', undefined, { min: 20 }, '×').reached).toBeUndefined();
  });
});
