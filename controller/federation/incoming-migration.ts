/**
 * The destination domain's side of one cross-domain migration: this controller plans where the
 * VM lands among its own devices, negotiates them against the source domain's capabilities,
 * cosigns the agreed ticket, and drives its destinations through staging, activation and
 * commit — or rolls them back, on its own failure or on the source domain's word. Every step is
 * journalled here too (MigrationMachine), under the same migration id.
 */
import { performance } from 'node:perf_hooks';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { TicketVerifier, cosignTicket, negotiateMigrationSchemas } from '../../plugin/index.js';
import type { DeviceApi, DeviceCapabilities, KeyInput, MigrationRef, MigrationTicket, StateBatch, VmFootprint } from '../../plugin/index.js';
import type { ConnectedDevices } from '../devices/connect-devices.js';
import type { DeviceConnector } from '../devices/connect-plan-devices.js';
import { checkCapacityClaim, checkRoom } from '../engine/capacity.js';
import { splitBatch } from '../engine/split-batch.js';
import type { KeyFieldSpec } from '../engine/split-batch.js';
import { ControllerError } from '../errors.js';
import type { FailureReason } from '../errors.js';
import type { Inventory } from '../inventory/inventory.js';
import type { MigrationJournal } from '../journal/journal.js';
import { claimVm } from '../journal/vm-claim.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { destinationMayBeActive } from '../migration/transition.js';
import type { PlacementPlan } from '../plan/plan-migration.js';
import { AgreedTicket } from '../remote/agreed-ticket.js';
import { reasonOf } from './federation-status.js';
import { forgetTicketWhenEnded, keepAgreedTicket } from './kept-ticket.js';
import { tellCommitted } from '../engine/tell-committed.js';
import { planIncoming } from './incoming-destinations.js';

/** What an incoming migration needs from this domain. */
export interface IncomingDeps {
  readonly inventory: Inventory;
  readonly journal: MigrationJournal;
  readonly connect: DeviceConnector;
  /** This coordinator's Ed25519 private key (cosigns the agreed ticket). */
  readonly signingKey: KeyInput;
  readonly now: () => number;
  readonly logger?: Logger;
}

/** The source domain's proposal. */
export interface Proposal {
  readonly peer: string;
  /** The peer's ticket key (verifies its signature on the ticket). */
  readonly peerKey: KeyInput;
  readonly ref: MigrationRef;
  readonly vmName: string;
  readonly fromHost: string;
  readonly toHost: string;
  readonly sources: readonly { readonly name: string; readonly capabilities: DeviceCapabilities }[];
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

/** One migration coming into this domain. */
export class IncomingMigration {
  private machine: MigrationMachine | undefined;
  private ticket: MigrationTicket | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  /** When the source domain last called (the server rolls back a migration it stopped driving). */
  lastCallAtMs: number;
  private round = 0;
  private closed = false;
  /** Lets go of the VM's claim beside the journal (taken at Agree). */
  private releaseClaim: (() => void) | undefined;
  private readonly logger: Logger;

  private constructor(
    readonly proposal: Proposal,
    private readonly deps: IncomingDeps,
    private readonly plan: PlacementPlan,
    private readonly devices: ConnectedDevices,
    private readonly agreed: AgreedTicket,
    readonly destinations: readonly { readonly name: string; readonly capabilities: DeviceCapabilities }[],
    /** What this domain's destinations translate from the sources' schemas (recorded at prepare). */
    readonly translations: readonly string[],
  ) {
    this.logger = (deps.logger ?? silentLogger).child({ migration: proposal.ref.migrationId, from: proposal.peer });
    if (translations.length > 0) this.logger.info('schemas differ compatibly: the destinations translate', { translations: translations.join('; ') });
    this.lastCallAtMs = deps.now();
  }

