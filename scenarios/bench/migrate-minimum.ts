/**
 * The floor of a pause on real switches (issue 12, "the time that BMv2, in the same run, needs
 * just to serve the minimum requests"): exactly the requests no pause can do without — the freeze
 * (one P4Runtime Write at the source), one in-band READ_SLOT per changed slot at the source, one
 * in-band WRITE_IF per changed slot at the destination, the activation (one Write at the
 * destination) — and nothing else (no tracker, change log, clock, counters or pinholes).
 *
 * Issued as a bare client would on the same sessions: request records laid out once, a window of
 * requests in flight per switch like the product's, each write sent the moment its slot's read
 * answers (reads and writes overlap), no retries, no timeouts. For comparison it also runs with
 * the writes held until every read answered (`overlap` false), the order the engine keeps. The control entries it freezes and
 * deletes are set up before the clock starts, and everything it wrote is undone after.
 */
import { performance } from 'node:perf_hooks';
import type { P4Switch } from 'p4runtime-ts';
import type { Subscription } from 'rxjs';
import type { InbandSpec, MigrationControlSpec } from '../../plugin/index.js';
import { INBAND_OP, INBAND_STATUS, decodeInbandAnswer, encodeInbandRequest } from '../../plugin/index.js';
import { MigrateBenchFailure } from './migrate-rig.js';
import type { MigrateProfile, MigrateRig } from './migrate-rig.js';
import { requestsBetween } from './switch-request-counter.js';
import type { SwitchRequestCounts } from './switch-request-counter.js';

/** One changed slot: where it is at the source, and where it goes at the destination. */
export interface MinimumSlot {
  readonly src: number;
  readonly dst: number;
}

/** The pair and the VM's control entries a floor freezes and activates. */
export interface MinimumControl {
  readonly src: P4Switch;
  readonly dst: P4Switch;
  readonly control: MigrationControlSpec;
  /** The VM's switch-local ids. */
  readonly srcVmId: number;
  readonly dstVmId: number;
}

/** What one minimum run needs. */
export interface MinimumRun extends MinimumControl {
  readonly spec: InbandSpec;
  readonly slots: readonly MinimumSlot[];
  /** In-band requests in flight per switch. */
  readonly window: number;
  /** Slot words of the group (the WRITE_IF mask covers all of them). */
  readonly words: number;
  /** Send each write as its read answers (true: the floor), or only once every read answered. */
  readonly overlap: boolean;
}

/** How long the floor took, and its parts (ms from its start). */
export interface MinimumTiming {
  readonly ms: number;
  readonly freezeMs: number;
  /** From the freeze's answer to the last write's answer. */
  readonly slotsMs: number;
  /** From the freeze's answer to the last read's answer. */
  readonly readsMs: number;
  readonly activateMs: number;
  /** Words each destination slot now holds (what the source's read answered). */
  readonly written: ReadonlyMap<number, readonly bigint[]>;
}

/** The four migration flags of a control entry. */
export type Flags = { readonly track: number; readonly freeze: number; readonly staged: number; readonly active: number };

/** The control entry of VM `vmId` with `flags` (tracker 0), by the contract's names. */
export function controlEntry(c: MigrationControlSpec, vmId: number, f: Flags): { match: Record<string, number>; action: string; params: Record<string, bigint> } {
  const params: Record<string, bigint> = {
    [c.flags.track]: BigInt(f.track), [c.flags.freeze]: BigInt(f.freeze), [c.flags.staged]: BigInt(f.staged), [c.flags.active]: BigInt(f.active),
    ...(c.tracker ? { [c.tracker.param]: 0n } : {}),
  };
  return { match: { [c.keyField]: vmId }, action: c.action, params };
}

/** Sets up the entries the floor's two writes change: the source's tracking entry, the destination's staged one. */
export async function prepareMinimum(r: MinimumControl): Promise<void> {
  await r.src.write(r.src.table(r.control.table).insert(controlEntry(r.control, r.srcVmId, { track: 1, freeze: 0, staged: 0, active: 1 })));
  await r.dst.write(r.dst.table(r.control.table).insert(controlEntry(r.control, r.dstVmId, { track: 0, freeze: 0, staged: 1, active: 0 })));
}

/**
 * After a floor failed part-way: leaves the pair as the next pause needs it — the destination's
 * `slots` cleared, neither control entry of the floor's left (errors ignored: each may be gone
 * already) — and returns the failure to throw.
 */
