/**
 * The switch configuration the hard-traffic cases assume, beyond a VM behind a port and an
 * uplink: a VM port whose service ports accept connections (static_allow), one port with
 * static_allow_any, a denied remote (static_deny), and three deliberate configuration errors
 * (a VM port whose uplink is the CPU port, a VM placed on the CPU port, a VM whose id is past the
 * per-VM counters). The same entries go into a model's env and onto a real target.
 */
import { IP_PROTO_TCP } from '../programs/stateful-edge/layout.js';

/** A VM of the setup. */
export interface SetupVm {
  readonly addr: number;
  readonly port: number;
  readonly vmId: number;
}

/** What the cases need to know about the switch they run on. */
export interface HardTrafficSetup {
  /** The VM the cases talk to; its table entries (port role, vm_table, …) exist already. */
  readonly vm: SetupVm;
  readonly uplinkPort: number;
  readonly cpuPort: number;
  /** A /24 the remote peers live in (its base address). */
  readonly remoteBase: number;
  /** A VM port with a static_allow rule (connections from outside may open). */
  readonly openPort: number;
  /** A VM port with neither rule: inbound SYNs to it are not admitted. */
  readonly closedPort: number;
  /** A VM port with a static_allow_any rule. */
  readonly anyPort: number;
  /** A remote address every flow of which is denied both ways. */
  readonly deniedRemote: number;
  /** An address no vm_table entry has. */
  readonly unknownVmAddr: number;
  /** A VM behind `port` whose port role sends its traffic to the CPU port; absent = not set up. */
  readonly cpuUplinkVm?: SetupVm;
  /** A VM that vm_table places on the CPU port. */
  readonly cpuPlacedVm?: SetupVm;
  /** A VM whose id is at least the per-VM counters' size (issue 8 §5). */
  readonly bigIdVm?: SetupVm;
}

/** One table entry, in a form both the model's env and p4runtime-ts accept. */
export interface SetupEntry {
  readonly table: string;
  readonly match: Readonly<Record<string, { readonly value: bigint; readonly mask?: bigint }>>;
  readonly action: string;
  readonly params?: Readonly<Record<string, bigint>>;
  readonly priority?: number;
}

const FULL32 = 0xffffffffn;

/** The entries the setup adds on top of the main VM's own. */
export function hardTrafficEntries(s: HardTrafficSetup): SetupEntry[] {
  const vm = BigInt(s.vm.addr >>> 0);
  const out: SetupEntry[] = [
    { table: 'static_acl', match: { vm_addr: { value: vm, mask: FULL32 }, vm_port: { value: BigInt(s.anyPort), mask: 0xffffn }, protocol: { value: BigInt(IP_PROTO_TCP), mask: 0xffn } }, action: 'static_allow_any', priority: 20 },
    { table: 'static_acl', match: { remote_addr: { value: BigInt(s.deniedRemote >>> 0), mask: FULL32 } }, action: 'static_deny', priority: 30 },
  ];
  const placeVm = (v: SetupVm, port: number): void => {
    out.push({ table: 'vm_table', match: { vm_addr: { value: BigInt(v.addr >>> 0) } }, action: 'set_vm', params: { vm_id: BigInt(v.vmId), port: BigInt(port) } });
  };
  if (s.cpuUplinkVm) {
    out.push({ table: 'port_role', match: { port: { value: BigInt(s.cpuUplinkVm.port) } }, action: 'vm_port_role', params: { uplink_port: BigInt(s.cpuPort) } });
    placeVm(s.cpuUplinkVm, s.cpuUplinkVm.port);
  }
  if (s.cpuPlacedVm) placeVm(s.cpuPlacedVm, s.cpuPort);
  if (s.bigIdVm) {
    out.push({ table: 'port_role', match: { port: { value: BigInt(s.bigIdVm.port) } }, action: 'vm_port_role', params: { uplink_port: BigInt(s.uplinkPort) } });
    placeVm(s.bigIdVm, s.bigIdVm.port);
  }
  return out;
}
