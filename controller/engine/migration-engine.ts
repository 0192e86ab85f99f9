/**
 * The migration engine (DESIGN.md §7.3–7.6) over the device API: negotiate, prepare, snapshot
 * and delta rounds installed staged, the pause-window sync with its deadline and completeness
 * proof, activation everywhere, then commit (delete at the sources after a grace period) — or
 * roll back everything from any step before the commit. Every step is recorded by the
 * MigrationMachine (journal first) before it is taken. Devices are reached only through
 * `DeviceApi`, in process or over the migration protocol.
 */
import { filter, firstValueFrom } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, DeviceCapabilities, MigrationRef, StateBatch, VmCounters } from '../../plugin/index.js';
import { addCounterValues, negotiateMigrationSchemas } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { FailureReason } from '../errors.js';
import type { LostState, MigrationPhase } from '../migration/events.js';
import type { MigrationEventInput } from '../migration/migration-machine.js';
import { monotonicScheduler } from '../monotonic-time.js';
import { callEach, stepFailure } from './call-each.js';
import { checkCapacityClaim, checkRoom } from './capacity.js';
import { toJournalCounters } from '../journal/journal-counters.js';
import { EntryTally } from './entry-tally.js';
import { PeerRounds } from './peer-rounds.js';
import { deltaRounds } from './delta-loop.js';
import { SeqLedger } from './seq-ledger.js';
import { splitBatch, splitPlanOf } from './split-batch.js';
import { HeapKeeper } from './heap-keeper.js';
import { DEFAULT_UNDO_RETRY_MS, retryUndo, undoAt } from './undo-at.js';
import type { UndoOutcome } from './undo-at.js';
import { enterPause } from './pauses-in-process.js';
import { countVmSlots, findVmAtDestinations, readWhereabouts, sumKnown, unfinishedMessage, vmSeenMessage } from './vm-whereabouts.js';
import type { Whereabouts } from './vm-whereabouts.js';
import { syncInPause } from './pause-sync.js';
import { tellCommitted } from './tell-committed.js';
import { DEFAULT_CONVERGENCE_POLICY } from './engine-types.js';
import type { DeadlinePolicy, MigrationEngineOptions, PauseSyncResult, PrecopyEnd, PrecopyRound } from './engine-types.js';
import type { ConvergencePolicy } from '../precopy/delta-rounds.js';

export type { DeadlinePolicy, MigrationEngineOptions, PauseSyncResult, PrecopyRound } from './engine-types.js';

/** Runs one migration's steps over its devices. */
export class MigrationEngine {
  private readonly ref: MigrationRef;
  private readonly logger: Logger;
  private readonly scheduler: SchedulerLike;
  private readonly ledger = new SeqLedger();
  private caps = new Map<string, DeviceCapabilities>();
  /** The sources' transfers, peer to peer (with `transfer`). */
  private peer: PeerRounds | undefined;
  /**
   * Flows the sources reported removed in delta batches that pre-copy did not install because
   * the VM paused first, per source. Their slots need no install: the final delta starts at the
   * first sequence installed nowhere, so it reads them again — but a removal is reported once.
   */
  private readonly folded = new Map<string, Record<string, bigint>[]>();
  /** Pre-copy, once started: the pause ends it and waits for it behind the freeze (pauseSync). */
  private running: { readonly stop: () => void; readonly done: Promise<unknown> } | undefined;
  private ended: PrecopyEnd | undefined;
  /** Why pre-copy failed, once it did: the pause then freezes nothing. */
  private precopyFailed: { readonly error: unknown } | undefined;
  private readonly heap: HeapKeeper;
  /** Set once the pause began: from then on a destination may be active (activation sent, or delegated peer to peer). */
  private pauseBegan = false;
  /**
   * Devices this engine sent a migration's first step (prepare) to, less those that refused it
   * unheard (UNAUTHORIZED: nothing changed there); undefined until prepare() starts. A rollback
   * undoes at these only: a device that never accepted a step has nothing to undo, and one that
   * refuses every call would otherwise keep the migration from ever being rolled back.
   */
  private touched: Set<string> | undefined;
  /** Pre-copy installs under way (roundInstall). */
  private roundInstalls = 0;
  /** Per-VM counter values the batches brought each destination (the final batches carry them), for `synced`. */
  private readonly sentCounters = new Map<string, VmCounters>();
  /** Table entries (pinholes) held at the destinations, by source (takeEntries). */
  private readonly entries = new EntryTally();
  /** What each device held of the VM before prepare rewrote its control entry (vm-whereabouts.ts). */
  private whereabouts: Whereabouts | undefined;

