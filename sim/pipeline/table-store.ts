/**
 * One P4 table's entries: identity by (match, priority) as the spec defines it, and the data-plane
 * lookup (exact by hash; LPM by longest prefix; ternary/range/optional by highest priority).
 */
import type { TableInfo } from './p4info-index.js';

/** A validated match on one field, in canonical numeric form. */
export type FieldMatchValue =
  | { readonly kind: 'EXACT'; readonly value: bigint }
  /** `mask` is derived from prefixLen and the field width, for matching. */
  | { readonly kind: 'LPM'; readonly value: bigint; readonly prefixLen: number; readonly mask: bigint }
  | { readonly kind: 'TERNARY'; readonly value: bigint; readonly mask: bigint }
  | { readonly kind: 'RANGE'; readonly low: bigint; readonly high: bigint }
  | { readonly kind: 'OPTIONAL'; readonly value: bigint };

/** An action with its parameter values, in the P4Info's parameter order. */
export interface ActionCall {
  readonly actionId: number;
  readonly params: readonly bigint[];
}

/** A packets-and-bytes counter cell. */
export interface CounterCell {
  bytes: bigint;
  packets: bigint;
}

/** One installed entry. Mutable fields change on MODIFY and on data-plane hits. */
export interface TableEntryState {
  readonly key: string;
  /** One slot per P4Info match field, in P4Info order; null = don't care (omitted in the request). */
  readonly match: readonly (FieldMatchValue | null)[];
  readonly priority: number;
  action: ActionCall | null;
  counter: CounterCell | null;
  idleTimeoutNs: bigint;
  /** Scheduler time (ms) of the last data-plane hit, or of insertion: what time_since_last_hit reports. */
  lastHitMs: number;
  /** Start of the idle-notification timer: the last hit, insertion, or the last notification (spec: reset after notifying). */
  idleSinceMs: number;
  metadata: Uint8Array;
  controllerMetadata: bigint;
  readonly seq: number;
}

/** The table's default entry: always present, never inserted or deleted. */
export interface DefaultEntryState {
  action: ActionCall | null;
  readonly initial: ActionCall | null;
  counter: CounterCell | null;
  metadata: Uint8Array;
  controllerMetadata: bigint;
}

/** The identity of an entry: its match and priority as one string. */
export function entryKey(match: readonly (FieldMatchValue | null)[], priority: number): string {
  let s = '';
  for (const m of match) {
    if (m === null) s += '*,';
    else if (m.kind === 'EXACT' || m.kind === 'OPTIONAL') s += `${m.value.toString(16)},`;
    else if (m.kind === 'LPM') s += `${m.value.toString(16)}/${m.prefixLen},`;
    else if (m.kind === 'TERNARY') s += `${m.value.toString(16)}&${m.mask.toString(16)},`;
    else s += `${m.low.toString(16)}-${m.high.toString(16)},`;
  }
  return `${s}#${priority}`;
}

/** The entries of one table plus its default entry. */
export class TableStore {
  private readonly byKey = new Map<string, TableEntryState>();
  /** Entries with a non-zero idle timeout, for the idle scanner. */
  readonly timed = new Set<TableEntryState>();
  readonly defaultEntry: DefaultEntryState;
  private seq = 0;

  constructor(
    readonly info: TableInfo,
    initialDefault: ActionCall | null,
  ) {
    this.defaultEntry = {
      action: initialDefault,
      initial: initialDefault,
      counter: info.directCounterId !== 0 ? { bytes: 0n, packets: 0n } : null,
      metadata: new Uint8Array(),
      controllerMetadata: 0n,
    };
  }

  /** Number of (non-default) entries. */
  get size(): number {
    return this.byKey.size;
  }

  /** Next insertion sequence number (ties between equal priorities go to the oldest entry). */
  nextSeq(): number {
    return this.seq++;
  }

  get(key: string): TableEntryState | undefined {
    return this.byKey.get(key);
  }

  /** Adds an entry whose key is not present (callers check). */
  add(entry: TableEntryState): void {
    this.byKey.set(entry.key, entry);
    if (entry.idleTimeoutNs > 0n) this.timed.add(entry);
  }

  /** Removes an entry by key and returns it. */
  remove(key: string): TableEntryState | undefined {
    const e = this.byKey.get(key);
    if (e) {
      this.byKey.delete(key);
      this.timed.delete(e);
    }
    return e;
  }

  /** Keeps the idle-timer set in step after `idleTimeoutNs` changed. */
  retime(entry: TableEntryState): void {
    if (entry.idleTimeoutNs > 0n && this.byKey.get(entry.key) === entry) this.timed.add(entry);
    else this.timed.delete(entry);
  }

  /** Entries in insertion order. */
  entries(): IterableIterator<TableEntryState> {
    return this.byKey.values();
  }

  /** Removes every entry (the default entry keeps its current action). */
  clear(): void {
    this.byKey.clear();
    this.timed.clear();
  }

  /** The entry a packet with these field values (P4Info order) hits, or null (default action). */
  lookup(values: readonly bigint[]): TableEntryState | null {
    if (this.info.exactOnly) {
      let s = '';
      for (const v of values) s += `${v.toString(16)},`;
      return this.byKey.get(`${s}#0`) ?? null;
    }
    let best: TableEntryState | null = null;
    let bestRank = -1;
    for (const e of this.byKey.values()) {
      if (!matches(e.match, values)) continue;
      const rank = this.info.needsPriority ? e.priority : prefixOf(e.match);
      if (rank > bestRank || (rank === bestRank && best !== null && e.seq < best.seq)) {
        best = e;
        bestRank = rank;
      }
    }
    return best;
  }
}

function prefixOf(match: readonly (FieldMatchValue | null)[]): number {
  for (const m of match) if (m?.kind === 'LPM') return m.prefixLen;
  return 0;
}

function matches(match: readonly (FieldMatchValue | null)[], values: readonly bigint[]): boolean {
  for (let i = 0; i < match.length; i++) {
    const m = match[i];
    if (m === null || m === undefined) continue;
    const v = values[i] ?? 0n;
    switch (m.kind) {
      case 'EXACT':
      case 'OPTIONAL':
        if (v !== m.value) return false;
        break;
      case 'TERNARY':
      case 'LPM':
        if ((v & m.mask) !== m.value) return false;
        break;
      case 'RANGE':
        if (v < m.low || v > m.high) return false;
        break;
    }
  }
  return true;
}
