/**
 * The floor of a pause on a switch reached over P4Runtime alone (the sims driven through their
 * side channel, e.g. profile `full`): the requests the issue names — the freeze, one read of each
 * changed slot at the source, one write of each at the destination, the activation — as a bare
 * client sends them over P4Runtime, where a slot is one cell per word register:
 *
 *   1. one Write at the source: the VM's control entry frozen;
 *   2. one Read at the source: every word of the changed slots (words × slots cells);
 *   3. one DATAPLANE_ATOMIC Write at the destination: every word read, and the VM's staged
 *      control entry deleted (activated) — or, where the switch refuses atomic batches, the cells
 *      and then the activation in a Write each.
 *
 * Each request waits for the one before (a client cannot write what it has not read, nor read
 * before the freeze). No tracker, change log, clock or counters, no retries. The slots are any
 * `changed` of the VM's occupied slots at the source, copied to the same (free) indices at the
 * destination, checked, and cleared afterwards.
 */
import { performance } from 'node:perf_hooks';
import type { P4Switch, P4Update } from 'p4runtime-ts';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { fieldValue } from '../../plugin/index.js';
import { abandonMinimum, controlEntry, prepareMinimum, undoMinimum } from './migrate-minimum.js';
import type { MinimumControl, MinimumSample } from './migrate-minimum.js';
import { pickSpread } from './migrate-flows.js';
import { MigrateBenchFailure } from './migrate-rig.js';
import type { MigrateRig } from './migrate-rig.js';
import { requestsBetween } from './switch-request-counter.js';

/** One floor over P4Runtime: the pair, the slots (same index at both ends) and whether to batch atomically. */
export interface P4RuntimeMinimumRun extends MinimumControl {
  readonly group: SlotGroupSpec;
  readonly slots: readonly number[];
  readonly atomic: boolean;
}

/** How long each step took (ms) and what the destination's slots now hold. */
export interface P4RuntimeMinimumTiming {
  readonly ms: number;
  readonly freezeMs: number;
  readonly readsMs: number;
  /** From the freeze's answer to the cells' Write answered. */
  readonly slotsMs: number;
  /** The Write that activates (with the cells in it when atomic). */
  readonly activateMs: number;
  readonly written: ReadonlyMap<number, readonly bigint[]>;
}

/** The requests of the floor, timed (after prepareMinimum). */
export async function runP4RuntimeMinimum(r: P4RuntimeMinimumRun): Promise<P4RuntimeMinimumTiming> {
  const handles = r.group.words.map((w) => r.dst.register(w.register));
  const t0 = performance.now();
  await r.src.write(freezeUpdate(r));
  const t1 = performance.now();
  const written = await readWords(r.src, r.group, r.slots);
  const t2 = performance.now();
  const cells: P4Update[] = [];
  for (const [index, words] of written) for (const [w, h] of handles.entries()) cells.push(h.modify(index, words[w] ?? 0n));
  const activation = r.dst.table(r.control.table).delete({ match: { [r.control.keyField]: r.dstVmId } });
  let t3: number;
  if (r.atomic) {
    await r.dst.write([...cells, activation], { atomicity: 'DATAPLANE_ATOMIC' });
    t3 = t2;
  } else {
    await r.dst.write(cells);
    t3 = performance.now();
    await r.dst.write(activation);
  }
  const t4 = performance.now();
  return { ms: t4 - t0, freezeMs: t1 - t0, readsMs: t2 - t1, slotsMs: (r.atomic ? t4 : t3) - t1, activateMs: t4 - t3, written };
}

/** Whether the destination takes DATAPLANE_ATOMIC: its staged entry written as it is, atomically. */
async function takesAtomic(r: MinimumControl): Promise<boolean> {
  try {
    await r.dst.write(r.dst.table(r.control.table).modify(controlEntry(r.control, r.dstVmId, { track: 0, freeze: 0, staged: 1, active: 0 })), { atomicity: 'DATAPLANE_ATOMIC' });
    return true;
  } catch {
    return false;
  }
}

function freezeUpdate(r: P4RuntimeMinimumRun): P4Update {
  return r.src.table(r.control.table).modify(controlEntry(r.control, r.srcVmId, { track: 1, freeze: 1, staged: 0, active: 1 }));
}

