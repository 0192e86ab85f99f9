/**
 * The source domain's read-only check of a peer domain (`carryover migrate --check --to-domain`):
 * its federation service is reached as a migration would reach it (mutual TLS, the server's
 * identity), and asked (Check) which destinations it would plan for the VM and what each offers
 * and holds. A peer that predates Check is reported as reachable and trusting, no more.
 */
import { capabilitiesFromWire, footprintFromWire } from '../../plugin/index.js';
import type { DeviceCapabilities, VmFootprint } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { InventoryFederation, InventoryPeer } from '../inventory/inventory.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { federationClientFor } from './federation-client.js';
import type { FederationClient } from './federation-client.js';
import { isUnimplemented } from './federation-status.js';
import { FEDERATION_VERSION } from './federation-wire.js';

/** One destination the peer would plan, as it answered. */
export interface PeerDestinationCheck {
  readonly name: string;
  /** How the peer domain reaches it. */
  readonly via: string;
  readonly capabilities?: DeviceCapabilities;
  readonly footprint?: VmFootprint;
  readonly failure?: { readonly reason: string; readonly detail: string };
}

/** The peer domain's answer, or why there is none. */
export type PeerDomainCheck =
  | { readonly kind: 'answered'; readonly peer: string; readonly address: string; readonly destinations: readonly PeerDestinationCheck[] }
  | { readonly kind: 'predates'; readonly peer: string; readonly address: string }
  | { readonly kind: 'failed'; readonly peer: string; readonly address: string; readonly reason: string; readonly detail: string };

/** What checkPeerDomain needs. */
export interface PeerDomainCheckOptions {
  /** The plan to the peer (planToPeer): its sources, VM and hosts. */
  readonly plan: MigrationPlan;
  readonly peer: InventoryPeer;
  readonly federation: InventoryFederation;
  /** Ask the peer's destinations to wait for their slot-group scans. */
  readonly awaitScan?: boolean;
  /** Deadline of the call (ms). Default: the federation client's. */
  readonly timeoutMs?: number;
}

/**
 * Asks the peer domain about the plan's migration, reading only; never throws (a failure is its answer).
 * @example
 * const c = await checkPeerDomain({ plan, peer: inv.peers.get('dc-b')!, federation: inv.federation! });
 * if (c.kind === 'answered') for (const d of c.destinations) console.log(d.name, d.capabilities?.slots.free);
 */
export async function checkPeerDomain(o: PeerDomainCheckOptions): Promise<PeerDomainCheck> {
  const { peer } = o;
  const address = peer.address ?? '';
  const base = { peer: peer.name, address };
  if (!peer.address) return { ...base, kind: 'failed', reason: 'BAD_CONFIG', detail: `peers.${peer.name}: no address; a migration to ${peer.name} needs where its controller serves federation` };
  let client: FederationClient;
  try {
    client = federationClientFor({ ...peer, address: peer.address }, o.federation);
  } catch (e) {
    const err = ControllerError.from(e);
    return { ...base, kind: 'failed', reason: err.code, detail: err.message };
  }
  try {
    const r = await client.call('Check', {
      protocolVersion: FEDERATION_VERSION, vm: o.plan.vm.address, vmName: o.plan.vm.name, fromHost: o.plan.fromHost, toHost: o.plan.toHost,
      sources: o.plan.sources.map((d) => d.name), awaitScan: o.awaitScan === true,
    }, o.timeoutMs);
    if (r['protocolVersion'] !== FEDERATION_VERSION) return { ...base, kind: 'failed', reason: 'PEER_REJECTED', detail: `peer domain ${peer.name} speaks federation version ${String(r['protocolVersion'])}; this domain speaks ${FEDERATION_VERSION}` };
    const destinations = (Array.isArray(r['destinations']) ? (r['destinations'] as Record<string, unknown>[]) : []).map((d): PeerDestinationCheck => {
      const reason = typeof d['failureReason'] === 'string' ? d['failureReason'] : '';
      return {
        name: String(d['name'] ?? '?'),
        via: String(d['via'] ?? ''),
        ...(d['capabilities'] ? { capabilities: capabilitiesFromWire(d['capabilities']).capabilities } : {}),
        ...(d['footprint'] ? { footprint: footprintFromWire(d['footprint']) } : {}),
        ...(reason !== '' ? { failure: { reason, detail: String(d['failureDetail'] ?? '') } } : {}),
      };
    });
    if (destinations.length === 0) return { ...base, kind: 'failed', reason: 'PEER_REJECTED', detail: `peer domain ${peer.name} answered the check without destinations` };
    return { ...base, kind: 'answered', destinations };
  } catch (e) {
    if (isUnimplemented(e)) return { ...base, kind: 'predates' };
    const err = ControllerError.from(e);
    return { ...base, kind: 'failed', reason: err.code, detail: err.message };
  } finally {
    client.close();
  }
}
