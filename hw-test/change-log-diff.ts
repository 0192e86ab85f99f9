/**
 * The change logs in the differential run: before the workload every tracker starts a fresh
 * round on the target (so marks left by earlier runs count as out of round, as the model's zero
 * marks do); afterwards the slots each tracker logged on the target, in log order, are compared
 * with those the reference model logged from its own empty logs.
 */
import type { RegisterAccess, SlotGroupSpec } from '../plugin/index.js';
import type { ModelRun } from './reference-model.js';
import type { HwTestSession } from './session.js';

/** Starts a new round on every tracker of the target; returns each tracker's start position. */
export async function freshRounds(s: HwTestSession, access: RegisterAccess): Promise<bigint[]> {
  const trackers = access.group.changeLog?.trackers ?? 0;
  if (trackers > 0) {
    s.undo.note(`change logs advanced (${trackers} trackers: new rounds, log entries, slot marks, change counts); they only move forward and carry no flow state, so they are left as the run leaves them`);
  }
  const starts: bigint[] = [];
  for (let t = 0; t < trackers; t++) {
    const now = await access.readTracker(t);
    starts.push((await access.flipTracker(t, now.epoch)).start);
  }
  return starts;
}

/** The slots each tracker logged on the target since `starts`, in log order (undefined: overflowed). */
export async function targetLogs(access: RegisterAccess, starts: readonly bigint[]): Promise<(number[] | undefined)[]> {
  const out: (number[] | undefined)[] = [];
  for (const [t, start] of starts.entries()) {
    const r = await access.readChangedSlots(t, start);
    out.push(r.overflow ? undefined : r.entries.map((e) => e.slot));
  }
  return out;
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
