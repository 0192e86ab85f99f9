/**
 * The VM traffic workload: many flows of simulated VMs interleaved into one packet stream, each
 * packet tagged with the port it enters on. Callers inject the packets (PacketOut op 0 with
 * packet_out.port = ingressPort on BMv2 and on the sim, or straight into a model); this module
 * only produces them. Deterministic for a given seed.
 */
import { parseIpv4 } from '../programs/stateful-edge/frame.js';
import { tcpFlowPackets, udpFlowPackets } from './flow-scripts.js';
import type { CloseKind, FlowPacket, HostProfile, PacketKind } from './flow-scripts.js';
import type { Expectation } from './conversation.js';
import { hardCases } from './hard-cases.js';
import { createPrng } from './prng.js';
import type { Prng } from './prng.js';
import { parseCidr, parseWorkloadOptions } from './workload-options.js';
import type { WorkloadOptions } from './workload-options.js';
import type { HardTrafficSetup } from './hard-setup.js';

/** What a flow is, carried on each of its packets. */
export interface WorkloadFlow {
  readonly id: number;
  /** The hard-traffic case the flow belongs to (hard traffic only). */
  readonly hardCase?: string;
  readonly protocol: 6 | 17;
  readonly initiator: 'vm' | 'remote';
  /** How a TCP flow ends; UDP flows have no close. */
  readonly close: CloseKind | 'none';
  /** Index into options.vms; -1 for a hard-traffic VM the options do not list. */
  readonly vm: number;
  readonly vmAddr: number;
  readonly vmPort: number;
  readonly remoteAddr: number;
  readonly remotePort: number;
}

/** One packet of the workload. */
export interface WorkloadPacket {
  /** Position in the stream, from 0. */
  readonly index: number;
  /** Virtual send time: index / packetsPerSecond. */
  readonly atNs: bigint;
  /** The port the frame enters the switch on: the VM's port, or the uplink. */
  readonly ingressPort: number;
  /** The Ethernet frame. */
  readonly payload: Uint8Array;
  readonly direction: 'out' | 'in';
  readonly kind: PacketKind;
  readonly flow: WorkloadFlow;
  /** True on the flow's last packet. */
  readonly last: boolean;
  /** Hard traffic: what the firewall must do with the packet (the flows' packets all pass). */
  readonly expect?: Expectation;
  readonly note?: string;
}

interface ActiveFlow {
  readonly flow: WorkloadFlow;
  readonly packets: Iterator<FlowPacket>;
  pending: FlowPacket | undefined;
}

