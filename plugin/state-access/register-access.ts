/**
 * One interface to a slot group's registers, whatever the target offers: P4Runtime
 * `RegisterEntry` reads and MODIFY writes where the target has them, in-band requests through the
 * pipeline (PacketOut/PacketIn) where it does not (BMv2). Callers never see which one they got,
 * except through `capabilities()`; both return the same values for the same switch state.
 * Counters are P4Runtime entities on every target (BMv2 reads and writes them), so both backends
 * read them the same way.
 */
import type { SlotGroupSpec } from '../contract/index.js';
import { fieldValue } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';

/** The backends. */
export type RegisterBackendKind = 'p4runtime' | 'inband';

/** A run of consecutive slot (or dirty word) indices. */
export interface IndexRange {
  readonly start: number;
  readonly count: number;
}

/** Which slots to read: every slot, ranges of indices, or a list of indices. */
export type SlotSelection = 'all' | { readonly ranges: readonly IndexRange[] } | { readonly indices: readonly number[] };

/** Which dirty words to read: one buffer of the bitmap, or a list of word indices. */
export type DirtySelection = { readonly buffer: 0 | 1 } | { readonly indices: readonly number[] };

/** Filters of a slot read, applied by the backend (the P4Runtime one reads the filter's words first). */
export interface ReadSlotsOptions {
  /** Only slots whose valid field is non-zero. */
  readonly occupiedOnly?: boolean;
  /** Only slots whose fields equal these values (by @migrate_layout field name). */
  readonly where?: Readonly<Record<string, bigint | number>>;
}

/** One slot as read: its index and its words in group order. */
export interface SlotRecord {
  readonly index: number;
  readonly words: readonly bigint[];
}

/** A write of one slot: `mask` bit n set = write word n (default: every word). */
export interface SlotWrite {
  readonly index: number;
  readonly words: readonly bigint[];
  readonly mask?: number;
}

/** One dirty-bitmap word. */
export interface DirtyWord {
  readonly index: number;
  readonly value: bigint;
}

/** A counter cell. */
export interface CounterReading {
  /** Counter alias. */
  readonly counter: string;
  readonly index: number;
  readonly bytes: bigint;
  readonly packets: bigint;
}

/** What a backend reports about itself. */
export interface RegisterAccessCapabilities {
  readonly backend: RegisterBackendKind;
  /** Why this backend was chosen (probe outcome or configuration). */
  readonly reason: string;
  readonly group: string;
  readonly slots: number;
  /** In-band only: requests in flight at most. */
  readonly window?: number;
}

/** Counts of what a backend did (in-band: requests, retries, lost and stray answers). */
export interface RegisterAccessStats {
  readonly requests: number;
  readonly retries: number;
  readonly timeouts: number;
  /** Answers for requests already answered (duplicates, or late answers of a retried request). */
  readonly duplicateAnswers: number;
  /** Answers whose id matches no request of ours. */
  readonly strayAnswers: number;
  readonly maxInFlight: number;
  readonly inFlight: number;
}

/** Reads and writes one slot group's state. */
export interface RegisterAccess {
  readonly group: SlotGroupSpec;
  capabilities(): RegisterAccessCapabilities;
  stats(): RegisterAccessStats;
  /** Reads slots, sorted by index; with options, only those that pass the filters. */
  readSlots(selection: SlotSelection, options?: ReadSlotsOptions): Promise<SlotRecord[]>;
  /** Writes slots (only the masked words of each). */
  writeSlots(writes: readonly SlotWrite[]): Promise<void>;
  /** Reads dirty-bitmap words, sorted by index; `nonZeroOnly` drops empty words. */
  readDirtyWords(selection: DirtySelection, options?: { readonly nonZeroOnly?: boolean }): Promise<DirtyWord[]>;
  /**
   * Reads and zeroes dirty words; returns what each held. In-band: READ_DIRTY then CLEAR_DIRTY,
   * OR-ed, so a lost CLEAR answer loses only bits set between the two (none once frozen).
   * P4Runtime: read, then MODIFY to 0 — not atomic, so clear a buffer only after flipping away from it.
   */
  clearDirtyWords(indices: readonly number[]): Promise<DirtyWord[]>;
  readEpoch(): Promise<bigint>;
  /** Increments the epoch exactly once (never twice, even when an answer is lost); returns the new value. */
  flipEpoch(): Promise<bigint>;
  /** One indirect counter cell (over P4Runtime on every target). */
  readCounter(counter: string, index: number): Promise<CounterReading>;
  /** Stops: pending requests reject with CLOSED. Idempotent. */
  close(): void;
}

/** The indices a selection names, or undefined for 'all'; validated against the index space. */
export function selectionIndices(selection: SlotSelection | DirtySelection, size: number, what: string, bufferWords = 0): number[] | undefined {
  const check = (i: number): number => {
    if (!Number.isSafeInteger(i) || i < 0 || i >= size) {
      throw new EdgePluginError('VALUE_RANGE', `${what}: index ${String(i)} is outside 0..${size - 1}`);
    }
    return i;
  };
  if (selection === 'all') return undefined;
  if ('buffer' in selection) {
    if (selection.buffer !== 0 && selection.buffer !== 1) throw new EdgePluginError('VALUE_RANGE', `${what}: buffer ${String(selection.buffer)} must be 0 or 1`);
    return Array.from({ length: bufferWords }, (_, i) => selection.buffer * bufferWords + i);
  }
  if ('indices' in selection) return [...new Set(selection.indices.map(check))].sort((a, b) => a - b);
  const out = new Set<number>();
  for (const r of selection.ranges) {
    if (!Number.isSafeInteger(r.count) || r.count < 0) throw new EdgePluginError('VALUE_RANGE', `${what}: range count ${String(r.count)} must be a non-negative integer`);
    if (r.count === 0) continue;
    check(r.start);
    check(r.start + r.count - 1);
    for (let i = r.start; i < r.start + r.count; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** A compiled slot filter: the words it needs and the test itself. */
export interface SlotFilter {
  /** Word indices the filter reads (empty: no filter). */
  readonly words: readonly number[];
  matches(words: readonly bigint[]): boolean;
}

/** Compiles ReadSlotsOptions against a group; unknown fields are a VALUE_RANGE error. */
export function compileSlotFilter(group: SlotGroupSpec, options: ReadSlotsOptions | undefined): SlotFilter {
  const tests: { readonly ref: SlotGroupSpec['valid']; readonly value: bigint | undefined }[] = [];
  if (options?.occupiedOnly) tests.push({ ref: group.valid, value: undefined });
  for (const [name, v] of Object.entries(options?.where ?? {})) {
    const ref = group.fields.get(name);
    if (!ref) throw new EdgePluginError('VALUE_RANGE', `slot filter: slot group '${group.name}' has no field '${name}' (fields: ${group.fieldNames.join(', ')})`);
    tests.push({ ref, value: BigInt(v) });
  }
  return {
    words: [...new Set(tests.map((t) => t.ref.word))].sort((a, b) => a - b),
    // value undefined = "non-zero" (the valid test), else equality.
    matches: (words) => tests.every((t) => (t.value === undefined ? fieldValue(words, t.ref) !== 0n : fieldValue(words, t.ref) === t.value)),
  };
}
