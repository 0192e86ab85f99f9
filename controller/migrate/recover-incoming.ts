/**
 * `carryover recover` in the destination domain of a cross-domain migration (its journal names
 * the peer's devices as sources, this domain's as destinations — what IncomingMigration journals):
 * only the destinations are this controller's to undo or keep. Before activation they are rolled
 * back; once activated only the source domain knows where the VM runs, so they are kept or rolled
 * back as the operator says (`--vm-at`); the sources are the source domain's to clean. The
 * destinations' plugins are reached with the ticket both domains agreed, kept beside the journal.
 */
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, MigrationRef } from '../../plugin/index.js';
import { connectPlanDevices } from '../devices/connect-plan-devices.js';
import type { Inventory, InventoryDevice } from '../inventory/inventory.js';
import type { MigrationMachine } from '../migration/migration-machine.js';
import type { MigrationState, RecoveryAction } from '../migration/transition.js';
import { AgreedTicket } from '../remote/agreed-ticket.js';
import { keptTicket } from './peer-recovery.js';
import type { RecoverOptions, RecoveredMigration } from './recover-migrations.js';

/** Whether `s` is a migration into this domain: none of its sources is one of this inventory's devices, all its destinations are. */
export function isIncoming(inventory: Inventory, s: MigrationState): boolean {
  return s.sources.length > 0 && s.sources.every((n) => !inventory.devices.has(n)) && s.destinations.length > 0 && s.destinations.every((n) => inventory.devices.has(n));
}

type Base = Pick<RecoveredMigration, 'migrationId' | 'vm' | 'phase' | 'failedDevices' | 'counters' | 'qemu'>;

/** Recovers incoming migration `migrationId` (see the file comment). */
export async function recoverIncoming(o: RecoverOptions, machine: MigrationMachine, migrationId: string, action: RecoveryAction, logger: Logger, base: Base): Promise<RecoveredMigration> {
  const s = machine.state;
  const kept = keptTicket(o.inventory.journal, migrationId);
  const address = kept?.claims.vm ?? o.inventory.vms.get(s.vm)?.address;
  const sourcesNote = `its sources (${s.sources.join(', ')}) are the source domain's, cleaned by its own controller`;
  if (action.kind === 'clean-sources') {
    await machine.record({ type: 'source-cleaned', slots: 0, tableEntries: 0 });
    return { ...base, outcome: 'committed', detail: `the VM runs here; ${sourcesNote}` };
  }
  let rollBack = action.kind === 'roll-back';
  if (action.kind === 'ask-trigger') {
    if (o.vmAt === undefined) {
      return { ...base, outcome: 'needs-operator', detail: `the destinations (${s.destinations.join(', ')}) were activated here and only the source domain knows where the VM runs: carryover recover there finishes it (it tells this domain), or run carryover recover here with --vm-at source|destination` };
    }
    if (o.vmAt === 'destination') {
      await machine.record({ type: 'committed' });
      await machine.record({ type: 'source-cleaned', slots: 0, tableEntries: 0 });
      return { ...base, outcome: 'committed', detail: `the VM runs here: the destinations (${s.destinations.join(', ')}) keep its state; ${sourcesNote}` };
    }
    rollBack = true;
  }
  if (!rollBack) return { ...base, outcome: 'nothing-to-do', detail: 'nothing left to do here' };
  if (s.phase !== 'ABORTED') await machine.record({ type: 'abort', reason: 'CONTROLLER_RESTARTED', detail: `the controller stopped in phase ${s.phase}; rolled back by carryover recover in the destination domain` });
  // The ticket is agreed before anything is prepared here: without one, nothing was staged.
  if (s.phase !== 'PLANNED' && address !== undefined) {
    const devices = s.destinations.map((n) => o.inventory.devices.get(n) as InventoryDevice);
    const agreed = kept ? new AgreedTicket() : undefined;
    if (kept) agreed?.agree(kept);
    const connect = o.connect ?? ((ds, c) => connectPlanDevices(ds, { defaultP4info: o.defaultP4info, domain: o.inventory.domain, controller: o.inventory.controller, scope: c.scope, ...(c.tickets ? { tickets: c.tickets } : {}), logger }));
    const connected = await connect(devices, { scope: { sources: s.sources, destinations: s.destinations }, ...(agreed ? { tickets: agreed } : {}) });
    const ref: MigrationRef = { migrationId, vm: address };
    const failed: string[] = [];
    try {
      // Abort undoes an activation too (the plugin's record, or the switch's own control entry).
      await Promise.all(s.destinations.map(async (n) => {
        try {
          await (connected.apis.get(n) as DeviceApi).abort(ref);
        } catch (e) {
          failed.push(`${n}: ${(e as Error).message}`);
        }
      }));
    } finally {
      await connected.stop();
    }
    if (failed.length > 0) return { ...base, outcome: 'failed', failedDevices: failed.map((f) => f.slice(0, f.indexOf(':'))), detail: `rolling back failed at ${failed.join('; ')} — run carryover recover again` };
  } else if (s.phase !== 'PLANNED') {
    return { ...base, outcome: 'failed', detail: `the VM's address is unknown here (no agreed ticket kept for ${migrationId}, and VM '${s.vm}' is not under 'vms'); add it under 'vms' and run carryover recover again` };
  }
  await machine.record({ type: 'rolled-back' });
  return { ...base, outcome: 'rolled-back', detail: `the destinations (${s.destinations.join(', ')}) cleaned; ${sourcesNote}` };
}
