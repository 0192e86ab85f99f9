/**
 * Pure helpers of `carryover bench migrate`: the bench VMs and the frames of their flows (a
 * handshake each, then numbered data segments), which flows change, the fingerprint that proves a
 * destination holds exactly the source's flows, and the figures the report derives (median,
 * goals).
 *
 * The flows are sim/workload's numbered flows (flow `i` of a VM: VM port 1024 + (i mod 60,000) to
 * 203.0.113.⌊i / 60,000⌋ port 443), the remote hosts behind BENCH_UPLINK.
 */
import { createHash } from 'node:crypto';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { decodeSlotFields } from '../../plugin/index.js';
import { SEGMENT_BYTES, dataSegmentFrame, flowEnds, handshakeFrames as numberedHandshake } from '../../sim/workload/index.js';
import type { PortFrame } from '../../sim/workload/index.js';
export { dataSegmentFrame };

/** A VM of the bench: address, data port, and its switch-local ids at the source and the destination. */
export interface BenchVm {
  readonly name: string;
  readonly addr: string;
  readonly addrNum: number;
  readonly port: number;
  readonly srcId: number;
  readonly dstId: number;
}

/** The bench's VMs, one per population measured (their ids are remapped on import). */
export const BENCH_VMS: readonly BenchVm[] = Object.freeze([
  { name: 'vm-a', addr: '10.0.0.5', addrNum: 0x0a000005, port: 1, srcId: 7, dstId: 9 },
  { name: 'vm-b', addr: '10.0.0.6', addrNum: 0x0a000006, port: 2, srcId: 8, dstId: 10 },
  { name: 'vm-c', addr: '10.0.1.9', addrNum: 0x0a000109, port: 3, srcId: 21, dstId: 22 },
  { name: 'vm-d', addr: '10.0.2.4', addrNum: 0x0a000204, port: 4, srcId: 300, dstId: 301 },
]);
/** The uplink port (towards the remote hosts). */
export const BENCH_UPLINK = 100;

/** A frame and the port it enters on. */
export type BenchFrame = PortFrame;
export { SEGMENT_BYTES, flowEnds };

/** SYN from the VM, SYN+ACK from the remote host, ACK from the VM: flow `i` of `v` ESTABLISHED. */
export function handshakeFrames(v: BenchVm, i: number): [BenchFrame, BenchFrame, BenchFrame] {
  return numberedHandshake(v, i, BENCH_UPLINK);
}

/** `k` of `tracked` spread evenly over it (the same choice every run); all of them when k ≥ its length. */
export function pickSpread(tracked: readonly number[], k: number): number[] {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`cannot pick ${k} flows`);
  if (k >= tracked.length) return [...tracked];
  return Array.from({ length: k }, (_, j) => tracked[Math.floor((j * tracked.length) / k)] as number);
}

/** The changed-flow counts of one population: the shares of it, then the absolute counts, each once. */
export function changeCounts(size: number, shares: readonly number[], counts: readonly number[]): number[] {
  return [...new Set([...shares.map((s) => Math.round(s * size)), ...counts])].filter((k) => k >= 0 && k <= size);
}

/** Count and digest of a VM's slots, comparable across switches. */
export interface SlotFingerprint {
  readonly flows: number;
  readonly digest: string;
}

/**
 * Fingerprints slots by their fields except `ignore` (the VM id, remapped on import, and the
 * clock field, rebased): equal fingerprints = the same flows in the same state, wherever placed.
 */
export function slotFingerprint(group: SlotGroupSpec, slots: readonly (readonly bigint[])[], ignore: readonly string[]): SlotFingerprint {
  const skip = new Set(ignore);
  const lines = slots.map((words) => {
    const f = decodeSlotFields(group, words);
    return group.fieldNames.filter((n) => !skip.has(n)).map((n) => `${n}=${String(f[n] ?? 0n)}`).join(',');
  });
  lines.sort();
  const h = createHash('sha256');
  for (const l of lines) h.update(l).update('\n');
  return { flows: slots.length, digest: h.digest('hex').slice(0, 16) };
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A goal of the issue and whether a measured figure reaches it. */
export interface GoalCheck {
  readonly goal: string;
  readonly measured: number | undefined;
  readonly unit: string;
  readonly reached: boolean | undefined;
}

/** `measured` against a bound: at most (`max`) or at least (`min`); `reached` undefined when not measured. */
export function checkGoal(goal: string, measured: number | undefined, bound: { readonly max: number } | { readonly min: number }, unit: string): GoalCheck {
  if (measured === undefined || !Number.isFinite(measured)) return { goal, measured: undefined, unit, reached: undefined };
  return { goal, measured, unit, reached: 'max' in bound ? measured <= bound.max : measured >= bound.min };
}
