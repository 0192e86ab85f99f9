/**
 * The completeness proof: per source device, the data plane's change-log sequence ranges that
 * reached the destinations. Every batch covers [from, to); starting at the snapshot's mark, the
 * ranges must chain without a gap up to the final batch taken after the freeze. A gap is a change
 * made before the freeze that the destination never got.
 */

/** A range of sequence numbers not accounted for. */
export interface SeqGap {
  readonly source: string;
  readonly from: bigint;
  readonly to: bigint;
}

/** Sequence ranges received, per source. */
export class SeqLedger {
  private readonly ranges = new Map<string, { start: bigint; end: bigint; covered: [bigint, bigint][] }>();

  /** The snapshot's starting mark at `source`. */
  start(source: string, from: bigint): void {
    this.ranges.set(source, { start: from, end: from, covered: [] });
  }

  /** A batch from `source` covering [from, to) reached every destination. */
  record(source: string, r: { readonly from: bigint; readonly to: bigint }): void {
    const e = this.ranges.get(source) ?? { start: r.from, end: r.from, covered: [] };
    if (r.to > r.from) e.covered.push([r.from, r.to]);
    // Even an empty batch says where the log stood: everything before its start must be covered.
    if (r.from > e.end) e.end = r.from;
    if (r.to > e.end) e.end = r.to;
    this.ranges.set(source, e);
  }

  /** The first sequence of `source` not covered contiguously from its start mark. */
  mark(source: string): bigint {
    const e = this.ranges.get(source);
    if (!e) return 0n;
    let at = e.start;
    for (const [from, to] of [...e.covered].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) if (from <= at && to > at) at = to;
    return at;
  }

  /** The gaps there would be with [from, to) of `source` recorded too; nothing is recorded. */
  gapsWith(source: string, r: { readonly from: bigint; readonly to: bigint }): SeqGap[] {
    const copy = new SeqLedger();
    for (const [s, e] of this.ranges) copy.ranges.set(s, { start: e.start, end: e.end, covered: [...e.covered] });
    copy.record(source, r);
    return copy.gaps();
  }

  /** Every gap between the start mark and the furthest position any batch reported, per source. */
  gaps(): SeqGap[] {
    const out: SeqGap[] = [];
    for (const [source, e] of this.ranges) {
      const sorted = [...e.covered].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      let at = e.start;
      for (const [from, to] of sorted) {
        if (from > at) out.push({ source, from: at, to: from });
        if (to > at) at = to;
      }
      if (e.end > at) out.push({ source, from: at, to: e.end });
    }
    return out;
  }
}
