/**
 * The demo's site: simulated edge switches for the chosen topology (1:1, 2:1, 1:2) running
 * stateful_edge, each with its plugin and device API; a control destination per destination (the
 * same switch, never given the VM's state: what a migration without carryover meets); the
 * inventory that names them, with ECMP placement where a host has two edges; and which switch
 * each of the VM's flows crosses, on either side.
 */
import { concatFields, hashBytes } from 'p4runtime-ts';
import type { P4Switch } from 'p4runtime-ts';
import { parseInventory, planMigration } from '../../controller/index.js';
import type { MigrationPlan } from '../../controller/index.js';
import { createDeviceApi } from '../../plugin/index.js';
import type { EdgeDeviceApi } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { UPLINK, newFlowDigestDelayFor, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import type { VmFlow } from './vm-traffic.js';

/** How many switches hold the VM's state before and after. */
export type DemoTopology = '1:1' | '2:1' | '1:2';
export const DEMO_TOPOLOGIES: readonly DemoTopology[] = ['1:1', '2:1', '1:2'];

/** The migrating VM: its address and its switch-local id on each side (remapped on import). */
export const DEMO_VM = { name: 'vm-1', addr: '10.0.0.5', addrNum: 0x0a000005, port: 1, sourceId: 7, destinationId: 9 } as const;

/** One switch of the site. */
export interface DemoSwitch {
  readonly name: string;
  readonly rig: EdgeRig;
  readonly api: EdgeDeviceApi;
}

/** Every switch, the inventory's plan, and flow paths. */
export interface DemoSite {
  readonly sources: readonly DemoSwitch[];
  readonly destinations: readonly DemoSwitch[];
  /** Per destination (same order), its twin that never gets state. */
  readonly controls: readonly DemoSwitch[];
  readonly plan: MigrationPlan;
  readonly inventoryYaml: string;
  /** The source switch a flow crosses. */
  sourceOf(f: VmFlow): DemoSwitch;
  /** The destination switch a flow will cross (and, at the same index, its control twin). */
  destinationIndexOf(f: VmFlow): number;
  stop(): Promise<void>;
}

/** ECMP over the 5-tuple, as the inventory's placement function declares it (crc32 of the key, modulo). */
const PLACEMENT_FIELDS = ['vm_addr', 'remote_addr', 'vm_port', 'remote_port', 'protocol'] as const;

function ecmpIndex(f: VmFlow, n: number): number {
  if (n === 1) return 0;
  const key = concatFields([
    { value: DEMO_VM.addrNum, bits: 32 },
    { value: f.remoteAddr, bits: 32 },
    { value: f.vmPort, bits: 16 },
    { value: f.remotePort, bits: 16 },
    { value: f.protocol, bits: 8 },
  ]);
  return hashBytes('crc32', key) % n;
}

/** Port roles and the VM map (the VM on port 1 with `vmId`). */
async function layOut(sw: P4Switch, vmId: number): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' }),
    sw.table('port_role').insert({ match: { port: DEMO_VM.port }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
    sw.table('vm_table').insert({ match: { vm_addr: DEMO_VM.addr }, action: 'set_vm', params: { vm_id: vmId, port: DEMO_VM.port } }),
  ]);
}

function inventoryYaml(src: readonly DemoSwitch[], dst: readonly DemoSwitch[]): string {
  const dev = (d: DemoSwitch, host: string): string => `  ${d.name}: { address: ${d.rig.sim.address}, deviceId: ${d.rig.sim.deviceId}, hosts: [${host}] }`;
  const placement = (name: string, ds: readonly DemoSwitch[]): string => `  ${name}: { kind: hash, algorithm: crc32, fields: [${PLACEMENT_FIELDS.join(', ')}], devices: [${ds.map((d) => d.name).join(', ')}] }`;
  const hosts: string[] = [];
  const placements: string[] = [];
  if (src.length > 1) {
    hosts.push('  host-a: { placement: ecmp-a }');
    placements.push(placement('ecmp-a', src));
  }
  if (dst.length > 1) {
    hosts.push('  host-b: { placement: ecmp-b }');
    placements.push(placement('ecmp-b', dst));
  }
  return [
    'devices:',
    ...src.map((d) => dev(d, 'host-a')),
    ...dst.map((d) => dev(d, 'host-b')),
    ...(hosts.length ? ['hosts:', ...hosts] : []),
    ...(placements.length ? ['placement:', ...placements] : []),
    'vms:',
    `  ${DEMO_VM.name}: { address: ${DEMO_VM.addr}, host: host-a }`,
    '',
  ].join('\n');
}

/** Starts the site's switches (in parallel) and lays out ports and the VM. */
export async function startDemoSite(topology: DemoTopology, profile: SimProfileName): Promise<DemoSite> {
  const [nSrc, nDst] = topology === '1:1' ? [1, 1] : topology === '2:1' ? [2, 1] : [1, 2];
  const names = [
    ...Array.from({ length: nSrc }, (_, i) => ({ name: `src-${i + 1}`, vmId: DEMO_VM.sourceId })),
    ...Array.from({ length: nDst }, (_, i) => ({ name: `dst-${i + 1}`, vmId: DEMO_VM.destinationId })),
    ...Array.from({ length: nDst }, (_, i) => ({ name: `control-${i + 1}`, vmId: DEMO_VM.destinationId })),
  ];
  const started: DemoSwitch[] = [];
  try {
    for (const n of names) {
      const rig = await startEdgeRig({ profile, topology: false });
      // Registered before anything else can fail, so stop() reaches it.
      const api = createDeviceApi(rig.plugin, { name: n.name, snapshotSource: 'index', reconcile: false, deltaIntervalMs: 10, ...newFlowDigestDelayFor(profile) });
      started.push({ name: n.name, rig, api });
      await layOut(rig.sw, n.vmId);
      await api.ready();
    }
  } catch (e) {
    await stopAll(started);
    throw e;
  }
  const sources = started.filter((s) => s.name.startsWith('src-'));
  const destinations = started.filter((s) => s.name.startsWith('dst-'));
  const controls = started.filter((s) => s.name.startsWith('control-'));
  const yaml = inventoryYaml(sources, destinations);
  const plan = planMigration(parseInventory(yaml, 'demo-site.yaml'), DEMO_VM.name, 'host-a', 'host-b');
  return {
    sources,
    destinations,
    controls,
    plan,
    inventoryYaml: yaml,
    sourceOf: (f) => sources[ecmpIndex(f, sources.length)] as DemoSwitch,
    destinationIndexOf: (f) => ecmpIndex(f, destinations.length),
    stop: () => stopAll(started),
  };
}

async function stopAll(switches: readonly DemoSwitch[]): Promise<void> {
  for (const s of switches) s.api.stop();
  await Promise.all(switches.map((s) => s.rig.stop()));
}
