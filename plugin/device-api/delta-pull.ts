/**
 * A source's delta rounds while pre-copy runs (edge-device-api.ts exportDeltas): every interval
 * the tracker's round is closed (a flip) and the slots it logged are read — O(changed), all of the
 * VM's when the log overflowed (source-batch.ts). A round the freeze overtook yields nothing: the
 * final delta reads its range again.
 */
import type { Clock } from 'p4runtime-ts';
import { Observable } from 'rxjs';
import type { RegisterAccess } from '../state-access/index.js';
import type { MigrationRef, StateBatch } from './device-api.js';
import { asDeviceFailure } from './device-failure.js';
import { locked } from './migration-record.js';
import { takeLate } from './late-flows.js';
import type { Migration } from './migration-record.js';
import { noteBoundary } from './numbered-final.js';
import { changedBatch } from './source-batch.js';
import type { SourceSide } from './source-batch.js';

/** What the rounds read through and run on. */
export interface DeltaPullSide {
  readonly access: RegisterAccess;
  readonly source: SourceSide;
  readonly clock: Clock;
  /** Pause between two pulls (ms on `clock`). */
  readonly intervalMs: number;
  /** A batch for every pull, also one that found nothing (ExportDeltasOptions.reportQuiet). */
  readonly reportQuiet?: boolean;
}

/** One delta round: close the tracker's round, read the slots it logged (all of the VM's on overflow). */
export function pullRound(d: DeltaPullSide, m: MigrationRef, x: Migration, round: number): Promise<StateBatch> {
  return locked(x, async () => {
    // A round the pause overtook is nobody's (the stream ended): the final delta reads its range
    // again, so it stops at the next step rather than hold the final delta's lock for its reads.
    const overtaken = (from: bigint, to: bigint): StateBatch => ({ migrationId: m.migrationId, source: d.source.name, round, slots: [], removed: [], coversSeq: { from, to } });
    if (x.frozen) return overtaken(x.nextSeq, x.nextSeq);
    const t = await d.access.flipTracker(x.tracker, x.epoch);
    x.epoch = t.epoch;
    noteBoundary(x, t);
    if (x.frozen) return overtaken(x.nextSeq, t.start);
    const changed = await d.access.readChangedSlots(x.tracker, x.nextSeq, t.start);
    const from = x.nextSeq;
    x.nextSeq = t.start;
    if (x.frozen) return overtaken(from, t.start);
    // Flows told of late (opened just before tracking began): read with this round's changes.
    x.lateInRound = takeLate(x);
    return changedBatch(d.source, m, x, round, changed, { from, to: t.start }, undefined, x.lateInRound);
  });
}

/**
 * The rounds as a stream: a batch per round that found changes (with `reportQuiet`, per round),
 * until the migration ends (the freeze, or its end here); a failed pull errors the stream with a
 * DeviceApiFailure.
 */
export function deltaStream(d: DeltaPullSide, m: MigrationRef, x: Migration): Observable<StateBatch> {
  return new Observable<StateBatch>((sub) => {
    let stopped = false;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const endSub = x.ended.subscribe(() => {
      stopped = true;
      sub.complete();
    });
    let round = 1;
    const tick = (): void => {
      timer = undefined;
      if (stopped) return;
      pullRound(d, m, x, round).then(
        (b) => {
          if (stopped) {
            // Nobody takes this batch (the pause ended pre-copy while it was read): its slots are
            // read again by the final delta, which starts where the last installed batch ended,
            // but the keys it found removed are forgotten by now — the final batch carries them.
            x.unsentRemoved.push(...b.removed);
            for (const i of x.lateInRound) x.late.add(i);
            x.lateInRound = [];
            return;
          }
          x.lateInRound = [];
          if (b.slots.length > 0 || b.removed.length > 0) {
            round++;
            sub.next(b);
          } else if (d.reportQuiet && !x.frozen) {
            // Says the log was read up to coversSeq.to and nothing needs carrying: the engine
            // counts a round quiet only from such a report, never from a pull still under way.
            // Not once frozen: a round the freeze overtook was not read (the final delta reads it).
            sub.next(b);
          }
          timer = d.clock.setTimeout(tick, d.intervalMs);
        },
        (e: unknown) => sub.error(asDeviceFailure(e, `device ${d.source.name}: delta pull of migration ${m.migrationId}`)),
      );
    };
    timer = d.clock.setTimeout(tick, d.intervalMs);
    return () => {
      stopped = true;
      endSub.unsubscribe();
      if (timer !== undefined) d.clock.clearTimeout(timer);
    };
  });
}
