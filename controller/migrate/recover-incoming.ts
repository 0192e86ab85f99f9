/**
 * `carryover recover` in the destination domain of a cross-domain migration (its journal names
 * the peer's devices as sources, this domain's as destinations — what IncomingMigration journals):
 * only the destinations are this controller's to undo or keep. Before activation they are rolled
 * back; once activated only the source domain knows where the VM runs, so they are kept or rolled
 * back as the operator says (`--vm-at`); the sources are the source domain's to clean. The
 * destinations' plugins are reached with the ticket both domains agreed, kept beside the journal.
 */
import type { DeviceApi, MigrationRef } from '../../plugin/index.js';
import type { DeviceConnector } from '../devices/connect-plan-devices.js';
import { keptTicket } from '../federation/kept-ticket.js';
import { askPeerStatus } from '../federation/peer-status.js';
import type { PeerMigrationStatus } from '../federation/peer-status.js';
import type { Inventory, InventoryDevice } from '../inventory/inventory.js';
import type { MigrationMachine } from '../migration/migration-machine.js';
import { destinationMayBeActive } from '../migration/transition.js';
import type { MigrationState, RecoveryAction } from '../migration/transition.js';
import { AgreedTicket } from '../remote/agreed-ticket.js';
import { eachDevice } from './each-device.js';
import type { RecoverOptions, RecoveredMigration } from './recover-migrations.js';

/** Whether `s` is a migration into this domain: none of its sources is one of this inventory's devices, all its destinations are. */
export function isIncoming(inventory: Inventory, s: MigrationState): boolean {
  return s.sources.length > 0 && s.sources.every((n) => !inventory.devices.has(n)) && s.destinations.length > 0 && s.destinations.every((n) => inventory.devices.has(n));
}

type Base = Pick<RecoveredMigration, 'migrationId' | 'vm' | 'phase' | 'failedDevices' | 'counters' | 'qemu'>;

