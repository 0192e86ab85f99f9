/**
 * What `carryover recover` does: finishes the migrations a controller left unfinished in its
 * journal (the process was killed, the host rebooted) the one way each migration's last recorded
 * phase allows (transition.ts, recoveryAction):
 * - before activation, or aborted and not rolled back: roll back — the destinations cleaned, the
 *   sources unfrozen; the source stays authoritative;
 * - committed, sources not yet cleaned: delete the VM's copies at the sources;
 * - activated, not committed: only the hypervisor knows where the VM runs. QEMU's monitor is
 *   asked (and a VM still held in `pre-switchover` is released), or the operator says
 *   (`--vm-at`); the VM at the destination commits, at the source rolls back.
 * A QEMU migration still in progress when a migration is rolled back is cancelled: QEMU would
 * otherwise wait in `pre-switchover` for a controller that is gone.
 * Devices are reached as the inventory says; a plugin started here has no record of the
 * migration and undoes it from the switch's own state (plugin/device-api/unremembered-undo.ts).
 * Every step is journalled, so a recovery interrupted in turn is finished by the next one.
 */
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, MigrationRef } from '../../plugin/index.js';
import { connectPlanDevices } from '../devices/connect-plan-devices.js';
import { AgreedTicket } from '../remote/agreed-ticket.js';
import { forgetTicketWhenEnded, keptTicket } from '../federation/kept-ticket.js';
import { eachDevice } from './each-device.js';
import { PeerRecoveryDevice, peerDestination } from './peer-recovery.js';
import { isIncoming, recoverIncoming } from './recover-incoming.js';
import type { DeviceConnector } from '../devices/connect-plan-devices.js';
import type { Inventory, InventoryDevice } from '../inventory/inventory.js';
import type { MigrationJournal } from '../journal/journal.js';
import { claimVm } from '../journal/vm-claim.js';
import type { MigrationPhase } from '../migration/events.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { fromJournalCounters } from '../journal/journal-counters.js';
import { destinationMayBeActive, inPauseAt, recoveryAction, replay } from '../migration/transition.js';
import type { MigrationState, RecoveryAction } from '../migration/transition.js';
import type { PeerStatusAsker } from '../federation/peer-status.js';
import { QmpClient } from '../qmp/index.js';
import { queryMigration } from '../trigger/qemu-queries.js';

/** Where the VM of an activated migration runs, as the operator knows it. */
export type VmWhereabouts = 'source' | 'destination';

/** Options of recoverMigrations. */
export interface RecoverOptions {
  readonly inventory: Inventory;
  readonly journal: MigrationJournal;
  /** Only this migration (default: every unfinished one in the journal). */
  readonly migrationId?: string;
  /** For an activated migration: where the VM runs now. */
  readonly vmAt?: VmWhereabouts;
  /** The source QEMU's monitor (socket path or `unix:`/`tcp:` address): asked where the VM runs, released or cancelled. */
  readonly qemu?: string;
  /** How devices are reached (default: as the inventory says). */
  readonly connect?: DeviceConnector;
  /**
   * In the destination domain of a cross-domain migration left activated: how the source domain
   * is asked where it ended (default: its federation Status, askPeerStatus).
   */
  readonly askPeer?: PeerStatusAsker;
  /** Told of each journal file that does not replay (the others are recovered all the same); without it, the first such file fails recovery. */
  readonly unreadable?: (migrationId: string, error: Error) => void;
  readonly defaultP4info: string;
  readonly progress: (line: string) => void;
  readonly logger?: Logger;
}

/** What recovery found and did for one migration. */
export interface RecoveredMigration {
  readonly migrationId: string;
  readonly vm: string;
  /** The phase the journal left it in. */
  readonly phase: MigrationPhase;
  readonly outcome: 'nothing-to-do' | 'rolled-back' | 'sources-cleaned' | 'committed' | 'needs-operator' | 'failed';
  readonly detail: string;
  /** Devices whose step failed (the journal keeps the migration open for the next recovery). */
  readonly failedDevices: readonly string[];
  /** What became of counter values the destinations may have added in the pause, when there may be some. */
  readonly counters: string | undefined;
  /** What QEMU said and was told, when its monitor was given. */
  readonly qemu: string | undefined;
  /** When the VM now runs at the destination: the inventory change the operator makes (carryover never edits it). */
  readonly inventory?: string;
}

