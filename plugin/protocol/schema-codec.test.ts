// The schema description over the real protobuf encoding: it travels inside Capabilities exactly,
// a peer without one decodes as "not described", and malformed values are refused by name.
import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { readMigrationContract } from '../contract/index.js';
import type { DeviceCapabilities } from '../device-api/device-api.js';
import { describeSchema } from '../device-api/schema-description.js';
import { rehashedStatefulEdgeText } from '../testing/stateful-edge-p4info.js';
import { capabilitiesFromWire, capabilitiesToWire } from './codec.js';
import { schemaDescriptionToWire } from './schema-codec.js';
import { decodeWire, encodeWire } from './wire.js';

const overWire = (v: Record<string, unknown>): Record<string, unknown> => decodeWire('Capabilities', encodeWire('Capabilities', v));
const description = describeSchema(readMigrationContract(P4Schema.fromText(rehashedStatefulEdgeText('crc16', 131072, 'crc32', 524288), 'stateful_edge, larger')));
const caps: DeviceCapabilities = {
  device: 'edge-b', apiVersion: 1, stateClasses: ['tcp-state', 'counters'], schema: { 'group:conntrack': 'abc' }, slots: { total: 655360, free: 655360 },
  registerAccess: 'inband', deltas: ['pull'], maxConcurrentMigrations: 4, keyFields: [{ name: 'vm_addr', bits: 32 }], schemaDescription: description,
};
/** The capabilities' message with one edit to the first slot group of its description. */
const withGroup = (edit: (g: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> => {
  const w = capabilitiesToWire(caps, 1);
  const d = w['schemaDescription'] as Record<string, unknown>;
  const [g, ...rest] = d['groups'] as Record<string, unknown>[];
  return { ...w, schemaDescription: { ...d, groups: [edit(g ?? {}), ...rest] } };
};

describe('schema codec — the schema description in Capabilities', () => {
  it('schema codec — a stateful_edge description (groups, tables, counters) survives the protobuf encoding exactly', () => {
    expect(description.groups[0]?.fields.length).toBe(21);
    expect(capabilitiesFromWire(overWire(capabilitiesToWire(caps, 1)))).toEqual({ capabilities: caps, protocolVersion: 1 });
  });

  it('schema codec — capabilities without a description (an older peer) decode without one', () => {
    const { schemaDescription: _, ...older } = caps;
    expect(capabilitiesFromWire(overWire(capabilitiesToWire(older, 1))).capabilities).toEqual(older);
  });

  it('schema codec — a description of an unknown version is kept as its version only', () => {
    const w = { ...capabilitiesToWire(caps, 1), schemaDescription: { ...schemaDescriptionToWire(description), version: 2 } };
    expect(capabilitiesFromWire(overWire(w)).capabilities.schemaDescription).toEqual({ version: 2, groups: [], tables: [], counters: [] });
  });

  it('schema codec — malformed values are refused, naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [withGroup((g) => ({ ...g, fields: [...(g['fields'] as unknown[]), { name: 'wide', bits: 65, register: 'r' }] })), /groups\[0\]\.fields\[21\]\.bits: 65 bits is outside 1\.\.64/],
      [withGroup((g) => ({ ...g, fields: [...(g['fields'] as unknown[]), { name: 'vm_addr', bits: 8, register: 'r' }] })), /groups\[0\]\.fields: 'vm_addr' appears twice/],
      [withGroup((g) => ({ ...g, hashes: [{ algorithm: 'md5', base: 0, size: 8 }] })), /hashes\[0\]\.algorithm: 'md5' is not one of crc32, crc16, csum16/],
      [withGroup((g) => ({ ...g, hashes: [{ algorithm: 'crc32', base: 655000, size: 1000 }] })), /region \[655000, 656000\) does not fit the 655360-slot index space/],
      [withGroup((g) => ({ ...g, vmField: 'nope' })), /vm_field: 'nope' is not a field of the group/],
      [withGroup((g) => ({ ...g, clockUnit: 'fortnights' })), /clock_unit: 'fortnights' is not one of ns, us, ms, s/],
      [withGroup((g) => ({ ...g, keyFields: [] })), /key_fields: a flow key has at least one field/],
      [withGroup((g) => ({ ...g, slots: 0 })), /slots: a slot group has at least one slot/],
      [withGroup((g) => ({ ...g, name: '' })), /groups\[0\]\.name: expected a non-empty string/],
    ];
    for (const [w, message] of cases) expect(() => capabilitiesFromWire(overWire(w)), String(message)).toThrow(expect.objectContaining({ reason: 'PEER_REJECTED', message: expect.stringMatching(message) as unknown }));
    const w = capabilitiesToWire(caps, 1);
    const d = w['schemaDescription'] as Record<string, unknown>;
    const [t] = d['tables'] as Record<string, unknown>[];
    const badTable = { ...w, schemaDescription: { ...d, tables: [{ ...t, vmKeyField: 'zone' }] } };
    expect(() => capabilitiesFromWire(overWire(badTable))).toThrow(/tables\[0\]\.vm_key_field: 'zone' is not a key field of the table/);
    const badCounter = { ...w, schemaDescription: { ...d, counters: [{ counter: 'vm_tx', size: 0, unit: 'both' }] } };
    expect(() => capabilitiesFromWire(overWire(badCounter))).toThrow(/counters\[0\]\.size: a per-VM counter has at least one cell/);
  });
});
