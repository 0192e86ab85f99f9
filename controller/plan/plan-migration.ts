/**
 * WHERE (DESIGN.md §7.2): which devices hold a VM's state and which must receive it, from the
 * inventory. The edges in front of the source host are the sources; those in front of the
 * destination host are the destinations. Two sources into one destination is N:1 (merge); one
 * into several is 1:N, each flow going to the device its path will hit, by the destination
 * host's placement function (e.g. the fabric's ECMP hash over the 5-tuple). Stateful devices
 * further along the path (role `path`) move too, each to its counterpart on the other side; a
 * path device serving both hosts keeps its state where it is.
 */
import { didYouMean } from '../../plugin/cli-flags.js';
import { placeFlow } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { Inventory, InventoryDevice, InventoryVm, PlacementFunction } from '../inventory/inventory.js';

/** How sources map to destinations. */
export type Topology = '1:1' | 'N:1' | '1:N' | 'N:M';

/** Where a VM's state comes from and goes to. */
export interface MigrationPlan {
  readonly vm: InventoryVm;
  readonly fromHost: string;
  readonly toHost: string;
  readonly sources: readonly InventoryDevice[];
  readonly destinations: readonly InventoryDevice[];
  readonly topology: Topology;
  /** The destination host's placement function, when it has several edges. */
  readonly placement: PlacementFunction | undefined;
  /** The destination edges (what placement chooses among); `destinations` adds the path devices. */
  readonly edgeDestinations: readonly InventoryDevice[];
  /** Source path device → its counterpart among the destinations. */
  readonly counterparts: ReadonlyMap<string, string>;
  /** Set when the destination host is in another domain: that domain is the one destination. */
  readonly toDomain?: string;
}

/** What placing a flow needs of a plan: the destinations, the destination host and its placement. */
export type PlacementPlan = Pick<MigrationPlan, 'destinations' | 'toHost' | 'placement'> & Partial<Pick<MigrationPlan, 'edgeDestinations' | 'counterparts'>>;

/** A flow key field as the slot group declares it: name, value, width. */
export interface FlowKeyField {
  readonly name: string;
  readonly value: bigint | number;
  readonly bits: number;
}

function edgesOf(inv: Inventory, host: string, what: string): InventoryDevice[] {
  const h = inv.hosts.get(host);
  if (!h) throw new ControllerError('BAD_CONFIG', `${inv.source}: ${what} host '${host}' is not in the inventory (hosts: ${[...inv.hosts.keys()].join(', ') || 'none'})${didYouMean(host, inv.hosts.keys())}`);
  const edges = h.devices.map((d) => inv.devices.get(d)).filter((d): d is InventoryDevice => d?.role === 'edge');
  if (edges.length === 0) throw new ControllerError('BAD_CONFIG', `${inv.source}: no edge device serves ${what} host '${host}'; list it under a device's hosts`);
  return edges;
}

/**
 * Plans the migration of `vmName` from host `from` to host `to`.
 * @example
 * const plan = planMigration(loadInventory('site.yaml'), 'vm-7', 'host-a', 'host-b');
 * plan.topology; // '1:N'
 */
export function planMigration(inv: Inventory, vmName: string, from: string, to: string): MigrationPlan {
  const vm = inv.vms.get(vmName);
  if (!vm) throw new ControllerError('BAD_CONFIG', `${inv.source}: VM '${vmName}' is not in the inventory (vms: ${[...inv.vms.keys()].join(', ') || 'none'})${didYouMean(vmName, inv.vms.keys())}; add it under 'vms'`);
  if (from === to) throw new ControllerError('BAD_CONFIG', `VM '${vmName}': --from and --to are both '${from}'; a migration moves between two hosts`);
  if (vm.host !== from) throw new ControllerError('BAD_CONFIG', `${inv.source}: VM '${vmName}' runs on '${vm.host}', not '${from}'; correct --from or the inventory`);
  const sources = edgesOf(inv, from, 'source');
  const destinations = edgesOf(inv, to, 'destination');
  const overlap = sources.find((s) => destinations.includes(s));
  if (overlap) throw new ControllerError('BAD_CONFIG', `device '${overlap.name}' serves both '${from}' and '${to}': the VM's state need not move; nothing to migrate`);
  const placementName = inv.hosts.get(to)?.placement;
  const placement = placementName === undefined ? undefined : inv.placements.get(placementName);
  const topology: Topology = sources.length === 1 ? (destinations.length === 1 ? '1:1' : '1:N') : destinations.length === 1 ? 'N:1' : 'N:M';
  // Path devices: those serving only the source host hand over to their counterparts.
  const pathOf = (host: string): InventoryDevice[] => (inv.hosts.get(host)?.devices ?? []).map((d) => inv.devices.get(d)).filter((d): d is InventoryDevice => d?.role === 'path');
  const pathTo = pathOf(to);
  const pathFrom = pathOf(from).filter((d) => !pathTo.includes(d));
  const counterparts = new Map<string, string>();
  for (const d of pathFrom) {
    const cp = pathTo.find((x) => x.name === d.counterpart);
    if (!cp) throw new ControllerError('BAD_CONFIG', `${inv.source}: path device '${d.name}' holds state of VMs on '${from}', but its counterpart ${d.counterpart === undefined ? '(none given)' : `'${d.counterpart}'`} does not serve '${to}'; set devices.${d.name}.counterpart to a path device that lists '${to}' in its hosts`);
    counterparts.set(d.name, cp.name);
  }
  const pathDestinations = pathTo.filter((d) => [...counterparts.values()].includes(d.name));
  return Object.freeze({
    vm,
    fromHost: from,
    toHost: to,
    sources: Object.freeze([...sources, ...pathFrom]),
    destinations: Object.freeze([...destinations, ...pathDestinations]),
    topology,
    placement,
    edgeDestinations: Object.freeze(destinations),
    counterparts,
  });
}

