import { describe, expect, it } from 'vitest';
import { csum16 } from 'p4runtime-ts';
import { parseFrame, parseIpv4, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../programs/stateful-edge/frame.js';
import { CtState, CT_WORDS } from '../programs/stateful-edge/layout.js';
import { statefulEdgeEnvDouble } from '../programs/stateful-edge/pipeline-env-test-double.js';
import { candidateSlots } from '../programs/stateful-edge/placement.js';
import { statefulEdgeProgram } from '../programs/stateful-edge/program.js';
import { decodeSlot } from '../programs/stateful-edge/slot.js';
import { segmentLength } from '../programs/stateful-edge/tcp-tracker.js';
import { generateWorkload, parseWorkloadOptions } from './index.js';
import type { WorkloadOptions, WorkloadPacket } from './index.js';

const VMS = [
  { addr: '10.0.0.5', port: 1 },
  { addr: '10.0.0.6', port: 2 },
];
const OPTS: Partial<WorkloadOptions> = { seed: 42, vms: VMS, uplinkPort: 100, flows: 300, concurrency: 24, udpShare: 0.2, inboundShare: 0.2, close: { fin: 1, rst: 1, open: 1 } };

function byFlow(packets: WorkloadPacket[]): Map<number, WorkloadPacket[]> {
  const m = new Map<number, WorkloadPacket[]>();
  for (const p of packets) m.set(p.flow.id, [...(m.get(p.flow.id) ?? []), p]);
  return m;
}

describe('workload — packets', () => {
  const packets = [...generateWorkload(OPTS)];

  it('produces frames that parse as IPv4 TCP/UDP with valid checksums, entering on the right port', () => {
    expect(packets.length).toBeGreaterThan(1000);
    for (const p of packets) {
      const f = parseFrame(p.payload);
      expect(f.ipv4, `packet ${p.index}`).toBeDefined();
      const ip = f.ipv4;
      if (!ip) continue;
      expect(ip.totalLen + 14).toBe(p.payload.length);
      expect(csum16(p.payload, 14, 34)).toBe(0); // a valid header checksum sums to 0xffff
      const l4 = p.payload.subarray(34);
      const pseudo = new Uint8Array(12 + l4.length);
      pseudo.set(p.payload.subarray(26, 34), 0);
      pseudo[9] = ip.protocol;
      pseudo[10] = l4.length >> 8;
      pseudo[11] = l4.length & 0xff;
      pseudo.set(l4, 12);
      expect(csum16(pseudo), `l4 checksum of packet ${p.index}`).toBe(0);
      expect(p.flow.protocol === 6 ? f.tcp : f.udp).toBeDefined();
      const vm = VMS[p.flow.vm];
      expect(p.ingressPort).toBe(p.direction === 'out' ? vm?.port : 100);
      expect(p.direction === 'out' ? ip.src : ip.dst).toBe(parseIpv4(vm?.addr ?? ''));
    }
  });

  it('starts the configured number of flows, never more than `concurrency` at once, on distinct 5-tuples', () => {
    const flows = byFlow(packets);
    expect(flows.size).toBe(300);
    const keys = new Set([...flows.values()].map((ps) => {
      const f = ps[0]?.flow;
      return `${f?.vmAddr}:${f?.vmPort}:${f?.remoteAddr}:${f?.remotePort}:${f?.protocol}`;
    }));
    expect(keys.size).toBe(300);
    const open = new Set<number>();
    let peak = 0;
    for (const p of packets) {
      open.add(p.flow.id);
      peak = Math.max(peak, open.size);
      if (p.last) open.delete(p.flow.id);
    }
    expect(peak).toBeLessThanOrEqual(24);
    expect(packets.at(-1)?.atNs).toBe(BigInt(Math.round(((packets.length - 1) * 1e9) / 10_000)));
  });

  it('advances seq and ack by exactly the bytes sent, both ways', () => {
    for (const ps of byFlow(packets).values()) {
      if (ps[0]?.flow.protocol !== 6) continue;
      const next: Record<string, number | undefined> = {};
      for (const p of ps) {
        const f = parseFrame(p.payload);
        const { ipv4, tcp } = f;
        if (!ipv4 || !tcp) throw new Error('not TCP');
        const other = p.direction === 'out' ? 'in' : 'out';
        const expected = next[p.direction];
        if (expected !== undefined) expect(tcp.seq, `flow ${p.flow.id} packet ${p.index}`).toBe(expected);
        if (tcp.flags & TCP_ACK) expect(tcp.ack).toBe(next[other]);
        next[p.direction] = (tcp.seq + segmentLength(ipv4, tcp)) >>> 0;
        if (!(tcp.flags & TCP_SYN)) expect(tcp.window).toBeGreaterThan(0);
      }
    }
  });

  it('opens with a handshake and ends each TCP flow as planned: FIN both ways, RST, or left open', () => {
    const seen = { fin: 0, rst: 0, open: 0 };
    for (const ps of byFlow(packets).values()) {
      const flow = ps[0]?.flow;
      if (flow?.protocol !== 6) continue;
      const flags = ps.map((p) => parseFrame(p.payload).tcp?.flags ?? -1);
      expect(flags.slice(0, 3)).toEqual([TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK]);
      expect(ps[0]?.direction).toBe(flow.initiator === 'vm' ? 'out' : 'in');
      if (flow.close === 'fin') {
        const fins = ps.filter((p) => p.kind === 'fin');
        expect(new Set(fins.map((p) => p.direction)).size).toBe(2);
        expect(flags.at(-1)).toBe(TCP_ACK);
        expect(flags.at(-4)).toBe(TCP_FIN | TCP_ACK);
      } else if (flow.close === 'rst') {
        expect(flags.at(-1)).toBe(TCP_RST | TCP_ACK);
      } else {
        expect(flags.every((f) => !(f & (TCP_FIN | TCP_RST)))).toBe(true);
      }
      seen[flow.close === 'none' ? 'open' : flow.close]++;
      expect(ps.at(-1)?.last).toBe(true);
    }
    expect(seen.fin).toBeGreaterThan(30);
    expect(seen.rst).toBeGreaterThan(30);
    expect(seen.open).toBeGreaterThan(30);
  });

  it('is deterministic for a seed and different for another', () => {
    const again = [...generateWorkload(OPTS)];
    expect(again.length).toBe(packets.length);
    expect(again.every((p, i) => Buffer.compare(p.payload, packets[i]?.payload ?? new Uint8Array(0)) === 0)).toBe(true);
    const other = [...generateWorkload({ ...OPTS, seed: 43 })];
    expect(Buffer.compare(other[0]?.payload ?? new Uint8Array(0), packets[0]?.payload ?? new Uint8Array(0))).not.toBe(0);
  });
});

describe('workload — through the stateful_edge model', () => {
  it('every packet passes when pinholes are installed on request and inbound TCP is allowed; final states match the plan', () => {
    const env = statefulEdgeEnvDouble();
    env.addEntry('port_role', { match: { port: { value: 100n } }, action: 'uplink_role' });
    VMS.forEach((vm, i) => {
      env.addEntry('port_role', { match: { port: { value: BigInt(vm.port) } }, action: 'vm_port_role', params: { uplink_port: 100n } });
      env.addEntry('vm_table', { match: { vm_addr: { value: BigInt(parseIpv4(vm.addr)) } }, action: 'set_vm', params: { vm_id: BigInt(i + 1), port: BigInt(vm.port) } });
    });
    // VM services are reachable from outside (the inbound TCP flows).
    env.addEntry('static_acl', { match: { vm_addr: { value: 0n, mask: 0n }, remote_addr: { value: 0n, mask: 0n }, vm_port: { value: 0n, mask: 0n }, protocol: { value: 6n, mask: 0xffn } }, priority: 1, action: 'static_allow' });
    const pipe = statefulEdgeProgram.instantiate({ cpuPort: 255 });
    const last = new Map<number, WorkloadPacket>();
    for (const p of generateWorkload(OPTS)) {
      env.nowNsValue = p.atNs;
      const e = pipe.process({ ingressPort: p.ingressPort, payload: p.payload }, env);
      expect(e.kind, `packet ${p.index} (${p.kind} ${p.direction}) of flow ${p.flow.id}: ${e.kind === 'drop' ? e.reason : ''}`).toBe('forward');
      // The plugin's job, done inline: answer each pinhole request with an entry.
      for (const d of env.digests.splice(0)) {
        if (d.digest === 'pinhole_t') env.addEntry('dyn_acl', { match: Object.fromEntries(Object.entries(d.fields).map(([k, v]) => [k, { value: v }])), action: 'pinhole_allow' });
      }
      last.set(p.flow.id, p);
    }
    const expectedState = { fin: CtState.TIME_WAIT, rst: CtState.CLOSED, open: CtState.ESTABLISHED };
    let tcpFlows = 0;
    for (const p of last.values()) {
      const f = p.flow;
      if (f.protocol !== 6 || f.close === 'none') continue;
      tcpFlows++;
      const key = { vmAddr: f.vmAddr, remoteAddr: f.remoteAddr, vmPort: f.vmPort, remotePort: f.remotePort, protocol: 6 };
      const slots = candidateSlots(key).map((s) => decodeSlot(CT_WORDS.map((w) => env.registerRead(w.register, s))));
      const slot = slots.find((s) => s.vmPort === f.vmPort && s.remoteAddr === f.remoteAddr && s.remotePort === f.remotePort);
      expect(slot?.state, `flow ${f.id} (${f.close})`).toBe(expectedState[f.close]);
      expect(slot?.vmId).toBe(f.vm + 1);
      expect((slot?.flags ?? -1) & 1).toBe(f.initiator === 'remote' ? 1 : 0);
    }
    expect(tcpFlows).toBeGreaterThan(200);
  });
});

describe('workload — real-host profiles', () => {
  const packets = [...generateWorkload({ ...OPTS, udpShare: 0, flows: 120 })];
  const syns = packets.filter((p) => p.kind === 'syn' || p.kind === 'syn-ack').map((p) => p.payload.subarray(14 + 20 + 20, 14 + 20 + ((p.payload[14 + 20 + 12] ?? 0) >> 4) * 4));
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

  it('announces Linux defaults (MSS, SACK-permitted, timestamps, window scale 7) and large-buffer window scale 14', () => {
    const linux = syns.filter((o) => o.length === 20 && hex(o).startsWith('020405b40402080a') && hex(o).endsWith('01030307'));
    const large = syns.filter((o) => o.length === 20 && hex(o).endsWith('0103030e'));
    const minimal = syns.filter((o) => hex(o) === '020405b401030307');
    expect(linux.length).toBeGreaterThan(40);
    expect(large.length).toBeGreaterThan(10);
    expect(minimal.length).toBeGreaterThan(10);
    expect(linux.length + large.length + minimal.length).toBe(syns.length);
  });

  it('puts timestamps on every segment of a flow whose both ends offered them, and windows fit the announced scale', () => {
    for (const ps of byFlow(packets).values()) {
      const optsOf = (p: WorkloadPacket): string => hex(p.payload.subarray(34 + 20, 34 + ((p.payload[34 + 12] ?? 0) >> 4) * 4));
      const [syn, synAck] = ps;
      const both = syn && synAck && optsOf(syn).includes('080a') && optsOf(synAck).includes('080a');
      for (const p of ps.slice(2)) expect(optsOf(p).startsWith('0101080a'), `flow ${p.flow.id} packet ${p.index}`).toBe(Boolean(both));
    }
  });
});

describe('workload — hard traffic', () => {
  const setup = {
    vm: { addr: parseIpv4('10.0.0.5'), port: 1, vmId: 1 }, uplinkPort: 100, cpuPort: 255, remoteBase: parseIpv4('198.51.100.0'), openPort: 80, closedPort: 25, anyPort: 179,
    deniedRemote: parseIpv4('203.0.113.66'), unknownVmAddr: parseIpv4('10.0.0.99'),
  };
  it('appends the hard cases after the flows, each packet with its expectation, flows keyed by their ends', () => {
    const plain = [...generateWorkload({ ...OPTS, flows: 20 })];
    const all = [...generateWorkload({ ...OPTS, flows: 20, hard: setup })];
    expect(all.slice(0, plain.length).map((p) => p.payload)).toEqual(plain.map((p) => p.payload));
    const hard = all.slice(plain.length);
    expect(hard.length).toBeGreaterThan(150);
    expect(hard.every((p) => p.kind === 'hard' && p.expect !== undefined && p.flow.hardCase !== undefined)).toBe(true);
    expect(hard.map((p) => p.index)).toEqual(hard.map((_, i) => plain.length + i));
    const flows = byFlow(hard);
    for (const ps of flows.values()) {
      expect(ps.filter((p) => p.last)).toEqual([ps.at(-1)]);
      expect(new Set(ps.map((p) => `${p.flow.vmAddr}:${p.flow.vmPort}:${p.flow.remoteAddr}:${p.flow.remotePort}`)).size).toBe(1);
    }
    expect(new Set(hard.map((p) => p.expect))).toContain('OUT_OF_WINDOW');
  });
});

describe('workload — options', () => {
  it('rejects bad options naming the field and the expected form', () => {
    expect(() => parseWorkloadOptions({ vms: [] })).toThrow(/'vms'.*at least one/);
    expect(() => parseWorkloadOptions({ uplinkPort: 1 })).toThrow(/'uplinkPort'.*a port no VM sits behind/);
    expect(() => parseWorkloadOptions({ udpShare: 2 })).toThrow(/'udpShare'.*fraction/);
    expect(() => parseWorkloadOptions({ remoteNetwork: '10.0.0.0' })).toThrow(/'remoteNetwork'.*CIDR/);
    expect(() => parseWorkloadOptions({ exchanges: [3, 1] })).toThrow(/'exchanges'/);
    expect(() => parseWorkloadOptions({ close: { fin: 0, rst: 0, open: 0 } })).toThrow(/'close'/);
    expect(() => parseWorkloadOptions({ windowScale: 15 })).toThrow(/'windowScale'.*0\.\.14/);
    expect(() => parseWorkloadOptions({ hosts: { minimal: 0, linux: 0, largeBuffer: 0 } })).toThrow(/'hosts'/);
  });

  it('returns frozen options with defaults filled in', () => {
    const o = parseWorkloadOptions({ flows: 5 });
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.flows).toBe(5);
    expect(o.mss).toBe(1460);
  });
});