  /**
   * Plans and negotiates a proposal: the edges in front of `toHost` are the destinations; every
   * source/destination pair's schema must be identical or translatable (SCHEMA_MISMATCH names
   * every reason otherwise). Nothing changes on any device.
   * @throws ControllerError with the reason (BAD_CONFIG is reported to the peer as PEER_REJECTED).
   */
  static async propose(p: Proposal, deps: IncomingDeps): Promise<IncomingMigration> {
    const inv = deps.inventory;
    const plan = planIncoming(inv, p.peer, p.toHost, p.sources.map((s) => s.name));
    const destinations = plan.destinations;
    // Device calls of the migration carry the ticket both domains sign (at Agree); capabilities need none.
    const agreed = new AgreedTicket();
    const devices = await deps.connect(destinations, { scope: { sources: p.sources.map((s) => s.name), destinations: destinations.map((d) => d.name) }, tickets: agreed });
    try {
      const caps = await Promise.all(destinations.map(async (d) => ({ name: d.name, capabilities: await (devices.apis.get(d.name) as DeviceApi).capabilities() })));
      for (const c of [...p.sources, ...caps]) checkCapacityClaim(c.name, c.capabilities);
      const verdict = negotiateMigrationSchemas(p.sources.map((s) => s.capabilities), caps.map((c) => c.capabilities));
      if (verdict.reasons.length > 0) {
        throw new ControllerError('SCHEMA_MISMATCH', `${p.peer} → ${inv.domain}: the pipelines cannot hold the same state (nothing was staged): ${verdict.reasons.join('; ')}`);
      }
      return new IncomingMigration(p, deps, plan, devices, agreed, caps, verdict.translations);
    } catch (e) {
      await devices.stop();
      throw e;
    }
  }

  get migrationId(): string {
    return this.proposal.ref.migrationId;
  }

  /** The phase this domain has recorded (PLANNED before Agree). */
  get phase(): string {
    return this.machine?.state.phase ?? 'PROPOSED';
  }

  /** Whether the migration ended here (committed or rolled back). */
  get ended(): boolean {
    return this.closed;
  }

  private api(name: string): DeviceApi {
    return this.devices.apis.get(name) as DeviceApi;
  }

  /**
   * What each destination holds of the VM (read only, any phase): those that cannot tell, or
   * whose read fails, are left out (logged) — the source domain then concludes nothing of them.
   */
  async footprints(awaitScan: boolean): Promise<VmFootprint[]> {
    const read = await Promise.all(this.names.map(async (n) => {
      try {
        return await this.api(n).footprint?.(this.proposal.ref.vm, awaitScan ? { awaitScan: true } : undefined);
      } catch (e) {
        this.logger.debug('footprint not read', { device: n, error: e instanceof Error ? e.message : String(e) });
        return undefined;
      }
    }));
    return read.filter((f): f is VmFootprint => f !== undefined);
  }

  private get names(): string[] {
    return this.destinations.map((d) => d.name);
  }

  /** Runs `fn` after the calls before it; on failure this domain rolls itself back and rethrows. */
  private serial<T>(what: string, fn: () => Promise<T>, rollBackOnFailure = true): Promise<T> {
    this.lastCallAtMs = this.deps.now();
    const run = async (): Promise<T> => {
      if (this.closed) throw new ControllerError('PEER_REJECTED', `migration ${this.migrationId} has already ended in this domain (${this.phase})`);
      try {
        return await fn();
      } catch (e) {
        const { reason, message } = reasonOf(e);
        if (rollBackOnFailure && this.machine && this.machine.state.phase !== 'COMMITTED') {
          // The step's failure is the cause the source domain reports; a rollback failing too is
          // said after it, not instead (field walkthrough 17 F10: only "rollback incomplete" crossed).
          await this.rollBack(reason, `${what}: ${message}`).catch((u: unknown) => {
            throw new ControllerError(reason, `${what}: ${message}; and ${(u as Error).message}`, { cause: e });
          });
        }
        throw e instanceof ControllerError ? e : new ControllerError(reason, `${what}: ${message}`, { cause: e });
      }
    };
    const p = this.lock.then(run, run);
    this.lock = p.catch(() => undefined);
    return p;
  }

  /** Calls every destination at once; the first failure (once all settled) fails the step. */
  private async each<T>(what: string, fn: (api: DeviceApi, name: string) => Promise<T>): Promise<T[]> {
    const out = await Promise.allSettled(this.names.map((n) => fn(this.api(n), n)));
    const bad = out.findIndex((r) => r.status === 'rejected');
    if (bad >= 0) {
      const { reason, message } = reasonOf((out[bad] as PromiseRejectedResult).reason);
      throw new ControllerError(reason, `${what} at ${this.names[bad]}: ${message}`);
    }
    return out.map((r) => (r as PromiseFulfilledResult<T>).value);
  }

