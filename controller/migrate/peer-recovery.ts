/**
 * `carryover recover` for a cross-domain migration (its journal names a peer domain as the one
 * destination): the peer's controller is reached over federation, as during the migration, and
 * plays the destination's part in recovery — Abort rolls back what it staged or activated (an
 * unknown migration is nothing to undo there), Commit with no further batches activates what it
 * staged, Finish records the commit. The sources are reached with the ticket both domains agreed
 * (federation/kept-ticket.ts), since their plugins may require both signatures.
 */
import type { DeviceCapabilities, MigrationRef } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import { DEFAULT_FEDERATION_CLIENT_OPTIONS, federationClientFor } from '../federation/federation-client.js';
import type { FederationClient } from '../federation/federation-client.js';
import { PeerDomainDevice } from '../federation/peer-domain-device.js';
import type { Inventory, InventoryPeer } from '../inventory/inventory.js';
import type { MigrationState } from '../migration/transition.js';

/** The peer domain a journalled migration went to, when it is one (its only destination names a peer, not a device). */
export function peerDestination(inventory: Inventory, s: MigrationState): InventoryPeer | undefined {
  const [only, ...more] = s.destinations;
  if (only === undefined || more.length > 0 || inventory.devices.has(only)) return undefined;
  return inventory.peers.get(only);
}

/** What recovery never asks a peer domain: the migration's negotiation is over. */
const NOT_NEGOTIATED: DeviceCapabilities = { device: '', apiVersion: 1, stateClasses: [], schema: {}, slots: { total: 0, free: 0 }, registerAccess: 'inband', deltas: [], maxConcurrentMigrations: 0, keyFields: [] };

/**
 * The peer domain as the destination recovery drives: a PeerDomainDevice (activate is Commit with
 * no further batches, abort is Abort, finish is Finish) whose clean-up as a source is its Abort —
 * a destination domain cleans its own devices, an activation there included.
 */
export class PeerRecoveryDevice extends PeerDomainDevice {
  private constructor(
    private readonly client: FederationClient,
    state: () => MigrationState,
  ) {
    super({ client, capabilities: NOT_NEGOTIATED, state, commitTimeoutMs: DEFAULT_FEDERATION_CLIENT_OPTIONS.callTimeoutMs });
  }

  /** Reaches `peer`'s controller with this inventory's federation certificate. @throws ControllerError BAD_CONFIG naming what is missing. */
  static open(inventory: Inventory, peer: InventoryPeer, state: () => MigrationState): PeerRecoveryDevice {
    const federation = inventory.federation;
    if (!federation) throw new ControllerError('BAD_CONFIG', `the migration went to domain ${peer.name}; recovering it needs this inventory's federation section (the certificate its controller is met with)`);
    if (!peer.address) throw new ControllerError('BAD_CONFIG', `peers.${peer.name}: no address; recovering a migration to ${peer.name} needs where its controller serves federation`);
    return new PeerRecoveryDevice(federationClientFor({ ...peer, address: peer.address }, federation), state);
  }

  override async deleteAtSource(m: MigrationRef, _graceMs: number): Promise<{ readonly deleted: number; readonly skipped: number }> {
    await this.abort(m);
    return { deleted: 0, skipped: 0 };
  }

  close(): void {
    this.client.close();
  }
}
