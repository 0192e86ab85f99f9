import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { encodeSlotWords, readMigrationContract, slotGroup } from '../contract/index.js';
import { STATEFUL_EDGE_P4INFO_PATH, editP4Info, statefulEdgeP4InfoText } from '../testing/stateful-edge-p4info.js';
import { splitHeld, stillHeld } from './held-slots.js';
import { flowKeyString } from './slot-placement.js';
import type { PlacedSlot } from './slot-placement.js';

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

  it('splits a batch: held flows carry only their changed words; new, idle and closed ones go through placement', () => {
    const placed = new Map<string, PlacedSlot>();
    const at = (f: Record<string, bigint>, slot: number): void => void placed.set(flowKeyString(ct, f), { slot, words: encodeSlotWords(ct, f) });
    at(flow(1), 10);
    at(flow(2), 20);
    at(flow(3, { last_seen: NOW - IDLE }), 30);
    at(flow(4, { state: CLOSED }), 40);
    const batch = [flow(1, { end_out: 2000n, last_seen: NOW }), flow(2), flow(3, { last_seen: NOW }), flow(4, { state: ESTABLISHED }), flow(5)];
    const { held, rest } = splitHeld(ct, batch, placed, NOW);
    const word = (name: string): number => ct.fields.get(name)?.word ?? -1;
    expect(held.map((h) => ({ index: h.index, mask: h.mask }))).toEqual([
      { index: 10, mask: (1 << word('end_out')) | (1 << word('last_seen')) },
      { index: 20, mask: 0 },
    ]);
    expect(held[0]?.words).toEqual(encodeSlotWords(ct, batch[0] ?? {}));
    expect(held[0]?.key).toBe(flowKeyString(ct, flow(1)));
    expect(rest.map((f) => f['vm_port'])).toEqual([3n, 4n, 5n]);
  });
});
