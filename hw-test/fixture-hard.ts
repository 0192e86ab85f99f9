/**
 * The hard traffic's setup (sim/workload/hard-setup.ts) for a fixture: the fixture's first VM is
 * the one the cases talk to, its first service port the open one, the remote network the
 * fixture's. The target (fixture.ts) and the reference model (reference-model.ts) get the same
 * extra entries from here.
 */
import { parseIpv4 } from '../sim/programs/stateful-edge/index.js';
import { hardTrafficEntries, parseCidr } from '../sim/workload/index.js';
import type { HardTrafficSetup, SetupEntry } from '../sim/workload/index.js';
import type { FixtureSpec } from './fixture-spec.js';

/** The setup the hard cases run against; undefined when the fixture has no hard traffic. */
export function hardSetup(fixture: FixtureSpec, cpuPort: number): HardTrafficSetup | undefined {
  const h = fixture.hard;
  const vm = fixture.vms[0];
  const open = fixture.vmServicePorts[0];
  if (!h || !vm || open === undefined) return undefined;
  const vmOf = (v: { addr: string; port: number; vmId: number }) => ({ addr: parseIpv4(v.addr), port: v.port, vmId: v.vmId });
  return {
    vm: vmOf(vm),
    uplinkPort: fixture.uplinkPort,
    cpuPort,
    remoteBase: parseCidr(fixture.remoteNetwork).base,
    openPort: open,
    closedPort: h.closedPort,
    anyPort: h.anyPort,
    deniedRemote: parseIpv4(h.deniedRemote),
    unknownVmAddr: parseIpv4(h.unknownVmAddr),
    ...(h.cpuUplinkVm ? { cpuUplinkVm: vmOf(h.cpuUplinkVm) } : {}),
    ...(h.cpuPlacedVm ? { cpuPlacedVm: { addr: parseIpv4(h.cpuPlacedVm.addr), port: cpuPort, vmId: h.cpuPlacedVm.vmId } } : {}),
    ...(h.bigIdVm ? { bigIdVm: vmOf(h.bigIdVm) } : {}),
  };
}

/** The extra table entries of the hard traffic (none without it). */
export function hardEntries(fixture: FixtureSpec, cpuPort: number): SetupEntry[] {
  const s = hardSetup(fixture, cpuPort);
  return s ? hardTrafficEntries(s) : [];
}

/** VM ids the hard traffic uses besides the fixture's VMs. */
export function hardVmIds(fixture: FixtureSpec): number[] {
  const h = fixture.hard;
  if (!h) return [];
  return [h.cpuUplinkVm?.vmId, h.cpuPlacedVm?.vmId, h.bigIdVm?.vmId].filter((x): x is number => x !== undefined);
}
