/**
 * The test fixture hw-test installs on the target before it sends traffic: VM-facing ports and an
 * uplink (`port_role`), VM addresses and ids (`vm_table`), tracking on for the VMs
 * (`vm_migration`), and a static rule admitting connections remote peers open to the VMs
 * (`static_acl`). Addresses and ids are chosen from ranges a lab switch is unlikely to use; every
 * entry is removed again at the end.
 */
import { badOption } from './errors.js';

/** One simulated VM: its address, the port it sits behind, its switch-local id. */
export interface FixtureVm {
  readonly addr: string;
  readonly port: number;
  readonly vmId: number;
}

/**
 * What the hard traffic needs on top (sim/workload/hard-setup.ts): a VM port with neither rule,
 * one with static_allow_any, a denied remote, an address no VM has, and three deliberate
 * configuration errors (null leaves one out): a VM port whose uplink is the CPU port, a VM placed
 * on the CPU port, a VM whose id is past the per-VM counters.
 */
export interface HardFixture {
  readonly closedPort: number;
  readonly anyPort: number;
  readonly deniedRemote: string;
  readonly unknownVmAddr: string;
  readonly cpuUplinkVm: FixtureVm | null;
  readonly cpuPlacedVm: { readonly addr: string; readonly vmId: number } | null;
  readonly bigIdVm: FixtureVm | null;
}

/** The VM the migration group moves to the peer and back: its address and port, its id on each switch. */
export interface MigrationFixtureVm {
  readonly addr: string;
  readonly port: number;
  readonly vmId: number;
  /** Its switch-local id at the peer (different, so the move's id remapping is exercised). */
  readonly peerVmId: number;
}

/** What the fixture installs. */
export interface FixtureSpec {
  readonly vms: readonly FixtureVm[];
  /** The migration group's VM (installed only when that group runs, on both switches). */
  readonly migrationVm: MigrationFixtureVm;
  readonly uplinkPort: number;
  /** Where the workload's remote peers live (CIDR, /8 .. /30). */
  readonly remoteNetwork: string;
  /** VM ports remote peers may open TCP connections to (static_allow rules). */
  readonly vmServicePorts: readonly number[];
  /** A port given no role: the key of the write a backup controller attempts (and must not make). */
  readonly sparePort: number;
  /** The hard traffic's extra configuration; null = no hard traffic. */
  readonly hard: HardFixture | null;
}

/** The default fixture: two VMs behind ports 1 and 2, the uplink on port 100. */
export const DEFAULT_FIXTURE: FixtureSpec = Object.freeze({
  vms: Object.freeze([
    Object.freeze({ addr: '10.250.0.5', port: 1, vmId: 1001 }),
    Object.freeze({ addr: '10.250.0.6', port: 2, vmId: 1002 }),
  ]),
  migrationVm: Object.freeze({ addr: '10.250.0.10', port: 6, vmId: 1010, peerVmId: 1011 }),
  uplinkPort: 100,
  remoteNetwork: '198.18.0.0/24',
  vmServicePorts: Object.freeze([22, 80, 443]),
  sparePort: 510,
  hard: Object.freeze({
    closedPort: 25,
    anyPort: 179,
    deniedRemote: '198.18.1.66',
    unknownVmAddr: '10.250.0.99',
    cpuUplinkVm: Object.freeze({ addr: '10.250.0.7', port: 3, vmId: 1003 }),
    cpuPlacedVm: Object.freeze({ addr: '10.250.0.8', vmId: 1004 }),
    bigIdVm: Object.freeze({ addr: '10.250.0.9', port: 4, vmId: 2000 }),
  }),
});

const isPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 511;

