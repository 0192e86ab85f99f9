/**
 * The workload run the comparing groups share (run once per hw-test run): generate a small VM
 * workload, note the state it can touch (the flows' candidate slots, the current dirty buffer,
 * the counters), inject it through PacketOut, read that state again, and feed the same packets to
 * the reference model started from the same state. The undo of everything the traffic changed is
 * recorded before the first packet leaves.
 */
import { INBAND_OP, candidateSlotsFor, slotsOfDirtyWord } from '../plugin/index.js';
import type { SlotGroupSpec } from '../plugin/index.js';
import { generateWorkload } from '../sim/workload/index.js';
import type { WorkloadPacket } from '../sim/workload/index.js';
import { statefulEdgeProgram } from '../sim/programs/stateful-edge/index.js';
import { programRegisters } from '../sim/index.js';
import { ensureFixture } from './fixture.js';
import { hardSetup, hardVmIds } from './fixture-hard.js';
import type { FixtureSpec } from './fixture-spec.js';
import type { ParsedHwTestOptions } from './options.js';
import { formatIpv4Number } from './slot-format.js';
import { modelSlot, runReferenceModel } from './reference-model.js';
import { freshRounds, modelChanges, modelLogs, targetLogs } from './change-log-diff.js';
import type { TargetLog } from './change-log-diff.js';
import type { HwTestSession } from './session.js';

/** One flow of the workload, as the checks need it. */
export interface WorkloadFlowInfo {
  readonly id: number;
  /** The hard-traffic case of the flow (hard traffic only). */
  readonly hardCase?: string;
  readonly protocol: number;
  readonly vmId: number;
  /** The flow key by contract key-field name. */
  readonly key: Readonly<Record<string, bigint>>;
  readonly label: string;
  /** Index of the flow's first packet in the stream. */
  readonly firstPacket: number;
  /** Candidate slots per the contract's placement (TCP flows; UDP is not tracked). */
  readonly candidates: readonly number[];
}

/** A counter cell's change over the run, on the target and in the model. */
export interface CounterComparison {
  readonly counter: string;
  readonly index: number;
  readonly target: { readonly packets: bigint; readonly bytes: bigint };
  readonly model: { readonly packets: bigint; readonly bytes: bigint };
}

/** Everything the comparing groups look at. */
export interface WorkloadRun {
  readonly packets: number;
  readonly flows: readonly WorkloadFlowInfo[];
  readonly epoch: bigint;
  readonly buffer: 0 | 1;
  /** Slots compared: every candidate of every TCP flow, plus slots the target marked elsewhere. */
  readonly slots: readonly number[];
  readonly before: ReadonlyMap<number, readonly bigint[]>;
  readonly target: ReadonlyMap<number, readonly bigint[]>;
  readonly model: ReadonlyMap<number, readonly bigint[]>;
  /** Slots the target marked dirty that are no candidate of any workload flow. */
  readonly extraSlots: readonly number[];
  /** Dirty words compared: those the target or the model changed. */
  readonly dirtyWords: readonly number[];
  readonly dirtyBefore: ReadonlyMap<number, bigint>;
  readonly dirtyTarget: ReadonlyMap<number, bigint>;
  readonly dirtyModel: ReadonlyMap<number, bigint>;
  readonly counters: readonly CounterComparison[];
  /** Slots each change-log tracker logged during the run, in log order: target (undefined = ring overflow) and model. */
  readonly logsTarget: readonly TargetLog[];
  readonly logsModel: readonly (readonly number[])[];
  /** Changes each tracker counted in the model (undefined where the contract counts none). */
  readonly changesModel: readonly (bigint | undefined)[];
  /** What the model did with the packets (forward, drop:<reason>, …). */
  readonly egress: Readonly<Record<string, number>>;
  /** Which backends read the state. */
  readonly readers: string;
  readonly timings: { readonly injectMs: number; readonly readMs: number; readonly modelMs: number };
}

const KEY_FIELDS = ['vm_addr', 'remote_addr', 'vm_port', 'remote_port', 'protocol'] as const;

/** The workload's packets (deterministic for the seed). */
export function workloadPackets(o: Pick<ParsedHwTestOptions, 'fixture' | 'seed' | 'flows' | 'cpuPort'>): WorkloadPacket[] {
  const f = o.fixture;
  const hard = hardSetup(f, o.cpuPort);
  return [
    ...generateWorkload({
      seed: o.seed,
      flows: o.flows,
      vms: f.vms.map((vm) => ({ addr: vm.addr, port: vm.port })),
      uplinkPort: f.uplinkPort,
      remoteNetwork: f.remoteNetwork,
      vmTcpPorts: f.vmServicePorts,
      inboundShare: 0.2,
      exchanges: [1, 2],
      responseBytes: [100, 6000],
      ...(hard ? { hard } : {}),
    }),
  ];
}

