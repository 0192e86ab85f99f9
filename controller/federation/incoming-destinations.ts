/**
 * Where a VM arriving from a peer domain lands in this one: the edges in front of the host the
 * peer names, with that host's placement function. Shared by a proposal (IncomingMigration) and a
 * peer's read-only check (checkIncoming), so both plan the same destinations.
 */
import { ControllerError } from '../errors.js';
import type { Inventory, InventoryDevice } from '../inventory/inventory.js';
import type { PlacementPlan } from '../plan/plan-migration.js';

/**
 * Plans the destinations for a VM coming from `peer`'s `sources` to `toHost`.
 * @throws ControllerError PEER_REJECTED naming what this domain lacks (the host, an edge for it) or a device name both domains use.
 * @example
 * const plan = planIncoming(loadInventory('dc-b.yaml'), 'dc-a', 'host-b', ['edge-a1']);
 */
export function planIncoming(inv: Inventory, peer: string, toHost: string, sources: readonly string[]): PlacementPlan {
  const host = inv.hosts.get(toHost);
  if (!host) throw new ControllerError('PEER_REJECTED', `domain ${inv.domain} has no host '${toHost}' (hosts: ${[...inv.hosts.keys()].join(', ') || 'none'})`);
  const destinations = host.devices.map((d) => inv.devices.get(d)).filter((d): d is InventoryDevice => d?.role === 'edge');
  if (destinations.length === 0) throw new ControllerError('PEER_REJECTED', `domain ${inv.domain}: no edge device serves host '${toHost}'`);
  const clash = destinations.find((d) => sources.includes(d.name));
  if (clash) throw new ControllerError('PEER_REJECTED', `device name '${clash.name}' exists in both ${peer} and ${inv.domain}; tickets name devices, so the two domains' names must differ (e.g. prefix them with the domain)`);
  if (sources.length === 0) throw new ControllerError('PEER_REJECTED', 'the proposal names no source device');
  const placement = host.placement === undefined ? undefined : inv.placements.get(host.placement);
  return { destinations, toHost, placement };
}
