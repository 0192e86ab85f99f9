/**
 * The change-log rows of `carryover bench pipeline` (issue 11): target operations and time to
 * find and read the changed slots of one VM — flip its tracker, read the log since the round's
 * start, read the slots it names — at 10^4 and 10^5 tracked flows, with 1 %, 5 % and exactly 100
 * changed, per backend the switch offers, per profile. Target operations are in-band request
 * packets, or register cells read and written over P4Runtime (RegisterAccessStats.targetOps).
 *
 * The table is filled through PacketOut like the rest of the bench (handshakes of the seeded
 * workload over all VMs); the changes are new flows of VM 7 (one SYN each, one changed slot
 * each), sent by PacketOut after the tracker's round started, closed by an in-band barrier.
 */
import { performance } from 'node:perf_hooks';
import { parseIPv4 } from 'p4runtime-ts';
import type { EdgePlugin, RegisterAccess } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { buildTcpFrame } from '../../sim/workload/index.js';
import { startTracking, vmById } from '../dataplane-rig.js';
import { inbandAccess, injectInBatches, makeWorkload } from '../edge-rig.js';
import type { BenchRow } from './results.js';

/** The sizes of the change-log rows. */
export interface ChangedSlotsBenchOptions {
  readonly sizes: readonly number[];
  /** Changed slots per round: shares of the size (0.01 = 1 %) and absolute counts. */
  readonly shares: readonly number[];
  readonly counts: readonly number[];
  readonly injectBatch: number;
  readonly window: number;
  readonly seed: number;
}

/** The rows: 10^4 and 10^5 flows, 1 % and 5 % changed, and exactly 100. */
export const DEFAULT_CHANGED_SLOTS_BENCH: ChangedSlotsBenchOptions = Object.freeze({ sizes: [10_000, 100_000], shares: [0.01, 0.05], counts: [100], injectBatch: 2_000, window: 64, seed: 4242 });

const SUITE = 'pipeline';
const VM = 7;
const TRACKER = 0;

/** `count` SYNs of new flows of VM 7, from source port `first` on. */
function newFlows(count: number, first: number): { port: number; payload: Uint8Array }[] {
  const vm = vmById(VM);
  const src = Number(parseIPv4(vm.addr));
  return Array.from({ length: count }, (_, i) => ({
    port: vm.port,
    payload: buildTcpFrame({ src, dst: 0xcb007101 + Math.floor((first + i) / 60_000), srcPort: 1024 + ((first + i) % 60_000), dstPort: 8443, seq: 7 + i, ack: 0, flags: 0x02, window: 64240, payload: 0 }),
  }));
}

/**
 * Runs the rows on a started plugin whose switch holds only the topology. `profile` names the
 * sim profile in the variant; every backend the switch offers is measured (P4Runtime when its
 * RegisterEntry works, in-band always).
 */
export async function runChangedSlotsBench(plugin: EdgePlugin, profile: SimProfileName | 'real BMv2', o: ChangedSlotsBenchOptions, log: (m: string) => void): Promise<BenchRow[]> {
  const sw = plugin.session;
  const inband = await inbandAccess(plugin, { window: o.window, timeoutMs: 60_000, maxAttempts: 1 });
  const backends: { name: string; access: RegisterAccess }[] = [{ name: 'inband', access: inband }];
  if (plugin.registerAccess.capabilities().backend === 'p4runtime') backends.unshift({ name: 'p4runtime', access: plugin.registerAccess });
  const rows: BenchRow[] = [];
  let filled = 0;
  let port = 0;
  try {
    for (const size of o.sizes) {
      const work = makeWorkload({ seed: o.seed + size, flows: size - filled, concurrency: 512, udpShare: 0, inboundShare: 0, exchanges: [0, 0], close: { fin: 0, rst: 0, open: 1 } });
      log(`${profile}: filling to ${size} flows`);
      await injectInBatches(sw, inband, work.packets.map((p) => ({ port: p.ingressPort, payload: p.payload })), o.injectBatch);
      filled = size;
      // 1 % of 10^4 is the 100 of the absolute row: measured once.
      const changes = [...new Set([...o.counts, ...o.shares.map((s) => Math.round(s * size))])];
      for (const changed of changes) {
        for (const b of backends) {
          const t = await startTracking(sw, b.access, VM, TRACKER);
          await injectInBatches(sw, inband, newFlows(changed, port), o.injectBatch);
          port += changed;
          const ops0 = b.access.stats().targetOps;
          const t0 = performance.now();
          const next = await b.access.flipTracker(TRACKER, t.epoch);
          const found = await b.access.readChangedSlots(TRACKER, t.start, next.start);
          const slots = await b.access.readSlots({ indices: [...found.slots] });
          const ms = performance.now() - t0;
          const ops = b.access.stats().targetOps - ops0;
          const variant = `${profile} / ${b.name} / flows=${size} / changed=${changed}`;
          const note = `${found.entries.length} log entries, ${slots.length} slots read${found.overflow ? ', RING OVERFLOW' : ''}`;
          rows.push({ suite: SUITE, case: 'find and read changed slots of one VM', variant, value: ops, unit: 'ops', note });
          rows.push({ suite: SUITE, case: 'find and read changed slots of one VM', variant, value: ms, unit: 'ms', note });
          log(`${variant}: ${ops} ops, ${ms.toFixed(1)} ms (${note})`);
        }
      }
    }
  } finally {
    inband.close();
  }
  return rows;
}