/** Validates a fixture over the defaults; errors name the field and the expected form. */
export function parseFixtureSpec(input: Partial<FixtureSpec> = {}): FixtureSpec {
  const o = { ...DEFAULT_FIXTURE, ...input };
  const where = 'fixture';
  if (!Array.isArray(o.vms) || o.vms.length === 0) throw badOption(`${where}.vms`, 'expected at least one { addr, port, vmId }');
  const ports = new Set<number>();
  const ids = new Set<number>();
  const vms = o.vms.map((vm, i) => {
    if (typeof vm?.addr !== 'string' || !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(vm.addr) || vm.addr.split('.').some((x: string) => Number(x) > 255)) {
      throw badOption(`${where}.vms[${i}].addr`, `got ${JSON.stringify(vm?.addr)}; expected a dotted-quad IPv4 address such as 10.250.0.5`);
    }
    if (!isPort(vm.port) || ports.has(vm.port)) throw badOption(`${where}.vms[${i}].port`, `got ${JSON.stringify(vm.port)}; expected a 9-bit port 0..511 no other VM uses`);
    if (!Number.isInteger(vm.vmId) || vm.vmId < 1 || vm.vmId > 1023 || ids.has(vm.vmId)) {
      throw badOption(`${where}.vms[${i}].vmId`, `got ${JSON.stringify(vm.vmId)}; expected a unique VM id 1..1023 (the per-VM counters have 1024 cells)`);
    }
    ports.add(vm.port);
    ids.add(vm.vmId);
    return Object.freeze({ addr: vm.addr, port: vm.port, vmId: vm.vmId });
  });
  if (!isPort(o.uplinkPort) || ports.has(o.uplinkPort)) throw badOption(`${where}.uplinkPort`, `got ${JSON.stringify(o.uplinkPort)}; expected a 9-bit port no VM sits behind`);
  if (!isPort(o.sparePort) || ports.has(o.sparePort) || o.sparePort === o.uplinkPort) {
    throw badOption(`${where}.sparePort`, `got ${JSON.stringify(o.sparePort)}; expected a 9-bit port that is neither a VM port nor the uplink`);
  }
  if (typeof o.remoteNetwork !== 'string' || !/^[\d.]+\/(\d{1,2})$/.test(o.remoteNetwork)) throw badOption(`${where}.remoteNetwork`, `got ${JSON.stringify(o.remoteNetwork)}; expected a CIDR such as 198.18.0.0/24`);
  if (!Array.isArray(o.vmServicePorts) || o.vmServicePorts.length === 0 || !o.vmServicePorts.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) {
    throw badOption(`${where}.vmServicePorts`, 'expected a non-empty list of TCP ports 1..65535');
  }
  const hard = o.hard === null ? null : parseHard(o.hard, o.vmServicePorts, [...ports, o.uplinkPort, o.sparePort]);
  const migrationVm = parseMigrationVm(o.migrationVm, [...ports, o.uplinkPort, o.sparePort, ...(hard ? [hard.cpuUplinkVm?.port, hard.bigIdVm?.port] : [])], [...ids, ...(hard ? [hard.cpuUplinkVm?.vmId, hard.bigIdVm?.vmId, hard.cpuPlacedVm?.vmId] : [])], [...vms.map((v) => v.addr)]);
  return Object.freeze({ vms: Object.freeze(vms), migrationVm, uplinkPort: o.uplinkPort, remoteNetwork: o.remoteNetwork, vmServicePorts: Object.freeze([...o.vmServicePorts]), sparePort: o.sparePort, hard });
}

const isAddr = (a: unknown): a is string => typeof a === 'string' && /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(a) && a.split('.').every((x) => Number(x) <= 255);

function parseHard(h: HardFixture, servicePorts: readonly number[], usedPorts: number[]): HardFixture {
  const where = 'fixture.hard';
  for (const f of ['closedPort', 'anyPort'] as const) {
    const p = h[f];
    if (!Number.isInteger(p) || p < 1 || p > 65535 || servicePorts.includes(p)) throw badOption(`${where}.${f}`, `got ${JSON.stringify(p)}; expected a TCP port 1..65535 that is no VM service port`);
  }
  for (const f of ['deniedRemote', 'unknownVmAddr'] as const) if (!isAddr(h[f])) throw badOption(`${where}.${f}`, `got ${JSON.stringify(h[f])}; expected a dotted-quad IPv4 address`);
  for (const f of ['cpuUplinkVm', 'bigIdVm'] as const) {
    const vm = h[f];
    if (vm === null) continue;
    if (!isAddr(vm.addr) || !isPort(vm.port) || usedPorts.includes(vm.port) || !Number.isInteger(vm.vmId) || vm.vmId < 1 || vm.vmId > 65535) {
      throw badOption(`${where}.${f}`, `got ${JSON.stringify(vm)}; expected { addr, port, vmId } with a port no other fixture entry uses and a 16-bit VM id`);
    }
    usedPorts.push(vm.port);
  }
  if (h.cpuPlacedVm !== null && (!isAddr(h.cpuPlacedVm.addr) || !Number.isInteger(h.cpuPlacedVm.vmId))) throw badOption(`${where}.cpuPlacedVm`, `got ${JSON.stringify(h.cpuPlacedVm)}; expected { addr, vmId }`);
  return Object.freeze({ ...h });
}

function parseMigrationVm(m: MigrationFixtureVm, usedPorts: readonly (number | undefined)[], usedIds: readonly (number | undefined)[], usedAddrs: readonly string[]): MigrationFixtureVm {
  const where = 'fixture.migrationVm';
  if (typeof m !== 'object' || m === null) throw badOption(where, 'expected { addr, port, vmId, peerVmId }');
  if (!isAddr(m.addr) || usedAddrs.includes(m.addr)) throw badOption(`${where}.addr`, `got ${JSON.stringify(m.addr)}; expected a dotted-quad IPv4 address no other fixture VM has`);
  if (!isPort(m.port) || usedPorts.includes(m.port)) throw badOption(`${where}.port`, `got ${JSON.stringify(m.port)}; expected a 9-bit port no other fixture entry uses`);
  for (const f of ['vmId', 'peerVmId'] as const) {
    const id = m[f];
    if (!Number.isInteger(id) || id < 1 || id > 1023 || usedIds.includes(id)) throw badOption(`${where}.${f}`, `got ${JSON.stringify(id)}; expected a VM id 1..1023 (the per-VM counters have 1024 cells) no other fixture VM has`);
  }
  return Object.freeze({ addr: m.addr, port: m.port, vmId: m.vmId, peerVmId: m.peerVmId });
}

/** Trackers the fixture uses (stateful_edge has 4); VMs past them are tracked without a change log. */
export const FIXTURE_TRACKERS = 4;
/** The tracker id (`set_migration` parameter `tracker`) of the fixture's i-th VM: i, or 255 (none). */
export function fixtureTracker(vmIndex: number): number {
  return vmIndex < FIXTURE_TRACKERS ? vmIndex : 255;
}