  constructor(private readonly o: MigrationEngineOptions) {
    this.ref = { migrationId: o.machine.state.migrationId, vm: o.plan.vm.address };
    this.logger = (o.logger ?? silentLogger).child({ migration: this.ref.migrationId });
    this.scheduler = o.scheduler ?? monotonicScheduler;
    try {
      this.heap = new HeapKeeper(o, this.logger);
    } catch (e) {
      throw new ControllerError('BAD_CONFIG', `migration ${this.ref.migrationId}: ${(e as Error).message}`, { cause: e });
    }
    for (const d of [...o.plan.sources, ...o.plan.destinations]) {
      if (!o.devices.has(d.name)) throw new ControllerError('BAD_CONFIG', `migration ${this.ref.migrationId}: no device API for '${d.name}'`);
    }
  }

  /** The migration's current phase (as recorded by its machine). */
  get phase(): MigrationPhase {
    return this.o.machine.state.phase;
  }

  /** What happens past the pause deadline (`onDeadline`, default abort): a trigger holding the VM must do the same. */
  get deadlinePolicy(): DeadlinePolicy {
    return this.o.onDeadline ?? 'abort';
  }

  private api(name: string): DeviceApi {
    return this.o.devices.get(name) as DeviceApi;
  }

  private get sources(): string[] {
    return this.o.plan.sources.map((d) => d.name);
  }

  private get destinations(): string[] {
    return this.o.plan.destinations.map((d) => d.name);
  }

  /** callEach over this migration's devices. */
  private each<T>(names: readonly string[], what: string, fn: (api: DeviceApi, name: string) => Promise<T>): Promise<Map<string, T>> {
    return callEach(this.o.devices, names, what, fn);
  }

  /**
   * PLANNED → PREPARED: capabilities negotiated (every source/destination pair's schema identical
   * or translated, room at each destination), tracking started everywhere. An incompatible pair
   * is refused here, naming every reason, before any device is touched.
   */
  async prepare(): Promise<void> {
    this.touched = new Set();
    const all = [...this.sources, ...this.destinations];
    // Read beside the capabilities, before prepare rewrites the control entries: at every device,
    // for a migration that did not finish there; at the destinations (and peer to peer the
    // sources, whose slot indexes count the VM's flows) for a VM already there.
    const where = readWhereabouts(this.o.devices, all, this.ref.vm, this.logger);
    this.caps = await this.each(all, 'capabilities', (api) => api.capabilities());
    const found = await where;
    const left = [...found].flatMap(([d, f]) => (f?.unfinished ? [unfinishedMessage(d, `VM ${this.o.plan.vm.name} (${this.ref.vm})`, f.unfinished)] : []));
    // As a run's reason this is PEER_REJECTED (VM_BUSY is no abort reason: reasonOfError).
    if (left.length > 0) throw new ControllerError('PEER_REJECTED', `${left.join('; ')}; nothing was prepared`);
    this.whereabouts = this.o.ignoreDestinationFlows ? undefined : found;
    for (const [name, c] of this.caps) checkCapacityClaim(name, c);
    const caps = (names: readonly string[]): DeviceCapabilities[] => names.map((n) => this.caps.get(n) as DeviceCapabilities);
    const verdict = negotiateMigrationSchemas(caps(this.sources), caps(this.destinations));
    if (verdict.reasons.length > 0) {
      throw new ControllerError('SCHEMA_MISMATCH', `the pipelines cannot hold the same state (nothing was staged): ${verdict.reasons.join('; ')}`);
    }
    const translations = verdict.translations;
    if (translations.length > 0) this.logger.info('schemas differ compatibly: the destinations translate', { translations: translations.join('; ') });
    await this.each([...this.sources, ...this.destinations], 'prepare', async (api, n) => {
      this.touched?.add(n);
      try {
        await api.prepare(this.ref);
      } catch (e) {
        if ((e as { reason?: unknown }).reason === 'UNAUTHORIZED') this.touched?.delete(n);
        throw e;
      }
    });
    // Peer to peer, the pause may be one call to each source whose plugin activates the
    // destination itself before `frozen` is journalled: a recovery must know.
    await this.o.machine.record({ type: 'prepared', ...(translations.length > 0 ? { translations } : {}), ...(this.o.transfer ? { activationDelegated: true } : {}) });
  }

