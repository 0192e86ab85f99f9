/**
 * Simulated switches as the CLI tests meet them: stateful_edge on the spec-timed `full` profile,
 * the VM (10.0.0.5) laid out by "your controller" (migration-fixture.ts' topology), then left
 * without one (the command under test brings its own); the VM's flows opened there.
 */
import { runMigrateCommand } from '../controller/index.js';
import type { SlotGroupSpec } from '../plugin/index.js';
import type { SimSwitch } from '../sim/index.js';
import { UPLINK, startEdgeRig } from './edge-rig.js';
import { back, out, topology } from './migration-fixture.js';

/** A sim with the VM laid out as `vmId` (undefined: only the uplink, the VM not mapped), and its slot group. */
export async function cliSim(vmId: number | undefined): Promise<{ readonly sim: SimSwitch; readonly group: SlotGroupSpec }> {
  const rig = await startEdgeRig({ profile: 'full', topology: false });
  if (vmId === undefined) await rig.sw.write([rig.sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' })]);
  else await topology(rig.sw, vmId);
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
