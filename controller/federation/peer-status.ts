/**
 * The destination domain asks the source domain where a migration ended (federation Status): the
 * source domain decides where the VM runs, so its journal settles an activated migration that
 * the destination domain's recover finds unfinished — rather than the operator's word alone
 * (field walkthrough 17: `--vm-at source` at dc-b, after dc-a had committed, deleted the VM's
 * only copy).
 */
import { refToWire } from '../../plugin/index.js';
import type { MigrationRef } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { Inventory } from '../inventory/inventory.js';
import { federationClientFor } from './federation-client.js';
import type { FederationClient } from './federation-client.js';
import { isUnimplemented } from './federation-status.js';

/** What the source domain's journal says of a migration, or why it could not be asked. */
export type PeerMigrationStatus =
  | { readonly kind: 'known'; readonly peer: string; readonly phase: string; readonly finished: boolean; readonly abortReason?: string }
  | { readonly kind: 'unknown'; readonly peer: string }
  | { readonly kind: 'unavailable'; readonly peer: string | undefined; readonly why: string };

/** Asks a peer domain about a migration (default: over federation, see askPeerStatus). */
export type PeerStatusAsker = (inv: Inventory, peer: string | undefined, ref: MigrationRef) => Promise<PeerMigrationStatus>;

/**
 * Asks `peer`'s controller, as this inventory trusts it, what its journal holds of `ref`; never throws.
 * @example
 * const s = await askPeerStatus(inv, 'dc-a', { migrationId: 'm-1', vm: '10.0.0.5' });
 * if (s.kind === 'known' && s.phase === 'COMMITTED') console.log('the VM runs here');
 */
export async function askPeerStatus(inv: Inventory, peerName: string | undefined, ref: MigrationRef, timeoutMs = 10_000): Promise<PeerMigrationStatus> {
  if (peerName === undefined) return { kind: 'unavailable', peer: undefined, why: 'which domain it came from is not known here (no agreed ticket kept beside the journal, and not exactly one peer configured)' };
  const peer = inv.peers.get(peerName);
  if (!peer) return { kind: 'unavailable', peer: peerName, why: `${peerName} is not under 'peers' in ${inv.source}` };
  if (!peer.address) return { kind: 'unavailable', peer: peerName, why: `peers.${peerName} has no address (its controller serves no federation this domain reaches)` };
  if (!inv.federation) return { kind: 'unavailable', peer: peerName, why: `${inv.source} has no 'federation' section (this controller's certificate towards peers)` };
  let client: FederationClient;
  try {
    client = federationClientFor({ ...peer, address: peer.address }, inv.federation);
  } catch (e) {
    return { kind: 'unavailable', peer: peerName, why: ControllerError.from(e).message };
  }
  try {
    const r = await client.call('Status', { ref: refToWire(ref) }, timeoutMs);
    if (r['known'] !== true) return { kind: 'unknown', peer: peerName };
    const reason = typeof r['abortReason'] === 'string' && r['abortReason'] !== '' ? { abortReason: r['abortReason'] } : {};
    return { kind: 'known', peer: peerName, phase: String(r['phase'] ?? ''), finished: r['finished'] === true, ...reason };
  } catch (e) {
    return { kind: 'unavailable', peer: peerName, why: isUnimplemented(e) ? `${peerName}'s controller predates the question (federation Status)` : ControllerError.from(e).message };
  } finally {
    client.close();
  }
}
