/**
 * P4Runtime entities as this library's callers write and read them, by P4Info name with bigint
 * values (entity-codec.ts builds and decodes them).
 */
import type { MatchInput, MatchValue, ValueInput } from '../codec/index.js';

/** A counter pair as read and written. */
export interface CounterValue {
  readonly bytes: bigint;
  readonly packets: bigint;
}

/** A duration: nanoseconds as bigint/number, or text with a unit (`'30s'`, `'250ms'`, `'2m'`, `'1h'`, `'500us'`, `'10ns'`). */
export type DurationInput = bigint | number | string;

/** A table entry as callers write it, by name. */
export interface TableEntrySpec {
  /** Key fields by P4Info name (full or unique suffix); non-exact fields may be left out (don't care). */
  readonly match?: Readonly<Record<string, MatchInput>>;
  /** Action by name or alias; required for INSERT/MODIFY, ignored for DELETE. */
  readonly action?: string;
  readonly params?: Readonly<Record<string, ValueInput>>;
  /** Required (> 0) when the table has ternary, range or optional keys. */
  readonly priority?: number;
  readonly idleTimeout?: DurationInput;
  readonly counterData?: Partial<CounterValue>;
  /** Opaque controller cookie stored with the entry (TableEntry.metadata). */
  readonly metadata?: Uint8Array | string;
}

/** A table entry read back (or reported idle), by name. */
export interface TableEntryRead {
  readonly kind: 'table';
  /** The table's full P4Info name. */
  readonly table: string;
  readonly match: Readonly<Record<string, MatchValue>>;
  /** The action's full name; undefined when the entry uses an action profile. */
  readonly action: string | undefined;
  readonly params: Readonly<Record<string, bigint>>;
  readonly priority: number;
  readonly isDefault: boolean;
  readonly idleTimeoutNs: bigint;
  /** Time since the entry was last hit, when asked for and the entry has a timeout. */
  readonly elapsedNs?: bigint;
  readonly counter?: CounterValue;
  readonly metadata?: Uint8Array;
}

/** One register cell read back. */
export interface RegisterCell {
  readonly kind: 'register';
  readonly register: string;
  readonly index: number;
  readonly value: bigint;
}

/** One indirect counter cell read back. */
export interface CounterCell {
  readonly kind: 'counter';
  readonly counter: string;
  readonly index: number;
  readonly bytes: bigint;
  readonly packets: bigint;
}

/** The direct counter of one table entry read back. */
export interface DirectCounterCell {
  readonly kind: 'directCounter';
  readonly table: string;
  readonly match: Readonly<Record<string, MatchValue>>;
  readonly priority: number;
  readonly bytes: bigint;
  readonly packets: bigint;
}

/** A digest configuration read back. */
export interface DigestConfigRead {
  readonly kind: 'digest';
  readonly digest: string;
  readonly maxTimeoutNs: bigint;
  readonly maxListSize: number;
  readonly ackTimeoutNs: bigint;
}

/** Any decoded entity. */
export type EntityRead = TableEntryRead | RegisterCell | CounterCell | DirectCounterCell | DigestConfigRead;

/** A digest configuration as written. */
export interface DigestConfigSpec {
  readonly maxTimeoutNs?: DurationInput;
  readonly maxListSize?: number;
  readonly ackTimeoutNs?: DurationInput;
}
