/**
 * Flows told of late (Migration.late): a flow opened just before its VM's tracking began is told
 * of only by its new-flow digest, which BMv2 delivers 200–330 ms late; one that arrives after the
 * snapshot read the slot index is read by the next delta round, or by the final delta.
 */
import type { Clock, Logger } from 'p4runtime-ts';
import type { RegisterAccess, SlotRecord, VmSlotIndex } from '../state-access/index.js';
import type { Migration } from './migration-record.js';

/**
 * Puts each slot a new-flow digest names into the late set of every migration of that VM whose
 * snapshot has read the index and that has not exported it; logs it once. Returns the unsubscribe.
 */
export function watchLateFlows(index: VmSlotIndex, migrations: ReadonlyMap<string, Migration>, o: { readonly device: string; readonly clock: Clock; readonly logger: Logger }): () => void {
  return index.onNewFlow((slot, vmId) => {
    for (const [id, x] of migrations) {
      if (x.vmId !== vmId || !x.snapshotRead || x.exported.has(slot) || x.late.has(slot)) continue;
      x.late.add(slot);
      o.logger.info('a flow opened before its VM\'s tracking began was told of late: the next round reads it', { device: o.device, migrationId: id, slot, msSinceTracking: Math.round(o.clock.now() - x.trackedAt) });
    }
  });
}

/** The late slots (Migration.late) taken for a read: the set emptied. */
export function takeLate(x: Migration): number[] {
  if (x.late.size === 0) return [];
  const taken = [...x.late];
  x.late.clear();
  return taken;
}

/** `slots` and `late` together, each slot once (`slots` itself when there is no late one). */
export function withLate(slots: readonly number[], late: readonly number[]): readonly number[] {
  return late.length === 0 ? slots : [...new Set([...slots, ...late])];
}

/**
 * The final delta's slots when the numbered digests prove it (`proven`, their content carried) and
 * flows told of late (`late`) not among them: those read from the switch, after the proven ones.
 */
export function provenWithLate(access: RegisterAccess, proven: readonly SlotRecord[], late: readonly number[]): { reading: readonly SlotRecord[] | Promise<readonly SlotRecord[]>; looked: readonly number[] } {
  const looked = proven.map((r) => r.index);
  if (late.length === 0) return { reading: proven, looked };
  const had = new Set(looked);
  const more = late.filter((i) => !had.has(i));
  if (more.length === 0) return { reading: proven, looked };
  return { reading: access.readSlots({ indices: more }).then((r) => [...proven, ...r]), looked: [...looked, ...more] };
}

