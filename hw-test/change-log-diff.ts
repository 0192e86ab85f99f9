/**
 * The change logs in the differential run: before the workload every tracker starts a fresh
 * round on the target (so marks left by earlier runs count as out of round, as the model's zero
 * marks do); afterwards the slots each tracker logged on the target, in log order, are compared
 * with those the reference model logged from its own empty logs.
 */
import type { RegisterAccess, SlotGroupSpec } from '../plugin/index.js';
import type { ModelRun } from './reference-model.js';
import type { HwTestSession } from './session.js';

/** Where a tracker's fresh round began on the target: its log position and its changes count (when counted). */
export interface RoundStart {
  readonly start: bigint;
  readonly changes: bigint | undefined;
}

/** Starts a new round on every tracker of the target; returns where each began. */
export async function freshRounds(s: HwTestSession, access: RegisterAccess): Promise<RoundStart[]> {
  const trackers = access.group.changeLog?.trackers ?? 0;
  if (trackers > 0) {
    s.undo.note(`change logs advanced (${trackers} trackers: new rounds, log entries, slot marks, change counts); they only move forward and carry no flow state, so they are left as the run leaves them`);
  }
  const starts: RoundStart[] = [];
  for (let t = 0; t < trackers; t++) {
    const now = await access.readTracker(t);
    const f = await access.flipTracker(t, now.epoch);
    starts.push({ start: f.start, changes: f.changes });
  }
  return starts;
}

/** What one tracker did on the target since its fresh round: the slots it logged, in log order (undefined: overflowed), and the changes it counted. */
export interface TargetLog {
  readonly slots: number[] | undefined;
  readonly changes: bigint | undefined;
}

/** Each tracker's log and change count on the target since `starts`. */
export async function targetLogs(access: RegisterAccess, starts: readonly RoundStart[]): Promise<TargetLog[]> {
  const out: TargetLog[] = [];
  for (const [t, at] of starts.entries()) {
    // One tracker read gives both the head the log is read up to and the count.
    const now = await access.readTracker(t);
    const r = await access.readChangedSlots(t, at.start, now.head);
    out.push({ slots: r.overflow ? undefined : r.entries.map((e) => e.slot), changes: now.changes === undefined || at.changes === undefined ? undefined : BigInt.asUintN(32, now.changes - at.changes) });
  }
  return out;
}

/** The changes each tracker counted in the model (from zero), when the contract counts them. */
export function modelChanges(m: ModelRun, group: SlotGroupSpec): (bigint | undefined)[] {
  const c = group.changeLog;
  if (!c) return [];
  return Array.from({ length: c.trackers }, (_, t) => (c.changesRegister === undefined ? undefined : m.env.registerRead(c.changesRegister, t)));
}

/** The slots each tracker logged in the model (which started from empty logs). */
export function modelLogs(m: ModelRun, group: SlotGroupSpec): number[][] {
  const c = group.changeLog;
  if (!c) return [];
  return Array.from({ length: c.trackers }, (_, t) => {
    const head = Number(m.env.registerRead(c.headRegister, t));
    return Array.from({ length: Math.min(head, c.logSize) }, (_, k) => Number(m.env.registerRead(c.logRegister, t * c.logSize + k) & 0xffffffffn));
  });
}