export async function abandonMinimum(rig: MigrateRig, r: MinimumControl, slots: readonly number[], message: string): Promise<MigrateBenchFailure> {
  await rig.dst.plugin.registerAccess.writeSlots(slots.map((index) => ({ index, words: rig.group.words.map(() => 0n) }))).catch(() => undefined);
  await undoMinimum(r).catch(() => undefined);
  await r.dst.write(r.dst.table(r.control.table).delete({ match: { [r.control.keyField]: r.dstVmId } })).catch(() => undefined);
  return new MigrateBenchFailure(message);
}

/** Removes the source's entry (the destination's is what the activation deleted). */
export async function undoMinimum(r: MinimumControl): Promise<void> {
  await r.src.write(r.src.table(r.control.table).delete({ match: { [r.control.keyField]: r.srcVmId } }));
}

/**
 * Reads slots at `src` and writes each, as its answer arrives, at `dst` (window each); resolves
 * with what was written once every write answered. Rejects on a refused or conflicting answer.
 */
function copySlots(r: MinimumRun): Promise<{ written: Map<number, readonly bigint[]>; readsEnd: number }> {
  const base = 0x4000_0000;
  const mask = (1 << r.words) - 1;
  const written = new Map<number, readonly bigint[]>();
  const reads = r.slots.map((s, k) => encodeInbandRequest(r.spec, { op: INBAND_OP.READ_SLOT, reqId: base + k, index: s.src }));
  const pendingWrites: Record<string, bigint>[] = [];
  const subs: Subscription[] = [];
  let readsEnd = performance.now();
  return new Promise((resolve, reject) => {
    let readsSent = 0;
    let readsInFlight = 0;
    let writesInFlight = 0;
    let writesDone = 0;
    const finish = (e?: Error): void => {
      for (const s of subs) s.unsubscribe();
      if (e) reject(e);
      else resolve({ written, readsEnd });
    };
    const pump = (): void => {
      while (readsInFlight < r.window && readsSent < reads.length) {
        readsInFlight++;
        r.src.packetOut(EMPTY, reads[readsSent++] as Record<string, bigint>);
      }
      const readsDone = readsSent === reads.length && readsInFlight === 0;
      while (writesInFlight < r.window && pendingWrites.length > 0 && (r.overlap || readsDone)) {
        writesInFlight++;
        r.dst.packetOut(EMPTY, pendingWrites.shift() as Record<string, bigint>);
      }
    };
    subs.push(r.src.packetIn$.subscribe((p) => {
      const a = decodeInbandAnswer(r.spec, p.metadata);
      if (!a || a.op !== INBAND_OP.READ_SLOT || a.reqId < base || a.reqId >= base + r.slots.length) return;
      readsInFlight--;
      readsEnd = performance.now();
      if (a.status !== INBAND_STATUS.OK) return finish(new Error(`minimum: READ_SLOT ${a.index} answered status ${a.status}`));
      const k = a.reqId - base;
      const slot = r.slots[k] as MinimumSlot;
      written.set(slot.dst, a.words);
      pendingWrites.push(encodeInbandRequest(r.spec, { op: INBAND_OP.WRITE_IF, reqId: base + k, index: slot.dst, mask, words: a.words }));
      pump();
    }));
    subs.push(r.dst.packetIn$.subscribe((p) => {
      const a = decodeInbandAnswer(r.spec, p.metadata);
      if (!a || a.op !== INBAND_OP.WRITE_IF || a.reqId < base || a.reqId >= base + r.slots.length) return;
      writesInFlight--;
      if (a.status !== INBAND_STATUS.OK) return finish(new Error(`minimum: WRITE_IF ${a.index} answered status ${a.status} (the destination slot was not free)`));
      if (++writesDone === r.slots.length) return finish();
      pump();
    }));
    if (r.slots.length === 0) return finish();
    pump();
  });
}

const EMPTY = new Uint8Array(0);

/** Runs the floor once (after prepareMinimum): freeze, the slots, activation; timed. */
export async function runMinimum(r: MinimumRun): Promise<MinimumTiming> {
  const t0 = performance.now();
  await r.src.write(r.src.table(r.control.table).modify(controlEntry(r.control, r.srcVmId, { track: 1, freeze: 1, staged: 0, active: 1 })));
  const t1 = performance.now();
  const { written, readsEnd } = await copySlots(r);
  const t2 = performance.now();
  await r.dst.write(r.dst.table(r.control.table).delete({ match: { [r.control.keyField]: r.dstVmId } }));
  const t3 = performance.now();
  return { ms: t3 - t0, freezeMs: t1 - t0, slotsMs: t2 - t1, readsMs: readsEnd - t1, activateMs: t3 - t2, written };
}

