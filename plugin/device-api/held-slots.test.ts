import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it, vi } from 'vitest';
import { encodeSlotWords, readMigrationContract, slotGroup } from '../contract/index.js';
import { STATEFUL_EDGE_P4INFO_PATH, editP4Info, statefulEdgeP4InfoText } from '../testing/stateful-edge-p4info.js';
import { splitHeld, stillHeld } from './held-slots.js';
import { flowKeyString } from './slot-placement.js';
import { PlacedFlows } from './placed-flows.js';
import type { PlacedEntry } from './placed-flows.js';
import { SlotWordsRecord } from './slot-words-record.js';

const ct = slotGroup(readMigrationContract(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH)), 'conntrack');
const IDLE = 60_000_000n; // @migrate_reclaim's idle time in stateful_edge (µs)
const NOW = 5_000_000_000n;
const ESTABLISHED = 3n;
const CLOSED = 8n;

function flow(port: number, over: Record<string, bigint> = {}): Record<string, bigint> {
  return { vm_addr: 0x0a000005n, remote_addr: 0xc0000201n, vm_port: BigInt(port), remote_port: 443n, protocol: 6n, vm_id: 7n, state: ESTABLISHED, end_out: 1000n, last_seen: NOW - 1_000n, ...over };
}

describe('held slots — when a destination may write a staged flow without WRITE_IF', () => {
  it('holds an occupied slot whose flow is neither in the free state nor near its idle timeout', () => {
    expect(stillHeld(ct, encodeSlotWords(ct, flow(1)), NOW)).toBe(true);
    // Idle for just under three quarters of the shortest timeout: still a quarter to spare.
    expect(stillHeld(ct, encodeSlotWords(ct, flow(1, { last_seen: NOW - (IDLE * 3n) / 4n + 1n })), NOW)).toBe(true);
  });

  it('does not hold a slot the pipeline could hand to another flow before the write lands', () => {
    // Past three quarters of the timeout: the pipeline might reclaim it within the margin.
    expect(stillHeld(ct, encodeSlotWords(ct, flow(1, { last_seen: NOW - (IDLE * 3n) / 4n })), NOW)).toBe(false);
    expect(stillHeld(ct, encodeSlotWords(ct, flow(1, { last_seen: NOW - IDLE - 1n })), NOW)).toBe(false);
    expect(stillHeld(ct, encodeSlotWords(ct, flow(1, { state: CLOSED })), NOW)).toBe(false);
    expect(stillHeld(ct, encodeSlotWords(ct, flow(1, { protocol: 0n })), NOW)).toBe(false);
    // A flow never seen (clock field 0) looks idle forever to the pipeline.
    expect(stillHeld(ct, encodeSlotWords(ct, flow(1, { last_seen: 0n })), NOW)).toBe(false);
  });

  it('holds nothing where the program declares no @migrate_reclaim: every flow keeps its conditional write', () => {
    const text = editP4Info(statefulEdgeP4InfoText(), '    annotations: "@migrate_reclaim(\\"state\\" , 8 , 60000000)"\n', '');
    const bare = slotGroup(readMigrationContract(P4Schema.fromText(text, 'no reclaim')), 'conntrack');
    expect(stillHeld(bare, encodeSlotWords(bare, flow(1)), NOW)).toBe(false);
  });

  const T = { vmId: 7, sourceClock: undefined, localClock: NOW } as const;
  const placedAt = (placed: PlacedFlows, f: Record<string, bigint>, slot: number): PlacedEntry => placed.set(flowKeyString(ct, f), slot, encodeSlotWords(ct, f));
  const fourPlaced = (): PlacedFlows => {
    const placed = new PlacedFlows();
    placedAt(placed, flow(1), 10);
    placedAt(placed, flow(2), 20);
    placedAt(placed, flow(3, { last_seen: NOW - IDLE }), 30);
    placedAt(placed, flow(4, { state: CLOSED }), 40);
    return placed;
  };
  const batch = [flow(1, { end_out: 2000n, last_seen: NOW }), flow(2), flow(3, { last_seen: NOW }), flow(4, { state: ESTABLISHED }), flow(5)];
  const word = (name: string): number => ct.fields.get(name)?.word ?? -1;
  const wantHeld = [
    { index: 10, mask: (1 << word('end_out')) | (1 << word('last_seen')) },
    { index: 20, mask: 0 },
  ];

  it('splits a batch: held flows carry only their changed words; new, idle and closed ones go through placement', () => {
    const placed = fourPlaced();
    const { held, rest } = splitHeld(ct, batch.map((fields) => ({ fields })), NOW, { placed, translation: T, source: 'src', plain: true });
    expect(held.map((h) => ({ index: h.index, mask: h.mask }))).toEqual(wantHeld);
    expect(held[0]?.words).toEqual(encodeSlotWords(ct, batch[0] ?? {}));
    expect(held[0]?.entry).toBe(placed.get(flowKeyString(ct, flow(1))));
    expect(rest.map((f) => f.fields['vm_port'])).toEqual([3n, 4n, 5n]);
    expect(rest.map((f) => f.key)).toEqual([3, 4, 5].map((p) => flowKeyString(ct, flow(p))));
  });

  it('holds nothing when the backend cannot write registers plainly: every flow through placement', () => {
    const { held, rest } = splitHeld(ct, batch.map((fields) => ({ fields })), NOW, { placed: fourPlaced(), translation: T, source: 'src', plain: false });
    expect(held).toEqual([]);
    expect(rest).toHaveLength(5);
  });

  it('finds a flow read as words through its source slot, with no look-up by key, and writes the same words', () => {
    const placed = fourPlaced();
    // Slot i at the source held flow i; the first import noted where each went.
    for (const p of [1, 2, 3, 4]) placed.noteOrigin('src', 100 + p, placed.get(flowKeyString(ct, flow(p))) as PlacedEntry);
    const records = batch.map((f, i) => new SlotWordsRecord(ct, encodeSlotWords(ct, f), 101 + i));
    const get = vi.spyOn(placed, 'get');
    const decoded = vi.spyOn(SlotWordsRecord.prototype, 'fields', 'get');
    const { held, rest } = splitHeld(ct, records, NOW, { placed, translation: T, source: 'src', plain: true });
    expect(held.map((h) => ({ index: h.index, mask: h.mask }))).toEqual(wantHeld);
    expect(held[0]?.words).toEqual(encodeSlotWords(ct, batch[0] ?? {}));
    // Looked up by key: the idle and closed flows (not held) and the new one, never the held two.
    expect(get.mock.calls.map(([k]) => k)).toEqual([3, 4, 5].map((p) => flowKeyString(ct, flow(p))));
    expect(rest.map((f) => f.sourceSlot)).toEqual([103, 104, 105]);
    // No record's fields were asked for: the words were translated as they are.
    expect(decoded).not.toHaveBeenCalled();
    decoded.mockRestore();
  });

  it('does not trust a source slot that now holds another flow: that flow is found by its key', () => {
    const placed = fourPlaced();
    placed.noteOrigin('src', 7, placed.get(flowKeyString(ct, flow(1))) as PlacedEntry);
    // Source slot 7 now holds flow 2 (flow 1 left it): flow 2 is still held, at its own slot.
    const { held, rest } = splitHeld(ct, [new SlotWordsRecord(ct, encodeSlotWords(ct, flow(2)), 7)], NOW, { placed, translation: T, source: 'src', plain: true });
    expect(held.map((h) => h.index)).toEqual([20]);
    expect(rest).toEqual([]);
    // And the hint now points at flow 2.
    expect(placed.fromOrigin('src', 7)?.slot).toBe(20);
  });

  it('uses no hint of another source, and none once the flow was removed here', () => {
    const placed = fourPlaced();
    const one = placed.get(flowKeyString(ct, flow(1))) as PlacedEntry;
    placed.noteOrigin('a', 1, one);
    expect(placed.fromOrigin('b', 1)).toBeUndefined();
    placed.delete(flowKeyString(ct, flow(1)));
    expect(placed.fromOrigin('a', 1)).toBeUndefined();
    const { held, rest } = splitHeld(ct, [new SlotWordsRecord(ct, encodeSlotWords(ct, flow(1)), 1)], NOW, { placed, translation: T, source: 'a', plain: true });
    expect(held).toEqual([]);
    expect(rest.map((r) => r.key)).toEqual([flowKeyString(ct, flow(1))]);
  });
});
