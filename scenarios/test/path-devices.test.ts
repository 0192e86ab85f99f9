/**
 * Several stateful devices along the VM's path (issue 12): the edge in front of the host and an
 * aggregation switch above it both track the VM's flows; on migration each hands its share to its
 * counterpart on the destination side (inventory `role: path`, `counterpart`), in one two-phase
 * migration. After activation both destination devices admit the VM's return traffic; counters
 * are conserved per device pair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { P4Switch } from 'p4runtime-ts';
import { MemoryJournal, MigrationEngine, MigrationMachine, parseInventory, planMigration, runMigration } from '../../controller/index.js';
import { createDeviceApi } from '../../plugin/index.js';
import type { DeviceApi, EdgeDeviceApi } from '../../plugin/index.js';
import { UPLINK, eventually, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { countVmSlots, readVmCounters } from '../demo/demo-observer.js';
import { establish, returnSegment } from '../migration-fixture.js';

async function layOut(sw: P4Switch, vmId: number): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' }),
    sw.table('port_role').insert({ match: { port: 1 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
    sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.5' }, action: 'set_vm', params: { vm_id: vmId, port: 1 } }),
  ]);
}

describe('migration — devices along the path, each to its counterpart', () => {
  const names = ['edge-a', 'agg-a', 'edge-b', 'agg-b'] as const;
  const ids: Record<(typeof names)[number], number> = { 'edge-a': 7, 'agg-a': 17, 'edge-b': 9, 'agg-b': 19 };
  const rigs = new Map<string, EdgeRig>();
  const apis = new Map<string, EdgeDeviceApi>();
  beforeAll(async () => {
    for (const n of names) {
      const rig = await startEdgeRig({ profile: 'full', topology: false });
      rigs.set(n, rig);
      await layOut(rig.sw, ids[n]);
      const api = createDeviceApi(rig.plugin, { name: n, snapshotSource: 'index', reconcile: false, deltaIntervalMs: 10 });
      apis.set(n, api);
      await api.ready();
    }
  }, 60_000);
  afterAll(async () => {
    for (const a of apis.values()) a.stop();
    await Promise.all([...rigs.values()].map((r) => r.stop()));
  });

  it('migration — the edge and the aggregation switch each move the VM\'s flows to their counterpart; both admit its traffic after, counters conserved per pair', async () => {
    const rig = (n: string): EdgeRig => rigs.get(n) as EdgeRig;
    const g = rig('edge-a').plugin.group;
    // The VM's flows cross both source devices (the same packets at each).
    const ports = Array.from({ length: 10 }, (_, i) => 42_000 + i);
    for (const n of ['edge-a', 'agg-a']) for (const p of ports) expect(establish(rig(n).sim, p)).toBe(true);
    for (const n of ['edge-a', 'agg-a']) expect(await eventually(async () => (await (apis.get(n) as EdgeDeviceApi).capabilities()).slots.free === g.slots - ports.length)).toBe(true);
    const yaml = `
devices:
  edge-a: { address: ${rig('edge-a').sim.address}, deviceId: 1, hosts: [host-a] }
  edge-b: { address: ${rig('edge-b').sim.address}, deviceId: 1, hosts: [host-b] }
  agg-a: { address: ${rig('agg-a').sim.address}, deviceId: 1, role: path, counterpart: agg-b, hosts: [host-a] }
  agg-b: { address: ${rig('agg-b').sim.address}, deviceId: 1, role: path, counterpart: agg-a, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;
    const plan = planMigration(parseInventory(yaml, 'site.yaml'), 'vm-7', 'host-a', 'host-b');
    const before = { 'agg-a': await readVmCounters(rig('agg-a'), ids['agg-a']), 'edge-a': await readVmCounters(rig('edge-a'), ids['edge-a']) };
    const machine = await MigrationMachine.plan({ migrationId: 'm-path', vm: 'vm-7', sources: plan.sources.map((d) => d.name), destinations: plan.destinations.map((d) => d.name) }, { journal: new MemoryJournal(), now: () => Date.now() });
    const engine = new MigrationEngine({ plan, machine, devices: new Map<string, DeviceApi>(apis), pauseDeadlineMs: 60_000, precopy: { intervalMs: 20, policy: { maxRounds: 2, convergedAtSlots: -1 } }, graceMs: 0 });
    const run = await runMigration(engine);
    expect(run.aborted).toBeUndefined();
    expect(run.committed?.deleted).toBe(2 * ports.length);
    for (const [src, dst] of [['edge-a', 'edge-b'], ['agg-a', 'agg-b']] as const) {
      expect(countVmSlots(rig(dst).sim, g, ids[dst])).toBe(ports.length);
      expect(countVmSlots(rig(src).sim, g, ids[src])).toBe(0);
      expect(await readVmCounters(rig(dst), ids[dst])).toEqual(before[src]);
      for (const p of ports) expect(rig(dst).sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
    }
  }, 120_000);
});