/** One measured floor, beside the pause it is compared with. */
export interface MinimumSample {
  readonly profile: MigrateProfile;
  /** In-band reads and writes (BMv2's path), or P4Runtime Read and Write of register cells (migrate-minimum-p4rt.ts). */
  readonly path: 'in-band' | 'p4runtime';
  /** Register operations at the switches: in-band requests, or cells read and written. */
  readonly targetOps: number;
  /** Over P4Runtime: the cells and the activation went in one DATAPLANE_ATOMIC Write. */
  readonly atomic?: boolean;
  /** Writes sent as their reads answered (the floor), or after every read. */
  readonly overlap: boolean;
  readonly flows: number;
  readonly changed: number;
  readonly ms: number;
  readonly freezeMs: number;
  readonly slotsMs: number;
  readonly readsMs: number;
  readonly activateMs: number;
  /** Requests both switches got (2 Writes, 2 × changed PacketOuts), counted at the sessions. */
  readonly requests: SwitchRequestCounts;
}

/**
 * The floor for `changing` flows of VM `vm` on a real-BMv2 rig (its migrations rolled back):
 * their slots located at the source, copied to the same indices at the destination (free there:
 * nothing of the VM is left after a rollback, and WRITE_IF refuses a taken slot), then checked
 * and undone — the destination slots cleared, the source's entry deleted. `beforeTimed` runs
 * just before the clock starts (the bench settles the heap there, as before a pause).
 */
export async function measureMinimumOn(rig: MigrateRig, vm: number, changing: readonly number[], overlap = true, beforeTimed: () => Promise<void> = async () => undefined): Promise<MinimumSample> {
  const what = `${rig.profile}, ${rig.trackedOf(vm).length} flows, minimum for ${changing.length} changed${overlap ? '' : ' (reads, then writes)'}`;
  const src = rig.src.packetSide;
  const dst = rig.dst.packetSide;
  if (!src || !dst) throw new MigrateBenchFailure(`${what}: the minimum-requests floor needs switches driven like BMv2 (in-band reads for its checks)`);
  const control = rig.src.plugin.contract.control;
  const spec = rig.src.plugin.contract.inband;
  if (!control || !spec) throw new MigrateBenchFailure(`${what}: the program declares no migration control table or in-band service`);
  const at = await src.locate(vm, changing);
  if (at.size !== changing.length) throw new MigrateBenchFailure(`${what}: ${at.size} of ${changing.length} changed flows found at the source`);
  const v = rig.vm(vm);
  const run: MinimumRun = {
    src: rig.src.plugin.session, dst: rig.dst.plugin.session, spec, control, srcVmId: v.srcId, dstVmId: v.dstId,
    slots: [...at.values()].map((r) => ({ src: r.index, dst: r.index })), window: rig.inbandWindow, words: rig.group.words.length, overlap,
  };
  await prepareMinimum(run);
  await beforeTimed();
  const r0 = rig.reading();
  let t: MinimumTiming;
  try {
    t = await runMinimum(run);
  } catch (e) {
    throw await abandonMinimum(rig, run, run.slots.map((s) => s.dst), `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r1 = rig.reading();
  // The destination holds what the source held, then nothing of it once undone.
  const moved = await dst.locate(vm, changing);
  const wrong = [...at.entries()].filter(([i, r]) => moved.get(i)?.words.join() !== r.words.join());
  await rig.dst.plugin.registerAccess.writeSlots([...t.written.keys()].map((index) => ({ index, words: rig.group.words.map(() => 0n) })));
  await undoMinimum(run);
  const left = await dst.locate(vm, changing);
  if (wrong.length > 0) throw new MigrateBenchFailure(`${what}: ${wrong.length} of ${changing.length} slots at the destination differ from the source's`);
  if (left.size > 0) throw new MigrateBenchFailure(`${what}: ${left.size} slots left at the destination after the undo`);
  return { profile: rig.profile, path: 'in-band', targetOps: 2 * changing.length, overlap, flows: rig.trackedOf(vm).length, changed: changing.length, ms: t.ms, freezeMs: t.freezeMs, slotsMs: t.slotsMs, readsMs: t.readsMs, activateMs: t.activateMs, requests: requestsBetween(r0.requests, r1.requests) };
}