/**
 * Unfinished migrations in `journal` (all, or those of `vm`): each with its state. A journal file
 * that does not replay is handed to `unreadable` (when given) and the others are still listed —
 * one damaged file must not keep every other migration from recovery (walkthrough 17 F6) —
 * else its error is thrown.
 */
export async function unfinishedMigrations(journal: MigrationJournal, vm?: string, unreadable?: (migrationId: string, error: Error) => void): Promise<MigrationState[]> {
  const out: MigrationState[] = [];
  for (const id of (await journal.list()).sort()) {
    let s: MigrationState;
    try {
      s = replay(await journal.load(id));
    } catch (e) {
      if (!unreadable) throw e;
      unreadable(id, e as Error);
      continue;
    }
    if ((vm === undefined || s.vm === vm) && recoveryAction(s).kind !== 'none') out.push(s);
  }
  return out;
}

/**
 * Recovers every unfinished migration of the journal (or the one asked for), one after another.
 * @example
 * const done = await recoverMigrations({ inventory, journal: new FileJournal(inventory.journal), defaultP4info, progress: console.error });
 * if (done.some((r) => r.outcome === 'failed' || r.outcome === 'needs-operator')) process.exitCode = 1;
 */
export async function recoverMigrations(o: RecoverOptions): Promise<RecoveredMigration[]> {
  const ids = o.migrationId !== undefined ? [o.migrationId] : (await unfinishedMigrations(o.journal, undefined, o.unreadable)).map((s) => s.migrationId);
  const out: RecoveredMigration[] = [];
  for (const id of ids) out.push(await recoverOne(o, id));
  return out;
}

/** What every recovered migration's result carries before its outcome is known. */
type RecoveredBase = Pick<RecoveredMigration, 'migrationId' | 'vm' | 'phase' | 'failedDevices' | 'counters' | 'qemu'>;

/** What became of the VM's counters when recovery activated the destinations of a migration stopped in the pause. */
function rolledForwardCounters(s: MigrationState): string {
  const at = Object.keys(s.carried ?? {});
  if (at.length > 0) return `carried: the sources' counts at the freeze, journalled with the final batch, were handed to the activation at ${at.join(', ')} (added there unless the switch held them already), and the VM's counter cells at ${s.sources.join(', ')} set to zero`;
  return `may be missing: the VM's counter cells at ${s.sources.join(', ')} were set to zero, and the controller stopped before the sources' counts at the freeze were journalled (it journals them once the final batch is installed${s.phase === 'SYNCED' ? '; with peer-to-peer transfer it never sees them' : ''}): ${s.destinations.join(', ')} hold them only if the final batch reached them on a switch that adds them with it (one without atomic writes)`;
}

const COUNTERS_ZEROED = (destinations: readonly string[]): string =>
  `the VM's counter cells at ${destinations.join(', ')} set to zero with the rest of its state there (they may have held the sources' values, added in the pause); its count stays at the sources`;

async function recoverOne(o: RecoverOptions, migrationId: string): Promise<RecoveredMigration> {
  const logger = (o.logger ?? silentLogger).child({ migration: migrationId });
  const machine = await MigrationMachine.resume(migrationId, { journal: o.journal, now: () => Date.now(), logger });
  const s = machine.state;
  const action = recoveryAction(s);
  const base: RecoveredBase = { migrationId, vm: s.vm, phase: s.phase, failedDevices: [], counters: undefined, qemu: undefined };
  if (action.kind === 'none') return { ...base, outcome: 'nothing-to-do', detail: s.phase === 'COMMITTED' ? 'committed and the sources cleaned' : 'aborted and rolled back' };
  // Unfinished in the journal, but its controller still runs: not left behind, and not ours to undo.
  let release: () => void;
  try {
    release = claimVm(o.inventory.journal, s.vm, `recover ${migrationId}`);
  } catch (e) {
    return { ...base, outcome: 'failed', detail: `nothing was changed: ${(e as Error).message}` };
  }
  try {
    const r = await recoverClaimed(o, machine, migrationId, action, logger, base);
    forgetTicketWhenEnded(o.inventory.journal, machine.state);
    return r;
  } finally {
    release();
  }
}

/**
 * Why `--vm-at` cannot be what the journal allows (field walkthrough 13: it was ignored in
 * silence): a committed migration's VM ran at the destination; one that never reached the pause
 * activated no destination, so its state is only at the sources.
 */
