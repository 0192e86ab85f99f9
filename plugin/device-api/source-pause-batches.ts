/**
 * A source's batches of the pause (edge-device-api.ts): the changes taken ahead of the final
 * delta (pauseDelta), and the final batch after the freeze — the tracker as read behind the
 * freeze, the slots proven from the numbered delta digests or else read from the change log,
 * with the per-VM counters and the VM's complete list of pinholes read at once beside them.
 */
import type { Clock } from 'p4runtime-ts';
import type { EdgePlugin } from '../edge-plugin.js';
import { carriedOrReadClock } from '../state-access/index.js';
import type { MigrationRef, StateBatch } from './device-api.js';
import { locked } from './migration-record.js';
import { takeLate } from './late-flows.js';
import type { Migration } from './migration-record.js';
import { provenFinal, takeAhead } from './numbered-final.js';
import { changedBatch, sourceBatch } from './source-batch.js';
import { provenWithLate } from './late-flows.js';
import type { SourceSide } from './source-batch.js';
import { exportTableEntries } from './table-entry-transfer.js';
import { readVmCounters } from './vm-counter-transfer.js';

/** What the final batch reads through, beyond the source's batches. */
export interface FinalBatchSide {
  readonly plugin: EdgePlugin;
  readonly source: SourceSide;
  readonly clock: Clock;
  /** How long to wait for numbered digests still on their way (EdgeDeviceApiOptions.finalDigestWaitMs). */
  readonly digestWaitMs: number;
}

/**
 * The changes since `sinceSeq` the numbered digests already brought, as a batch (round 98; empty
 * when there are none, or more than `maxChanges`). Safe at any time: a change after what this takes
 * is numbered later, and the final delta since the same start proves everything from there.
 */
export function aheadBatch(source: SourceSide, m: MigrationRef, x: Migration, sinceSeq: bigint, maxChanges: number): Promise<StateBatch> {
  return locked(x, async (): Promise<StateBatch> => {
    const ahead = takeAhead(x, sinceSeq, maxChanges);
    const none: StateBatch = { migrationId: m.migrationId, source: source.name, round: 98, slots: [], removed: [], coversSeq: { from: sinceSeq, to: sinceSeq } };
    if (!ahead || ahead.length === 0) return none;
    // The clock the freeze carried forward (the final batch rebases with the same), else one heard recently or read.
    const clockRead = (x.frozenClock ?? carriedOrReadClock(source.access)).then((c) => c ?? source.access.readClock());
    return sourceBatch(source, m, x, 98, ahead, ahead.map((r) => r.index), none.coversSeq, clockRead);
  });
}

/** The final batch (round 99) after the freeze: every change since `sinceSeq`, proven, with the VM's counters and pinholes. */
export async function finalBatch(s: FinalBatchSide, m: MigrationRef, x: Migration, sinceSeq: bigint): Promise<StateBatch> {
  const access = s.source.access;
  // Three independent reads at once: the pinholes (after the learner's queue), the counters
  // (started by the freeze), and the change log with the slots it names.
  const [b, counters, tableEntries] = await Promise.all([
    locked(x, async (): Promise<StateBatch> => {
      // The tracker as read right after the freeze (nothing changes after it), or read now
      // when that read failed or there was none (a retried final delta reads again).
      const early = x.frozenTracker;
      x.frozenTracker = undefined;
      const t = (await early?.catch(() => undefined)) ?? (await access.readTracker(x.tracker));
      // An in-band tracker answer carries the data plane's time: the rebase needs no clock read;
      // else the clock read beside the freeze's Read, when there was one.
      const beside = x.frozenClock;
      x.frozenClock = undefined;
      const clockRead = t.clock !== undefined ? Promise.resolve(t.clock) : beside?.then((c) => c ?? access.readClock());
      const proven = await provenFinal(x, sinceSeq, t, { clock: s.clock, logger: s.plugin.options.logger, waitMs: s.digestWaitMs, labels: { device: s.source.name, migrationId: m.migrationId } });
      // Flows told of late and not read since (usually none): read beside what the digests carry.
      const late = takeLate(x);
      if (proven) {
        const { reading, looked } = provenWithLate(access, proven, late);
        return { ...(await sourceBatch(s.source, m, x, 99, reading, looked, { from: sinceSeq, to: t.head }, clockRead)), proof: 'change-numbers' };
      }
      const changed = await access.readChangedSlots(x.tracker, sinceSeq, t.head);
      const b = await changedBatch(s.source, m, x, 99, changed, { from: sinceSeq, to: t.head }, clockRead, late);
      return { ...b, proof: 'change-log' };
    }),
    x.frozenCounters ?? readVmCounters(s.plugin, x.vmId),
    exportTableEntries(s.plugin, x.vmId, x.snapshotEntries),
  ]);
  return { ...b, removed: [...x.unsentRemoved, ...b.removed], counters, tableEntries };
}
