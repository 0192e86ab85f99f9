/**
 * The 1:1 migration fixture shared by the device-API tests (in process and over the migration
 * protocol): a VM (10.0.0.5, switch-local id 7 at the source, 9 at the destination) with TCP flows
 * to one remote, its slots read straight from the sim's registers, and the two-device site.
 */
import type { P4Switch } from 'p4runtime-ts';
import { createDeviceApi } from '../plugin/index.js';
import type { EdgeDeviceApi, EdgeDeviceApiOptions, SlotGroupSpec } from '../plugin/index.js';
import type { SimProfileName, SimSwitch } from '../sim/index.js';
import { buildTcpFrame, buildUdpFrame } from '../sim/workload/index.js';
import { UPLINK, newFlowDigestDelayFor, startEdgeRig } from './edge-rig.js';
import type { EdgeRig } from './edge-rig.js';

/** The VM's address and the remote it talks to. */
export const VM_ADDR = 0x0a000005;
export const REMOTE = 0xc6336409;
/** The VM's switch-local ids: 7 at the source, 9 at the destination (remapped on import). */
export const SRC_ID = 7;
export const DST_ID = 9;

/** A segment from the VM to the remote on flow `port`. */
export const out = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array =>
  buildTcpFrame({ src: VM_ADDR, dst: REMOTE, srcPort: port, dstPort: 443, seq, ack, flags, window: 64240, payload });
/** A segment from the remote back to the VM on flow `port`. */
export const back = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array =>
  buildTcpFrame({ src: REMOTE, dst: VM_ADDR, srcPort: 443, dstPort: port, seq, ack, flags, window: 65160, payload });

/** A UDP request from the VM on `port` (the plugin learns a pinhole for it), and the reply. */
export const udpOut = (port: number): Uint8Array => buildUdpFrame({ src: VM_ADDR, dst: REMOTE, srcPort: port, dstPort: 53, payload: 40 });
export const udpIn = (port: number): Uint8Array => buildUdpFrame({ src: REMOTE, dst: VM_ADDR, srcPort: 53, dstPort: port, payload: 80 });

/** The VM's dyn_acl entries on a switch (VM id `vmId`): port and direct counter, by port. */
export async function pinholesOf(sw: P4Switch, vmId: number): Promise<{ port: bigint; packets: bigint; bytes: bigint }[]> {
  const all = await sw.readAll(sw.table('dyn_acl').all({ withCounters: true }));
  const key = (m: (typeof all)[number]['match'], name: string): bigint => {
    const k = m[name];
    return k !== undefined && 'value' in k ? k.value : -1n;
  };
  return all
    .filter((e) => key(e.match, 'vm_id') === BigInt(vmId))
    .map((e) => ({ port: key(e.match, 'vm_port'), packets: e.counter?.packets ?? 0n, bytes: e.counter?.bytes ?? 0n }))
    .sort((a, b) => Number(a.port - b.port));
}

/** Opens an ESTABLISHED flow on `port` (SYN, SYN+ACK, ACK); returns whether all three passed. */
export function establish(sim: SimSwitch, port: number): boolean {
  const a = sim.dataplane.inject(1, out(port, 1000, 0, 0x02)).kind;
  const b = sim.dataplane.inject(UPLINK, back(port, 9000, 1001, 0x12)).kind;
  const c = sim.dataplane.inject(1, out(port, 1001, 9001, 0x10)).kind;
  return a === 'forward' && b === 'forward' && c === 'forward';
}

/** The remote side's next data segment of flow `port` (its `n`-th, 10 bytes each). */
export const returnSegment = (port: number, n: number): Uint8Array => back(port, 9001 + 10 * n, 1001, 0x18, 10);

/** The VM's slots as the registers hold them (read in process: no switch operation counted). */
export function vmSlots(sim: SimSwitch, g: SlotGroupSpec, vmId: number): Map<number, bigint[]> {
  const found = new Map<number, bigint[]>();
  const vmWord = g.words[g.vm.word];
  for (let i = 0; i < g.slots; i++) {
    const w = sim.state.registerRead(vmWord?.register ?? '', i);
    if (((w >> BigInt(g.vm.lsb)) & ((1n << BigInt(g.vm.bits)) - 1n)) !== BigInt(vmId)) continue;
    const words = g.words.map((x) => sim.state.registerRead(x.register, i));
    if (((words[g.valid.word] ?? 0n) >> BigInt(g.valid.lsb)) & ((1n << BigInt(g.valid.bits)) - 1n)) found.set(i, words);
  }
  return found;
}

/** Port roles and a VM map giving 10.0.0.5 the id `vmId` on port 1. */
export async function topology(sw: P4Switch, vmId: number): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' }),
    sw.table('port_role').insert({ match: { port: 1 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
    sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.5' }, action: 'set_vm', params: { vm_id: vmId, port: 1 } }),
  ]);
}

/** The inventory of a two-device site: `src` in front of host-a (where vm-7 runs), `dst` in front of host-b. */
export const site = (src: string, dst: string): string => `
devices:
  src: { address: ${src}, deviceId: 1, hosts: [host-a] }
  dst: { address: ${dst}, deviceId: 1, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

/** A source and a destination switch with the VM's topology, each with a listening device API. */
export interface MigrationPair {
  readonly src: EdgeRig;
  readonly dst: EdgeRig;
  readonly srcApi: EdgeDeviceApi;
  readonly dstApi: EdgeDeviceApi;
  /** Stops both device APIs, then both switches. */
  stop(): Promise<void>;
}

/**
 * Both rigs on `profile`, the VM mapped to SRC_ID and DST_ID, and device APIs reading the VM's
 * slots through the index (which learns them from digests: it listens before the first flow).
 */
export async function startMigrationPair(profile: SimProfileName, srcOptions: EdgeDeviceApiOptions = {}, dstOptions: EdgeDeviceApiOptions = {}): Promise<MigrationPair> {
  const src = await startEdgeRig({ profile, topology: false });
  const dst = await startEdgeRig({ profile, topology: false });
  await topology(src.sw, SRC_ID);
  await topology(dst.sw, DST_ID);
  const srcApi = createDeviceApi(src.plugin, { name: 'src', snapshotSource: 'index', reconcile: false, ...newFlowDigestDelayFor(profile), ...srcOptions });
  const dstApi = createDeviceApi(dst.plugin, { name: 'dst', snapshotSource: 'index', reconcile: false, ...newFlowDigestDelayFor(profile), ...dstOptions });
  await Promise.all([srcApi.ready(), dstApi.ready()]);
  return {
    src, dst, srcApi, dstApi,
    async stop() {
      srcApi.stop();
      dstApi.stop();
      await src.stop();
      await dst.stop();
    },
  };
}