  /**
   * Installs one batch from `source` at the destinations its flows belong to; returns slots
   * installed. With `activate`, each destination activates once its part is in (importActivate,
   * which the caller checked every destination offers).
   */
  private async install(source: string, batch: StateBatch, activate = false): Promise<number> {
    const parts = splitBatch(this.o.plan, this.caps.get(source)?.keyFields ?? [], batch, source);
    const done = await this.each([...parts.keys()], `import round ${batch.round} from ${source}${activate ? ' and activate' : ''}`, (api, d) => {
      const part = parts.get(d) as StateBatch;
      if (part.counters) {
        const sent = this.sentCounters.get(d) ?? {};
        this.sentCounters.set(d, sent);
        addCounterValues(sent, part.counters);
      }
      return activate ? (api.importActivate as NonNullable<DeviceApi['importActivate']>).call(api, this.ref, part) : api.importStaged(this.ref, part);
    });
    this.ledger.record(source, batch.coversSeq);
    if (batch.tableEntries) this.entries.note(source, batch.tableEntries.length);
    return [...done.values()].reduce((n, r) => n + r.installed + r.alreadyPresent, 0);
  }

  /** The change in table entries (pinholes) held at the destinations since the last call: what the next journal record counts. */
  private takeEntries(): number {
    return this.entries.take();
  }

  /** install() from pre-copy's rounds, counted while under way (see pipelines()). */
  private async roundInstall(source: string, batch: StateBatch): Promise<number> {
    this.roundInstalls++;
    try {
      return await this.install(source, batch);
    } finally {
      this.roundInstalls--;
    }
  }

  /** Pre-copy's convergence policy: the options', else DEFAULT_CONVERGENCE_POLICY. */
  private policy(): ConvergencePolicy {
    return this.o.precopy?.policy ?? DEFAULT_CONVERGENCE_POLICY;
  }

  /** How pre-copy ended, once it has: the VM paused (the trigger), its rounds converged, or the round limit reached. */
  get precopyEnd(): PrecopyEnd | undefined {
    return this.ended;
  }

  /** PREPARED → PRECOPY: the snapshot staged everywhere, then delta rounds until `stop$` or convergence. */
  async precopy(stop$?: Observable<unknown>): Promise<PrecopyRound[]> {
    // Listen for the pause from the start: a VM may pause while the snapshot is still moving.
    let stopped = false;
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((r) => (wake = r));
    const stop = (): void => {
      stopped = true;
      wake();
    };
    const stopSub = stop$?.subscribe(stop);
    // From here until the pause starts, garbage is collected outside it (heap-keeper.ts).
    this.heap.startPrecopy();
    const done = this.rounds(() => stopped, woken);
    this.running = { stop, done };
    done.catch((error: unknown) => (this.precopyFailed = { error }));
    try {
      const rounds = await done;
      // The delta rounds (the snapshot is not one): a report says whether they converged (walkthrough 23: 31 rounds read as nothing).
      const { maxRounds, convergedAtSlots } = this.policy();
      const last = rounds[rounds.length - 1]?.slots ?? 0;
      this.ended = stopped ? { by: 'paused', maxRounds } : rounds.length >= maxRounds && last > convergedAtSlots ? { by: 'round-limit', maxRounds, lastSlots: last } : { by: 'converged', maxRounds };
      return rounds;
    } finally {
      stopSub?.unsubscribe();
    }
  }

  /**
   * Resolves once pre-copy (started by `precopy()`) has staged its snapshot at every destination
   * (round 0 journalled); rejects with pre-copy's own error when it fails first.
   */
  async snapshotStaged(): Promise<void> {
    const running = this.running;
    if (!running) throw new ControllerError('INTERNAL', `migration ${this.ref.migrationId}: snapshotStaged() before precopy() started`);
    const staged = firstValueFrom(this.o.machine.states$.pipe(filter((s) => s.rounds > 0)));
    // The loser of the race must not surface as an unhandled rejection (a machine closed later).
    staged.catch(() => undefined);
    await Promise.race([staged, running.done.then(() => undefined)]);
  }