/** The VM's occupied slots at the source, through the sim's side channel (a P4Runtime scan of every slot would leave both processes a heap to collect in the next pauses). */
async function sourceSlotsOf(rig: MigrateRig, vm: number, what: string): Promise<readonly number[]> {
  const slots = await rig.src.worker.slotsOf?.(rig.vm(vm).srcId);
  if (!slots) throw new MigrateBenchFailure(`${what}: the source has no side channel to find the VM's slots (a sim is needed)`);
  return slots;
}

/** Reads `slots` at `sw` over P4Runtime: index → words. */
async function readWords(sw: P4Switch, group: SlotGroupSpec, slots: readonly number[]): Promise<Map<number, bigint[]>> {
  const byName = new Map(group.words.map((w, i) => [sw.register(w.register).info.name, i]));
  const out = new Map<number, bigint[]>(slots.map((s) => [s, group.words.map(() => 0n)]));
  for (const cell of await sw.readAll(group.words.map((w) => sw.register(w.register).cells(slots)))) {
    const w = byName.get(cell.register);
    const words = out.get(cell.index);
    if (w !== undefined && words) words[w] = cell.value;
  }
  return out;
}

/**
 * The P4Runtime floor for `changed` slots of VM `vm` (a rig without an in-band packet side, its
 * migrations rolled back): picked among the VM's slots at the source, their indices checked free at
 * the destination, copied, checked equal to the source's words, cleared and the source's entry
 * removed. `beforeTimed` runs just before the clock starts.
 */
export async function measureP4RuntimeMinimumOn(rig: MigrateRig, vm: number, changed: number, beforeTimed: () => Promise<void> = async () => undefined): Promise<MinimumSample> {
  const what = `${rig.profile}, ${rig.trackedOf(vm).length} flows, P4Runtime minimum for ${changed} changed`;
  const control = rig.src.plugin.contract.control;
  if (!control) throw new MigrateBenchFailure(`${what}: the program declares no migration control table`);
  const g = rig.group;
  const all = await sourceSlotsOf(rig, vm, what);
  if (all.length < changed) throw new MigrateBenchFailure(`${what}: the source holds ${all.length} slots of the VM`);
  const slots = pickSpread(all, changed);
  const taken = [...(await readWords(rig.dst.plugin.session, g, slots)).entries()].filter(([, w]) => fieldValue(w, g.valid) !== 0n);
  if (taken.length > 0) throw new MigrateBenchFailure(`${what}: ${taken.length} of the slots are taken at the destination (first ${taken[0]?.[0]})`);
  const v = rig.vm(vm);
  const base = { src: rig.src.plugin.session, dst: rig.dst.plugin.session, control, srcVmId: v.srcId, dstVmId: v.dstId };
  await prepareMinimum(base);
  const run: P4RuntimeMinimumRun = { ...base, group: g, slots, atomic: await takesAtomic(base) };
  await beforeTimed();
  const r0 = rig.reading();
  let t: P4RuntimeMinimumTiming;
  try {
    t = await runP4RuntimeMinimum(run);
  } catch (e) {
    throw await abandonMinimum(rig, run, slots, `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r1 = rig.reading();
  const moved = await readWords(run.dst, g, slots);
  const wrong = slots.filter((s) => moved.get(s)?.join() !== t.written.get(s)?.join() || fieldValue(t.written.get(s) ?? [], g.valid) === 0n);
  await rig.dst.plugin.registerAccess.writeSlots(slots.map((index) => ({ index, words: g.words.map(() => 0n) })));
  await undoMinimum(run);
  const left = [...(await readWords(run.dst, g, slots)).values()].filter((w) => fieldValue(w, g.valid) !== 0n);
  if (wrong.length > 0) throw new MigrateBenchFailure(`${what}: ${wrong.length} of ${changed} slots at the destination differ from the source's (or were empty there)`);
  if (left.length > 0) throw new MigrateBenchFailure(`${what}: ${left.length} slots left at the destination after the undo`);
  return {
    profile: rig.profile, path: 'p4runtime', targetOps: 2 * g.words.length * changed, atomic: run.atomic, overlap: false, flows: rig.trackedOf(vm).length, changed, ms: t.ms,
    freezeMs: t.freezeMs, slotsMs: t.slotsMs, readsMs: t.readsMs, activateMs: t.activateMs, requests: requestsBetween(r0.requests, r1.requests),
  };
}
