/**
 * The P4Runtime requests of register state (p4runtime-backend.ts, and the freeze's one Read in
 * device-api/frozen-read.ts): a counter cell read, a tracker's cells as read queries and back,
 * slot writes as register MODIFYs.
 */
import type { P4Switch, P4Update, ReadQuery, RegisterCell } from 'p4runtime-ts';
import type { ChangeLogSpec, SlotGroupSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import { trackerState } from './change-log-access.js';
import type { TrackerState } from './change-log-access.js';
import type { CounterReading, SlotWrite } from './register-access.js';
import { checkSlotWrites } from './slot-validation.js';

/** Reads one counter cell through a P4Switch. */
export async function readCounterCell(sw: P4Switch, counter: string, index: number): Promise<CounterReading> {
  try {
    const cells = await sw.readAll(sw.counter(counter).at(index));
    const c = cells[0];
    return { counter, index, bytes: c?.bytes ?? 0n, packets: c?.packets ?? 0n };
  } catch (e) {
    throw EdgePluginError.from(e, `reading counter '${counter}'[${index}]`);
  }
}

/**
 * The register cells of one tracker as P4Runtime read queries: the changes count first — read no
 * later than the head, it bounds the changes made after the head was read from below (servers
 * read a request's entities in order) — then the head and the round.
 */
export function trackerCellQueries(sw: P4Switch, c: ChangeLogSpec, tracker: number): ReadQuery<RegisterCell>[] {
  const changes = c.changesRegister === undefined ? [] : [sw.register(c.changesRegister).at(tracker)];
  return [...changes, sw.register(c.headRegister).at(tracker), sw.register(c.roundRegister).at(tracker)];
}

/** The tracker's state from its cells as read (trackerCellQueries); cells of other registers are ignored. */
export function trackerFromCells(sw: P4Switch, c: ChangeLogSpec, tracker: number, cells: Iterable<RegisterCell>): TrackerState {
  const head = sw.register(c.headRegister).info.name;
  const round = sw.register(c.roundRegister).info.name;
  const changes = c.changesRegister === undefined ? undefined : sw.register(c.changesRegister).info.name;
  let h = 0n;
  let r = 0n;
  let n = 0n;
  for (const cell of cells) {
    if (cell.index !== tracker) continue;
    if (cell.register === head) h = cell.value;
    else if (cell.register === round) r = cell.value;
    else if (cell.register === changes) n = cell.value;
  }
  return trackerState(c, tracker, [r >> 32n, h, r & 0xffffffffn, n]);
}

/**
 * The register MODIFYs of slot writes: each write's masked words. Checked as one batch —
 * P4Runtime applies the updates of one Write in any order, so a slot may appear only once.
 */
export function slotWriteUpdates(sw: P4Switch, group: SlotGroupSpec, writes: Iterable<SlotWrite>): P4Update[] {
  // Copied into one shape: held flows' writes carry more fields than the pause's pending ones, and
  // V8 threw this function's optimized code away at each new shape, in the pause (--trace-deopt).
  const list: SlotWrite[] = [];
  for (const w of writes) list.push({ index: w.index, words: w.words, mask: w.mask });
  const masks = checkSlotWrites(group, list);
  const updates: P4Update[] = [];
  // Each word's register handle looked up once, not once per cell.
  const words = group.words.map((word) => ({ at: word.index, handle: sw.register(word.register) }));
  for (let n = 0; n < list.length; n++) {
    const w = list[n] as SlotWrite;
    const mask = masks[n] ?? 0;
    // Indexed, not for-of with destructuring: a final batch's thousands of writes run unoptimized.
    for (let k = 0; k < words.length; k++) {
      const { at, handle } = words[k] as (typeof words)[number];
      if ((mask >> at) & 1) updates.push(handle.modify(w.index, w.words[at] ?? 0n));
    }
  }
  return updates;
}

/**
 * Builds and encodes, never sends, a Write of `slots` of the group's slots (every word) `rounds`
 * times, as the pause's activation does with its held flows: one Write of hundreds of register
 * updates. Pre-copy hardly makes such a Write (conditional writes may go in-band), so V8 would
 * compile that encoder in the first migrations' pauses (BENCHMARKS.md, session of 2026-12-05 from
 * 23:48); run ahead, the compiles happen before.
 */
export function warmSlotWrites(sw: P4Switch, group: SlotGroupSpec, slots = 128, rounds = 8): void {
  const all = (1 << group.words.length) - 1;
  const n = Math.min(slots, group.slots);
  const writes: SlotWrite[] = [];
  for (let i = 0; i < n; i++) writes.push({ index: i, words: group.words.map(() => 0n), mask: all });
  for (let r = 0; r < rounds; r++) sw.encodeWrite(slotWriteUpdates(sw, group, writes), { atomicity: 'DATAPLANE_ATOMIC' });
}