  /** Refuses (PEER_REJECTED) a migration to a switch the VM evidently runs at already, the sources holding `sourceSlots` of its flows (vm-whereabouts.ts). */
  private async refuseIfVmAtDestination(sourceSlots: number | (() => Promise<number | undefined>)): Promise<void> {
    if (!this.whereabouts) return;
    const seen = await findVmAtDestinations({ devices: this.o.devices, destinations: this.destinations, vm: this.ref.vm, sourceSlots, before: this.whereabouts, logger: this.logger });
    if (seen.length > 0) throw new ControllerError('PEER_REJECTED', vmSeenMessage(`VM ${this.o.plan.vm.name} (${this.ref.vm})`, seen));
  }

  /** Keeps the removals of batches pre-copy leaves to the final delta (see `folded`). */
  private fold(left: readonly { source: string; batch: StateBatch }[]): void {
    for (const { source, batch } of left) {
      if (batch.removed.length > 0) this.folded.set(source, [...(this.folded.get(source) ?? []), ...batch.removed]);
    }
  }

  /**
   * The snapshot, then delta rounds until `isStopped()` or the convergence policy ends them. A
   * stop (the VM paused) ends the wait between rounds at once (`woken`), and batches not yet
   * installed are left to the final delta, which reads their slots again; a batch being
   * installed when the stop comes is finished first (its writes are on the wire). Peer to peer,
   * the sources send and report progress instead.
   */
  private async rounds(isStopped: () => boolean, woken: Promise<void>): Promise<PrecopyRound[]> {
    const start = this.o.transfer;
    const p = this.o.precopy ?? {};
    const [interval, policy] = [p.intervalMs ?? 100, this.policy()];
    // A round is converged only once each source that reports its quiet pulls said what its latest found.
    const reporting = this.sources.filter((s) => this.caps.get(s)?.quietReports === true);
    if (start) {
      this.peer = new PeerRounds({
        ref: this.ref, sources: this.sources, plan: splitPlanOf(this.o.plan), start, ledger: this.ledger, machine: this.o.machine, scheduler: this.scheduler,
        intervalMs: interval, policy, failure: stepFailure, entries: this.entries, reporting,
        freezing: this.sources.every((s) => this.caps.get(s)?.transferFreezes === true),
      });
      // The sources send their snapshots themselves: their slot indexes count the VM's flows.
      await this.refuseIfVmAtDestination(async () => sumKnown(await countVmSlots(this.o.devices, this.sources, this.ref.vm, this.whereabouts ?? new Map(), this.logger)));
      return this.peer.precopy(isStopped);
    }
    const heapBefore = this.heap.beforeSnapshot();
    const snaps = await this.each(this.sources, 'snapshot', (api) => api.exportSnapshot(this.ref));
    await this.refuseIfVmAtDestination([...snaps.values()].reduce((n, b) => n + b.slots.length, 0));
    // Room at every destination for its share of the snapshot, before anything is staged anywhere.
    const needs = new Map<string, number>(this.destinations.map((d) => [d, 0]));
    for (const [s, b] of snaps) for (const [d, part] of splitBatch(this.o.plan, this.caps.get(s)?.keyFields ?? [], b, s)) needs.set(d, (needs.get(d) ?? 0) + part.slots.length);
    checkRoom(needs, (d) => this.caps.get(d));
    let slots = 0;
    for (const [s, b] of snaps) {
      this.ledger.start(s, b.coversSeq.from);
      slots += await this.roundInstall(s, b);
    }
    await this.o.machine.record({ type: 'round', round: 0, slots, tableEntries: this.takeEntries() });
    // The snapshot's garbage, collected while the VM runs rather than by V8 in the pause.
    if (!isStopped()) this.heap.afterSnapshot(heapBefore);
    return deltaRounds({
      ref: this.ref, sources: this.sources, api: (n) => this.api(n), ledger: this.ledger, machine: this.o.machine, scheduler: this.scheduler,
      install: (source, batch) => this.roundInstall(source, batch), fold: (left) => this.fold(left), takeEntries: () => this.takeEntries(),
    }, { isStopped, woken, intervalMs: interval, policy, maxPending: p.maxPending ?? 65_536, reporting });
  }

