/**
 * A source's numbered delta digests through one migration (edge-device-api.ts): heard from before
 * the flip that starts tracking, sorted by the count that flip returns; the count at each later
 * flip kept as the start of the round it opens; and, in the pause, the final delta proven from
 * them (numbered-changes.ts) — or not, and then the caller reads the change log.
 */
import type { Clock, Logger, P4Switch } from 'p4runtime-ts';
import type { Subscription } from 'rxjs';
import type { SlotGroupSpec } from '../contract/index.js';
import type { SlotRecord, TrackerState } from '../state-access/index.js';
import type { Migration } from './migration-record.js';
import { NumberedChanges } from './numbered-changes.js';

/** The delta digests listened to before the flip; `start` hands them to a NumberedChanges. */
export interface NumberedTap {
  /** After the flip: the migration's NumberedChanges (undefined, and the tap closed, when the flip gave no count). */
  start(tracker: number, vmId: number, t: TrackerState): NumberedChanges | undefined;
  /** Stops listening (call it when prepare fails, or with the migration's end). */
  readonly sub: Subscription;
}

/** Listens to `group`'s delta digests when the data plane numbers them (undefined otherwise). */
export function tapNumberedDigests(sw: P4Switch, group: SlotGroupSpec): NumberedTap | undefined {
  const delta = group.delta;
  if (!delta?.numbered) return undefined;
  let early: (readonly Readonly<Record<string, bigint>>[])[] = [];
  let numbered: NumberedChanges | undefined;
  const sub = sw.digests$(delta.digest).subscribe((list) => (numbered ? numbered.addList(list.entries) : early.push(list.entries)));
  return {
    sub,
    start(tracker, vmId, t) {
      if (t.changes === undefined) {
        sub.unsubscribe();
      } else {
        numbered = new NumberedChanges({ tracker, vmId, group, base: t.changes });
        for (const e of early) numbered.addList(e);
      }
      early = [];
      return numbered;
    },
  };
}

/** Records the changes count at a flip that started a round at `t.start`; drops what no final delta can need. */
export function noteBoundary(x: Migration, t: TrackerState): void {
  if (!x.numbered) return;
  const n = t.changes === undefined ? undefined : x.numbered.unwrap(t.changes);
  // Two flips with nothing logged between share a start (no change came between): either
  // known count bounds the round.
  const had = x.boundaries.has(t.start);
  const before = x.boundaries.get(t.start);
  x.boundaries.delete(t.start);
  x.boundaries.set(t.start, had && before !== undefined ? Math.min(before, n ?? before) : n);
  // The final delta starts where the last installed round ended: one of the last few flips.
  while (x.boundaries.size > 3) x.boundaries.delete(x.boundaries.keys().next().value as bigint);
  const counts = [...x.boundaries.values()];
  if (counts.every((c) => c !== undefined)) x.numbered.prune(Math.min(...counts));
}

/**
 * The changes since the round that started at log position `sinceSeq` that have all arrived, for
 * the pause to send ahead of the freeze's count (pauseDelta): every number from the round's start
 * up to the first one missing, or `maxChanges` numbers past the start if that comes first, each
 * slot with its latest content. Recorded in `x.tookAhead`, so the final delta starts after them;
 * undefined (nothing recorded) when nothing can be taken.
 */
export function takeAhead(x: Migration, sinceSeq: bigint, maxChanges: number): SlotRecord[] | undefined {
  const nc = x.numbered;
  const from = x.boundaries.get(sinceSeq);
  if (!nc || from === undefined || x.tookAhead?.sinceSeq === sinceSeq || maxChanges <= 0) return undefined;
  const to = Math.min(nc.arrivedUpTo(from), from + maxChanges);
  const r = to > from ? nc.since(from, to, true) : undefined;
  if (!Array.isArray(r)) return undefined;
  x.tookAhead = { sinceSeq, to };
  return r;
}

/** What provenFinal needs besides the migration. */
export interface ProofContext {
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long to wait for digests still on their way (ms on `clock`). */
  readonly waitMs: number;
  /** For the log line when it cannot prove: device and migration. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The final delta's slots from the numbered digests, when every change since the round that
 * started at log position `sinceSeq` up to the count `t` read after the freeze has arrived —
 * waiting up to `waitMs` for ones still on their way; undefined when they cannot prove it.
 */
export async function provenFinal(x: Migration, sinceSeq: bigint, t: TrackerState, o: ProofContext): Promise<SlotRecord[] | undefined> {
  const nc = x.numbered;
  // What pauseDelta took ahead for this start is installed already: the proof goes on from there.
  const from = x.tookAhead?.sinceSeq === sinceSeq ? x.tookAhead.to : x.boundaries.get(sinceSeq);
  const to = nc && t.changes !== undefined ? nc.unwrap(t.changes) : undefined;
  if (!nc || from === undefined || to === undefined) return undefined;
  const t0 = o.clock.now();
  for (;;) {
    const r = nc.since(from, to);
    if (Array.isArray(r)) return r;
    const left = o.waitMs - (o.clock.now() - t0);
    if (r.kind !== 'missing' || left <= 0) {
      o.logger.info('final delta reads the change log', { ...o.labels, reason: r.kind === 'missing' ? `${r.missing} of changes ${from}..${to - 1} not arrived (first ${r.first})` : r.detail });
      return undefined;
    }
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    await Promise.race([nc.arrival(), new Promise<void>((resolve) => (timer = o.clock.setTimeout(resolve, left)))]);
    if (timer !== undefined) o.clock.clearTimeout(timer);
  }
}
