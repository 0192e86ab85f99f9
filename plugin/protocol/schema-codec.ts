/**
 * The SchemaDescription message of the migration protocol (Capabilities.schema_description):
 * encoding, and decoding that refuses what negotiation must not reason about — empty or repeated
 * names, widths outside 1..64 bits for slot fields, unknown hash algorithms, match types, clock
 * and counter units, hash regions outside the index space, key/VM/valid/clock fields that are not
 * fields of the group. A description of a version this side does not read is kept as its version
 * only: negotiation then falls back to identical fingerprints.
 */
import { isHashAlgorithm } from 'p4runtime-ts';
import { SCHEMA_DESCRIPTION_VERSION } from '../device-api/schema-description.js';
import type { CounterSchema, SchemaDescription, SlotGroupSchema, TableSchema } from '../device-api/schema-description.js';
import type { WireMessage } from './wire.js';
import { bad, list, msg, oneOf, str, uint } from './wire-checks.js';

const CLOCK_UNITS = ['ns', 'us', 'ms', 's'] as const;
const MATCH_TYPES = ['exact', 'lpm', 'ternary', 'range', 'optional', 'other'] as const;
const COUNTER_UNITS = ['bytes', 'packets', 'both', 'unspecified'] as const;
/** Wider than any P4Runtime match field we know of; a guard against absurd values, not a policy. */
const MAX_KEY_BITS = 4096;

/** A SchemaDescription message. */
export function schemaDescriptionToWire(d: SchemaDescription): WireMessage {
  return {
    version: d.version,
    groups: d.groups.map((g) => ({
      name: g.name,
      slots: g.slots,
      ways: g.ways,
      hashes: g.hashes.map((h) => ({ algorithm: h.algorithm, base: h.base, size: h.size })),
      keyFields: g.keyFields.map((k) => ({ name: k.name, bits: k.bits })),
      fields: g.fields.map((f) => ({ name: f.name, bits: f.bits, register: f.register })),
      validField: g.validField,
      vmField: g.vmField,
      clockField: g.clock?.field ?? '',
      clockUnit: g.clock?.unit ?? '',
    })),
    tables: d.tables.map((t) => ({ table: t.table, vmKeyField: t.vmKeyField, keyFields: t.keyFields.map((k) => ({ name: k.name, bits: k.bits, matchType: k.matchType })), idleTimeout: t.idleTimeout, directCounter: t.directCounter }),
    ),
    counters: d.counters.map((c) => ({ counter: c.counter, size: c.size, unit: c.unit })),
  };
}

const bits = (v: unknown, what: string, max: number): number => {
  const n = uint(v, what);
  if (n < 1 || n > max) throw bad(what, `${n} bits is outside 1..${max}`);
  return n;
};

/** Each item's name, refusing a name given twice. */
function unique<T>(items: readonly T[], name: (x: T) => string, what: string): T[] {
  const seen = new Set<string>();
  for (const x of items) {
    if (seen.has(name(x))) throw bad(what, `'${name(x)}' appears twice`);
    seen.add(name(x));
  }
  return [...items];
}

