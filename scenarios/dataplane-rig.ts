/**
 * Helpers of the data-plane migration tests and the pipeline bench (issue 11): flows of a VM made
 * by real SYNs through the sim's data plane, slots filled directly (a big table without the time
 * to handshake 10^5 flows), and the tracker set-up a migration's prepare step does.
 */
import { parseIPv4 } from 'p4runtime-ts';
import type { P4Switch } from 'p4runtime-ts';
import type { RegisterAccess, SlotGroupSpec, TrackerState } from '../plugin/index.js';
import { encodeSlotWords } from '../plugin/index.js';
import type { SimSwitch } from '../sim/index.js';
import { buildTcpFrame } from '../sim/workload/index.js';
import { UPLINK, VMS } from './edge-rig.js';

/** A VM of VMS by id. */
export function vmById(id: number): (typeof VMS)[number] {
  const vm = VMS.find((v) => v.id === id);
  if (!vm) throw new Error(`no VM with id ${id}`);
  return vm;
}

/** Opens `count` flows of VM `vmId` with one SYN each (ports from `firstPort` on); returns how many passed. */
export function openFlows(sim: SimSwitch, vmId: number, count: number, firstPort: number): number {
  const vm = vmById(vmId);
  let passed = 0;
  for (let i = 0; i < count; i++) {
    const frame = buildTcpFrame({ src: Number(parseIPv4(vm.addr)), dst: 0xc6336409, srcPort: (firstPort + i) & 0xffff, dstPort: 443, seq: 1000 + i, ack: 0, flags: 0x02, window: 64240, payload: 0 });
    if (sim.dataplane.inject(vm.port, frame).kind === 'forward') passed++;
  }
  return passed;
}

/** A second segment of each flow openFlows made (the remote side's SYN+ACK): changes those slots again. */
export function answerFlows(sim: SimSwitch, vmId: number, count: number, firstPort: number): number {
  const vm = vmById(vmId);
  let passed = 0;
  for (let i = 0; i < count; i++) {
    const frame = buildTcpFrame({ src: 0xc6336409, dst: Number(parseIPv4(vm.addr)), srcPort: 443, dstPort: (firstPort + i) & 0xffff, seq: 9000, ack: 1001 + i, flags: 0x12, window: 65160, payload: 0 });
    if (sim.dataplane.inject(UPLINK, frame).kind === 'forward') passed++;
  }
  return passed;
}

/**
 * Fills `count` slots with ESTABLISHED flows of `vmId` straight into the sim's registers (no
 * digests, no change-log entries): slots `stride·i mod slots`, skipping occupied ones.
 */
export function fillSlots(sim: SimSwitch, group: SlotGroupSpec, vmId: number, count: number, nowUs: bigint): number[] {
  const vm = vmById(vmId);
  const filled: number[] = [];
  const stride = 7919; // a prime: spreads the slots over both hash regions
  for (let i = 0, n = 0; filled.length < count && n < group.slots; n++) {
    const slot = (n * stride) % group.slots;
    if ((sim.state.registerRead(group.words[1]?.register ?? '', slot) & 0xffn) !== 0n) continue;
    const words = encodeSlotWords(group, {
      vm_addr: parseIPv4(vm.addr), remote_addr: 0xcb007100n + BigInt(i >> 16), vm_port: BigInt(i & 0xffff), remote_port: 80n, protocol: 6n,
      vm_id: BigInt(vmId), state: 3n, ws_out: 15n, ws_in: 15n, win_out: 1000n, win_in: 1000n, last_seen: nowUs,
    });
    group.words.forEach((w, k) => sim.state.registerWrite(w.register, slot, words[k] ?? 0n));
    filled.push(slot);
    i++;
  }
  return filled;
}

/** What a migration's prepare does on one switch: the VM tracked by `tracker`, and a fresh round. */
export async function startTracking(sw: P4Switch, access: RegisterAccess, vmId: number, tracker: number): Promise<TrackerState> {
  const entry = { match: { vm_id: vmId }, action: 'set_migration', params: { track: 1, freeze: 0, staged: 0, active: 1, tracker } };
  await sw.write(sw.table('vm_migration').insert(entry)).catch(async () => sw.write(sw.table('vm_migration').modify(entry)));
  const now = await access.readTracker(tracker);
  return access.flipTracker(tracker, now.epoch);
}
