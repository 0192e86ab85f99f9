/**
 * A source's batches (edge-device-api.ts): the VM's slots read through the slot index or a
 * filtered scan, and a batch made of slot records — the VM's flows, and flows exported before
 * whose slot no longer holds them (reported removed).
 */
import type { Clock } from 'p4runtime-ts';
import type { SlotGroupSpec } from '../contract/index.js';
import { fieldValue, isOccupied, sameKeyWords, slotKey, slotKeyWords } from '../contract/index.js';
import type { ChangedSlots, RegisterAccess, SlotRecord, VmSlotIndex } from '../state-access/index.js';
import type { MigrationRef, SlotRecordOut, StateBatch } from './device-api.js';
import { withLate } from './late-flows.js';
import type { Migration } from './migration-record.js';
import { SlotWordsRecord } from './slot-words-record.js';

/**
 * A batch this large (the snapshot) runs long enough in collectSlots for V8 to mark it hot, and
 * V8 starts that optimizing compile at the function's next call: the final delta, in the pause,
 * where the compile's thread takes a core from the switches (BENCHMARKS.md: at 10^5 flows 4–15 ms of
 * a core in each pause). An empty call right after a bulk one starts it now, in pre-copy.
 */
export const BULK_SLOTS = 1000;

/** What a source's batches read through. */
export interface SourceSide {
  readonly access: RegisterAccess;
  readonly group: SlotGroupSpec;
  readonly index: VmSlotIndex;
  /** The device's name (the batch's `source`). */
  readonly name: string;
  /** Read through the index even before it was reconciled (snapshotSource 'index'), unless it has a gap. */
  readonly trustIndex: boolean;
}

/** Whether vmSlots reads through the index now (else it scans the group: nothing to wait for). */
function readsIndex(s: SourceSide): boolean {
  return s.index.gap === undefined && (s.index.complete || s.trustIndex);
}

/**
 * Before a snapshot read through the index: waits until `delayMs` have passed since tracking began,
 * so that new-flow digests of flows opened just before it have arrived (BMv2 delivers a partial
 * list 200–330 ms late: p4/README.md). One arriving later still is read by the next round.
 */
export async function settleNewFlows(s: SourceSide, x: Migration, clock: Clock, delayMs: number): Promise<void> {
  await joinIndexScan(s, x);
  const left = x.trackedAt + delayMs - clock.now();
  if (left <= 0 || !readsIndex(s)) return;
  await new Promise<void>((resolve) => clock.setTimeout(resolve, left));
}

/**
 * A plugin daemon that just started reads its whole slot group in the background (paced) before it
 * trusts its index: a read that comes meanwhile waits for that scan instead of scanning the group
 * itself beside it (field walkthrough 8: the first migration after a start took 24.8 s on BMv2,
 * two whole-group scans at once). Not frozen: nothing waits for a scan in the pause.
 */
async function joinIndexScan(s: SourceSide, x: Migration): Promise<void> {
  if (!x.frozen && s.index.gap === undefined && !readsIndex(s)) await s.index.awaitScan({ device: s.name, vmId: x.vmId });
}

/** The VM's occupied slots: through the index, or a filtered scan of the group. */
export async function vmSlots(s: SourceSide, x: Migration): Promise<SlotRecord[]> {
  // Digests this client missed (another primary, a broken stream): whatever snapshotSource says,
  // the index is trusted only once a scan repaired it; a gap again meanwhile: the filtered scan.
  // Frozen (the final delta's overflow), the filtered scan at once: no paced re-scan in the pause.
  if (s.index.gap !== undefined) await s.index.repair({ device: s.name, vmId: x.vmId }, !x.frozen);
  else await joinIndexScan(s, x);
  if (readsIndex(s)) {
    const known = new Set([...s.index.slotsOf(x.vmId), ...x.exported.keys()]);
    const r = await s.access.readSlots({ indices: [...known].sort((a, b) => a - b) }, { occupiedOnly: true });
    return r.filter((rec) => Number(fieldValue(rec.words, s.group.vm)) === x.vmId);
  }
  return s.access.readSlots('all', { occupiedOnly: true, where: { [s.group.vm.name]: BigInt(x.vmId) } });
}