/** The flows of a packet stream, with their keys and candidate slots in `group`. */
export function workloadFlows(group: SlotGroupSpec, fixture: FixtureSpec, packets: readonly WorkloadPacket[]): WorkloadFlowInfo[] {
  const byId = new Map<number, WorkloadFlowInfo>();
  const vmIdOf = new Map(fixture.vms.map((vm, i) => [i, vm.vmId]));
  for (const p of packets) {
    const fl = p.flow;
    if (byId.has(fl.id)) continue;
    const key: Record<string, bigint> = {
      vm_addr: BigInt(fl.vmAddr >>> 0),
      remote_addr: BigInt(fl.remoteAddr >>> 0),
      vm_port: BigInt(fl.vmPort),
      remote_port: BigInt(fl.remotePort),
      protocol: BigInt(fl.protocol),
    };
    const proto = fl.protocol === 6 ? 'tcp' : 'udp';
    byId.set(fl.id, {
      id: fl.id,
      ...(fl.hardCase !== undefined ? { hardCase: fl.hardCase } : {}),
      protocol: fl.protocol,
      vmId: vmIdOf.get(fl.vm) ?? 0,
      key,
      label: `${formatIpv4Number(fl.vmAddr)}:${fl.vmPort} ↔ ${formatIpv4Number(fl.remoteAddr)}:${fl.remotePort} ${proto}`,
      firstPacket: p.index,
      candidates: fl.protocol === 6 ? candidateSlotsFor(group.placement, key) : [],
    });
  }
  return [...byId.values()];
}

function checkKeyFields(group: SlotGroupSpec): void {
  const names = group.key.map((f) => f.name);
  if (names.join(' ') !== KEY_FIELDS.join(' ')) {
    throw new Error(`slot group '${group.name}' is keyed by (${names.join(', ')}); hw-test's workload drives stateful_edge's key (${KEY_FIELDS.join(', ')})`);
  }
}

/**
 * The counter cells the workload changes: per-VM counters of every VM the traffic uses (cells
 * past a counter's size do not exist: BMv2 counts nothing there), every drop reason.
 */
function counterCells(s: HwTestSession): { counter: string; index: number }[] {
  const out: { counter: string; index: number }[] = [];
  const vmIds = [...s.o.fixture.vms.map((vm) => vm.vmId), ...hardVmIds(s.o.fixture)];
  const perVm = [...s.contract.counters.map((c) => c.counter), ...(s.group.collisionCounter ? [s.group.collisionCounter] : [])];
  for (const c of perVm) {
    const size = s.schema.counter(c).size;
    for (const id of vmIds) if (id < size) out.push({ counter: c, index: id });
  }
  const drops = s.schema.counters.find((c) => c.alias === 'drops');
  if (drops) for (let i = 0; i < drops.size; i++) out.push({ counter: drops.alias, index: i });
  return out;
}

async function readCounterCells(s: HwTestSession, cells: readonly { counter: string; index: number }[]): Promise<Map<string, { packets: bigint; bytes: bigint }>> {
  const read = await s.sw.readAll(cells.map((c) => s.sw.counter(c.counter).at(c.index)));
  const out = new Map<string, { packets: bigint; bytes: bigint }>();
  for (const r of read) {
    const alias = s.schema.counter(r.counter).alias;
    out.set(`${alias}[${r.index}]`, { packets: r.packets, bytes: r.bytes });
  }
  return out;
}

function wordsMap(records: readonly { readonly index: number; readonly words: readonly bigint[] }[]): Map<number, readonly bigint[]> {
  return new Map(records.map((r) => [r.index, r.words]));
}

/** Whether two slots' first `n` words are equal (a missing word reads as 0). */
export function sameWords(a: readonly bigint[] | undefined, b: readonly bigint[] | undefined, n: number): boolean {
  for (let i = 0; i < n; i++) if ((a?.[i] ?? 0n) !== (b?.[i] ?? 0n)) return false;
  return true;
}

/** The dirty buffer as read after the traffic (nothing writes slots after that), for the undo. */
interface AfterRead {
  dirty: ReadonlyMap<number, bigint> | undefined;
}

