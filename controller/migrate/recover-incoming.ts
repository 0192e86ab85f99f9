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
import type { Inventory, InventoryDevice } from '../inventory/inventory.js';
import type { MigrationMachine } from '../migration/migration-machine.js';
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
  if (action.kind === 'ask-trigger') {
    if (o.vmAt === undefined) {
      return { ...base, outcome: 'needs-operator', detail: `the destinations (${s.destinations.join(', ')}) were activated here and only the source domain knows where the VM runs: carryover recover there finishes it (it tells this domain), or run carryover recover here with --vm-at source|destination` };
    }
    if (o.vmAt === 'destination') {
      await machine.record({ type: 'committed' });
      await machine.record({ type: 'source-cleaned', slots: 0, tableEntries: 0 });
      return { ...base, outcome: 'committed', detail: `the VM runs here: the destinations (${s.destinations.join(', ')}) keep its state; ${sourcesNote}` };
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
    // Abort undoes an activation too (the plugin's record, or the switch's own control entry).
    const r = await eachDevice(s.destinations, (n) => (connected.apis.get(n) as DeviceApi).abort(ref)).finally(() => connected.stop());
    if (r.failed.length > 0) return { ...base, outcome: 'failed', failedDevices: r.failed, detail: `rolling back failed at ${r.errors.join('; ')} — run carryover recover again` };
  }
  await machine.record({ type: 'rolled-back' });
  return { ...base, outcome: 'rolled-back', detail: `the destinations (${s.destinations.join(', ')}) cleaned; ${sourcesNote}` };
}