/** Recovers the incoming migration `machine` holds (see the file comment), reaching devices with `connect`. */
export async function recoverIncoming(o: RecoverOptions, machine: MigrationMachine, connect: DeviceConnector, action: RecoveryAction, base: Base): Promise<RecoveredMigration> {
  const s = machine.state;
  const kept = keptTicket(o.inventory.journal, s.migrationId);
  const address = kept?.claims.vm ?? o.inventory.vms.get(s.vm)?.address;
  const sourcesNote = `its sources (${s.sources.join(', ')}) are the source domain's, cleaned by its own controller`;
  if (action.kind === 'clean-sources') {
    await machine.record({ type: 'source-cleaned', slots: 0, tableEntries: 0 });
    return { ...base, outcome: 'committed', detail: `the VM runs here; ${sourcesNote}` };
  }
  // Before the pause nothing was activated here: the VM's state is whole only at the source domain.
  if (o.vmAt === 'destination' && action.kind === 'roll-back' && (s.phase === 'PLANNED' || s.phase === 'PREPARED' || s.phase === 'PRECOPY')) {
    return { ...base, outcome: 'needs-operator', detail: `nothing was changed: the journal says the migration stopped in ${s.phase} here, before its pause, so nothing was activated here and the VM's state is only at the source domain; --vm-at destination cannot be honoured. Run carryover recover without --vm-at (it rolls back what was staged here)` };
  }
  let settled = '';
  if (action.kind === 'ask-trigger') {
    // The source domain's journal decides (field walkthrough 17: --vm-at source here, after the
    // source domain had committed, deleted the VM's only copy).
    const peer = peerOf(o.inventory, kept?.signatures.map((x) => x.signer) ?? []);
    const word = await (o.askPeer ?? askPeerStatus)(o.inventory, peer, { migrationId: s.migrationId, vm: address ?? '' });
    const said = whereItEnded(word);
    if (said.at !== undefined && o.vmAt !== undefined && o.vmAt !== said.at) {
      return { ...base, outcome: 'needs-operator', detail: `nothing was changed: ${said.text}, so the VM runs ${said.at === 'destination' ? 'here' : `at ${word.peer ?? 'the source domain'}`}; --vm-at ${o.vmAt} contradicts it${o.vmAt === 'source' ? ' and would delete the VM\'s state here, its only copy' : ''}. Run carryover recover without --vm-at` };
    }
    const at = o.vmAt ?? said.at;
    if (at === undefined) {
      return { ...base, outcome: 'needs-operator', detail: `the destinations (${s.destinations.join(', ')}) were activated here and only the source domain knows where the VM runs; ${said.text}. Run carryover recover there first: a migration it still lists it finishes, and tells this domain (Finish or Abort). If it lists nothing, look the migration up in its journal (carryover journal): committed there means the VM runs here — run carryover recover here with --vm-at destination; only if it was rolled back there use --vm-at source, which deletes the VM's state here (its only copy, if the source domain committed)` };
    }
    settled = o.vmAt === undefined ? `${said.text}; ` : '';
    if (at === 'destination') {
      await machine.record({ type: 'committed' });
      await machine.record({ type: 'source-cleaned', slots: 0, tableEntries: 0 });
      return { ...base, outcome: 'committed', detail: `${settled}the VM runs here: the destinations (${s.destinations.join(', ')}) keep its state; ${sourcesNote}` };
    }
  } else if (action.kind !== 'roll-back') {
    return { ...base, outcome: 'nothing-to-do', detail: 'nothing left to do here' };
  }
  // Rolled back: before activation, or activated with the VM at the source.
  if (s.phase !== 'ABORTED') await machine.record({ type: 'abort', reason: 'CONTROLLER_RESTARTED', detail: `the controller stopped in phase ${s.phase}; rolled back by carryover recover in the destination domain` });
  // The ticket is agreed before anything is prepared here: in PLANNED, nothing was staged.
  if (s.phase !== 'PLANNED') {
    if (address === undefined) return { ...base, outcome: 'failed', detail: `the VM's address is unknown here (no agreed ticket kept for ${s.migrationId}, and VM '${s.vm}' is not under 'vms'); add it under 'vms' and run carryover recover again` };
    const devices = s.destinations.map((n) => o.inventory.devices.get(n) as InventoryDevice);
    const connected = await connect(devices, { scope: { sources: s.sources, destinations: s.destinations }, ...(kept ? { tickets: new AgreedTicket(kept) } : {}) });
    const ref: MigrationRef = { migrationId: s.migrationId, vm: address };
    // Abort undoes an activation too: the plugin's record, or — told it may be active, since an
    // activation leaves no mark on the switch — the VM's live state there.
    const options = destinationMayBeActive(s) ? { mayBeActive: true } : undefined;
    const r = await eachDevice(s.destinations, (n) => (connected.apis.get(n) as DeviceApi).abort(ref, options)).finally(() => connected.stop());
    if (r.failed.length > 0) return { ...base, outcome: 'failed', failedDevices: r.failed, detail: `rolling back failed at ${r.errors.join('; ')} — run carryover recover again` };
  }
  await machine.record({ type: 'rolled-back' });
  return { ...base, outcome: 'rolled-back', detail: `${settled}the destinations (${s.destinations.join(', ')}) cleaned; ${sourcesNote}` };
}

/** The source domain: the kept ticket's other signer, else the only peer configured. */
function peerOf(inv: Inventory, signers: readonly string[]): string | undefined {
  const signed = signers.find((n) => n !== inv.domain && inv.peers.has(n));
  if (signed !== undefined) return signed;
  return inv.peers.size === 1 ? [...inv.peers.keys()][0] : undefined;
}

/** Where the source domain's answer puts the VM (undefined: it does not settle it), and that answer in words. */
function whereItEnded(w: PeerMigrationStatus): { readonly at?: 'source' | 'destination'; readonly text: string } {
  const who = w.peer ?? 'the source domain';
  if (w.kind === 'unavailable') return { text: `${who} could not be asked (${w.why})` };
  if (w.kind === 'unknown') return { text: `${who}'s journal has no such migration towards this domain (pruned, or recorded elsewhere)` };
  if (w.phase === 'COMMITTED') return { at: 'destination', text: `${who}'s journal says it committed` };
  if (w.phase === 'ABORTED') return { at: 'source', text: `${who}'s journal says it was aborted (${w.abortReason ?? 'no reason recorded'})${w.finished ? ' and rolled back' : ''}` };
  return { text: `${who} left it unfinished in ${w.phase}: its own recover decides` };
}
