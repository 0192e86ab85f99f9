/**
 * Simulated switches as the CLI tests meet them: stateful_edge on the spec-timed `full` profile,
 * the VM (10.0.0.5) laid out by "your controller", then left without one (the command under test
 * brings its own); and the VM's TCP frames both ways.
 */
import type { P4Switch } from 'p4runtime-ts';
import { runMigrateCommand } from '../controller/index.js';
import type { SlotGroupSpec } from '../plugin/index.js';
import type { SimSwitch } from '../sim/index.js';
import { buildTcpFrame } from '../sim/workload/index.js';
import { UPLINK, startEdgeRig } from './edge-rig.js';

const VM = 0x0a000005;
const REMOTE = 0xc6336409;

/** A segment from the VM (port 1) to 198.51.100.9:443. */
export const out = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array => buildTcpFrame({ src: VM, dst: REMOTE, srcPort: port, dstPort: 443, seq, ack, flags, window: 64240, payload });
/** A segment from 198.51.100.9:443 back to the VM (arriving on the uplink). */
export const back = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array => buildTcpFrame({ src: REMOTE, dst: VM, srcPort: 443, dstPort: port, seq, ack, flags, window: 65160, payload });

/** Lays the VM out as its controller would: port roles, and 10.0.0.5 → `vmId` on port 1. */
export async function layOut(sw: P4Switch, vmId: number): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' }),
    sw.table('port_role').insert({ match: { port: 1 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
    sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.5' }, action: 'set_vm', params: { vm_id: vmId, port: 1 } }),
  ]);
}

/** A sim with the VM laid out as `vmId` (undefined: only the uplink, the VM not mapped), and its slot group. */
export async function cliSim(vmId: number | undefined): Promise<{ readonly sim: SimSwitch; readonly group: SlotGroupSpec }> {
  const rig = await startEdgeRig({ profile: 'full', topology: false });
  if (vmId === undefined) await rig.sw.write([rig.sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' })]);
  else await layOut(rig.sw, vmId);
  const group = rig.plugin.group;
  await rig.plugin.stop();
  return { sim: rig.sim, group };
}

/** Opens a TCP connection from the VM on each port (SYN, SYN-ACK, ACK); true when every segment passed. */
export function openFlows(sw: SimSwitch, ports: readonly number[]): boolean {
  return ports.every((p) => sw.dataplane.inject(1, out(p, 100, 0, 0x02)).kind === 'forward' && sw.dataplane.inject(UPLINK, back(p, 900, 101, 0x12)).kind === 'forward' && sw.dataplane.inject(1, out(p, 101, 901, 0x10)).kind === 'forward');
}

/** The inventory of two sims: edge-a in front of host-a (where vm-7 runs), edge-b of host-b (at `dstAddress` if given). */
export function twoSimSite(src: SimSwitch, dst: SimSwitch, dstAddress = dst.address): string {
  return `
journal: ./journal
devices:
  edge-a: { address: ${src.address}, deviceId: ${src.deviceId}, electionId: 20, hosts: [host-a] }
  edge-b: { address: ${dstAddress}, deviceId: ${dst.deviceId}, electionId: 20, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;
}

/** Runs `carryover migrate` in this process with `argv`: exit code and what it printed. */
export async function runMigrateCli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const o: string[] = [];
  const e: string[] = [];
  const code = await runMigrateCommand(argv, { stdout: (l) => o.push(l), stderr: (l) => e.push(l) });
  return { code, out: o, err: e };
}
