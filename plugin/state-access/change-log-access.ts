/**
 * What both backends share about change logs and conditional slot ops (p4/README.md "Change
 * logs", "Conditional slot ops"): the result shapes, range checks, which ring cells hold a span
 * of log positions, and the decoding of entries — an entry whose seq is not the one expected was
 * overwritten by a later lap of the ring, which is how an overflow shows.
 */
import type { ChangeLogSpec, SlotGroupSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';

/** One tracker: its epoch, entries ever appended (head), and where the current round began. */
export interface TrackerState {
  readonly tracker: number;
  readonly epoch: bigint;
  readonly head: bigint;
  readonly start: bigint;
  /**
   * Changes the tracker's VM ever made (mod 2^32), read in the same step as the head, or earlier —
   * never later: every change after the head was read has a number at or above it. Undefined when
   * the contract declares no changes register.
   */
  readonly changes: bigint | undefined;
  /**
   * The data plane's clock when it answered (the `@migrate_clock` unit), where the read went
   * in-band and the answer carries its time: the final delta rebases by it, no clock read of its own.
   */
  readonly clock?: bigint;
}

/** One log entry: the slot changed, at log position `seq`. */
export interface ChangeLogEntry {
  readonly seq: bigint;
  readonly slot: number;
}

/** The entries of one tracker's log between two positions. */
export interface ChangedSlots {
  readonly tracker: number;
  /** Positions covered: [from, to) — `from` is later than asked when the ring overflowed. */
  readonly from: bigint;
  readonly to: bigint;
  readonly entries: readonly ChangeLogEntry[];
  /** Distinct slots, ascending. */
  readonly slots: readonly number[];
  /** Entries between the asked start and `from` were overwritten: the caller must rescan the VM. */
  readonly overflow: boolean;
}

/** A conditional op's result for one slot. */
export interface ConditionalOutcome {
  readonly index: number;
  /** Written (WRITE_IF) or cleared (CLEAR_IF). */
  readonly applied: boolean;
  /** WRITE_IF: the slot as it now is. CLEAR_IF: what it held (before a clear, or as found). */
  readonly words: readonly bigint[];
}

const MOD = 1n << 32n;

/** The group's change logs, or CONTRACT_MISSING. */
export function changeLogOf(group: SlotGroupSpec): ChangeLogSpec {
  const c = group.changeLog;
  if (!c) throw new EdgePluginError('CONTRACT_MISSING', `slot group '${group.name}' has no change logs; declare them with @migrate_changelog("${group.name}", "head", "round", "mark") (p4/README.md "Change logs")`, { annotation: '@migrate_changelog' });
  return c;
}

/** Checks a tracker id against the contract's number of trackers. */
export function checkTracker(c: ChangeLogSpec, tracker: number): void {
  if (!Number.isInteger(tracker) || tracker < 0 || tracker >= c.trackers) {
    throw new EdgePluginError('VALUE_RANGE', `tracker ${String(tracker)} is outside 0..${c.trackers - 1}: the data plane has ${c.trackers} change-log trackers (capabilities().trackers)`);
  }
}

/** Checks a 32-bit log position or epoch given by a caller. */
export function checkPosition(v: bigint, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v >= MOD) throw new EdgePluginError('VALUE_RANGE', `${what} = ${String(v)} is not a 32-bit log position; pass a value a tracker read returned`);
  return v;
}

/** Tracker state from the answer words of TRK_READ / TRK_FLIP (epoch, head, start, and changes when `c` counts them). */
export function trackerState(c: ChangeLogSpec, tracker: number, words: readonly bigint[]): TrackerState {
  return { tracker, epoch: words[0] ?? 0n, head: words[1] ?? 0n, start: words[2] ?? 0n, changes: c.changesRegister === undefined ? undefined : (words[3] ?? 0n) };
}

/** The positions to read for [since, upTo): clipped to the ring when it overflowed. */
export function logSpan(c: ChangeLogSpec, since: bigint, upTo: bigint): { from: bigint; count: number; overflow: boolean } {
  const ahead = (upTo - since + MOD) % MOD;
  if (ahead >= MOD / 2n) throw new EdgePluginError('VALUE_RANGE', `log position ${since} is past ${upTo}; pass the position a previous read returned (to), not a later one`);
  if (ahead > BigInt(c.logSize)) return { from: (upTo - BigInt(c.logSize) + MOD) % MOD, count: c.logSize, overflow: true };
  return { from: since, count: Number(ahead), overflow: false };
}

/** The log register cell holding position `seq` of `tracker`. */
export function logCell(c: ChangeLogSpec, tracker: number, seq: bigint): number {
  return tracker * c.logSize + Number(seq % BigInt(c.logSize));
}

/** Decodes `cells` read for positions from, from+1, …; an entry of another lap means overflow. */
export function decodeEntries(tracker: number, from: bigint, to: bigint, cells: readonly bigint[], overflowed: boolean): ChangedSlots {
  const entries: ChangeLogEntry[] = [];
  let overflow = overflowed;
  cells.forEach((cell, k) => {
    const seq = (from + BigInt(k)) % MOD;
    if (cell >> 32n !== seq) overflow = true;
    else entries.push({ seq, slot: Number(cell & 0xffffffffn) });
  });
  const slots = [...new Set(entries.map((e) => e.slot))].sort((a, b) => a - b);
  return { tracker, from, to, entries, slots, overflow };
}

/** The STATE_CONFLICT of a tracker flip that found the epoch neither at `from` nor at `from + 1`. */
export function trackerConflict(tracker: number, from: bigint, now: bigint): EdgePluginError {
  return new EdgePluginError('STATE_CONFLICT', `flip of tracker ${tracker} from epoch ${from}: the epoch is ${now}, neither ${from} nor the flipped value; another controller moved it — read the tracker again`);
}

/** The words a conditional op compares as the key: those holding key fields. */
export function conditionalWords(group: SlotGroupSpec): { key: number[] } {
  return { key: [...new Set(group.key.map((k) => k.word))].sort((a, b) => a - b) };
}