  /**
   * Checks the source domain's ticket (its signature, and claims naming exactly this migration's
   * sources and destinations), records the migration, and signs the ticket too.
   */
  agree(t: MigrationTicket): Promise<MigrationTicket> {
    return this.serial('agree', async () => {
      if (this.ticket) {
        if (this.ticket.claims.nonce === t.claims.nonce) return this.ticket;
        throw new ControllerError('PEER_REJECTED', `migration ${this.migrationId} already has an agreed ticket`);
      }
      const p = this.proposal;
      try {
        new TicketVerifier({ trusted: { [p.peer]: p.peerKey }, required: [p.peer] }).verify(t, { migrationId: p.ref.migrationId, vm: p.ref.vm, device: this.names[0] as string });
      } catch (e) {
        throw new ControllerError('PEER_REJECTED', `the ticket of ${p.peer} is refused: ${(e as Error).message}`, { cause: e });
      }
      const c = t.claims;
      if (!sameSet(c.sources, p.sources.map((s) => s.name)) || !sameSet(c.destinations, this.names)) {
        throw new ControllerError('PEER_REJECTED', `the ticket names sources ${c.sources.join(', ')} and destinations ${c.destinations.join(', ')}; the proposal agreed on ${p.sources.map((s) => s.name).join(', ')} → ${this.names.join(', ')}`);
      }
      // Held while this server drives the migration: `carryover recover` here refuses it (field
      // walkthrough 17: a recover beside the live server journalled a second abort).
      this.releaseClaim = claimVm(this.deps.inventory.journal, p.vmName, `federation ${p.ref.migrationId}`);
      this.machine = await MigrationMachine.plan(
        { migrationId: p.ref.migrationId, vm: p.vmName, sources: c.sources, destinations: c.destinations },
        { journal: this.deps.journal, now: this.deps.now, ...(this.deps.logger ? { logger: this.deps.logger } : {}) },
      );
      this.ticket = cosignTicket(t, this.deps.inventory.domain, this.deps.signingKey);
      this.agreed.agree(this.ticket);
      // Kept beside the journal: `carryover recover` here (or this server restarted) reaches the
      // destinations' plugins with it, which may require both domains' signatures.
      keepAgreedTicket(this.deps.inventory.journal, this.migrationId, this.ticket);
      this.logger.info('cross-domain migration agreed', { destinations: this.names.join(',') });
      return this.ticket;
    }, false);
  }

  private get m(): MigrationMachine {
    if (!this.machine) throw new ControllerError('PEER_REJECTED', `migration ${this.migrationId}: no agreed ticket yet (Agree comes first)`);
    return this.machine;
  }

  /** Every destination tracks the VM (staged: it does not run here yet). */
  prepare(): Promise<void> {
    return this.serial('prepare', async () => {
      if (this.m.state.phase !== 'PLANNED') return;
      await this.each('prepare', (api) => api.prepare(this.proposal.ref));
      await this.m.record({ type: 'prepared', ...(this.translations.length > 0 ? { translations: this.translations } : {}) });
    });
  }

  /** The flow key of the source that exported `b`. */
  private keyFieldsOf(b: StateBatch): KeyFieldSpec {
    return (this.proposal.sources.find((s) => s.name === b.source) ?? this.proposal.sources[0])?.capabilities.keyFields ?? [];
  }

  /** Stages `batches` at the destinations their flows belong to; returns slots installed. */
  private async install(batches: readonly StateBatch[]): Promise<number> {
    let n = 0;
    for (const b of batches) {
      const parts = splitBatch(this.plan, this.keyFieldsOf(b), b);
      const done = await this.each(`import round ${b.round} from ${b.source ?? this.proposal.peer}`, (api, d) => api.importStaged(this.proposal.ref, parts.get(d) as StateBatch));
      n += done.reduce((x, r) => x + r.installed + r.alreadyPresent, 0);
    }
    return n;
  }

  /** A pre-copy batch, staged (a snapshot only where each destination has room for its share). */
  stage(batch: StateBatch): Promise<number> {
    return this.serial('stage', async () => {
      if (batch.round === 0) {
        const parts = splitBatch(this.plan, this.keyFieldsOf(batch), batch);
        const now = new Map(await Promise.all(this.names.map(async (n) => [n, await this.api(n).capabilities()] as const)));
        checkRoom(new Map([...parts].map(([d, b]) => [d, b.slots.length])), (d) => now.get(d));
      }
      const n = await this.install([batch]);
      await this.m.record({ type: 'round', round: this.round++, slots: n, tableEntries: 0 });
      return n;
    });
  }