function vmAtContradiction(s: MigrationState, action: RecoveryAction, vmAt: VmWhereabouts | undefined): string | undefined {
  if (vmAt === 'source' && action.kind === 'clean-sources') {
    return `the journal says the migration committed, so the VM ran at the destination (${s.destinations.join(', ')}); --vm-at source contradicts it. Run carryover recover without --vm-at to finish cleaning the sources; if the VM was moved back outside carryover, migrate it again instead`;
  }
  if (vmAt === 'destination' && s.phase === 'ABORTED' && action.kind === 'roll-back') {
    return `the journal says the migration was aborted (${s.abort?.reason ?? 'no reason recorded'}), so the VM stayed at the sources (${s.sources.join(', ')}); --vm-at destination contradicts it. Run carryover recover without --vm-at to finish the rollback, then migrate the VM from where it runs`;
  }
  // Before FROZEN the journal does not say the pause began, let alone that QEMU was released:
  // an operator's word alone would roll forward a destination missing the last changes and
  // counts (walkthrough 15). Peer to peer the pause may have begun unjournalled: QEMU may say.
  if (vmAt === 'destination' && action.kind === 'roll-back' && (s.phase === 'PLANNED' || s.phase === 'PREPARED' || s.phase === 'PRECOPY')) {
    const p2p = s.activationDelegated === true && s.phase === 'PRECOPY';
    return `the journal says the migration stopped in ${s.phase}, ${p2p ? 'with nothing journalled of its pause' : 'before its pause, so no destination was activated and'} the VM's state ${p2p ? 'is whole only' : 'is only'} at the sources (${s.sources.join(', ')}); --vm-at destination cannot be honoured on your word. ${p2p ? 'If QEMU completed the migration, run carryover recover --trigger qemu:/path/to/the/source/qmp.sock and QEMU\'s word rolls it forward; otherwise r' : 'R'}un carryover recover without --vm-at (it rolls back), then migrate the VM from where it runs`;
  }
  return undefined;
}

