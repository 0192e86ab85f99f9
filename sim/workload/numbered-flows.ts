/**
 * Numbered TCP flows of one VM, the same every run: flow `i` is VM port 1024 + (i mod 60,000) to
 * remote 203.0.113.⌊i / 60,000⌋ port 443 — distinct 5-tuples for up to 15 million flows per VM.
 * Each opens with a handshake and then moves data, so a switch's conntrack state for it is known
 * without a workload generator: what migration tests and benchmarks establish and then change.
 */
import { buildTcpFrame } from './frame-builder.js';

/** The VM side of numbered flows: its address as a number, and the port it sits behind. */
export interface NumberedFlowVm {
  readonly addrNum: number;
  readonly port: number;
}

/** A frame and the port it enters on. */
export interface PortFrame {
  readonly port: number;
  readonly payload: Uint8Array;
}

const PORTS = 60_000;
const REMOTE_BASE = 0xcb007100; // 203.0.113.0
const REMOTE_PORT = 443;
const VM_ISN = 1000;
const REMOTE_ISN = 9000;
/** Bytes of payload in each data segment. */
export const SEGMENT_BYTES = 10;
/** Data segments each side may send before leaving the other side's window. */
export const MAX_SEGMENTS = 5_000;

/** The 5-tuple ends of flow `i`. */
export function flowEnds(i: number): { readonly vmPort: number; readonly remote: number } {
  if (!Number.isSafeInteger(i) || i < 0 || i >= PORTS * 256) throw new RangeError(`flow ${i} is outside 0..${PORTS * 256 - 1}`);
  return { vmPort: 1024 + (i % PORTS), remote: REMOTE_BASE + Math.floor(i / PORTS) };
}

/** The key of flow `i` by the stateful edge's placement field names. */
export function numberedFlowKey(v: NumberedFlowVm, i: number): Record<string, bigint> {
  const { vmPort, remote } = flowEnds(i);
  return { vm_addr: BigInt(v.addrNum >>> 0), remote_addr: BigInt(remote >>> 0), vm_port: BigInt(vmPort), remote_port: BigInt(REMOTE_PORT), protocol: 6n };
}

/** SYN from the VM, SYN+ACK from the remote host (entering on `uplink`), ACK from the VM: flow `i` ESTABLISHED. */
export function handshakeFrames(v: NumberedFlowVm, i: number, uplink: number): [PortFrame, PortFrame, PortFrame] {
  const { vmPort, remote } = flowEnds(i);
  const vm = v.addrNum;
  return [
    { port: v.port, payload: buildTcpFrame({ src: vm, dst: remote, srcPort: vmPort, dstPort: REMOTE_PORT, seq: VM_ISN, ack: 0, flags: 0x02, window: 64240, payload: 0 }) },
    { port: uplink, payload: buildTcpFrame({ src: remote, dst: vm, srcPort: REMOTE_PORT, dstPort: vmPort, seq: REMOTE_ISN, ack: VM_ISN + 1, flags: 0x12, window: 65160, payload: 0 }) },
    { port: v.port, payload: buildTcpFrame({ src: vm, dst: remote, srcPort: vmPort, dstPort: REMOTE_PORT, seq: VM_ISN + 1, ack: REMOTE_ISN + 1, flags: 0x10, window: 64240, payload: 0 }) },
  ];
}

function segmentSeq(n: number, isn: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SEGMENTS) throw new RangeError(`segment ${n} is outside 0..${MAX_SEGMENTS} (the other side's window)`);
  return isn + 1 + SEGMENT_BYTES * n;
}

/** The VM's `n`-th data segment (n ≥ 0) of its flow `i`: in window, so it changes the flow's slot. */
export function dataSegmentFrame(v: NumberedFlowVm, i: number, n: number): PortFrame {
  const seq = segmentSeq(n, VM_ISN);
  const { vmPort, remote } = flowEnds(i);
  return { port: v.port, payload: buildTcpFrame({ src: v.addrNum, dst: remote, srcPort: vmPort, dstPort: REMOTE_PORT, seq, ack: REMOTE_ISN + 1, flags: 0x18, window: 64240, payload: SEGMENT_BYTES }) };
}

/**
 * The remote host's `n`-th data segment (n ≥ 0) of flow `i`, entering on `uplink`: a firewall
 * admits it only if it tracks the connection — the packet that shows whether state arrived.
 */
export function inboundSegmentFrame(v: NumberedFlowVm, i: number, n: number, uplink: number): PortFrame {
  const seq = segmentSeq(n, REMOTE_ISN);
  const { vmPort, remote } = flowEnds(i);
  return { port: uplink, payload: buildTcpFrame({ src: remote, dst: v.addrNum, srcPort: REMOTE_PORT, dstPort: vmPort, seq, ack: VM_ISN + 1, flags: 0x18, window: 65160, payload: SEGMENT_BYTES }) };
}