/**
 * Plans a migration of `vmName` from host `from` here to host `toHost` of peer domain `peer`: this
 * domain's edges in front of `from` are the sources; the peer domain — which plans its own
 * destinations — stands as the one destination, under its name.
 * @example
 * const plan = planToPeer(loadInventory('dc-a.yaml'), 'vm-7', 'host-a', 'dc-b', 'host-b');
 */
export function planToPeer(inv: Inventory, vmName: string, from: string, peer: string, toHost: string): MigrationPlan {
  const vm = inv.vms.get(vmName);
  if (!vm) throw new ControllerError('BAD_CONFIG', `${inv.source}: VM '${vmName}' is not in the inventory (vms: ${[...inv.vms.keys()].join(', ') || 'none'})${didYouMean(vmName, inv.vms.keys())}; add it under 'vms'`);
  if (vm.host !== from) throw new ControllerError('BAD_CONFIG', `${inv.source}: VM '${vmName}' runs on '${vm.host}', not '${from}'; correct --from or the inventory`);
  if (!inv.peers.has(peer)) throw new ControllerError('BAD_CONFIG', `${inv.source}: domain '${peer}' is not a peer of ${inv.domain} (peers: ${[...inv.peers.keys()].join(', ') || 'none'}); add it under 'peers' with its CA, identity and ticket key`);
  const sources = edgesOf(inv, from, 'source');
  const domain: InventoryDevice = Object.freeze({
    name: peer, address: undefined, deviceId: undefined, plugin: undefined, electionId: 0n, p4runtimeRole: undefined, role: 'edge', tls: undefined, registerAccess: 'probe', grpcClient: 'http2', openStreamsAhead: true,
    p4info: undefined, deviceConfig: undefined, hosts: Object.freeze([toHost]), subnets: Object.freeze([]), counterpart: undefined,
  });
  return Object.freeze({ vm, fromHost: from, toHost, sources: Object.freeze(sources), destinations: Object.freeze([domain]), topology: sources.length === 1 ? '1:1' : 'N:1', placement: undefined, toDomain: peer, edgeDestinations: Object.freeze([domain]), counterparts: new Map<string, string>() });
}

/**
 * The destination device a flow belongs to: a path source's counterpart, else the only
 * destination edge, or the placement function's choice among the edges —
 * hash of the named key fields (in the function's order, at their declared widths) modulo the
 * number of devices, computed as the target's hash extern does.
 */
export function destinationOf(plan: PlacementPlan, key: readonly FlowKeyField[], source?: string): InventoryDevice {
  const cp = source === undefined ? undefined : plan.counterparts?.get(source);
  if (cp !== undefined) return plan.destinations.find((d) => d.name === cp) as InventoryDevice;
  const edges = plan.edgeDestinations ?? plan.destinations;
  const only = edges.length === 1 ? edges[0] : undefined;
  if (only) return only;
  const p = plan.placement;
  if (!p) throw new ControllerError('BAD_CONFIG', `host '${plan.toHost}' has ${edges.length} edges but no placement function; add one under 'placement' and name it in hosts.${plan.toHost}.placement`);
  let name: string;
  try {
    name = placeFlow({ destinations: edges.map((d) => d.name), placement: { algorithm: p.algorithm, fields: p.fields, devices: p.devices } }, key);
  } catch (e) {
    throw new ControllerError('BAD_CONFIG', (e as Error).message.replace(/^the placement /, `placement '${p.name}' `), { cause: e });
  }
  return edges.find((d) => d.name === name) as InventoryDevice;
}
