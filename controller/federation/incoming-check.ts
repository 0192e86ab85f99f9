/**
 * A peer domain's read-only check of a migration it may propose (`carryover migrate --check
 * --to-domain`, federation Check): this domain plans the destinations as a proposal would and asks
 * each, reached as the migration would reach it, what it offers and holds of the VM. Nothing is
 * journalled, claimed, prepared or staged; one destination that cannot be asked fails alone.
 */
import type { Logger } from 'p4runtime-ts';
import type { DeviceCapabilities, VmFootprint } from '../../plugin/index.js';
import type { DeviceConnector } from '../devices/connect-plan-devices.js';
import type { FailureReason } from '../errors.js';
import type { Inventory, InventoryDevice } from '../inventory/inventory.js';
import { AgreedTicket } from '../remote/agreed-ticket.js';
import { reasonOf } from './federation-status.js';
import { planIncoming } from './incoming-destinations.js';

/** What the peer asks about. */
export interface IncomingCheckRequest {
  readonly peer: string;
  /** The VM's address (what this domain's switches map it by). */
  readonly vm: string;
  readonly toHost: string;
  readonly sources: readonly string[];
  /** Wait for each destination's slot-group scan under way. */
  readonly awaitScan: boolean;
}

/** One destination's answer. */
export interface IncomingDestinationCheck {
  readonly name: string;
  /** How this domain reaches it. */
  readonly via: string;
  readonly capabilities?: DeviceCapabilities;
  readonly footprint?: VmFootprint;
  readonly failure?: { readonly reason: FailureReason; readonly detail: string };
}

const viaOf = (d: InventoryDevice): string => (d.plugin ? `plugin daemon ${d.plugin.address}` : `P4Runtime ${d.address ?? '?'}`);

/**
 * Plans and asks this domain's destinations for `r`, reading only.
 * @throws ControllerError PEER_REJECTED when no destination can be planned (planIncoming).
 * @example
 * const answers = await checkIncoming(inv, connect, { peer: 'dc-a', vm: '10.0.0.5', toHost: 'host-b', sources: ['edge-a'], awaitScan: false });
 */
export async function checkIncoming(inv: Inventory, connect: DeviceConnector, r: IncomingCheckRequest, logger?: Logger): Promise<IncomingDestinationCheck[]> {
  const plan = planIncoming(inv, r.peer, r.toHost, r.sources);
  const scope = { sources: [...r.sources], destinations: plan.destinations.map((d) => d.name) };
  const answers = await Promise.all(plan.destinations.map(async (d): Promise<IncomingDestinationCheck> => {
    const base = { name: d.name, via: viaOf(d) };
    try {
      // As a proposal connects them: the ticket is agreed later; capabilities and footprints need none.
      const c = await connect([d], { scope, tickets: new AgreedTicket() });
      try {
        const api = c.apis.get(d.name);
        if (!api) throw new Error(`${d.name} was not connected`);
        const capabilities = await api.capabilities();
        const footprint = await api.footprint?.(r.vm, r.awaitScan ? { awaitScan: true } : undefined);
        return { ...base, capabilities, ...(footprint ? { footprint } : {}) };
      } finally {
        await c.stop().catch(() => undefined);
      }
    } catch (e) {
      const { reason, message } = reasonOf(e);
      return { ...base, failure: { reason, detail: message } };
    }
  }));
  logger?.info('a peer domain checked a migration it may propose (read only)', { peer: r.peer, vm: r.vm, toHost: r.toHost, destinations: answers.map((a) => `${a.name}: ${a.failure ? a.failure.reason : 'answered'}`).join(', ') });
  return answers;
}