  /**
   * FROZEN → SYNCED → ACTIVATED inside the pause: freeze the sources, pull and install the final
   * changes, prove every sequence from the snapshot to the freeze reached the destinations,
   * activate. Past the deadline the policy decides: abort, or activate and report what was lost.
   * Pre-copy still running is ended here; a batch it is installing finishes while the sources
   * freeze (not before), and the final delta starts where it ended.
   */
  async pauseSync(): Promise<PauseSyncResult> {
    // Open while this VM waits: no other migration of this process collects garbage meanwhile.
    const leave = enterPause();
    this.pauseBegan = true;
    try {
      return await this.syncInPause();
    } finally {
      leave();
    }
  }

  private async syncInPause(): Promise<PauseSyncResult> {
    this.heap.stop();
    if (this.precopyFailed) throw this.precopyFailed.error;
    return syncInPause({
      ref: this.ref, o: this.o, scheduler: this.scheduler, logger: this.logger, ledger: this.ledger, folded: this.folded,
      sources: this.sources, destinations: this.destinations, precopy: this.running, peer: this.peer,
      precopyIdle: this.roundInstalls === 0 && this.o.machine.state.rounds > 0,
      api: (name) => this.api(name),
      each: (names, what, fn) => this.each(names, what, fn),
      install: (source, batch, activate) => this.install(source, batch, activate),
      takeEntries: () => this.takeEntries(),
      sentCounters: () => (this.sentCounters.size > 0 ? Object.fromEntries([...this.sentCounters].map(([d, c]) => [d, toJournalCounters(c)])) : undefined),
    });
  }

  /**
   * → ACTIVATED after pauseSync failed although the VM was switched over to the destination
   * anyway (QEMU released before the failure was known, which cannot be undone): the network
   * state follows the VM, so the destinations activate with what reached them, and the result
   * says what may be missing. A rollback would leave the VM running where its state is not.
   */
  async activateAfterRelease(why: string): Promise<PauseSyncResult> {
    const t0 = this.scheduler.now();
    const lost: LostState = { slots: -1, tableEntries: 0, detail: `the pause-window sync failed (${why}) after the VM had been switched over to the destination; activated with what had arrived (slot count unknown)` };
    if (this.phase === 'PREPARED' || this.phase === 'PRECOPY') await this.o.machine.record({ type: 'frozen' });
    if (this.phase === 'FROZEN') await this.o.machine.record({ type: 'synced', slots: 0, tableEntries: 0, lost });
    if (this.phase === 'SYNCED') {
      await this.each(this.destinations, 'activate', (api) => api.activate(this.ref));
      await this.o.machine.record({ type: 'activated' });
    }
    this.peer?.close();
    return { slots: 0, aheadSlots: 0, lost, elapsedMs: this.scheduler.now() - t0, proofs: {} };
  }

  /** ACTIVATED → COMMITTED: the VM runs at the destination; the sources' copies go after the grace period. */
  async commit(): Promise<{ deleted: number; skipped: number }> {
    this.heap.stop();
    await this.o.machine.record({ type: 'committed' });
    const deletedAt: string[] = [];
    const r = await this.each(this.sources, 'delete at source', async (api, n) => {
      const x = await api.deleteAtSource(this.ref, this.o.graceMs ?? 1000);
      deletedAt.push(n);
      return x;
    }).catch(async (e: unknown) => {
      // N:1, one source refused: the others are clean, and recovery leaves them alone.
      if (deletedAt.length > 0) await this.o.machine.record({ type: 'cleaned-at', devices: deletedAt });
      throw e;
    });
    const deleted = [...r.values()].reduce((n, x) => n + x.deleted, 0);
    const skipped = [...r.values()].reduce((n, x) => n + x.skipped, 0);
    // Cross-domain: the peer records the commit first, so a Finish lost leaves the migration open
    // here for carryover recover to repeat (field walkthrough 17 F3: it was only logged) — and
    // only that: the sources' delete is journalled done, a repeat of it would be refused.
    if (this.o.beforeSourceCleaned) {
      await this.o.machine.record({ type: 'cleaned-at', devices: this.sources });
      await this.o.beforeSourceCleaned(deleted);
    }
    await this.o.machine.record({ type: 'source-cleaned', slots: deleted, tableEntries: 0 });
    await tellCommitted(this.destinations.map((n) => [n, this.o.devices.get(n)]), this.ref, this.logger);
    return { deleted, skipped };
  }

