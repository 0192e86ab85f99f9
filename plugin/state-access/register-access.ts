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
import type { ChangedSlots, ConditionalOutcome, TrackerState } from './change-log-access.js';

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
  /** Migrations the data plane can track at once (change-log trackers; 0 without change logs). */
  readonly trackers: number;
  /** How conditional slot ops and the clock read are served: in the pipeline (in-band) or read-compare-write. */
  readonly conditional: 'inband' | 'read-compare-write';
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
  /**
   * Target operations, the unit of the complexity bounds (p4/README.md "Change logs"): in-band,
   * request packets sent (retries included); over P4Runtime, register cells read and written
   * (a wildcard read of a register counts every cell), plus any in-band requests it made.
   */
  readonly targetOps: number;
}

/** Reads and writes one slot group's state. */
export interface RegisterAccess {
  readonly group: SlotGroupSpec;
  capabilities(): RegisterAccessCapabilities;
  stats(): RegisterAccessStats;
  /** Reads slots, sorted by index; with options, only those that pass the filters. */
  readSlots(selection: SlotSelection, options?: ReadSlotsOptions): Promise<SlotRecord[]>;
  /** Writes slots (only the masked words of each); a slot named twice in one call is refused (VALUE_RANGE). */
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
  /**
   * Flips the epoch from `from` (the value the caller read) to `from + 1` (mod 2^bits), and
   * returns the new value. Conditional, so a caller may retry after a timeout: if the epoch already
   * holds `from + 1` (the earlier call's flip landed) it is left alone; any other value rejects with
   * STATE_CONFLICT and changes nothing. Neither backend has an atomic compare-and-set (see each
   * backend): the guarantee assumes one controller flips a device's epoch at a time.
   */
  flipEpoch(from: bigint): Promise<bigint>;
  /** A tracker's epoch, head and round start (p4/README.md "Change logs"). */
  readTracker(tracker: number): Promise<TrackerState>;
  /**
   * Starts a new round of `tracker` from epoch `from` (conditional and idempotent like flipEpoch):
   * epoch + 1, start = the head at the flip. Returns the state after the flip; `start` is where
   * the next readChangedSlots stops.
   */
  flipTracker(tracker: number, from: bigint): Promise<TrackerState>;
  /**
   * The slots logged by `tracker` at positions [since, upTo) — upTo defaults to the head, read
   * with one op. Costs O(entries): nothing proportional to the table. `overflow` when entries
   * were overwritten (more than the ring holds since `since`): fall back to a per-VM read.
   */
  readChangedSlots(tracker: number, since: bigint, upTo?: bigint): Promise<ChangedSlots>;
  /**
   * Writes each slot only if it is empty or holds the same key (the key words of `words`), in
   * one pass of the pipeline; answers each slot's content and whether it was written. Idempotent:
   * a retry finds its own key and writes the same words.
   */
  writeSlotsIf(writes: readonly SlotWrite[]): Promise<ConditionalOutcome[]>;
  /**
   * Clears each slot only if it still holds the key and the VM of `words`; answers what it held.
   * A retry finds the slot empty (applied false, empty words): nothing else is ever cleared.
   */
  clearSlotsIf(clears: readonly SlotWrite[]): Promise<ConditionalOutcome[]>;
  /** The data-plane clock, in the unit of the group's @migrate_clock field. */
  readClock(): Promise<bigint>;
  /**
   * The data-plane clock now, carried forward from the last answer that carried it if that is at
   * most `maxAgeMs` old (clock-estimate.ts); undefined when there is none — then readClock.
   */
  estimateClock?(maxAgeMs: number): bigint | undefined;
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
  if ('indices' in selection) return ascendingUnique(selection.indices.map(check));
  const out: number[] = [];
  for (const r of selection.ranges) {
    if (!Number.isSafeInteger(r.count) || r.count < 0) throw new EdgePluginError('VALUE_RANGE', `${what}: range count ${String(r.count)} must be a non-negative integer`);
    if (r.count === 0) continue;
    check(r.start);
    check(r.start + r.count - 1);
    for (let i = r.start; i < r.start + r.count; i++) out.push(i);
  }
  return ascendingUnique(out);
}

/** Sorts and de-duplicates in place, skipping the sort when the list is already strictly ascending (the usual case). */
function ascendingUnique(xs: number[]): number[] {
  let sorted = true;
  for (let i = 1; i < xs.length && sorted; i++) sorted = (xs[i] as number) > (xs[i - 1] as number);
  if (sorted) return xs;
  xs.sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (i === 0 || xs[i] !== xs[n - 1]) xs[n++] = xs[i] as number;
  xs.length = n;
  return xs;
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

/** The epoch after `from` and a check that `from` fits the epoch register; shared by both backends. */
export function epochAfter(from: bigint, bits: number, register: string): bigint {
  const modulus = 1n << BigInt(bits);
  if (typeof from !== 'bigint' || from < 0n || from >= modulus) {
    throw new EdgePluginError('VALUE_RANGE', `flip of epoch register '${register}': from = ${String(from)} is not a ${bits}-bit value; pass the epoch you read (readEpoch())`);
  }
  return (from + 1n) % modulus;
}

/** The STATE_CONFLICT of a conditional flip that found the epoch neither at `from` nor at `from + 1`. */
export function epochConflict(register: string, from: bigint, now: bigint): EdgePluginError {
  return new EdgePluginError(
    'STATE_CONFLICT',
    `flip of epoch register '${register}' from ${from}: the epoch is ${now}, neither ${from} nor the flipped value; another controller moved it — read the epoch again and decide whether to flip from ${now}`,
  );
}