  /**
   * Inside the pause: the final batches staged, then every destination activated — unless the
   * source domain's `budget` (what was left of its deadline, from the call's arrival,
   * performance.now()) ran out first: it has given up and rolls back, so activating here would
   * only make the VM's state live at both ends until its Abort arrives (walkthrough 19: ≈100 ms).
   */
  commit(finals: readonly StateBatch[], budget?: { readonly budgetMs: number; readonly receivedAt: number }): Promise<number> {
    return this.serial('commit', async () => {
      const s = this.m.state.phase;
      if (s === 'ACTIVATED') return this.m.state.moved.slots;
      if (s !== 'PREPARED' && s !== 'PRECOPY') throw new ControllerError('PEER_REJECTED', `commit of migration ${this.migrationId} in phase ${s}`);
      await this.m.record({ type: 'frozen' });
      const n = await this.install(finals);
      await this.m.record({ type: 'synced', slots: n, tableEntries: 0 });
      const spent = budget === undefined ? 0 : performance.now() - budget.receivedAt;
      if (budget !== undefined && spent > budget.budgetMs) {
        throw new ControllerError('PAUSE_DEADLINE_MISSED', `the commit arrived with ${budget.budgetMs} ms of ${this.proposal.peer}'s pause deadline left, and ${Math.round(spent)} ms passed before ${this.deps.inventory.domain} could activate (staging the final batches, journalling): not activated, rolled back here`);
      }
      await this.each('activate', (api) => api.activate(this.proposal.ref));
      await this.m.record({ type: 'activated' });
      return n;
    });
  }

  /** The source domain committed: the VM runs here for good. */
  finish(sourceDeleted: number): Promise<void> {
    return this.serial('finish', async () => {
      if (this.m.state.phase !== 'ACTIVATED') throw new ControllerError('PEER_REJECTED', `finish of migration ${this.migrationId} in phase ${this.m.state.phase}; only an activated migration can be committed`);
      await this.m.record({ type: 'committed' });
      await this.m.record({ type: 'source-cleaned', slots: sourceDeleted, tableEntries: 0 });
      await tellCommitted(this.names.map((n) => [n, this.api(n)]), this.proposal.ref, this.logger);
      await this.close();
    }, false);
  }

  /** The source domain rolls back (or this one gave up): everything at the destinations undone. */
  abort(reason: FailureReason, detail: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.serial('abort', () => this.rollBack(reason, detail), false);
  }

  private async rollBack(reason: FailureReason, detail: string): Promise<void> {
    if (this.closed) return;
    if (this.machine?.state.phase === 'COMMITTED') throw new ControllerError('PEER_REJECTED', `migration ${this.migrationId} is committed in ${this.deps.inventory.domain}; it cannot be rolled back`);
    if (!this.machine) {
      // Refused before its ticket was agreed (Agree records the migration first): no device was
      // prepared or staged here, and the devices would refuse a call without the agreed ticket.
      this.logger.warn('cross-domain migration refused: nothing was staged here', { reason, detail });
      await this.close();
      return;
    }
    // A journal that refuses the record (its disk full) does not keep the destinations as they
    // are: they are undone all the same, the journal left where a restart rolls back again.
    let journalError: string | undefined;
    // From Commit on (recorded `frozen` first) a destination may be active, which leaves no mark:
    // a plugin restarted since cleans it only when told (AbortOptions.mayBeActive).
    const options = destinationMayBeActive(this.machine.state) ? { mayBeActive: true } : undefined;
    if (this.machine.state.phase !== 'ABORTED') {
      await this.machine.record({ type: 'abort', reason, detail }).catch((e: unknown) => {
        journalError = (e as Error).message;
        this.logger.error('the journal refused the abort record: rolling back the destinations all the same', { error: journalError });
      });
    }
    const failed: string[] = [];
    await Promise.all(this.names.map(async (n) => {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await this.api(n).abort(this.proposal.ref, options);
          return;
        } catch (e) {
          if (attempt === 1) {
            failed.push(n);
            this.logger.error('rollback failed at a device', { device: n, error: (e as Error).message });
          }
        }
      }
    }));
    if (failed.length > 0) throw new ControllerError('DEVICE_UNREACHABLE', `rollback incomplete at ${failed.join(', ')}; the journal keeps the abort open`);
    if (journalError === undefined && !this.machine.state.rolledBack) await this.machine.record({ type: 'rolled-back' });
    this.logger.warn('cross-domain migration rolled back', { reason, detail });
    await this.close();
  }

  /** Lets go of the devices (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.devices.stop();
    if (this.machine) forgetTicketWhenEnded(this.deps.inventory.journal, this.machine.state);
    this.machine?.close();
    this.releaseClaim?.();
  }
}