async function recoverClaimed(o: RecoverOptions, machine: MigrationMachine, migrationId: string, action: RecoveryAction, logger: Logger, base: RecoveredBase): Promise<RecoveredMigration> {
  const s = machine.state;
  o.progress(`${migrationId}: VM ${s.vm}, left in phase ${s.phase}${s.abort ? ` (aborted: ${s.abort.reason})` : ''}`);
  const connect: DeviceConnector = o.connect ?? ((ds, c) => connectPlanDevices(ds, { defaultP4info: o.defaultP4info, domain: o.inventory.domain, controller: o.inventory.controller, scope: c.scope, ...(c.tickets ? { tickets: c.tickets } : {}), logger }));
  // A migration into this domain: only its destinations are ours (recover-incoming.ts).
  if (isIncoming(o.inventory, s)) return recoverIncoming(o, machine, connect, action, base);
  const vm = o.inventory.vms.get(s.vm);
  // A migration to a peer domain: its controller stands for the destinations (peer-recovery.ts).
  const peer = peerDestination(o.inventory, s);
  const missing = [...s.sources, ...(peer ? [] : s.destinations)].filter((n) => !o.inventory.devices.has(n));
  if (!vm || missing.length > 0) {
    const what = !vm ? `VM '${s.vm}' is not under 'vms'` : `device${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not under 'devices'`;
    return { ...base, outcome: 'failed', detail: `the journal names it, but ${what} in the inventory; recover with the inventory the migration ran with (--config)` };
  }
  const contradiction = vmAtContradiction(s, action, o.vmAt);
  if (contradiction) return { ...base, outcome: 'needs-operator', detail: `nothing was changed: ${contradiction}` };
  const ref: MigrationRef = { migrationId, vm: vm.address };
  let qmp: QmpClient | undefined;
  try {
    qmp = o.qemu !== undefined ? await QmpClient.connect({ address: o.qemu, logger }) : undefined;
  } catch (e) {
    return { ...base, outcome: 'failed', detail: `nothing was changed: QEMU's monitor could not be used (${(e as Error).message}); QEMU allows one monitor client at a time, so stop any other (a carryover migrate still running, libvirt's own) or recover without --trigger, then run carryover recover again` };
  }
  try {
    let qemuNote: string | undefined;
    let where: VmWhereabouts | undefined;
    if (action.kind === 'ask-trigger') {
      const asked = qmp ? await askQemu(qmp, o.progress, migrationId) : undefined;
      qemuNote = asked?.note;
      where = asked?.where ?? o.vmAt;
      if (where === undefined) {
        return { ...base, qemu: qemuNote, outcome: 'needs-operator', detail: `the destinations were activated before the controller stopped and only the hypervisor knows where the VM runs now${qemuNote ? ` (${qemuNote})` : ''}; run carryover recover again with --vm-at source|destination, or with --trigger qemu:/path/to/the/source/qmp.sock` };
      }
    }
    // Stopped in the pause (frozen, not yet activated): QEMU may have completed the move meanwhile
    // (released at the deadline), or the operator says the VM runs at the destination. A rollback
    // would then leave the VM where its switch drops its packets: the destination is activated
    // with what it holds instead (rolled forward).
    // Peer to peer, a source's plugin may have activated a destination before `frozen` was
    // journalled (the pause in one call): PRECOPY may already be the pause (field walkthrough 13).
    const inPause = action.kind === 'roll-back' && inPauseAt(s, s.phase);
    let rollForward = false;
    if (inPause) {
      const completed = qmp ? (await queryMigration(qmp, 5_000)).info.status === 'completed' : false;
      if (completed) qemuNote = 'QEMU completed the migration while the controller was stopped: the VM runs at the destination';
      rollForward = completed || o.vmAt === 'destination';
    }
    const devices = (names: readonly string[]): InventoryDevice[] => names.map((n) => o.inventory.devices.get(n) as InventoryDevice);
    // From the freeze on, a destination may be active: it is cleaned as a source is after a commit
    // (below), so its ticket names it a source as well (a plugin daemon checks the role).
    const mayBeActive = destinationMayBeActive(s);
    const cleansDestinations = mayBeActive && action.kind !== 'clean-sources' && where !== 'destination' && !rollForward;
    const scope = { sources: cleansDestinations ? [...s.sources, ...s.destinations] : s.sources, destinations: s.destinations };
    const kept = peer ? keptTicket(o.inventory.journal, migrationId) : undefined;
    const agreed = kept ? new AgreedTicket(kept) : undefined;
    let peerApi: PeerRecoveryDevice | undefined;
    try {
      peerApi = peer ? PeerRecoveryDevice.open(o.inventory, peer, () => machine.state) : undefined;
    } catch (e) {
      return { ...base, qemu: qemuNote, outcome: 'failed', detail: `nothing was changed: ${(e as Error).message}` };
    }
    // Where an earlier try's cleanup finished (`cleaned-at`), nothing is done again: a later
    // migration may have put the VM's state there since.
    const owed = (names: readonly string[]): string[] => names.filter((n) => !s.cleanedAt.includes(n));
    const earlier = s.cleanedAt.length > 0 ? ` (${s.cleanedAt.join(', ')} already cleaned by an earlier try, left alone)` : '';
    const connected = await connect(devices(owed(peer ? s.sources : [...s.sources, ...s.destinations])), { scope, ...(agreed ? { tickets: agreed } : {}) });
    try {
      const api = (n: string): DeviceApi => (peerApi && n === peer?.name ? peerApi : (connected.apis.get(n) as DeviceApi));
      if (rollForward) {
        // Activated here, the migration then ends as one whose activation was journalled: committed, sources cleaned.
        // Left in SYNCED, the journal holds the counter values the final batches brought each
        // destination: handed to its activation, which adds them only where they are not held yet
        // (a plugin that forgot the migration, on a switch whose final batch left them for the
        // activation; DeviceApi.activate) — so a recovery run twice, or one after the activation
        // already reached the switch, adds nothing twice.
        const carried = s.carried ?? {};
        const act = await eachDevice(s.destinations, (n) => {
          const c = carried[n];
          return c ? api(n).activate(ref, fromJournalCounters(c)) : api(n).activate(ref);
        });
        if (act.failed.length > 0) return { ...base, qemu: qemuNote, outcome: 'failed', failedDevices: act.failed, detail: `the VM runs at the destination, but activating it there failed at ${act.errors.join('; ')} — run carryover recover again` };
        const lost = { slots: -1, tableEntries: 0, detail: 'the controller stopped in the pause: activated by carryover recover with what the destinations held (changes of the pause and the VM\'s counter values may be missing)' };
        if (s.phase === 'PRECOPY') await machine.record({ type: 'frozen' });
        if (machine.state.phase === 'FROZEN') await machine.record({ type: 'synced', slots: 0, tableEntries: 0, lost });
        await machine.record({ type: 'activated' });
      }
      if (rollForward || action.kind === 'clean-sources' || where === 'destination') {
        const activated = machine.state.phase === 'ACTIVATED';
        if (activated) await machine.record({ type: 'committed' });
        const r = await eachDevice(owed(s.sources), (n) => api(n).deleteAtSource(ref, 0));
        if (r.failed.length > 0) {
          await recordCleaned(machine, owed(s.sources).filter((n) => !r.failed.includes(n)));
          return { ...base, qemu: qemuNote, outcome: 'failed', failedDevices: r.failed, detail: `committed; deleting at the sources failed at ${r.errors.join('; ')} — run carryover recover again` };
        }
        const slots = r.values.reduce((n, x) => n + x.deleted, 0);
        // The peer domain keeps the migration activated until told (a peer that recorded it
        // already answers done): told before the journal closes, so a failure is retried here.
        if (peerApi) {
          try {
            await peerApi.finish(ref, slots);
          } catch (e) {
            return { ...base, qemu: qemuNote, outcome: 'failed', failedDevices: [peer?.name ?? 'the peer domain'], detail: `committed, the sources cleaned; ${peer?.name ?? 'the peer domain'} did not record the commit (${(e as Error).message}) — run carryover recover again once its federation answers (never roll it back there: the VM runs there)` };
          }
        }
        await machine.record({ type: 'source-cleaned', slots, tableEntries: 0 });
        const done = { ...base, qemu: qemuNote, inventory: inventoryStep(o.inventory, s), outcome: activated ? 'committed' : 'sources-cleaned' } as const;
        if (!rollForward) return { ...done, detail: `the VM runs at the destination; ${slots} slots deleted at ${owed(s.sources).join(', ')}${earlier}` };
        return { ...done, counters: rolledForwardCounters(s), detail: `the VM runs at the destination: ${s.destinations.join(', ')} activated with the state staged before the controller stopped (${s.phase === 'SYNCED' ? 'the final batch included' : 'the pause\'s last changes may be missing'}); ${slots} slots deleted at ${s.sources.join(', ')}` };
      }
      // Roll back: the source stays authoritative.
      const reason = action.kind === 'roll-back' ? action.reason : 'CONTROLLER_RESTARTED';
      if (s.phase !== 'ABORTED') await machine.record({ type: 'abort', reason, detail: `the controller stopped in phase ${s.phase}; rolled back by carryover recover` });
      // From the freeze on, the activation may have reached a destination before `activated` (or
      // even `synced`) was journalled: the engine sends it while `synced` is written. An activated
      // destination looks like the VM's home to its switch (no control entry), so an undo by the
      // control entry would leave it active; each is cleaned as a source is after a commit instead
      // (which clears a destination still staged just as well).
      // The sources first (unfrozen: quick), then QEMU cancelled, so the VM runs again at once;
      // cleaning a destination may scan its whole slot group.
      const src = await eachDevice(owed(s.sources), (n) => api(n).abort(ref));
      if (qmp) qemuNote = await cancelQemu(qmp, qemuNote);
      const dst = await eachDevice(owed(s.destinations), async (n) => {
        if (mayBeActive) return (await api(n).deleteAtSource(ref, 0)).deleted;
        await api(n).abort(ref);
        return 0;
      });
      const failed = [...dst.failed, ...src.failed];
      if (failed.length > 0) {
        // What did succeed, so the operator knows the state of each switch meanwhile (walkthrough 13).
        const unfrozen = owed(s.sources).filter((n) => !src.failed.includes(n));
        const cleaned = owed(s.destinations).filter((n) => !dst.failed.includes(n));
        await recordCleaned(machine, [...unfrozen, ...cleaned]);
        const done = [...(unfrozen.length > 0 ? [`the sources ${unfrozen.join(', ')} unfrozen (the VM's traffic passes there)`] : []), ...(cleaned.length > 0 ? [`the destinations ${cleaned.join(', ')} cleaned`] : [])];
        return { ...base, qemu: qemuNote, outcome: 'failed', failedDevices: failed, detail: `${done.length > 0 ? `${done.join('; ')}; ` : ''}rolling back failed at ${[...dst.errors, ...src.errors].join('; ')} — run carryover recover again once ${failed.length > 1 ? 'they answer' : 'it answers'}` };
      }
      await machine.record({ type: 'rolled-back' });
      // From the freeze on, a destination may have added the sources' counts (final import, activation).
      const countersAt = mayBeActive ? COUNTERS_ZEROED(s.destinations) : undefined;
      const cleared = mayBeActive ? ` (${dst.values.reduce((n, x) => n + x, 0)} slots of the VM cleared)` : '';
      // Before the pause, as journalled, the sources may still have been frozen: the pipelined pause
      // journals `frozen` once they answer (walkthrough 19 saw "never frozen" of one frozen 12 s).
      const srcDone = owed(s.sources).length === 0 ? '' : `, the sources (${owed(s.sources).join(', ')}) unfrozen`;
      const dstDone = owed(s.destinations).length === 0 ? 'nothing left at the destinations' : `the destinations (${owed(s.destinations).join(', ')}) cleaned${cleared}`;
      return { ...base, qemu: qemuNote, counters: countersAt, outcome: 'rolled-back', detail: `${dstDone}${srcDone}${earlier}: the VM's state stays at the source` };
    } finally {
      peerApi?.close();
      await connected.stop();
    }
  } finally {
    await qmp?.close();
  }
}


