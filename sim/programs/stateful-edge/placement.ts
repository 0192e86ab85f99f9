/**
 * The data plane's slot placement for stateful_edge, with the P4's constants: which slots a
 * flow may occupy. This is the model's own computation, deliberately independent of the
 * controller's contract reader (plugin/contract), which derives the same from annotations;
 * scenarios/test/contract-placement.test.ts checks the two agree.
 *
 * Rule (conntrack.p4): each hash choice i covers the slots [base_i, base_i + max_i), cut into
 * buckets of `ways` adjacent slots; the flow's bucket is hash_i(key) mod (max_i / ways), the key
 * being the big-endian concatenation of the key fields. The candidates are, choice by choice, the
 * bucket's slots in order: base_i + ways * bucket_i + w. A packet belongs to the candidate whose
 * stored key equals its own; a new flow takes the first free candidate; when none is free the
 * flow is not tracked (a collision).
 */
import { crc16, crc32 } from 'p4runtime-ts';
import { CT_REGION0_BUCKETS, CT_REGION0_SIZE, CT_REGION1_BUCKETS, CT_WAYS } from './layout.js';

/** A flow in canonical direction order: the VM's side first. */
export interface FlowKey {
  readonly vmAddr: number;
  readonly remoteAddr: number;
  readonly vmPort: number;
  readonly remotePort: number;
  readonly protocol: number;
}

const SCRATCH = new Uint8Array(13);

/** The 13-byte hash input of a stateful_edge flow key. */
export function flowKeyBytes(key: FlowKey, out: Uint8Array = new Uint8Array(13)): Uint8Array {
  const put32 = (o: number, v: number): void => {
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  };
  put32(0, key.vmAddr >>> 0);
  put32(4, key.remoteAddr >>> 0);
  out[8] = (key.vmPort >>> 8) & 0xff;
  out[9] = key.vmPort & 0xff;
  out[10] = (key.remotePort >>> 8) & 0xff;
  out[11] = key.remotePort & 0xff;
  out[12] = key.protocol & 0xff;
  return out;
}

/** The four candidate slots of a stateful_edge flow: the crc32 bucket's two, then the crc16 bucket's. */
export function candidateSlots(key: FlowKey): [number, number, number, number] {
  const b = flowKeyBytes(key, SCRATCH);
  const c0 = (crc32(b) % CT_REGION0_BUCKETS) * CT_WAYS;
  const c2 = CT_REGION0_SIZE + (crc16(b) % CT_REGION1_BUCKETS) * CT_WAYS;
  return [c0, c0 + 1, c2, c2 + 1];
}

/** The canonical key of a packet: VM side first, whatever the direction (dir 0 = from the VM). */
export function canonicalFlowKey(
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  protocol: number,
  dir: 0 | 1,
): FlowKey {
  return dir === 0
    ? { vmAddr: src, remoteAddr: dst, vmPort: srcPort, remotePort: dstPort, protocol }
    : { vmAddr: dst, remoteAddr: src, vmPort: dstPort, remotePort: srcPort, protocol };
}
