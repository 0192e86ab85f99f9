// Capability negotiation's schema verdict over contracts read from real (edited) stateful_edge
// P4Infos: what is translated, what is refused and why, and — for a wider field, which the sim's
// data plane does not model — that a destination's import packs the source's values exactly.
import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { candidateSlotsFor, decodeSlotFields, encodeSlotWords, readMigrationContract, slotGroup } from '../contract/index.js';
import type { MigrationContract } from '../contract/index.js';
import { rehashedStatefulEdgeText, statefulEdgeP4InfoText, widerRemotePortText } from '../testing/stateful-edge-p4info.js';
import { checkIncomingBatch } from './batch-check.js';
import type { DeviceCapabilities } from './device-api.js';
import { describeSchema } from './schema-description.js';
import type { SchemaDescription } from './schema-description.js';
import { negotiateMigrationSchemas, negotiateSchemas } from './schema-negotiation.js';
import { translateFields } from './slot-placement.js';

const contract = (text: string): MigrationContract => readMigrationContract(P4Schema.fromText(text, 'stateful_edge variant'));
const DEFAULT = contract(statefulEdgeP4InfoText());
const caps = (device: string, d: SchemaDescription | undefined, fingerprint = device): DeviceCapabilities => ({
  device, apiVersion: 1, stateClasses: ['tcp-state'], schema: { 'group:conntrack': fingerprint }, slots: { total: 1, free: 1 }, registerAccess: 'inband', deltas: ['pull'], maxConcurrentMigrations: 1,
  keyFields: [], ...(d ? { schemaDescription: d } : {}),
});
const withGroup = (d: SchemaDescription, edit: (g: SchemaDescription['groups'][number]) => SchemaDescription['groups'][number]): SchemaDescription => ({ ...d, groups: d.groups.map(edit) });

describe('schema negotiation — identical and translated pairs', () => {
  it('schema negotiation — equal fingerprints are identical (the fast path: nothing compared)', () => {
    expect(negotiateSchemas(caps('edge-a', undefined, 'x'), caps('edge-b', undefined, 'x'))).toEqual({ kind: 'identical' });
  });

  it('schema negotiation — a larger table with swapped hashes is translated, each difference named in operator terms', () => {
    const variant = describeSchema(contract(rehashedStatefulEdgeText('crc16', 131072, 'crc32', 524288)));
    const v = negotiateSchemas(caps('edge-a', describeSchema(DEFAULT)), caps('edge-b', variant));
    expect(v).toEqual({
      kind: 'translated',
      translations: ["conntrack: 327680 slots at edge-a, 655360 at edge-b — placed by edge-b's size", "conntrack: placement crc32/crc16 at edge-a vs crc16/crc32 at edge-b — placed by edge-b's hashes"],
    });
  });

  it('schema negotiation — same hashes over other regions, and a smaller table, are translated with the condition named', () => {
    const v = negotiateSchemas(caps('edge-a', describeSchema(DEFAULT)), caps('edge-b', describeSchema(contract(rehashedStatefulEdgeText('crc32', 131072, 'crc16', 65536)))));
    expect(v).toEqual({
      kind: 'translated',
      translations: [
        "conntrack: 327680 slots at edge-a, 196608 at edge-b — placed by edge-b's size (the VM's flows must fit: checked before staging)",
        "conntrack: hash regions crc32 [0, 262144), crc16 [262144, 327680) in buckets of 2 at edge-a vs crc32 [0, 131072), crc16 [131072, 196608) in buckets of 2 at edge-b — placed by edge-b's regions",
      ],
    });
  });

  it('schema negotiation — a wider field is translated; the reverse (narrower) is refused: values might not fit', () => {
    const wide = describeSchema(contract(widerRemotePortText()));
    expect(negotiateSchemas(caps('edge-a', describeSchema(DEFAULT)), caps('edge-b', wide))).toEqual({ kind: 'translated', translations: ["conntrack: field 'remote_port' widened 16 → 24 bits"] });
    expect(negotiateSchemas(caps('edge-b', wide), caps('edge-a', describeSchema(DEFAULT)))).toEqual({
      kind: 'incompatible', translations: [], reasons: ["slot group 'conntrack': field 'remote_port' is 24 bits at edge-b but 16 bits at edge-a — values might not fit"],
    });
  });

  it('schema negotiation — same fields packed at other positions is still a translation (by field name), never identical by accident', () => {
    const d = describeSchema(DEFAULT);
    expect(negotiateSchemas(caps('edge-a', d, 'one'), caps('edge-b', d, 'two'))).toEqual({ kind: 'translated', translations: ['register layout differs between edge-a and edge-b (same fields and widths) — packed by field name'] });
  });
});

