/**
 * Fixtures shared by the stateful_edge model tests: a switch with one VM behind port 1 and an
 * uplink on port 100, wired through the in-memory PipelineEnv test double.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { PacketEgress, ProgramInstance, SimProgram } from '../../program.js';
import { buildTcpFrame, buildUdpFrame } from '../../workload/frame-builder.js';
import { CT_WORDS } from './layout.js';
import { parseIpv4, TCP_ACK, TCP_SYN } from './frame.js';
import { injectMetadata } from './inband.js';
import { candidateSlots } from './placement.js';
import type { FlowKey } from './placement.js';
import { statefulEdgeEnvDouble } from './pipeline-env-test-double.js';
import type { InMemoryPipelineEnvDouble } from './pipeline-env-test-double.js';
import { statefulEdgeProgram } from './program.js';
import { decodeSlot } from './slot.js';
import type { CtSlot } from './slot.js';

export const CPU = 255;
export const VM_PORT = 1;
export const UPLINK = 100;
export const VM_ID = 7;
export const VM_ADDR = parseIpv4('10.0.0.5');
export const REMOTE = parseIpv4('198.51.100.9');

/** Any TCP or UDP flow key, for property tests of placement. */
export const arbFlowKey = fc.record({
  vmAddr: fc.integer({ min: 0, max: 0xffffffff }),
  remoteAddr: fc.integer({ min: 0, max: 0xffffffff }),
  vmPort: fc.integer({ min: 0, max: 0xffff }),
  remotePort: fc.integer({ min: 0, max: 0xffff }),
  protocol: fc.constantFrom(6, 17),
});

export interface TcpPkt {
  readonly seq: number;
  readonly ack?: number;
  readonly flags: number;
  readonly window?: number;
  readonly payload?: number;
}

/** A switch running the model against the test double, with helpers to send packets. */
export class EdgeRig {
  readonly env: InMemoryPipelineEnvDouble = statefulEdgeEnvDouble();
  readonly pipe: ProgramInstance;
  vmPort = 40000;
  remotePort = 443;

  /** `program`: the committed stateful_edge, or a variant (another size, other hashes). */
  constructor(program: SimProgram = statefulEdgeProgram) {
    this.pipe = program.instantiate({ cpuPort: CPU });
    this.env
      .addEntry('port_role', { match: { port: { value: BigInt(VM_PORT) } }, action: 'vm_port_role', params: { uplink_port: BigInt(UPLINK) } })
      .addEntry('port_role', { match: { port: { value: BigInt(UPLINK) } }, action: 'uplink_role' })
      .addEntry('vm_table', { match: { vm_addr: { value: BigInt(VM_ADDR) } }, action: 'set_vm', params: { vm_id: BigInt(VM_ID), port: BigInt(VM_PORT) } });
  }

  get key(): FlowKey {
    return { vmAddr: VM_ADDR, remoteAddr: REMOTE, vmPort: this.vmPort, remotePort: this.remotePort, protocol: 6 };
  }

  /** A TCP segment from the VM, entering on its port. */
  out(p: TcpPkt): PacketEgress {
    return this.pipe.process({ ingressPort: VM_PORT, payload: this.tcpOut(p) }, this.env);
  }

  /** A TCP segment from the remote side, entering on the uplink. */
  in(p: TcpPkt): PacketEgress {
    return this.pipe.process({ ingressPort: UPLINK, payload: this.tcpIn(p) }, this.env);
  }

  tcpOut(p: TcpPkt): Uint8Array {
    return buildTcpFrame({ src: VM_ADDR, dst: REMOTE, srcPort: this.vmPort, dstPort: this.remotePort, seq: p.seq, ack: p.ack ?? 0, flags: p.flags, window: p.window ?? 502, payload: p.payload ?? 0 });
  }

  /** A TCP segment from the VM to another remote address. */
  tcpOutTo(remote: number, p: TcpPkt): Uint8Array {
    return buildTcpFrame({ src: VM_ADDR, dst: remote, srcPort: this.vmPort, dstPort: this.remotePort, seq: p.seq, ack: p.ack ?? 0, flags: p.flags, window: p.window ?? 502, payload: p.payload ?? 0 });
  }

  tcpIn(p: TcpPkt): Uint8Array {
    return buildTcpFrame({ src: REMOTE, dst: VM_ADDR, srcPort: this.remotePort, dstPort: this.vmPort, seq: p.seq, ack: p.ack ?? 0, flags: p.flags, window: p.window ?? 509, payload: p.payload ?? 0 });
  }

  udpOut(vmPort: number, remotePort: number, payload = 40): PacketEgress {
    return this.pipe.process({ ingressPort: VM_PORT, payload: buildUdpFrame({ src: VM_ADDR, dst: REMOTE, srcPort: vmPort, dstPort: remotePort, payload }) }, this.env);
  }

  udpIn(vmPort: number, remotePort: number, payload = 40): PacketEgress {
    return this.pipe.process({ ingressPort: UPLINK, payload: buildUdpFrame({ src: REMOTE, dst: VM_ADDR, srcPort: remotePort, dstPort: vmPort, payload }) }, this.env);
  }

  /** Injects a frame through the PacketOut path, as if it arrived on `port`. */
  inject(port: number, frame: Uint8Array): PacketEgress {
    return this.pipe.process({ ingressPort: CPU, payload: frame, packetOutMetadata: injectMetadata(port) }, this.env);
  }

  /** Sends an in-band request (packet_out metadata) and returns the egress. */
  request(md: Record<string, bigint>): PacketEgress {
    return this.pipe.process({ ingressPort: CPU, payload: new Uint8Array(0), packetOutMetadata: md }, this.env);
  }

  /** The decoded content of a slot. */
  slot(index: number): CtSlot {
    return decodeSlot(CT_WORDS.map((w) => this.env.registerRead(w.register, index)));
  }

  /** The candidate slot that holds `key` (throws when none does); `candidates`: a variant's placement. */
  flowSlot(key: FlowKey = this.key, candidates: (k: FlowKey) => readonly number[] = candidateSlots): number {
    const held = candidates(key).find((s) => {
      const x = this.slot(s);
      return x.protocol === key.protocol && x.vmAddr === key.vmAddr >>> 0 && x.remoteAddr === key.remoteAddr >>> 0 && x.vmPort === key.vmPort && x.remotePort === key.remotePort;
    });
    if (held === undefined) throw new Error('the flow is in none of its candidate slots');
    return held;
  }

  /** SYN, SYN+ACK, ACK with the given initial sequence numbers; every packet must pass. */
  handshake(vmIsn: number, remoteIsn: number): void {
    expectForward(this.out({ seq: vmIsn, flags: TCP_SYN, window: 64240 }), UPLINK);
    expectForward(this.in({ seq: remoteIsn, ack: (vmIsn + 1) >>> 0, flags: TCP_SYN | TCP_ACK, window: 65160 }), VM_PORT);
    expectForward(this.out({ seq: (vmIsn + 1) >>> 0, ack: (remoteIsn + 1) >>> 0, flags: TCP_ACK }), UPLINK);
  }
}

/** Asserts a packet was forwarded to `port`. */
export function expectForward(e: PacketEgress, port: number): void {
  expect(e, JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.length} bytes>` : v))).toMatchObject({ kind: 'forward', port });
}

/** Asserts a packet was dropped for `reason`. */
export function expectDrop(e: PacketEgress, reason: string): void {
  expect(e).toEqual({ kind: 'drop', reason });
}