/** A batch from slot reads: the VM's flows, and flows exported before whose slot no longer holds them. */
export async function sourceBatch(s: SourceSide, m: MigrationRef, x: Migration, round: number, reading: readonly SlotRecord[] | Promise<readonly SlotRecord[]>, looked: readonly number[], coversSeq: StateBatch['coversSeq'], clockRead?: Promise<bigint>): Promise<StateBatch> {
  // The clock is read while the slots are (one round trip less in the pause); a slot changed
  // after the clock read (pre-copy only: the source is frozen in the pause) just counts as age 0.
  // No slots to read, nothing to rebase: no clock (a pause with nothing changed saves the trip).
  const none = Array.isArray(reading) && reading.length === 0;
  const [clock, read] = await Promise.all([none ? undefined : (clockRead ?? s.access.readClock()), reading]);
  const { slots, removed } = collectSlots(s.group, x, looked, read);
  // Not in the pause (frozen, or its changes taken ahead of the freeze's answer): a compile started there is what this avoids.
  if (read.length >= BULK_SLOTS && !x.frozen && x.tookAhead === undefined) collectSlots(s.group, x, [], []);
  return { migrationId: m.migrationId, source: s.name, round, slots, removed, coversSeq, ...(clock !== undefined ? { clock } : {}) };
}

/** sourceBatch's loop, a function of its own so that the compile a snapshot earns is this one's alone (BULK_SLOTS). */
function collectSlots(g: SlotGroupSpec, x: Migration, looked: readonly number[], read: readonly SlotRecord[]): { slots: SlotRecordOut[]; removed: Record<string, bigint>[] } {
  const slots: SlotRecordOut[] = [];
  const removed: Record<string, bigint>[] = [];
  // Usually the slots read are exactly the ones looked at, in that order (the final batch from
  // digests, a delta round): no index map then — a final batch of 10^3 flows is in the pause.
  const inOrder = sameOrder(looked, read);
  const byIndex = inOrder ? undefined : new Map(read.map((r) => [r.index, r]));
  const all = inOrder ? looked : [...new Set([...looked, ...read.map((r) => r.index)])];
  const vmId = BigInt(x.vmId);
  // On the words (slot-words.ts): the records decode their fields only if something asks.
  // Indexed, not for-of: the final batch runs unoptimized in the pause, where for-of allocates per step.
  for (let n = 0; n < all.length; n++) {
    const i = all[n] as number;
    const r = byIndex ? byIndex.get(i) : read[n];
    const mine = r !== undefined && isOccupied(g, r.words) && fieldValue(r.words, g.vm) === vmId;
    const before = x.exported.get(i);
    // The same flow as exported before keeps its entry (no new key per changed flow).
    const same = mine && before !== undefined && sameKeyWords(g, before, r.words);
    if (before && !same) {
      removed.push(slotKey(g, before));
      x.exported.delete(i);
    }
    if (mine) {
      slots.push(new SlotWordsRecord(g, r.words, i));
      if (!same) x.exported.set(i, slotKeyWords(g, r.words));
    }
  }
  return { slots, removed };
}

/** Whether `read` holds exactly the slots `looked` at, in that order (a loop, not a closure made per call: see bySlotIndex in numbered-changes.ts). */
function sameOrder(looked: readonly number[], read: readonly SlotRecord[]): boolean {
  if (looked.length !== read.length) return false;
  for (let n = 0; n < looked.length; n++) if (read[n]?.index !== looked[n]) return false;
  return true;
}

/**
 * A batch from what a change-log read found: the slots it names (the VM's whole set when the ring
 * overflowed), read and compared with what was exported.
 */
export async function changedBatch(s: SourceSide, m: MigrationRef, x: Migration, round: number, changed: ChangedSlots, coversSeq: StateBatch['coversSeq'], clockRead?: Promise<bigint>, late: readonly number[] = []): Promise<StateBatch> {
  // The VM's whole set through the index holds the late slots too.
  if (changed.overflow) return sourceBatch(s, m, x, round, await vmSlots(s, x), [...x.exported.keys()], coversSeq, clockRead);
  const slots = withLate(changed.slots, late);
  const read = slots.length === 0 ? [] : s.access.readSlots({ indices: [...slots] });
  return sourceBatch(s, m, x, round, read, slots, coversSeq, clockRead);
}