function groupFromWire(v: unknown, where: string): SlotGroupSchema {
  const m = msg(v, where);
  const slots = uint(m['slots'], `${where}.slots`);
  if (slots < 1) throw bad(`${where}.slots`, 'a slot group has at least one slot');
  const ways = uint(m['ways'], `${where}.ways`);
  if (ways < 1) throw bad(`${where}.ways`, 'a bucket has at least one slot');
  const hashes = list(m['hashes'], `${where}.hashes`).map((x, i) => {
    const at = `${where}.hashes[${i}]`;
    const h = msg(x, at);
    const algorithm = str(h['algorithm'], `${at}.algorithm`);
    if (!isHashAlgorithm(algorithm)) throw bad(`${at}.algorithm`, `'${algorithm}' is not one of crc32, crc16, csum16`);
    const base = uint(h['base'], `${at}.base`);
    const size = uint(h['size'], `${at}.size`);
    if (size < 1 || base + size > slots) throw bad(at, `region [${base}, ${base + size}) does not fit the ${slots}-slot index space`);
    return { algorithm, base, size };
  });
  if (hashes.length === 0) throw bad(`${where}.hashes`, 'a slot group has at least one hash choice');
  const fields = unique(
    list(m['fields'], `${where}.fields`).map((x, i) => {
      const f = msg(x, `${where}.fields[${i}]`);
      return { name: str(f['name'], `${where}.fields[${i}].name`), bits: bits(f['bits'], `${where}.fields[${i}].bits`, 64), register: str(f['register'], `${where}.fields[${i}].register`) };
    }),
    (f) => f.name,
    `${where}.fields`,
  );
  const names = new Set(fields.map((f) => f.name));
  const field = (v: unknown, what: string): string => {
    const n = str(v, what);
    if (!names.has(n)) throw bad(what, `'${n}' is not a field of the group`);
    return n;
  };
  const keyFields = unique(
    list(m['keyFields'], `${where}.key_fields`).map((x, i) => {
      const k = msg(x, `${where}.key_fields[${i}]`);
      return { name: field(k['name'], `${where}.key_fields[${i}].name`), bits: bits(k['bits'], `${where}.key_fields[${i}].bits`, 64) };
    }),
    (k) => k.name,
    `${where}.key_fields`,
  );
  if (keyFields.length === 0) throw bad(`${where}.key_fields`, 'a flow key has at least one field');
  const clockField = m['clockField'];
  const clockUnit = m['clockUnit'];
  const noClock = (clockField === '' || clockField == null) && (clockUnit === '' || clockUnit == null);
  return {
    name: str(m['name'], `${where}.name`),
    slots,
    ways,
    hashes,
    keyFields,
    fields,
    validField: field(m['validField'], `${where}.valid_field`),
    vmField: field(m['vmField'], `${where}.vm_field`),
    ...(noClock ? {} : { clock: { field: field(clockField, `${where}.clock_field`), unit: oneOf(clockUnit, CLOCK_UNITS, `${where}.clock_unit`) } }),
  };
}

function tableFromWire(v: unknown, where: string): TableSchema {
  const t = msg(v, where);
  const keyFields = unique(
    list(t['keyFields'], `${where}.key_fields`).map((x, i) => {
      const k = msg(x, `${where}.key_fields[${i}]`);
      const at = `${where}.key_fields[${i}]`;
      return { name: str(k['name'], `${at}.name`), bits: bits(k['bits'], `${at}.bits`, MAX_KEY_BITS), matchType: oneOf(k['matchType'], MATCH_TYPES, `${at}.match_type`) };
    }),
    (k) => k.name,
    `${where}.key_fields`,
  );
  const vmKeyField = str(t['vmKeyField'], `${where}.vm_key_field`);
  if (!keyFields.some((k) => k.name === vmKeyField)) throw bad(`${where}.vm_key_field`, `'${vmKeyField}' is not a key field of the table`);
  return { table: str(t['table'], `${where}.table`), vmKeyField, keyFields, idleTimeout: t['idleTimeout'] === true, directCounter: t['directCounter'] === true };
}

function counterFromWire(v: unknown, where: string): CounterSchema {
  const c = msg(v, where);
  const size = uint(c['size'], `${where}.size`);
  if (size < 1) throw bad(`${where}.size`, 'a per-VM counter has at least one cell');
  return { counter: str(c['counter'], `${where}.counter`), size, unit: oneOf(c['unit'], COUNTER_UNITS, `${where}.unit`) };
}

/**
 * A schema description from its message.
 * @throws DeviceApiFailure PEER_REJECTED naming the malformed field.
 */
export function schemaDescriptionFromWire(v: unknown, where: string): SchemaDescription {
  const m = msg(v, where);
  const version = uint(m['version'], `${where}.version`);
  if (version !== SCHEMA_DESCRIPTION_VERSION) return { version, groups: [], tables: [], counters: [] };
  return {
    version,
    groups: unique(list(m['groups'], `${where}.groups`).map((g, i) => groupFromWire(g, `${where}.groups[${i}]`)), (g) => g.name, `${where}.groups`),
    tables: unique(list(m['tables'], `${where}.tables`).map((t, i) => tableFromWire(t, `${where}.tables[${i}]`)), (t) => t.table, `${where}.tables`),
    counters: unique(list(m['counters'], `${where}.counters`).map((c, i) => counterFromWire(c, `${where}.counters[${i}]`)), (c) => c.counter, `${where}.counters`),
  };
}
