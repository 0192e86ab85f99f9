/**
 * The demo behind `carryover demo`: two simulated edge switches running stateful_edge — the
 * source on the spec profile (registers over P4Runtime), the destination on the BMv2 profile
 * (registers only through in-band packets) — each with an edge plugin; a VM whose live TCP and UDP
 * flows are driven through PacketOut; its state read at the source, shown missing at the
 * destination (its established flows' return traffic is dropped there), copied over through the
 * destination's own backend, read back identical, and the same return traffic now admitted.
 *
 * The copy is a plain state transfer done while nothing runs; the live migration itself (phases
 * from QEMU, pre-copy deltas, pause-window sync, commit/rollback) is the migration engine's job and
 * is not built yet — the report says so.
 */
import type { VmState } from '../../plugin/index.js';
import { encodeSlotWords } from '../../plugin/index.js';
import { generateWorkload } from '../../sim/workload/index.js';
import type { WorkloadPacket } from '../../sim/workload/index.js';
import { UPLINK, VMS, eventually, injectViaPacketOut, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

/** Knobs of the demo. */
export interface DemoOptions {
  /** Flows of the migrating VM (TCP and some UDP). */
  readonly flows: number;
  readonly seed: number;
  /** Progress lines. */
  readonly progress: (line: string) => void;
}

export const DEFAULT_DEMO_OPTIONS: Omit<DemoOptions, 'progress'> = Object.freeze({ flows: 600, seed: 7 });

/** What the demo measured. */
export interface DemoReport {
  readonly vm: { readonly addr: string; readonly id: number };
  readonly source: { readonly profile: string; readonly backend: string; readonly reason: string };
  readonly destination: { readonly profile: string; readonly backend: string; readonly reason: string };
  readonly packetsSent: number;
  readonly flows: { readonly tcp: number; readonly udp: number; readonly openTcp: number };
  readonly sourceState: StateSummary;
  readonly destinationBefore: StateSummary;
  readonly destinationAfter: StateSummary;
  /** Return packets of the VM's open connections, injected at the destination. */
  readonly probes: { readonly sent: number; readonly admittedBefore: number; readonly admittedAfter: number; readonly admittedAtSource: number };
  /** Field-by-field comparison of source and destination state after the copy. */
  readonly identical: boolean;
  readonly differences: readonly string[];
  readonly pinholesLearned: number;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly notBuilt: readonly string[];
}

/** A short count of one VM's state on one switch. */
export interface StateSummary {
  readonly slots: number;
  readonly byState: Readonly<Record<string, number>>;
  readonly pinholes: number;
  readonly counters: Readonly<Record<string, { readonly packets: bigint; readonly bytes: bigint }>>;
}

const TCP_STATES = ['EMPTY', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSED'];

function summarize(s: VmState): StateSummary {
  const byState: Record<string, number> = {};
  for (const slot of s.slots) {
    const name = TCP_STATES[Number(slot.fields['state'] ?? 0n)] ?? `state ${slot.fields['state']}`;
    const proto = slot.fields['protocol'] === 17n ? 'UDP' : name;
    byState[proto] = (byState[proto] ?? 0) + 1;
  }
  const counters: Record<string, { packets: bigint; bytes: bigint }> = {};
  for (const c of s.counters) counters[c.counter] = { packets: c.packets, bytes: c.bytes };
  return { slots: s.slots.length, byState, pinholes: s.tableEntries.length, counters };
}

function compareStates(a: VmState, b: VmState): string[] {
  const diffs: string[] = [];
  const bySlot = new Map(b.slots.map((s) => [s.slot, s]));
  for (const s of a.slots) {
    const t = bySlot.get(s.slot);
    if (!t) {
      diffs.push(`slot ${s.slot}: missing at destination`);
      continue;
    }
    for (const [f, v] of Object.entries(s.fields)) if (t.fields[f] !== v) diffs.push(`slot ${s.slot} ${f}: source ${v}, destination ${t.fields[f]}`);
  }
  if (b.slots.length !== a.slots.length) diffs.push(`slots: source ${a.slots.length}, destination ${b.slots.length}`);
  const key = (e: VmState['tableEntries'][number]): string => `${e.table} ${JSON.stringify(e.match, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`;
  const entries = new Map(b.tableEntries.map((e) => [key(e), e]));
  for (const e of a.tableEntries) {
    const t = entries.get(key(e));
    if (!t) diffs.push(`${key(e)}: missing at destination`);
    else if (t.action !== e.action || t.idleTimeoutNs !== e.idleTimeoutNs || t.counter?.packets !== e.counter?.packets || t.counter?.bytes !== e.counter?.bytes) diffs.push(`${key(e)}: differs`);
  }
  for (const c of a.counters) {
    const t = b.counters.find((x) => x.counter === c.counter && x.index === c.index);
    if (t?.packets !== c.packets || t?.bytes !== c.bytes) diffs.push(`counter ${c.counter}[${c.index}]: source ${c.packets} pkts/${c.bytes} B, destination ${t?.packets} pkts/${t?.bytes} B`);
  }
  return diffs;
}

/** Runs the demo end to end and returns its report. */
export async function runDemo(options: Partial<DemoOptions> = {}): Promise<DemoReport> {
  const o: DemoOptions = { ...DEFAULT_DEMO_OPTIONS, progress: () => undefined, ...options };
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };
  const vm = VMS[0];
  o.progress('starting two simulated edge switches (source: profile full, destination: profile bmv2) with an edge plugin each');
  const rigs: EdgeRig[] = [];
  try {
    const src = await timed('start source', () => startEdgeRig({ profile: 'full' }));
    rigs.push(src);
    const dst = await timed('start destination', () => startEdgeRig({ profile: 'bmv2' }));
    rigs.push(dst);

    // The VM's traffic: most TCP connections stay open (they are what must survive the move).
    const packets = [...generateWorkload({ seed: o.seed, vms: [{ addr: vm.addr, port: vm.port }], uplinkPort: UPLINK, flows: o.flows, udpShare: 0.15, close: { fin: 0.15, rst: 0.05, open: 0.8 } })];
    const lastOf = new Map<number, WorkloadPacket>();
    const lastInbound = new Map<number, WorkloadPacket>();
    for (const p of packets) {
      lastOf.set(p.flow.id, p);
      if (p.direction === 'in') lastInbound.set(p.flow.id, p);
    }
    // Hold back each open connection's last return packet (and whatever followed it): the probe
    // of whether the connection's state is on a switch.
    const probes = [...lastInbound.values()].filter((p) => p.flow.protocol === 6 && p.flow.close === 'open');
    const cut = new Map(probes.map((p) => [p.flow.id, p.index]));
    const live = packets.filter((p) => p.index < (cut.get(p.flow.id) ?? Infinity));
    const flows = [...lastOf.values()].map((p) => p.flow);

    o.progress(`driving ${live.length} packets of ${flows.length} flows through PacketOut at the source`);
    await timed('traffic at source', async () => {
      const before = src.sim.dataplane.stats()?.packetOuts ?? 0;
      for (const p of live) injectViaPacketOut(src.sw, p.ingressPort, p.payload);
      const done = await eventually(() => (src.sim.dataplane.stats()?.packetOuts ?? 0) - before >= live.length, 60_000, 10);
      if (!done) throw new Error('the source switch did not process every packet within 60 s');
      await src.plugin.settled();
    });

    const srcState = await timed('read source state', () => src.plugin.readVmState(vm.id));
    // The destination reads only the slots the source used (a full in-band scan of every slot is
    // what a first snapshot costs on BMv2; the demo does not need it).
    const where = { slots: { indices: srcState.slots.map((s) => s.slot) } };
    const dstBefore = await timed('read destination state (before)', () => dst.plugin.readVmState(vm.id, where));
    const admit = (rig: EdgeRig): number => probes.filter((p) => rig.sim.dataplane.inject(p.ingressPort, p.payload).kind === 'forward').length;
    const admittedBefore = admit(dst);

    o.progress(`copying ${srcState.slots.length} slots, ${srcState.tableEntries.length} pinholes and ${srcState.counters.length} counters to the destination (${dst.plugin.registerAccess.capabilities().backend} backend)`);
    await timed('copy to destination', async () => {
      const group = dst.plugin.group;
      await dst.plugin.registerAccess.writeSlots(srcState.slots.map((s) => ({ index: s.slot, words: encodeSlotWords(group, s.fields) })));
      const sw = dst.sw;
      if (srcState.tableEntries.length > 0) {
        await sw.write(
          srcState.tableEntries.map((e) =>
            sw.table(e.table).insert({
              match: Object.fromEntries(Object.entries(e.match).map(([k, m]) => [k.split('.').pop() ?? k, m.kind === 'exact' ? m.value : m.kind === 'ternary' ? { value: m.value, mask: m.mask } : m.kind === 'lpm' ? { value: m.value, prefixLen: m.prefixLen } : m.kind === 'range' ? { low: m.low, high: m.high } : m.value])),
              action: e.action ?? '',
              params: e.params,
              priority: e.priority,
              idleTimeout: e.idleTimeoutNs,
              ...(e.counter ? { counterData: e.counter } : {}),
            }),
          ),
        );
      }
      await sw.write(srcState.counters.map((c) => sw.counter(c.counter).modify(c.index, { bytes: c.bytes, packets: c.packets })));
    });
    const dstAfter = await timed('read destination state (after)', () => dst.plugin.readVmState(vm.id, where));
    const differences = compareStates(srcState, dstAfter);
    const admittedAfter = admit(dst);
    const admittedAtSource = admit(src);
    const cap = (r: EdgeRig): { profile: string; backend: string; reason: string } => ({ profile: r.sim.profile.name, ...r.plugin.registerAccess.capabilities() });
    return {
      vm: { addr: vm.addr, id: vm.id },
      source: cap(src),
      destination: cap(dst),
      packetsSent: live.length,
      flows: { tcp: flows.filter((f) => f.protocol === 6).length, udp: flows.filter((f) => f.protocol === 17).length, openTcp: probes.length },
      sourceState: summarize(srcState),
      destinationBefore: summarize(dstBefore),
      destinationAfter: summarize(dstAfter),
      probes: { sent: probes.length, admittedBefore, admittedAfter, admittedAtSource },
      identical: differences.length === 0,
      differences: differences.slice(0, 20),
      pinholesLearned: src.plugin.health().pinholes.installed,
      timingsMs: timings,
      notBuilt: [
        'live migration: QEMU trigger, pre-copy deltas, pause-window sync, atomic commit/rollback across devices (the migration engine, a later issue)',
        'the migration protocol between plugins over mTLS (a later issue)',
      ],
    };
  } finally {
    for (const r of rigs.reverse()) await r.stop();
  }
}
