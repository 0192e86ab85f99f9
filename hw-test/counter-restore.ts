/**
 * The indirect counters' snapshot and restore. Every cell of every (small) indirect counter is
 * read before the fixture goes in; at the end the cells that differ are written back and then read
 * again, and any cell that still differs in either count fails the cleanup check.
 *
 * BMv2 (PI) counts bytes and packets in every counter cell and reads both back, but a MODIFY of a
 * PACKETS counter writes only the packet count (BYTES: only the byte count) and keeps the other
 * as counted. That other count can only be reset, by a DELETE of the cell (PI writes 0 / 0).
 */
import type { CounterCell, P4Update } from 'p4runtime-ts';
import type { HwTestSession } from './session.js';

/** Counters larger than this are not snapshotted (stateful_edge's are 1024 cells or fewer). */
const MAX_SNAPSHOT_CELLS = 65_536;

type Counts = { readonly bytes: bigint; readonly packets: bigint };
type CounterState = Map<string, Map<number, Counts>>;

/** Reads every cell of every indirect counter, by counter name and index. */
async function readCounters(s: HwTestSession): Promise<CounterState> {
  const out: CounterState = new Map();
  for (const c of s.schema.counters) {
    if (c.size > MAX_SNAPSHOT_CELLS) continue;
    const cells: CounterCell[] = await s.sw.readAll(s.sw.counter(c.name).all());
    out.set(c.name, new Map(cells.map((x) => [x.index, { bytes: x.bytes, packets: x.packets }])));
  }
  return out;
}

const same = (a: Counts | undefined, b: Counts): boolean => a !== undefined && a.bytes === b.bytes && a.packets === b.packets;

/** The cells of `now` that differ from `before`. */
function differing(before: CounterState, now: CounterState): { counter: string; index: number; before: Counts; now: Counts | undefined }[] {
  const out: { counter: string; index: number; before: Counts; now: Counts | undefined }[] = [];
  for (const [counter, cells] of before) {
    const current = now.get(counter);
    for (const [index, b] of cells) {
      const n = current?.get(index);
      if (!same(n, b)) out.push({ counter, index, before: b, now: n });
    }
  }
  return out;
}

/** True when a MODIFY of this counter does not carry `field` (P4Runtime writes the unit's counts only). */
function outsideUnit(s: HwTestSession, counter: string, field: 'bytes' | 'packets'): boolean {
  const unit = s.schema.counter(counter).unit;
  return field === 'bytes' ? unit === 'packets' : unit === 'bytes';
}

/** A DELETE of one counter cell: PI resets both counts (the P4Runtime spec defines MODIFY only). */
function resetCell(s: HwTestSession, counter: string, index: number): P4Update {
  const modify = s.sw.counter(counter).modify(index, { bytes: 0n, packets: 0n });
  const entry = modify.entity?.counterEntry;
  return { type: 3 /* DELETE */, entity: { counterEntry: { counterId: entry?.counterId ?? null, index: entry?.index ?? null } } };
}

const cellText = (c: Counts | undefined): string => (c === undefined ? 'missing' : `${c.packets} packets / ${c.bytes} bytes`);

/** Snapshots the indirect counters now and records their restore, checked by reading them back. */
export async function snapshotCounters(s: HwTestSession): Promise<void> {
  const before = await readCounters(s);
  s.undo.add('restore indirect counters to their values before the run', async () => {
    const changed = differing(before, await readCounters(s));
    if (changed.length === 0) return;
    await s.sw.write(changed.map((c) => s.sw.counter(c.counter).modify(c.index, c.before)));
    // Cells still off only in a count their unit leaves out (BMv2's bytes of a PACKETS counter):
    // reset them, then write the unit's count back.
    const stuck = differing(before, await readCounters(s)).filter(
      (c) => c.now !== undefined && (['bytes', 'packets'] as const).every((f) => c.now?.[f] === c.before[f] || outsideUnit(s, c.counter, f)),
    );
    let resetError: string | undefined;
    if (stuck.length > 0) {
      try {
        await s.sw.write(stuck.map((c) => resetCell(s, c.counter, c.index)));
        await s.sw.write(stuck.map((c) => s.sw.counter(c.counter).modify(c.index, c.before)));
      } catch (e) {
        resetError = e instanceof Error ? e.message : String(e);
      }
    }
    const left = differing(before, await readCounters(s));
    if (left.length === 0) return;
    const shown = left.slice(0, 8).map((c) => {
      const alias = s.schema.counter(c.counter).alias;
      const unit = s.schema.counter(c.counter).unit;
      return `${alias}[${c.index}] (unit ${unit}) held ${cellText(c.before)} before the run, ${cellText(c.now)} after the restore`;
    });
    const unitNote = left.some((c) => (['bytes', 'packets'] as const).some((f) => c.now !== undefined && c.now[f] !== c.before[f] && outsideUnit(s, c.counter, f)))
      ? '; a P4Runtime MODIFY writes only the counts of the counter\'s unit (BMv2 counts the other too and keeps it), and a DELETE of the cell can only reset it to 0' +
        (resetError === undefined ? '' : ` (the DELETE failed: ${resetError})`) +
        ' — a count other than 0 there before the run (e.g. left by an earlier hw-test run) cannot be put back'
      : '';
    throw new Error(`${left.length} indirect counter cell(s) differ from before the run: ${shown.join('; ')}${left.length > shown.length ? '; …' : ''}${unitNote}`);
  });
}
