/**
 * A device's migration schema in comparable form (capability negotiation, issue 14): per slot
 * group its size, placement (hash regions, ways), clock unit and every field's name, width and
 * register; per migratable table its key; per per-VM counter its size. Fingerprints say only
 * "equal or not"; this says what differs, so a coordinator can tell a difference the destination
 * translates (a larger table, other hashes, a wider field) from one that would lose state.
 */
import type { MigrationContract } from '../contract/index.js';

/** The version of this description's shape; a peer with another version is compared by fingerprints only. */
export const SCHEMA_DESCRIPTION_VERSION = 1;

/** One hash choice of a slot group: `algorithm` picks a bucket in [base, base + size). */
export interface HashRegion {
  readonly algorithm: string;
  readonly base: number;
  readonly size: number;
}

/** One field of a slot: name, width, and the register holding it. */
export interface SchemaField {
  readonly name: string;
  readonly bits: number;
  readonly register: string;
}

/** One slot group as negotiation compares it. */
export interface SlotGroupSchema {
  readonly name: string;
  readonly slots: number;
  readonly ways: number;
  /** Hash choices in probe order. */
  readonly hashes: readonly HashRegion[];
  /** The flow key in hash-input order. */
  readonly keyFields: readonly { readonly name: string; readonly bits: number }[];
  /** Every field, in word order. */
  readonly fields: readonly SchemaField[];
  /** The field that is non-zero in an occupied slot. */
  readonly validField: string;
  /** The field holding the VM's switch-local id (rewritten at the destination). */
  readonly vmField: string;
  /** The timestamp field and its unit (rebased at the destination), if the group has one. */
  readonly clock?: { readonly field: string; readonly unit: string };
}

/** One migratable table as negotiation compares it. */
export interface TableSchema {
  readonly table: string;
  readonly vmKeyField: string;
  readonly keyFields: readonly { readonly name: string; readonly bits: number; readonly matchType: string }[];
  readonly idleTimeout: boolean;
  readonly directCounter: boolean;
}

/** One per-VM counter as negotiation compares it. */
export interface CounterSchema {
  readonly counter: string;
  /** Cells: VM ids below this are counted. */
  readonly size: number;
  /** 'packets', 'bytes' or 'both' (P4Info unit). */
  readonly unit: string;
}

/** A device's schema, versioned. */
export interface SchemaDescription {
  readonly version: number;
  readonly groups: readonly SlotGroupSchema[];
  readonly tables: readonly TableSchema[];
  readonly counters: readonly CounterSchema[];
}

/** The comparable schema of a migration contract. */
export function describeSchema(c: MigrationContract): SchemaDescription {
  return {
    version: SCHEMA_DESCRIPTION_VERSION,
    groups: c.groups.map((g) => ({
      name: g.name,
      slots: g.slots,
      ways: g.placement.ways,
      hashes: g.placement.choices.map((h) => ({ algorithm: h.algo, base: h.base, size: h.max })),
      keyFields: g.placement.keyFields.map((k) => ({ name: k.name, bits: k.bits })),
      fields: g.words.flatMap((w) => w.fields.map((f) => ({ name: f.name, bits: f.bits, register: w.register }))),
      validField: g.valid.name,
      vmField: g.vm.name,
      ...(g.clock ? { clock: { field: g.clock.field.name, unit: g.clock.unit } } : {}),
    })),
    tables: c.tables.map((t) => ({
      table: t.table,
      vmKeyField: t.vmKeyField,
      keyFields: t.keyFields.map((k) => ({ name: k.name, bits: k.bits, matchType: k.matchType })),
      idleTimeout: t.idleTimeout,
      directCounter: t.directCounter !== undefined,
    })),
    counters: c.counters.map((k) => ({ counter: k.counter, size: k.size, unit: k.unit })),
  };
}
