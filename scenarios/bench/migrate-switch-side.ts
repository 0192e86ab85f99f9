/**
 * What `carryover bench migrate` needs of a switch besides the controller's P4Runtime session:
 * the VM's traffic into the data plane, and the state read back to check a migration. A sim
 * worker serves it over a side channel (migrate-sim-worker.ts); a real BMv2 has none, so its
 * side sends traffic by PacketOut and reads in-band (migrate-bmv2-side.ts).
 */
import type { SlotFingerprint } from './migrate-flows.js';

/** The contract's per-VM counters of one VM, by counter name. */
export type SwitchCounters = Record<string, { packets: bigint; bytes: bigint }>;

/** Traffic in and state out, for one switch of the bench. */
export interface MigrateSwitchSide {
  /** HOST:PORT of the switch's P4Runtime server. */
  readonly address: string;
  /** Handshakes of flows [first, first + count) of BENCH_VMS[vm] through the data plane; the flows the switch now tracks. */
  establish(first: number, count: number, vm?: number): Promise<number[]>;
  /** The next data segment of each flow of BENCH_VMS[vm], from the VM; how many the pipeline forwarded. */
  change(flows: readonly number[], vm?: number): Promise<number>;
  /** Fingerprint of the occupied slots of switch-local VM `vmId`, every field but `ignore`. */
  fingerprint(vmId: number, ignore: readonly string[]): Promise<SlotFingerprint>;
  /** The contract's per-VM counters of `vmId`. */
  counters(vmId: number): Promise<SwitchCounters>;
  /** The occupied slots of switch-local VM `vmId`, read through the side channel (sims only). */
  slotsOf?(vmId: number): Promise<number[]>;
  stop(): Promise<void>;
}
