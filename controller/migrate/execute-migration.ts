/**
 * What `carryover migrate` does once the request is valid: connect to the plan's devices, record
 * the migration in the inventory's journal, run the engine — on its own (`manual`: pre-copy until
 * the convergence policy ends it) or driven by QEMU's phases (`qemu:` monitor socket: pre-copy
 * while QEMU copies memory, the sync while QEMU holds the VM in pre-switchover) — and report.
 */
import { randomBytes } from 'node:crypto';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi } from '../../plugin/index.js';
import { connectPlanDevices } from '../devices/connect-plan-devices.js';
import type { DeviceConnector } from '../devices/connect-plan-devices.js';
import type { TransferStarter } from '../engine/peer-rounds.js';
import { ControllerError } from '../errors.js';
import { joinPeerDomain } from '../federation/join-peer-domain.js';
import { forgetTicketWhenEnded } from '../federation/kept-ticket.js';
import { abortedRun, engineAsPhaseHandler } from '../engine/engine-phase-handler.js';
import type { EngineRun } from '../engine/engine-phase-handler.js';
import { MigrationEngine } from '../engine/migration-engine.js';
import type { DeadlinePolicy } from '../engine/migration-engine.js';
import type { PrecopyEnd } from '../engine/engine-types.js';
import { reasonOfError, runMigration } from '../engine/run-migration.js';
import { FileJournal } from '../journal/file-journal.js';
import type { InventoryController, InventoryDevice, InventoryFederation, InventoryPeer } from '../inventory/inventory.js';
import type { MigrationJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { QemuTriggerError } from '../trigger/errors.js';
import { QemuTrigger } from '../trigger/qemu-trigger.js';

/** How the migration is started and paced. */
export type MigrateTrigger =
  | { readonly kind: 'manual' }
  /** QEMU's monitor of the source VM; `migrateUri` starts the migration, else carryover waits for one. */
  | { readonly kind: 'qemu'; readonly source: string; readonly destination?: string; readonly migrateUri?: string };

/** Everything a migration run needs. */
export interface ExecuteMigrationOptions {
  readonly plan: MigrationPlan;
  readonly trigger: MigrateTrigger;
  readonly migrationId?: string;
  readonly journal?: MigrationJournal;
  readonly journalDir: string;
  readonly defaultP4info: string;
  /** This controller's domain and identity, for devices behind plugin daemons (inventory `domain`, `controller`). */
  readonly domain?: string;
  readonly controller?: InventoryController;
  /** The destination is another domain (plan from planToPeer): its controller, and how this one meets it. */
  readonly crossDomain?: { readonly peer: InventoryPeer; readonly federation: InventoryFederation };
  /** How devices are reached (default: as the inventory says); tests and benchmarks bring their own. */
  readonly connect?: DeviceConnector;
  /** Who moves the state: the controller (default), or the sources straight to the destinations. */
  readonly transfer?: 'controller' | 'peer-to-peer';
  readonly pauseDeadlineMs: number;
  readonly onDeadline: DeadlinePolicy;
  /** MigrationEngineOptions.undoRetryMs: how long a rollback retries a device that does not answer (default 30 s). */
  readonly undoRetryMs?: number;
  /** MigrationEngineOptions.ignoreDestinationFlows: migrate even when the VM seems to run at the destination already. */
  readonly ignoreDestinationFlows?: boolean;
  /** MigrationEngineOptions.pipelinedPause (default true); false for one call per step in the pause (benchmarks compare both). */
  readonly pipelinedPause?: boolean;
  readonly progress: (line: string) => void;
  readonly logger?: Logger;
  /** Ctrl-C's way in: what it does about QEMU before the process exits (see MigrationInterrupt). */
  readonly interrupt?: MigrationInterrupt;
}

/** What an interrupt did about QEMU's migration, for the message before the process exits. */
export type InterruptOutcome =
  /** No QEMU monitor was held (manual trigger, or not attached yet): QEMU was not touched. */
  | { readonly qemu: 'none' }
  /** No migration ran: none was started; the capabilities carryover set were restored. */
  | { readonly qemu: 'not-started' }
  /** QEMU's migration was cancelled: the VM runs on at the source. */
  | { readonly qemu: 'cancelled' }
  /** The destinations were activated: QEMU was released to switch the VM over (never cancelled). */
  | { readonly qemu: 'released' }
  /** QEMU's migration had ended by itself (`status`). */
  | { readonly qemu: 'ended'; readonly status: string }
  /** QEMU could not be cancelled (or, once activated, released): it may hold the VM stopped. */
  | { readonly qemu: 'failed'; readonly action: 'cancel' | 'release'; readonly detail: string };

/**
 * Ctrl-C (SIGINT, SIGTERM) for a migration that follows QEMU: `interrupt()` settles QEMU's side
 * before the process exits — a migration not yet activated at the destinations is cancelled (the
 * VM keeps running at the source), an activated one released — and no migration is started after.
 */
export class MigrationInterrupt {
  private fired = false;
  private bound: ((timeoutMs: number) => Promise<InterruptOutcome>) | undefined;
  private id: string | undefined;

  /** The migration's id once executeMigration has chosen it (for what the command prints when interrupted). */
  get migrationId(): string | undefined {
    return this.id;
  }

  /** Used by executeMigration: the id of the migration this interrupt stops. */
  named(migrationId: string): void {
    this.id = migrationId;
  }

  /** Whether `interrupt()` was called. */
  get interrupted(): boolean {
    return this.fired;
  }

  /** Settles QEMU's side within about `timeoutMs` (see the class); the caller exits after. */
  async interrupt(timeoutMs = 3_000): Promise<InterruptOutcome> {
    this.fired = true;
    return this.bound ? await this.bound(timeoutMs) : { qemu: 'none' };
  }

  /** Used by executeMigration while it holds QEMU's monitor; returns the unbinding. */
  bind(f: (timeoutMs: number) => Promise<InterruptOutcome>): () => void {
    this.bound = f;
    return () => {
      if (this.bound === f) this.bound = undefined;
    };
  }
}

/** The outcome, for the report. */
export interface MigrationOutcome {
  readonly migrationId: string;
  readonly run: EngineRun;
  /** Slots per pre-copy round, the snapshot first. */
  readonly rounds: readonly number[];
  /** How pre-copy ended (paused by the trigger, converged, or cut at the round limit); none when it never ran. */
  readonly precopyEnd?: PrecopyEnd;
  /** Who moved the state: this controller, or the sources straight to the destinations (absent: the controller). */
  readonly transfer?: 'controller' | 'peer-to-peer';
  /** What the destinations translated (schemas that differ compatibly), as negotiated and journalled. */
  readonly translations: readonly string[];
  /** Table entries (pinholes) installed at the destinations, with their lifetime and direct counters (not counted peer to peer). */
  readonly tableEntries?: number;
  /**
   * How QEMU's migration ended (`completed`: the VM runs at the destination; `failed` or
   * `cancelled`: at the source; undefined: unknown, the monitor was lost), QEMU's `downtime`, the
   * VM's own downtime (source STOP to destination RESUME; needs the destination's monitor) and
   * carryover's hold, ms.
   */
  readonly qemu?: { readonly outcome?: 'completed' | 'failed' | 'cancelled' | undefined; readonly downtimeMs: number | undefined; readonly guestDowntimeMs: number | undefined; readonly heldMs: number | undefined };
  /** A cross-domain migration: the peer, its destinations, and the federation calls made inside the pause. */
  readonly crossDomain?: {
    readonly peer: string;
    readonly destinations: readonly string[];
    readonly callsInPause: readonly string[];
    readonly calls: readonly string[];
    /** The commit inside the pause, as long as it took here (one round trip plus the peer's activation). */
    readonly commitMs: number | undefined;
    /** The peer's own time on the commit (staging the finals, activating); the rest is the wire. */
    readonly peerCommitWorkMs: number | undefined;
  };
}

/** The devices a migration drives and its journalled state machine. */
interface Participants {
  readonly machine: MigrationMachine;
  readonly devices: ReadonlyMap<string, DeviceApi>;
  readonly transfer?: TransferStarter;
  readonly crossDomain?: () => NonNullable<MigrationOutcome['crossDomain']>;
  /** A peer domain records the commit before the sources are journalled cleaned (MigrationEngineOptions). */
  readonly beforeSourceCleaned?: (deleted: number) => Promise<void>;
  stop(): Promise<void>;
}

/** This domain's devices, as the inventory (or `o.connect`) reaches them, and a new journal entry. */
async function localParticipants(o: ExecuteMigrationOptions, migrationId: string, journal: MigrationJournal, logger: Logger): Promise<Participants> {
  const devices = [...o.plan.sources, ...o.plan.destinations];
  const scope = { sources: o.plan.sources.map((d) => d.name), destinations: o.plan.destinations.map((d) => d.name) };
  const connect: DeviceConnector = o.connect ?? ((ds, c) => connectPlanDevices(ds, { defaultP4info: o.defaultP4info, domain: o.domain ?? 'default', controller: o.controller, scope: c.scope, logger }));
  const connected = await connect(devices, { scope });
  try {
    if (o.transfer === 'peer-to-peer' && !connected.transfer) throw new ControllerError('BAD_CONFIG', 'peer-to-peer transfer needs every device reached the same way: all through their plugin daemons (plugin: { address }), or all in process');
    const machine = await MigrationMachine.plan({ migrationId, vm: o.plan.vm.name, ...scope }, { journal, now: () => Date.now(), logger });
    return { machine, devices: connected.apis, ...(connected.transfer ? { transfer: connected.transfer } : {}), stop: () => connected.stop() };
  } catch (e) {
    await connected.stop();
    throw e;
  }
}

/** This domain's sources and the peer domain (proposed, journalled, ticket agreed). */
async function crossDomainParticipants(o: ExecuteMigrationOptions, x: NonNullable<ExecuteMigrationOptions['crossDomain']>, migrationId: string, journal: MigrationJournal, logger: Logger): Promise<Participants> {
  if (!o.controller || !o.domain) throw new ControllerError('BAD_CONFIG', `a migration to domain ${x.peer.name} needs this domain's name and its controller section (signingKey signs the ticket both domains agree)`);
  const controller = o.controller;
  const j = await joinPeerDomain({
    plan: o.plan, migrationId, domain: o.domain, signingKey: controller.signingKey, federation: x.federation, peer: x.peer, toHost: o.plan.toHost,
    journal, pauseDeadlineMs: o.pauseDeadlineMs, onDeadline: o.onDeadline, progress: o.progress, logger, ticketDir: o.journalDir,
    connect: o.connect ?? ((ds, c) => connectPlanDevices(ds, { defaultP4info: o.defaultP4info, domain: o.domain as string, controller, scope: c.scope, ...(c.tickets ? { tickets: c.tickets } : {}), logger })),
  });
  return {
    machine: j.machine,
    devices: j.devices,
    crossDomain: () => ({ peer: x.peer.name, destinations: j.destinations, callsInPause: [...j.callsInPause()], calls: [...j.calls()], commitMs: j.commitMs(), peerCommitWorkMs: j.peerCommitWorkMs() }),
    beforeSourceCleaned: (deleted) => j.finish(deleted),
    stop: async () => {
      // Kept for carryover recover while the migration may need it; a finished one does not.
      forgetTicketWhenEnded(o.journalDir, j.machine.state);
      await j.stop();
    },
  };
}

/** Why QEMU did not start the migration, and what to do about it (QEMU's refusal named). */
function migrateRefusal(e: unknown, source: string, uri: string): string {
  const err = QemuTriggerError.from(e, `starting the migration to ${uri}`);
  if (err.qmpCode === 'COMMAND_FAILED') {
    return `${err.message}: the VM's QEMU behind ${source} is not in a state to migrate (one that already migrated away is 'postmigrate', one migrating already has a migration under way); check it with query-status and query-migrate, and where the VM runs now (the inventory's host), then retry; the switches were rolled back`;
  }
  return `${err.message}; QEMU did not confirm the migration started: check query-migrate on ${source} (cancel one that runs with migrate_cancel) before retrying; the switches were rolled back`;
}

/**
 * What Ctrl-C does about QEMU: before the destinations were activated the migration is cancelled
 * (the VM keeps running at the source, where its state stays until recover rolls the switches
 * back); once activated, QEMU is released instead, as `carryover recover` would (the state is at
 * the destination). A QEMU not migrating gets back the capabilities the trigger switched on.
 */
async function interruptQemu(trigger: QemuTrigger, machine: MigrationMachine, qemuStarting: boolean, timeoutMs: number): Promise<InterruptOutcome> {
  const phase = machine.state.phase;
  if (phase === 'ACTIVATED' || phase === 'COMMITTED') {
    return (await trigger.releasePause('carryover migrate was interrupted after the destinations were activated', timeoutMs))
      ? { qemu: 'released' }
      : { qemu: 'failed', action: 'release', detail: `migrate-continue was not confirmed within ${timeoutMs} ms` };
  }
  if (trigger.phase === 'idle' && !qemuStarting) {
    // Left with pause-before-switchover on, a migration started later would wait for us forever.
    await Promise.race([trigger.close(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    return { qemu: 'not-started' };
  }
  try {
    const status = await trigger.cancelMigration('carryover migrate was interrupted before the destinations were activated', timeoutMs);
    if (status === 'cancelled') return { qemu: 'cancelled' };
    if (status === 'completed' || status === 'failed') return { qemu: 'ended', status };
    return { qemu: 'failed', action: 'cancel', detail: `QEMU's migration was still '${status}' ${timeoutMs} ms after migrate_cancel` };
  } catch (e) {
    return { qemu: 'failed', action: 'cancel', detail: (e as Error).message };
  }
}

/** How a device is reached, for progress lines. */
export function reachedAt(d: InventoryDevice): string {
  return d.plugin ? `plugin daemon at ${d.plugin.address}` : (d.address ?? '?');
}

/** Runs one migration; resolves with its outcome (failed migrations included: `run.aborted`). */
export async function executeMigration(o: ExecuteMigrationOptions): Promise<MigrationOutcome> {
  const logger = o.logger ?? silentLogger;
  const migrationId = o.migrationId ?? `${o.plan.vm.name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  o.interrupt?.named(migrationId);
  const devices = [...o.plan.sources, ...(o.crossDomain ? [] : o.plan.destinations)];
  o.progress(`connecting to ${devices.map((d) => `${d.name} (${reachedAt(d)})`).join(', ')}`);
  const own = o.journal ? undefined : new FileJournal(o.journalDir, logger);
  const journal = o.journal ?? (own as FileJournal);
  try {
    return await runWith(o, migrationId, journal, logger);
  } finally {
    await own?.close();
  }
}

async function runWith(o: ExecuteMigrationOptions, migrationId: string, journal: MigrationJournal, logger: Logger): Promise<MigrationOutcome> {
  if (o.transfer === 'peer-to-peer' && o.crossDomain) throw new ControllerError('BAD_CONFIG', `peer-to-peer transfer between two domains is not built: across domains the state passes through the two controllers`);
  const p = o.crossDomain ? await crossDomainParticipants(o, o.crossDomain, migrationId, journal, logger) : await localParticipants(o, migrationId, journal, logger);
  try {
    const transfer = o.transfer === 'peer-to-peer' ? p.transfer : undefined;
    const machine = p.machine;
    const rounds: number[] = [];
    let moved = 0;
    const startsQemu = o.trigger.kind === 'qemu' && o.trigger.migrateUri !== undefined;
    const sub = machine.states$.subscribe((s) => {
      if (s.rounds > rounds.length) {
        rounds.push(s.moved.slots - moved);
        moved = s.moved.slots;
        const n = rounds[rounds.length - 1] ?? 0;
        // Starting QEMU ourselves, the snapshot's line names that next step (said below).
        if (rounds.length === 1) {
          if (!startsQemu) o.progress(`pre-copy: snapshot staged, ${n} slots`);
        } else if (n > 0) o.progress(`pre-copy round ${rounds.length - 1}: ${n} slots`);
      }
    });
    // Peer to peer the sources' plugins freeze, send and (one destination) activate in one call:
    // FROZEN is journalled when they answer, after the activation (walkthrough 14 read it as late).
    const oneCall = transfer && o.plan.sources.length === 1 && o.plan.destinations.length === 1;
    const phases = machine.phases$.subscribe((c) => {
      o.progress(`phase ${c.phase}${c.phase === 'FROZEN' && transfer ? ` (peer to peer: the source${oneCall ? '\'s plugin froze, sent its final changes and activated the destination in one call' : 's\' plugins froze and sent their final changes'}; the journal records it once ${oneCall ? 'it answers' : 'they answer'})` : ''}`);
      // The snapshot can be the longest quiet stretch of a migration: say why before it starts.
      if (c.phase === 'PREPARED') o.progress('pre-copy: reading the snapshot at the sources (quick where their plugins have indexed their switches; a plugin that has not scanned its switch yet reads the whole slot group first: about 30 s for 327,680 slots on the sim, 17 s or more in-band on BMv2)');
    });
    const engine = new MigrationEngine({ plan: o.plan, machine, devices: p.devices, pauseDeadlineMs: o.pauseDeadlineMs, onDeadline: o.onDeadline, logger, progress: o.progress, ...(o.undoRetryMs !== undefined ? { undoRetryMs: o.undoRetryMs } : {}), ...(p.beforeSourceCleaned ? { beforeSourceCleaned: p.beforeSourceCleaned } : {}), ...(transfer ? { transfer } : {}), ...(o.ignoreDestinationFlows ? { ignoreDestinationFlows: true } : {}), ...(o.pipelinedPause === false ? { pipelinedPause: false } : {}) });
    const outcome = (run: EngineRun, extra: Partial<MigrationOutcome> = {}): MigrationOutcome => ({ migrationId, run, rounds, ...(engine.precopyEnd ? { precopyEnd: engine.precopyEnd } : {}), transfer: transfer ? 'peer-to-peer' : 'controller', translations: machine.state.translations, tableEntries: machine.state.moved.tableEntries, ...extra, ...(p.crossDomain ? { crossDomain: p.crossDomain() } : {}) });
    try {
      if (o.trigger.kind === 'manual') {
        const run = await runMigration(engine, { logger });
        return outcome(run);
      }
      // Negotiation before QEMU starts copying: a refusal leaves QEMU untouched.
      const h = engineAsPhaseHandler(engine, logger);
      try {
        await engine.prepare();
      } catch (e) {
        const { reason, detail } = reasonOfError(e);
        const undo = await engine.abort(reason, detail);
        return outcome({ rounds: [], sync: undefined, committed: undefined, aborted: abortedRun(reason, detail, undo) });
      }
      let trigger: QemuTrigger;
      const followed = async (): Promise<MigrationOutcome> => {
        const run = await h.done;
        const report = await trigger.finished.catch(() => undefined);
        return outcome(run, { qemu: { outcome: report?.outcome, downtimeMs: report?.qemuDowntimeMs, guestDowntimeMs: report?.guestDowntimeMs, heldMs: report?.pause?.heldMs } });
      };
      try {
        trigger = await QemuTrigger.attach({
          source: o.trigger.source,
          ...(o.trigger.destination ? { destination: o.trigger.destination } : {}),
          handler: h.handler,
          pauseDeadlineMs: o.pauseDeadlineMs,
          // Past the deadline QEMU is told what the engine does (--on-deadline): cancel with abort.
          onDeadline: h.onDeadline,
          logger,
        });
      } catch (e) {
        // The devices are prepared by now: undo that, so a bad monitor path leaves nothing behind.
        const detail = `attaching the QEMU trigger: ${(e as Error).message}`;
        const undo = await engine.abort('ABORTED_BY_TRIGGER', detail);
        return outcome({ rounds: [], sync: undefined, committed: undefined, aborted: abortedRun('ABORTED_BY_TRIGGER', detail, undo) });
      }
      let qemuStarting = false;
      const unbind = o.interrupt?.bind((timeoutMs) => interruptQemu(trigger, machine, qemuStarting, timeoutMs));
      try {
        if (o.trigger.migrateUri) {
          const uri = o.trigger.migrateUri;
          // The snapshot (a full scan of the slot group: tens of seconds on a real switch) is
          // staged before QEMU starts: a small VM's memory is copied in a second or two, and its
          // pause must find only the final delta left to do.
          o.progress(`pre-copy: staging the snapshot before starting QEMU's migration to ${uri}`);
          try {
            await h.stageSnapshot();
          } catch (e) {
            // Someone else's migration of this VM started meanwhile: follow it (its pause cancels).
            if (trigger.phase !== 'idle') return await followed();
            const { reason, detail } = reasonOfError(e);
            const run = await h.abort(reason, `${detail}; QEMU's migration was not started`);
            return outcome(run);
          }
          if (o.interrupt?.interrupted) return outcome(await h.abort('ABORTED_BY_TRIGGER', `interrupted before QEMU's migration was started`));
          if (trigger.phase !== 'idle') {
            logger.warn('a migration of the VM started while the snapshot was staged: following it instead of starting one', { source: o.trigger.source });
            return await followed();
          }
          o.progress(`pre-copy: snapshot staged, ${rounds[0] ?? 0} slots; starting QEMU's migration to ${uri}`);
          qemuStarting = true;
          try {
            await trigger.startMigration(uri);
          } catch (e) {
            // No answer (a timeout) while QEMU's own events say it started: follow it as usual.
            if (trigger.phase !== 'idle') return await followed();
            // The devices are prepared and the snapshot staged: undo that, or the next migration is refused until recover.
            const run = await h.abort('ABORTED_BY_TRIGGER', migrateRefusal(e, o.trigger.source, uri));
            return outcome(run);
          }
        } else o.progress(`waiting for a migration of the VM behind ${o.trigger.source} (start it with QEMU's migrate command or libvirt)`);
        return await followed();
      } finally {
        unbind?.();
        await trigger.close();
      }
    } finally {
      sub.unsubscribe();
      phases.unsubscribe();
    }
  } finally {
    await p.stop();
  }
}