  /**
   * Rolls back from any phase before COMMITTED: records the abort with its reason, then undoes
   * at every device (destinations cleaned, sources unfrozen). A device whose undo fails twice is
   * retried for `undoRetryMs` (a restarted plugin answers again), then reported; the abort stays
   * recorded so a restarted controller finishes it.
   */
  async abort(reason: FailureReason, detail: string): Promise<UndoOutcome> {
    this.heap.stop();
    const s = this.o.machine.state;
    const out: UndoOutcome = { undone: [], failed: [], errors: {} };
    // A journal that refuses the record (its disk full) does not keep the devices as they are: a
    // frozen source drops the VM's traffic. They are undone all the same; the journal, left in an
    // earlier phase, has a recovery roll back too, finding nothing left to undo.
    const journalled = async (e: MigrationEventInput): Promise<boolean> => {
      if (out.journalError !== undefined) return false;
      try {
        await this.o.machine.record(e);
        return true;
      } catch (err) {
        out.journalError = (err as Error).message;
        this.logger.error('the journal refused a rollback record: rolling back the devices all the same', { event: e.type, error: out.journalError });
        return false;
      }
    };
    if (s.phase !== 'ABORTED') await journalled({ type: 'abort', reason, detail });
    const touched = this.touched;
    const skipped = touched ? [...this.sources, ...this.destinations].filter((n) => !touched.has(n)) : [];
    if (skipped.length > 0) this.logger.info('nothing to undo where no step of the migration was accepted', { devices: skipped.join(', ') });
    // Once the pause began a destination may be active, which leaves no mark on its switch: a
    // plugin restarted since would answer done and leave it active, unless told (AbortOptions).
    const mayBeActive = (n: string): boolean => this.pauseBegan && this.destinations.includes(n);
    const undoOne = (n: string): Promise<void> => (mayBeActive(n) ? this.api(n).abort(this.ref, { mayBeActive: true }) : this.api(n).abort(this.ref));
    const undo = (names: readonly string[]): Promise<void> => undoAt(names.filter((n) => !skipped.includes(n)), undoOne, this.logger, out);
    if (this.peer) {
      // Peer to peer, the sources are still sending: stop them first (what they hold still lands),
      // then clean the destinations once nothing more can arrive.
      await undo(this.sources);
      if (!(await this.peer.settle(this.o.settleMs ?? 5_000))) this.logger.warn('peer transfers still running when the destinations are cleaned; a late batch may need a second abort');
      this.peer.close();
      await undo(this.destinations);
    } else {
      await undo([...this.destinations, ...this.sources]);
    }
    // Not a destination once the pause began whose plugin cannot be told so (one that predates
    // abortCleansActive): restarted since, it would answer done and leave an active VM there.
    // Reported instead: carryover recover cleans it as a source (field walkthrough 13).
    const retried = (n: string): boolean => !mayBeActive(n) || this.caps.get(n)?.abortCleansActive === true;
    await retryUndo(out, undoOne, { retryMs: this.o.undoRetryMs ?? DEFAULT_UNDO_RETRY_MS, scheduler: this.scheduler, logger: this.logger, sources: this.sources, retried, ...(this.o.progress ? { progress: this.o.progress } : {}) });
    if (out.failed.length === 0) await journalled({ type: 'rolled-back' });
    else {
      const live = out.failed.filter(mayBeActive);
      if (live.length > 0) out.mayBeActive = live;
      // Where the undo is certain, recorded: recovery leaves those switches alone, and a later
      // migration may use them (migration-blockers.ts).
      const certain = [...skipped, ...out.undone.filter(retried)];
      if (certain.length > 0) await journalled({ type: 'cleaned-at', devices: certain });
    }
    return out;
  }
}