describe('schema negotiation — incompatible pairs name every reason', () => {
  it('schema negotiation — a missing register, a narrower field, another clock unit, another table key and a missing counter are all named at once', () => {
    const a = describeSchema(DEFAULT);
    let b = withGroup(a, (g) => ({
      ...g,
      fields: g.fields.filter((f) => f.register !== 'ct_ack').map((f) => (f.name === 'win_in' ? { ...f, bits: 8 } : f)),
      ...(g.clock ? { clock: { ...g.clock, unit: 'ms' } } : {}),
    }));
    b = {
      ...b,
      tables: b.tables.map((t) => ({ ...t, keyFields: t.keyFields.filter((k) => k.name !== 'remote_port') })),
      counters: b.counters.filter((c) => c.counter !== 'vm_rx').map((c) => ({ ...c, size: 512 })),
    };
    const v = negotiateSchemas(caps('edge-a', a), caps('edge-b', b));
    expect(v.kind).toBe('incompatible');
    const reasons = v.kind === 'incompatible' ? v.reasons : [];
    expect(reasons).toEqual([
      "slot group 'conntrack': the clock counts us at edge-a but ms at edge-b — timestamps are rebased by age within one unit, not converted",
      "slot group 'conntrack': field 'win_in' is 16 bits at edge-a but 8 bits at edge-b — values might not fit",
      "slot group 'conntrack': register 'ct_ack' (ack_out:32, ack_in:32) exists at edge-a, not at edge-b — its values would be lost",
      expect.stringMatching(/^table 'dyn_acl': the key differs: \(vm_id exact, .*remote_port exact.*\) at edge-a, \(vm_id exact, .*\) at edge-b — entries would match other packets$/),
      "counter 'vm_rx' exists at edge-a, not at edge-b — its state would be lost",
    ]);
    expect(v.kind === 'incompatible' ? v.translations : []).toContain("counter 'vm_tx': 1024 cells at edge-a, 512 at edge-b — the VM's id at edge-b must be below 512 (edge-b checks it before staging)");
  });

  it('schema negotiation — a field the destination has and the source lacks, and another flow key, are refused', () => {
    const a = describeSchema(DEFAULT);
    const b = withGroup(a, (g) => ({ ...g, keyFields: g.keyFields.filter((k) => k.name !== 'protocol'), fields: [...g.fields, { name: 'zone', bits: 8, register: 'ct_key_port' }] }));
    const v = negotiateSchemas(caps('edge-a', a), caps('edge-b', b));
    expect(v.kind === 'incompatible' ? v.reasons : []).toEqual([
      "slot group 'conntrack': the flow key differs: (vm_addr, remote_addr, vm_port, remote_port, protocol) at edge-a, (vm_addr, remote_addr, vm_port, remote_port) at edge-b — a flow could not be found again",
      "slot group 'conntrack': field 'zone' (8 bits, register 'ct_key_port') exists at edge-b, not at edge-a — edge-b's pipeline would find no value for it",
    ]);
  });

  it('schema negotiation — a peer without a description (or with an unknown version) is usable only when identical', () => {
    const v = negotiateSchemas(caps('edge-a', describeSchema(DEFAULT)), caps('edge-b', undefined));
    expect(v).toEqual({
      kind: 'incompatible', translations: [],
      reasons: ['group:conntrack has schema edge-a at edge-a but edge-b at edge-b', 'edge-b does not describe its schema, so only an identical schema can be used'],
    });
    const w = negotiateSchemas(caps('edge-a', describeSchema(DEFAULT)), caps('edge-b', { ...describeSchema(DEFAULT), version: 2 }));
    expect(w.kind === 'incompatible' ? w.reasons[1] : '').toBe('edge-b describes its schema in version 2 (this side reads version 1), so only an identical schema can be used');
  });

  it('schema negotiation — a migration gathers every pair: translations once, reasons naming the pair', () => {
    const big = describeSchema(contract(rehashedStatefulEdgeText('crc16', 131072, 'crc32', 524288)));
    const narrow = withGroup(describeSchema(DEFAULT), (g) => ({ ...g, fields: g.fields.map((f) => (f.name === 'end_out' ? { ...f, bits: 16 } : f)) }));
    const v = negotiateMigrationSchemas([caps('s1', describeSchema(DEFAULT)), caps('s2', describeSchema(DEFAULT))], [caps('d1', big), caps('d2', narrow)]);
    expect(v.translations).toEqual([
      "conntrack: 327680 slots at s1, 655360 at d1 — placed by d1's size", "conntrack: placement crc32/crc16 at s1 vs crc16/crc32 at d1 — placed by d1's hashes",
      "conntrack: 327680 slots at s2, 655360 at d1 — placed by d1's size", "conntrack: placement crc32/crc16 at s2 vs crc16/crc32 at d1 — placed by d1's hashes",
    ]);
    expect(v.reasons).toEqual([
      "s1 → d2: slot group 'conntrack': field 'end_out' is 32 bits at s1 but 16 bits at d2 — values might not fit",
      "s2 → d2: slot group 'conntrack': field 'end_out' is 32 bits at s2 but 16 bits at d2 — values might not fit",
    ]);
  });
});

