/**
 * Flow control for the delta stream. A push Observable cannot be paused, so while the gRPC stream
 * is not writable (the reader is slower than the source) the batches waiting for it are merged
 * flow by flow into one: the newest record of each flow wins, a flow that ended is a removal. What
 * waits is therefore bounded by the VM's flows, not by how long the reader lags, and nothing is
 * lost — the merged batch covers every sequence of the batches it replaced.
 */
import type { StateBatch } from '../device-api/device-api.js';

type Fields = Readonly<Record<string, bigint>>;

/** A flow's key as one string (the key fields, in order). */
const keyOf = (keyFields: readonly string[], f: Fields): string => keyFields.map((k) => String(f[k] ?? 0n)).join('/');

/**
 * `b` applied on top of `a` (b came later): slots by flow key, the later record winning; a flow
 * `b` removes leaves the slots and joins the removals; covers a's first to b's last sequence.
 */
export function mergeBatches(keyFields: readonly string[], a: StateBatch, b: StateBatch): StateBatch {
  const slots = new Map(a.slots.map((s) => [keyOf(keyFields, s.fields), s]));
  const removed = new Map(a.removed.map((k) => [keyOf(keyFields, k), k]));
  for (const k of b.removed) {
    const key = keyOf(keyFields, k);
    slots.delete(key);
    removed.set(key, k);
  }
  // A flow removed earlier and present again stays in `removed` too: the destination clears the
  // old placement first, then installs the new record (removals are applied before slots).
  for (const s of b.slots) slots.set(keyOf(keyFields, s.fields), s);
  const counters = b.counters ?? a.counters;
  const clock = b.clock ?? a.clock;
  const source = b.source ?? a.source;
  return {
    migrationId: b.migrationId,
    ...(source !== undefined ? { source } : {}),
    round: b.round,
    slots: [...slots.values()],
    removed: [...removed.values()],
    coversSeq: { from: a.coversSeq.from < b.coversSeq.from ? a.coversSeq.from : b.coversSeq.from, to: a.coversSeq.to > b.coversSeq.to ? a.coversSeq.to : b.coversSeq.to },
    ...(counters ? { counters } : {}),
    ...(clock !== undefined ? { clock } : {}),
  };
}

/** Where a writer stands: how many batches it merged while the reader lagged. */
export interface CoalescerStats {
  readonly written: number;
  readonly merged: number;
}

/**
 * Writes batches to a sink that reports backpressure (`write` returns false until `drain`):
 * at most one merged batch waits here.
 */
export class DeltaCoalescer {
  private waiting: StateBatch | undefined;
  private blocked = false;
  private written = 0;
  private merged = 0;

  constructor(
    private readonly keyFields: readonly string[],
    private readonly write: (b: StateBatch) => boolean,
  ) {}

  /** Sends `b` now, or merges it into what waits for the reader. */
  push(b: StateBatch): void {
    if (this.blocked) {
      if (this.waiting) this.merged++;
      this.waiting = this.waiting ? mergeBatches(this.keyFields, this.waiting, b) : b;
      return;
    }
    this.send(b);
  }

  /** The sink drained: send what waited. */
  drain(): void {
    this.blocked = false;
    const w = this.waiting;
    this.waiting = undefined;
    if (w) this.send(w);
  }

  /** Whether a batch waits for the reader (flush it with drain before ending the stream). */
  get pending(): boolean {
    return this.waiting !== undefined;
  }

  get stats(): CoalescerStats {
    return { written: this.written, merged: this.merged };
  }

  private send(b: StateBatch): void {
    this.written++;
    if (!this.write(b)) this.blocked = true;
  }
}