/** Records the undo of what the traffic changes: slots back to their snapshot, dirty bits cleared. */
function recordStateUndo(s: HwTestSession, candidates: readonly number[], before: ReadonlyMap<number, readonly bigint[]>, buffer: 0 | 1, dirtyBefore: ReadonlyMap<number, bigint>, after: AfterRead): void {
  const g = s.group;
  s.undo.add('restore the conntrack slots and dirty words the workload changed', async () => {
    const slotIo = await s.slotReader();
    const bufIo = await s.bufferReader();
    const dirty = g.dirty;
    // After a complete run only the words it saw change need a look; after a broken one, all of them.
    const changed = after.dirty ? [...after.dirty].filter(([w, v]) => v !== (dirtyBefore.get(w) ?? 0n)).map(([w]) => w) : undefined;
    const dirtyNow = !dirty ? [] : changed ? (changed.length > 0 ? await bufIo.readDirtyWords({ indices: changed }) : []) : await bufIo.readDirtyWords({ buffer });
    const marked = new Set<number>();
    for (const w of dirtyNow) {
      const fresh = w.value & ~(dirtyBefore.get(w.index) ?? 0n);
      if (dirty && fresh !== 0n) for (const slot of slotsOfDirtyWord(dirty, w.index, fresh)) marked.add(slot);
    }
    const all = [...new Set([...candidates, ...marked])].sort((a, b) => a - b);
    const now = wordsMap(await slotIo.readSlots({ indices: all }));
    const writes = [];
    for (const slot of all) {
      const was = before.get(slot);
      if (was === undefined && !sameWords(now.get(slot), [], g.words.length)) s.undo.note(`slot ${slot} was changed outside the flows' candidate slots; it was not read before the run and was cleared to zero`);
      if (!sameWords(now.get(slot), was, g.words.length)) writes.push({ index: slot, words: g.words.map((_, i) => was?.[i] ?? 0n) });
    }
    if (writes.length > 0) await slotIo.writeSlots(writes);
    await restoreDirtyWords(s, dirtyNow, dirtyBefore);
  });
}

/**
 * Puts dirty words back to what they held before a run: a word that was zero is cleared, one
 * that held bits is written back where the target serves register writes, else noted.
 */
export async function restoreDirtyWords(s: HwTestSession, dirtyNow: readonly { readonly index: number; readonly value: bigint }[], dirtyBefore: ReadonlyMap<number, bigint>, what = 'the workload'): Promise<void> {
  const dirty = s.group.dirty;
  if (!dirty) return;
  const writer = await s.registerWriter();
  const restore: number[] = [];
  const left: number[] = [];
  for (const w of dirtyNow) {
    const was = dirtyBefore.get(w.index) ?? 0n;
    if (w.value === was) continue;
    if (was === 0n) restore.push(w.index);
    else if (writer) await s.sw.write(s.sw.register(dirty.register).modify(w.index, was));
    // Without register writes a set bit cannot be put back in-band; a spare dirty bit only costs one re-read.
    else left.push(w.index);
  }
  if (restore.length > 0) await (await s.bufferReader()).clearDirtyWords(restore);
  if (left.length > 0) {
    const shown = left.slice(0, 5).map((i) => `[${i}]`).join(', ') + (left.length > 5 ? `, … (${left.length - 5} more)` : '');
    s.undo.note(
      `${s.o.target}: ${left.length} dirty word(s) of ${dirty.register} (${shown}) already held bits when ${what} began (the switch's, or an earlier group's); ` +
        `${what}'s extra bits there were left unless a later step cleared the word (in-band access can only clear a whole word; a spare dirty bit costs one re-read)`,
    );
  }
}