/** Where QEMU says the VM of an activated migration runs; a VM held in `pre-switchover` is released first. */
async function askQemu(qmp: QmpClient, progress: (l: string) => void, id: string): Promise<{ where: VmWhereabouts | undefined; note: string }> {
  let { info } = await queryMigration(qmp, 5_000);
  if (info.status === 'pre-switchover') {
    // Activated and held: what the dead controller would have done next.
    progress(`${id}: QEMU holds the VM in pre-switchover; the destinations were activated: migrate-continue`);
    await qmp.execute('migrate-continue', { state: 'pre-switchover' }, { timeoutMs: 5_000 });
    const until = Date.now() + 30_000;
    while (!['completed', 'failed', 'cancelled'].includes(info.status) && Date.now() < until) {
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
      info = (await queryMigration(qmp, 5_000)).info;
    }
    if (info.status === 'completed') return { where: 'destination', note: 'QEMU was held in pre-switchover; released, it completed' };
  }
  if (info.status === 'completed') return { where: 'destination', note: 'QEMU completed the migration' };
  if (info.status === 'failed' || info.status === 'cancelled') return { where: 'source', note: `QEMU's migration ${info.status}${info.errorDesc ? ` (${info.errorDesc})` : ''}: the VM runs at the source` };
  return { where: undefined, note: `QEMU's migration status is '${info.status}'` };
}