describe('schema negotiation — a wider field is translated by the import (plugin level; no data-plane variant)', () => {
  it('schema negotiation — a source flow is packed into the wider layout exactly, placed by its own key bytes, and accepted by the batch check', () => {
    const src = slotGroup(DEFAULT);
    const wide = slotGroup(contract(widerRemotePortText()));
    const flow = { vm_addr: 0x0a000005n, remote_addr: 0xc6336401n, vm_port: 40001n, remote_port: 443n, protocol: 6n, vm_id: 3n, state: 3n, flags: 0n, ws_out: 7n, ws_in: 7n, win_out: 501n, win_in: 502n, end_out: 0xfffffff0n, end_in: 17n, ack_out: 16n, ack_in: 0xfffffff1n, last_seen: 1_000n, pkts_out: 9n, pkts_in: 8n, bytes_out: 1n << 40n, bytes_in: 12345n };
    // The source's words decode to the fields that travel (by name).
    const travelled = decodeSlotFields(src, encodeSlotWords(src, flow));
    expect(travelled).toEqual(flow);
    checkIncomingBatch(wide, [], { migrationId: 'm', round: 0, slots: [{ fields: travelled }], removed: [], coversSeq: { from: 0n, to: 0n } }, 'test');
    const here = translateFields(wide, travelled, { vmId: 9, sourceClock: 2_000n, localClock: 5_000n });
    const words = encodeSlotWords(wide, here);
    // ct_key_port is 48 bits now: vm_port [47:32], remote_port [31:8] (24 bits), protocol [7:0].
    expect(wide.words[1]?.bits).toBe(48);
    expect(words[1]).toBe((40001n << 32n) | (443n << 8n) | 6n);
    expect(decodeSlotFields(wide, words)).toEqual({ ...flow, vm_id: 9n, last_seen: 4_000n });
    // Placement hashes the destination's key bytes (remote_port as 3 bytes), not the source's.
    expect(candidateSlotsFor(wide.placement, here)).not.toEqual(candidateSlotsFor(src.placement, here));
    // A value only the wider field holds is refused by the narrower side, whole.
    expect(() => checkIncomingBatch(src, [], { migrationId: 'm', round: 0, slots: [{ fields: { ...travelled, remote_port: 0x10000n } }], removed: [], coversSeq: { from: 0n, to: 0n } }, 'test')).toThrow(/field 'remote_port' = 65536 does not fit its 16 bits/);
  });
});
