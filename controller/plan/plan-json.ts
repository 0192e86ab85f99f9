/** A migration plan as JSON (`carryover migrate --plan --json`, and the plan inside its reports). */
import type { InventoryDevice } from '../inventory/inventory.js';
import type { MigrationPlan } from './plan-migration.js';

const deviceJson = (d: InventoryDevice): Record<string, unknown> => ({
  name: d.name,
  address: d.address ?? null,
  deviceId: d.deviceId?.toString() ?? null,
  ...(d.plugin ? { plugin: d.plugin.address } : {}),
});

/** The plan as one JSON object: the VM, hosts, topology, devices by role, counterparts, placement. */
export function planJson(p: MigrationPlan): Record<string, unknown> {
  return {
    vm: p.vm.name,
    address: p.vm.address,
    from: p.fromHost,
    to: p.toHost,
    ...(p.toDomain ? { toDomain: p.toDomain } : {}),
    topology: p.topology,
    sources: p.sources.map(deviceJson),
    destinations: p.destinations.map(deviceJson),
    counterparts: Object.fromEntries(p.counterparts),
    placement: p.placement ? { name: p.placement.name, algorithm: p.placement.algorithm, fields: p.placement.fields, devices: p.placement.devices } : null,
  };
}