/** Generates the workload's packet stream (each call starts again from the seed). */
export function* generateWorkload(input: Partial<WorkloadOptions> = {}): Generator<WorkloadPacket> {
  const o = parseWorkloadOptions(input);
  const prng = createPrng(o.seed);
  const vms = o.vms.map((vm) => ({ addr: parseIpv4(vm.addr), port: vm.port }));
  const net = parseCidr(o.remoteNetwork);
  const hosts = 2 ** (32 - net.prefix) - 2;
  const used = new Set<string>();
  const totalWeight = o.close.fin + o.close.rst + o.close.open;
  const nsPerPacket = 1e9 / o.packetsPerSecond;

  const hostWeight = o.hosts.minimal + o.hosts.linux + o.hosts.largeBuffer;
  const pickProfile = (): HostProfile => {
    const r = prng.float() * hostWeight;
    return r < o.hosts.minimal ? 'minimal' : r < o.hosts.minimal + o.hosts.linux ? 'linux' : 'large-buffer';
  };

  let started = 0;
  const startFlow = (): ActiveFlow => {
    const id = started++;
    const vmIndex = prng.int(0, vms.length - 1);
    const vm = vms[vmIndex] ?? { addr: 0, port: 0 };
    const udp = prng.chance(o.udpShare);
    const inbound = !udp && prng.chance(o.inboundShare);
    const pickEnds = (): { remoteAddr: number; vmPort: number; remotePort: number } => {
      const remoteAddr = (net.base + 1 + prng.int(0, hosts - 1)) >>> 0;
      if (inbound) return { remoteAddr, vmPort: prng.pick(o.vmTcpPorts), remotePort: prng.int(32768, 60999) };
      return { remoteAddr, vmPort: prng.int(32768, 60999), remotePort: prng.pick(udp ? o.remoteUdpPorts : o.remoteTcpPorts) };
    };
    let picked = pickEnds();
    // Every flow of a run gets its own 5-tuple, so flows never share a slot by accident.
    for (let tries = 0; ; tries++) {
      const key = `${vm.addr}:${picked.vmPort}:${picked.remoteAddr}:${picked.remotePort}:${udp ? 17 : 6}`;
      if (!used.has(key)) {
        used.add(key);
        break;
      }
      if (tries > 1000) throw new Error(`workload: no unused 5-tuple left after ${id} flows; widen remoteNetwork or add VMs`);
      picked = pickEnds();
    }
    const { remoteAddr, vmPort, remotePort } = picked;
    const ends = { vmAddr: vm.addr, vmPort, remoteAddr, remotePort };
    const r = prng.float() * totalWeight;
    const close: CloseKind = r < o.close.fin ? 'fin' : r < o.close.fin + o.close.rst ? 'rst' : 'open';
    const flow: WorkloadFlow = {
      id,
      protocol: udp ? 17 : 6,
      initiator: inbound ? 'remote' : 'vm',
      close: udp ? 'none' : close,
      vm: vmIndex,
      ...ends,
    };
    const flowPrng: Prng = createPrng(prng.next());
    const packets = udp
      ? udpFlowPackets(ends, prng.int(o.udpDatagrams[0], o.udpDatagrams[1]), flowPrng)
      : tcpFlowPackets(
          ends,
          {
            initiator: flow.initiator,
            exchanges: Array.from({ length: prng.int(o.exchanges[0], o.exchanges[1]) }, () => ({
              request: prng.int(o.requestBytes[0], o.requestBytes[1]),
              response: prng.int(o.responseBytes[0], o.responseBytes[1]),
            })),
            close,
            closer: prng.chance(0.5) ? 'vm' : 'remote',
            mss: o.mss,
            windowScale: o.windowScale,
            vmProfile: pickProfile(),
            remoteProfile: pickProfile(),
          },
          flowPrng,
        );
    const first = packets.next();
    return { flow, packets, pending: first.done ? undefined : first.value };
  };

  const active: ActiveFlow[] = [];
  while (active.length < o.concurrency && started < o.flows) active.push(startFlow());
  let index = 0;
  while (active.length > 0) {
    const i = prng.int(0, active.length - 1);
    const a = active[i];
    if (!a?.pending) throw new Error('workload: internal error, an active flow has no packet');
    const p = a.pending;
    const nxt = a.packets.next();
    a.pending = nxt.done ? undefined : nxt.value;
    const vm = vms[a.flow.vm];
    yield {
      index,
      atNs: BigInt(Math.round(index * nsPerPacket)),
      ingressPort: p.direction === 'out' ? (vm?.port ?? 0) : o.uplinkPort,
      payload: p.frame,
      direction: p.direction,
      kind: p.kind,
      flow: a.flow,
      last: a.pending === undefined,
    };
    index++;
    if (a.pending === undefined) {
      // Churn: the finished flow's place goes to a new one.
      if (started < o.flows) active[i] = startFlow();
      else active.splice(i, 1);
    }
  }
  if (o.hard) yield* hardPackets(o.hard, vms, createPrng(prng.next()), index, nsPerPacket, started);
}

/** The hard-traffic cases as workload packets, after `index` packets of `firstFlow` flows. */
function* hardPackets(setup: HardTrafficSetup, vms: readonly { addr: number }[], prng: Prng, index: number, nsPerPacket: number, firstFlow: number): Generator<WorkloadPacket> {
  const flows = new Map<string, WorkloadFlow>();
  const packets = hardCases(setup, prng).flatMap((c) => c.packets.map((p) => ({ c, p })));
  const lastOf = new Map<string, number>();
  const keyOf = (p: (typeof packets)[number]['p']): string => `${p.ends.vmAddr}:${p.ends.vmPort}:${p.ends.remoteAddr}:${p.ends.remotePort}`;
  packets.forEach(({ p }, i) => lastOf.set(keyOf(p), i));
  for (const [i, { c, p }] of packets.entries()) {
    const k = keyOf(p);
    let flow = flows.get(k);
    if (!flow) {
      flow = { id: firstFlow + flows.size, hardCase: c.name, protocol: 6, initiator: p.direction === 'out' ? 'vm' : 'remote', close: 'none', vm: vms.findIndex((v) => v.addr === p.ends.vmAddr), ...p.ends };
      flows.set(k, flow);
    }
    yield {
      index,
      atNs: BigInt(Math.round(index * nsPerPacket)),
      ingressPort: p.ingressPort,
      payload: p.frame,
      direction: p.direction,
      kind: 'hard',
      flow,
      last: lastOf.get(k) === i,
      expect: p.expect,
      note: p.note,
    };
    index++;
  }
}