/** After a rollback: a QEMU migration still under way is cancelled, so the VM resumes at the source. */
async function cancelQemu(qmp: QmpClient, note: string | undefined): Promise<string> {
  const { info } = await queryMigration(qmp, 5_000);
  if (['setup', 'active', 'pre-switchover', 'device'].includes(info.status)) {
    await qmp.execute('migrate_cancel', undefined, { timeoutMs: 5_000 });
    return `${note ? `${note}; ` : ''}QEMU's migration was '${info.status}': cancelled, the VM resumes at the source`;
  }
  if (info.status === 'completed') return `${note ? `${note}; ` : ''}QEMU completed the migration without carryover's activation: the VM runs at the destination without its network state, which stays at the source`;
  return `${note ? `${note}; ` : ''}QEMU's migration status is '${info.status}'`;
}

/** Journals where a cleanup that failed elsewhere did finish (events.ts, `cleaned-at`). */
async function recordCleaned(machine: MigrationMachine, devices: readonly string[]): Promise<void> {
  const fresh = devices.filter((n) => !machine.state.cleanedAt.includes(n));
  if (fresh.length > 0) await machine.record({ type: 'cleaned-at', devices: fresh });
}

/** The inventory change after a VM moved to `s`'s destinations: the host their edges serve, when that is one host. */
function inventoryStep(inv: Inventory, s: MigrationState): string {
  const hosts = new Set(s.destinations.flatMap((d) => (inv.devices.get(d)?.role === 'edge' ? (inv.devices.get(d)?.hosts ?? []) : [])));
  const [host] = hosts;
  return hosts.size === 1 && host !== undefined
    ? `${s.vm} runs on ${host} now; set vms.${s.vm}.host to ${host} before its next migration`
    : `${s.vm} runs behind ${s.destinations.join(', ')} now; set vms.${s.vm}.host to the host it runs on before its next migration`;
}