/** Runs the workload on the target and in the model (once per hw-test run). */
export function runWorkload(s: HwTestSession): Promise<WorkloadRun> {
  return s.once('workload', async () => {
    const g = s.group;
    checkKeyFields(g);
    const dirty = g.dirty;
    if (!dirty) throw new Error(`slot group '${g.name}' has no dirty bitmap (@migrate_dirty); hw-test needs it to find every slot the target used`);
    await ensureFixture(s);
    const packets = workloadPackets(s.o);
    const flows = workloadFlows(g, s.o.fixture, packets);
    const candidates = [...new Set(flows.flatMap((f) => f.candidates))].sort((a, b) => a - b);
    const slotIo = await s.slotReader();
    const bufIo = await s.bufferReader();
    const readers = slotIo === bufIo ? slotIo.capabilities().backend : `slots ${slotIo.capabilities().backend}, dirty buffer ${bufIo.capabilities().backend}`;

    const t0 = performance.now();
    const clock = await s.rawRequest(INBAND_OP.READ_EPOCH);
    const epoch = clock.answer.words[0] ?? 0n;
    const startNs = clock.answer.ts > 0n ? clock.answer.ts * 1000n : 1_000_000_000n;
    const buffer = Number(epoch & 1n) as 0 | 1;
    const dirtyBefore = new Map((await bufIo.readDirtyWords({ buffer })).map((w) => [w.index, w.value]));
    const before = wordsMap(await slotIo.readSlots({ indices: candidates }));
    const cells = counterCells(s);
    const countersBefore = await readCounterCells(s, cells);
    const logStarts = g.changeLog ? await freshRounds(s, bufIo) : [];
    const after: AfterRead = { dirty: undefined };
    recordStateUndo(s, candidates, before, buffer, dirtyBefore, after);
    const readBeforeMs = performance.now() - t0;

    const t1 = performance.now();
    await s.inject(packets.map((p) => ({ port: p.ingressPort, payload: p.payload })));
    const injectMs = performance.now() - t1;

    const t2 = performance.now();
    const dirtyTarget = new Map((await bufIo.readDirtyWords({ buffer })).map((w) => [w.index, w.value]));
    after.dirty = dirtyTarget;
    const candidateSet = new Set(candidates);
    const extra = new Set<number>();
    for (const [w, v] of dirtyTarget) {
      const fresh = v & ~(dirtyBefore.get(w) ?? 0n);
      if (fresh !== 0n) for (const slot of slotsOfDirtyWord(dirty, w, fresh)) if (!candidateSet.has(slot)) extra.add(slot);
    }
    const slots = [...candidates, ...extra].sort((a, b) => a - b);
    const target = wordsMap(await slotIo.readSlots({ indices: slots }));
    const countersAfter = await readCounterCells(s, cells);
    const logsTarget = await targetLogs(bufIo, logStarts);
    const readMs = readBeforeMs + performance.now() - t2;

    const t3 = performance.now();
    const first = packets[0]?.atNs ?? 0n;
    const m = runReferenceModel({
      program: s.o.model ?? statefulEdgeProgram,
      cpuPort: s.o.cpuPort,
      registers: programRegisters(s.schema.p4info),
      fixture: s.o.fixture,
      group: g,
      packets: packets.map((p) => ({ port: p.ingressPort, payload: p.payload, atNs: p.atNs - first })),
      initialSlots: before,
      initialDirty: dirtyBefore,
      epoch,
      startNs,
    });
    const model = new Map(slots.map((slot) => [slot, modelSlot(m.env, g, slot)]));
    const dirtyModel = new Map<number, bigint>();
    const dirtyWords = new Set<number>();
    for (const [w, v] of dirtyTarget) if (v !== (dirtyBefore.get(w) ?? 0n)) dirtyWords.add(w);
    for (const w of m.env.nonZeroCells(dirty.register)) if (m.env.registerRead(dirty.register, w) !== (dirtyBefore.get(w) ?? 0n)) dirtyWords.add(w);
    for (const w of dirtyWords) dirtyModel.set(w, m.env.registerRead(dirty.register, w));
    const counters: CounterComparison[] = cells.map(({ counter, index }) => {
      const b = countersBefore.get(`${counter}[${index}]`) ?? { packets: 0n, bytes: 0n };
      const a = countersAfter.get(`${counter}[${index}]`) ?? { packets: 0n, bytes: 0n };
      const mc = m.env.counter(counter, index);
      return { counter, index, target: { packets: a.packets - b.packets, bytes: a.bytes - b.bytes }, model: { packets: BigInt(mc.packets), bytes: BigInt(mc.bytes) } };
    });
    const modelMs = performance.now() - t3;

    return {
      packets: packets.length,
      flows,
      epoch,
      buffer,
      slots,
      before,
      target,
      model,
      extraSlots: [...extra].sort((a, b) => a - b),
      dirtyWords: [...dirtyWords].sort((a, b) => a - b),
      dirtyBefore,
      dirtyTarget,
      dirtyModel,
      counters,
      logsTarget,
      logsModel: modelLogs(m, g),
      changesModel: modelChanges(m, g),
      egress: m.egress,
      readers,
      timings: { injectMs, readMs, modelMs },
    };
  });
}
