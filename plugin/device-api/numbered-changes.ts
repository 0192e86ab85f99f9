/**
 * The numbered delta digests of one migration (p4/README.md "Delta push"): the data plane numbers
 * every change of a tracked VM (`change`, from the tracker's changes register) and pushes the
 * slot's new content with it. Kept here: which numbers arrived and each slot's latest content.
 * The final delta can then be proven from what already arrived: after the freeze, a tracker read
 * gives the count N; when every number in [from, N) is here — `from` being the count at the flip
 * that closed the last installed round — each slot changed since holds its last content, and
 * nothing needs reading from the switch but the count. Any gap, an unknown bound or a count past
 * what fits here falls back to the change log (the caller's job).
 *
 * Numbers are 32-bit and wrap: each is unwrapped against the count at prepare into a plain
 * integer (at most 2^31 changes per migration, far beyond any pause).
 *
 * @example
 * const nc = new NumberedChanges({ tracker: 0, vmId: 7, group, base: t.changes });
 * digests$.subscribe((list) => nc.addList(list.entries));
 * const proven = nc.since(boundary, after.changes); // SlotRecord[] or a reason it cannot
 */
import type { SlotGroupSpec } from '../contract/index.js';
import type { SlotRecord } from '../state-access/index.js';

const MOD = 2 ** 32;
const HALF = 2 ** 31;

/** Options of NumberedChanges. */
export interface NumberedChangesOptions {
  readonly tracker: number;
  readonly vmId: number;
  readonly group: SlotGroupSpec;
  /** The tracker's changes count when tracking started (32-bit, as read). */
  readonly base: bigint;
  /** Numbers held at most; past it, everything held is dropped and proofs start again above. */
  readonly maxHeld?: number;
}

/** Default of `maxHeld`: 2^16 changes between two rounds (about 10 MB at most). */
export const DEFAULT_MAX_HELD_CHANGES = 65_536;

/** Why the numbered digests could not prove a range. */
export type UnprovenReason =
  | { readonly kind: 'missing'; readonly missing: number; readonly first: number }
  | { readonly kind: 'not-held'; readonly detail: string };

interface Latest {
  readonly n: number;
  readonly words: readonly bigint[];
}

/**
 * Orders records by slot. One function for the module, not a closure per call: a closure made
 * in the pause and called a few hundred times there earns an optimizing compile in every pause.
 */
const bySlotIndex = (a: SlotRecord, b: SlotRecord): number => a.index - b.index;

/** One migration's numbered changes: arrival set and latest content per slot. */
export class NumberedChanges {
  /** The count at prepare (32-bit): numbers unwrap against it. */
  private readonly base: number;
  private readonly tracker: bigint;
  private readonly vmId: bigint;
  /** Change number (unwrapped) → slot. */
  private readonly slotOf = new Map<number, number>();
  private readonly latest = new Map<number, Latest>();
  /** Numbers below this are not held (pruned, or dropped when over capacity). */
  private heldFrom: number;
  private readonly maxHeld: number;
  private waiters: (() => void)[] = [];
  /** The highest number that arrived (-1: none). */
  private top = -1;

  constructor(private readonly o: NumberedChangesOptions) {
    this.base = Number(BigInt.asUintN(32, o.base));
    this.tracker = BigInt(o.tracker);
    this.vmId = BigInt(o.vmId);
    this.heldFrom = this.base;
    this.maxHeld = o.maxHeld ?? DEFAULT_MAX_HELD_CHANGES;
  }

  /** A 32-bit count as read from the switch, unwrapped against the count at prepare; undefined if it is before it. */
  unwrap(count: bigint | number): number | undefined {
    const off = (Number(BigInt.asUintN(32, BigInt(count))) - this.base + MOD) % MOD;
    return off >= HALF ? undefined : this.base + off;
  }

  /** Takes the entries of one digest list; entries of other trackers or VMs, or unnumbered ones, are ignored. */
  addList(entries: readonly Readonly<Record<string, bigint>>[]): void {
    const d = this.o.group.delta;
    if (!d?.numbered) return;
    let added = false;
    for (const e of entries) {
      const change = e['change'];
      const slot = e[d.slotMember];
      if (change === undefined || slot === undefined || e['tracker'] !== this.tracker || e[d.vmMember] !== this.vmId) continue;
      const n = this.unwrap(change);
      if (n === undefined || n < this.heldFrom || this.slotOf.has(n)) continue;
      const s = Number(slot);
      this.slotOf.set(n, s);
      if (n > this.top) this.top = n;
      const before = this.latest.get(s);
      if (!before || before.n < n) this.latest.set(s, { n, words: d.wordMembers.map((w) => e[w] ?? 0n) });
      added = true;
    }
    if (this.slotOf.size > this.maxHeld) {
      // Over capacity: nothing held can prove a range any more; start again above what arrived.
      this.heldFrom = this.top + 1;
      this.slotOf.clear();
      this.latest.clear();
    }
    if (added) this.wake();
  }

  /** Forgets numbers below `count` (a round boundary no final delta will start before). */
  prune(count: number): void {
    if (count <= this.heldFrom) return;
    this.heldFrom = count;
    for (const n of this.slotOf.keys()) if (n < count) this.slotOf.delete(n);
    for (const [s, l] of this.latest) if (l.n < count) this.latest.delete(s);
  }

  /** Whether a change numbered `from` or later has arrived. */
  pendingFrom(from: number): boolean {
    return this.top >= from;
  }

  /**
   * The first number at or after `from` that has not arrived: every change in [from, result) is
   * here (the pause takes them before the freeze's count is known). `from` itself when it was
   * not kept.
   */
  arrivedUpTo(from: number): number {
    if (from < this.heldFrom) return from;
    let n = from;
    while (this.slotOf.has(n)) n++;
    return n;
  }

  /** Numbers held (for tests and logs). */
  get held(): number {
    return this.slotOf.size;
  }

  /**
   * The slots changed by numbers [from, to), each with its latest content — when every one of
   * those numbers arrived; else why not. `to` is the count read after the freeze; with `later`
   * it is only where a range taken early ends (pauseDelta), and a slot changed again past it comes
   * with that newer content (the range from `to` on carries the slot again).
   */
  since(from: number, to: number, later = false): SlotRecord[] | UnprovenReason {
    if (from < this.heldFrom) return { kind: 'not-held', detail: `changes from ${from} were not kept (held from ${this.heldFrom})` };
    if (to < from) return { kind: 'not-held', detail: `the count ${to} is below the round's start ${from}` };
    let missing = 0;
    let first = -1;
    const slots = new Set<number>();
    for (let n = from; n < to; n++) {
      const s = this.slotOf.get(n);
      if (s === undefined) {
        if (missing++ === 0) first = n;
      } else {
        slots.add(s);
      }
    }
    if (missing > 0) return { kind: 'missing', missing, first };
    const out: SlotRecord[] = [];
    let late: UnprovenReason | undefined;
    // forEach, not for-of: this runs in the pause, unoptimized, where for-of allocates per step.
    slots.forEach((s) => {
      const l = this.latest.get(s);
      if (!l || late) return;
      // `to` is the count after the freeze: nothing newer can exist unless it was read too early.
      if (l.n >= to && !later) late = { kind: 'not-held', detail: `change ${l.n} of slot ${s} is past the count ${to}: the count was read before the last change` };
      else out.push({ index: s, words: l.words });
    });
    if (late) return late;
    out.sort(bySlotIndex);
    return out;
  }

  /** Resolves at the next arrival of a held number (or never, if none comes: race it with a timer). */
  arrival(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
