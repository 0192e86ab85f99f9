/**
 * A real BMv2 as a switch of `carryover bench migrate`. BMv2 has no side channel, so everything
 * goes through the controller's own P4Runtime session: the VM's traffic by PacketOut (op INJECT,
 * as `bench pipeline` and hw-test fill a switch) in batches closed by an in-band READ_EPOCH, and
 * the checks read in-band (READ_SLOT — BMv2 answers RegisterEntry reads UNIMPLEMENTED) and the
 * counters by CounterEntry. The rig drives sims this way too (`packetPath`), so the path is
 * tested where no BMv2 is installed.
 *
 * A scan of all 327,680 slots costs ≈ 40 s in-band on BMv2, so a VM's slots are looked for where
 * the placement can put the bench's flows: the candidate slots of each of the VM's flows (4 per
 * flow), deduplicated. A slot of the VM outside every flow's candidates — which placement never
 * produces — would not be seen; every candidate is read, so a copy left in a second candidate is.
 */
import type { EdgePlugin, RegisterAccess, SlotRecord } from '../../plugin/index.js';
import { candidateSlotsFor, decodeSlotFields, fieldValue } from '../../plugin/index.js';
import type { Bmv2Process } from '../real-tools.js';
import { inbandAccess, injectInBatches } from '../edge-rig.js';
import { numberedFlowKey } from '../../sim/workload/index.js';
import { BENCH_VMS, dataSegmentFrame, handshakeFrames, slotFingerprint } from './migrate-flows.js';
import type { BenchFrame, BenchVm } from './migrate-flows.js';
import type { MigrateSwitchSide, SwitchCounters } from './migrate-switch-side.js';

/** What the BMv2 side needs. */
export interface Bmv2SideOptions {
  readonly plugin: EdgePlugin;
  readonly process: Bmv2Process;
  /** The flows of BENCH_VMS[vm] whose slots a fingerprint looks for (the rig's tracked flows). */
  readonly flowsOf: (vm: number) => readonly number[];
  /** In-band requests in flight for the checks' reads. */
  readonly window: number;
  /** PacketOuts between two barriers. */
  readonly injectBatch: number;
}

/** The BMv2 side, plus where a flow's slot is (for the minimum-requests baseline). */
export interface Bmv2Side extends MigrateSwitchSide {
  readonly pid: number;
  /** The slot holding each of `flows` of BENCH_VMS[vm] at this switch (flows not found are absent). */
  locate(vm: number, flows: readonly number[]): Promise<Map<number, SlotRecord>>;
}

/** A stable string of a key, for lookups. */
const keyString = (k: Readonly<Record<string, bigint | undefined>>, names: readonly string[]): string => names.map((n) => String(k[n] ?? 0n)).join('/');

function benchVm(vm: number): BenchVm {
  const v = BENCH_VMS[vm];
  if (!v) throw new RangeError(`no bench VM ${vm}`);
  return v;
}

/** Wraps a started plugin on a started BMv2 as a bench switch. */
export function migrateBmv2Side(o: Bmv2SideOptions): Bmv2Side {
  const { plugin } = o;
  const group = plugin.group;
  const keyNames = group.placement.keyFields.map((f) => f.name);
  // An in-band client of its own per operation, closed after it: an idle one would still decode
  // every answer the product's requests get during a measured pause.
  const withAccess = async <T>(timeoutMs: number, maxAttempts: number, f: (a: RegisterAccess) => Promise<T>): Promise<T> => {
    const a = await inbandAccess(plugin, { window: o.window, timeoutMs, maxAttempts });
    try {
      return await f(a);
    } finally {
      a.close();
    }
  };
  // The barrier waits behind a whole batch in the switch's queue: a long timeout, no retry.
  const inject = (frames: readonly BenchFrame[]): Promise<void> => withAccess(60_000, 1, (barrier) => injectInBatches(plugin.session, barrier, frames, o.injectBatch));
  const readSlots = (indices: readonly number[]): Promise<SlotRecord[]> => withAccess(2_000, 5, (a) => a.readSlots({ indices: [...new Set(indices)].sort((x, y) => x - y) }));

  const locate = async (vm: number, flows: readonly number[]): Promise<Map<number, SlotRecord>> => {
    const v = benchVm(vm);
    const byKey = new Map<string, number>();
    const candidates: number[] = [];
    for (const i of flows) {
      const key = numberedFlowKey(v, i);
      byKey.set(keyString(key, keyNames), i);
      candidates.push(...candidateSlotsFor(group.placement, key));
    }
    const found = new Map<number, SlotRecord>();
    for (const r of await readSlots(candidates)) {
      if (fieldValue(r.words, group.valid) === 0n) continue;
      const i = byKey.get(keyString(decodeSlotFields(group, r.words), keyNames));
      if (i !== undefined) found.set(i, r);
    }
    return found;
  };

  const counters = async (vmId: number): Promise<SwitchCounters> => {
    const out: SwitchCounters = {};
    for (const c of plugin.contract.counters) out[c.counter] = await plugin.registerAccess.readCounter(c.counter, vmId);
    return out;
  };
  const vmWithId = (vmId: number): number => {
    const n = BENCH_VMS.findIndex((v) => v.srcId === vmId || v.dstId === vmId);
    if (n < 0) throw new RangeError(`no bench VM has switch-local id ${vmId}`);
    return n;
  };
  // Data segments sent per VM and flow so far: the next one continues the sequence.
  const sent = BENCH_VMS.map(() => new Map<number, number>());

  const side: Bmv2Side = {
    address: o.process.address,
    pid: o.process.pid,
    locate,
    counters,
    establish: async (first, count, vm = 0) => {
      const v = benchVm(vm);
      const flows = Array.from({ length: count }, (_, k) => first + k);
      await inject(flows.flatMap((i) => handshakeFrames(v, i)));
      const found = await locate(vm, flows);
      return flows.filter((i) => found.has(i));
    },
    change: async (flows, vm = 0) => {
      const v = benchVm(vm);
      // The pipeline forwarded what the VM's transmit counter counted.
      const tx = plugin.contract.counters[0]?.counter ?? 'vm_tx';
      const before = (await plugin.registerAccess.readCounter(tx, v.srcId)).packets;
      await inject(flows.map((i) => {
        const n = sent[vm]?.get(i) ?? 0;
        sent[vm]?.set(i, n + 1);
        return dataSegmentFrame(v, i, n);
      }));
      return Number((await plugin.registerAccess.readCounter(tx, v.srcId)).packets - before);
    },
    fingerprint: async (vmId, ignore) => {
      const vm = vmWithId(vmId);
      const v = benchVm(vm);
      const candidates = o.flowsOf(vm).flatMap((i) => candidateSlotsFor(group.placement, numberedFlowKey(v, i)));
      const words = (await readSlots(candidates)).filter((r) => fieldValue(r.words, group.valid) !== 0n && fieldValue(r.words, group.vm) === BigInt(vmId)).map((r) => r.words);
      return slotFingerprint(group, words, ignore);
    },
    stop: () => o.process.stop(),
  };
  return side;
}
