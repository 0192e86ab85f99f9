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
import type { DeviceApi, DeviceCapabilities, FinalProof, ImportResult, MigrationRef, StateBatch } from '../../plugin/index.js';
import { negotiateMigrationSchemas } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { FailureReason } from '../errors.js';
import type { LostState, MigrationPhase } from '../migration/events.js';
import { monotonicScheduler } from '../monotonic-time.js';
import { callEach, stepFailure } from './call-each.js';
import { checkCapacityClaim, checkRoom } from './capacity.js';
import { PeerRounds } from './peer-rounds.js';
import { raceTimer } from './race-timer.js';
import { SeqLedger } from './seq-ledger.js';
import { splitBatch, splitPlanOf } from './split-batch.js';
import { HeapKeeper } from './heap-keeper.js';
import { undoAt } from './undo-at.js';
import type { UndoOutcome } from './undo-at.js';
import { enterPause } from './pauses-in-process.js';
import type { DeadlinePolicy, MigrationEngineOptions, PauseSyncResult, PrecopyRound } from './engine-types.js';

export type { DeadlinePolicy, MigrationEngineOptions, PauseSyncResult, PrecopyRound } from './engine-types.js';

/** What the pause's work did: slots installed (of them, taken ahead), and whether the destinations are active already. */
interface PauseOutcome {
  readonly slots: number;
  readonly aheadSlots: number;
  readonly activated: boolean;
}

/** The pause's work under way, and the `frozen` record (resolves once journalled; rejects as the freeze did). */
interface PauseWork {
  readonly work: Promise<PauseOutcome>;
  readonly frozen: () => Promise<void>;
}

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
  /** Why pre-copy failed, once it did: the pause then freezes nothing. */
  private precopyFailed: { readonly error: unknown } | undefined;
  private readonly heap: HeapKeeper;
  /**
   * Devices this engine sent a migration's first step (prepare) to, less those that refused it
   * unheard (UNAUTHORIZED: nothing changed there); undefined until prepare() starts. A rollback
   * undoes at these only: a device that never accepted a step has nothing to undo, and one that
   * refuses every call would otherwise keep the migration from ever being rolled back.
   */
  private touched: Set<string> | undefined;
  /** Pre-copy installs under way (roundInstall). */
  private roundInstalls = 0;

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
    this.caps = await this.each([...this.sources, ...this.destinations], 'capabilities', (api) => api.capabilities());
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
    await this.o.machine.record({ type: 'prepared', ...(translations.length > 0 ? { translations } : {}) });
  }

  /** Installs one batch from `source` at the destinations its flows belong to; returns slots installed. */
  private async install(source: string, batch: StateBatch): Promise<number> {
    const parts = splitBatch(this.o.plan, this.caps.get(source)?.keyFields ?? [], batch, source);
    const done = await this.each([...parts.keys()], `import round ${batch.round} from ${source}`, (api, d) => api.importStaged(this.ref, parts.get(d) as StateBatch));
    this.ledger.record(source, batch.coversSeq);
    return [...done.values()].reduce((n, r) => n + r.installed + r.alreadyPresent, 0);
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
      return await done;
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
    if (start) {
      const p = this.o.precopy ?? {};
      this.peer = new PeerRounds({
        ref: this.ref, sources: this.sources, plan: splitPlanOf(this.o.plan), start, ledger: this.ledger, machine: this.o.machine, scheduler: this.scheduler,
        intervalMs: p.intervalMs ?? 100, policy: p.policy ?? { maxRounds: 30, convergedAtSlots: 0 }, failure: stepFailure,
      });
      return this.peer.precopy(isStopped);
    }
    const heapBefore = this.heap.beforeSnapshot();
    const snaps = await this.each(this.sources, 'snapshot', (api) => api.exportSnapshot(this.ref));
    // Room at every destination for its share of the snapshot, before anything is staged anywhere.
    const needs = new Map<string, number>(this.destinations.map((d) => [d, 0]));
    for (const [s, b] of snaps) for (const [d, part] of splitBatch(this.o.plan, this.caps.get(s)?.keyFields ?? [], b, s)) needs.set(d, (needs.get(d) ?? 0) + part.slots.length);
    checkRoom(needs, (d) => this.caps.get(d));
    let slots = 0;
    for (const [s, b] of snaps) {
      this.ledger.start(s, b.coversSeq.from);
      slots += await this.roundInstall(s, b);
    }
    await this.o.machine.record({ type: 'round', round: 0, slots, tableEntries: 0 });
    // The snapshot's garbage, collected while the VM runs rather than by V8 in the pause.
    if (!isStopped()) this.heap.afterSnapshot(heapBefore);
    const p = this.o.precopy ?? {};
    const policy = p.policy ?? { maxRounds: 30, convergedAtSlots: 0 };
    const maxPending = p.maxPending ?? 65_536;
    // Pushed batches queue here between rounds; each round installs what queued before it, and
    // the next round starts only after that (backpressure). Past maxPending slots queued, pre-copy
    // ends: the destination cannot keep up, the rest moves in the pause.
    const pending: { source: string; batch: StateBatch }[] = [];
    let queued = 0;
    let failed: unknown;
    const subs = this.sources.map((source) =>
      this.api(source).exportDeltas(this.ref).subscribe({
        next: (batch) => {
          pending.push({ source, batch });
          queued += batch.slots.length;
        },
        error: (e: unknown) => (failed = e),
      }),
    );
    const rounds: PrecopyRound[] = [];
    try {
      for (let round = 1; round <= policy.maxRounds && !isStopped(); round++) {
        await raceTimer(woken, p.intervalMs ?? 100, this.scheduler, undefined);
        if (failed !== undefined) throw stepFailure(failed, 'delta stream');
        if (isStopped()) break;
        const take = pending.splice(0, pending.length);
        const overflowed = queued > maxPending;
        queued = 0;
        let n = 0;
        for (const [i, { source, batch }] of take.entries()) {
          if (isStopped()) {
            this.fold(take.slice(i));
            break;
          }
          n += await this.roundInstall(source, batch);
        }
        await this.o.machine.record({ type: 'round', round, slots: n, tableEntries: 0 });
        rounds.push({ round, slots: n, batches: take.length });
        if (overflowed || n <= policy.convergedAtSlots) break;
      }
      // Whatever queued since the last round: left to the final delta when the VM paused, else
      // installed now, so the pause has only the final delta.
      const rest = pending.splice(0, pending.length);
      if (isStopped()) this.fold(rest);
      else if (rest.length > 0) {
        let n = 0;
        for (const { source, batch } of rest) n += await this.roundInstall(source, batch);
        const round = rounds.length + 1;
        await this.o.machine.record({ type: 'round', round, slots: n, tableEntries: 0 });
        rounds.push({ round, slots: n, batches: rest.length });
      }
    } finally {
      for (const s of subs) s.unsubscribe();
    }
    return rounds;
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
    try {
      return await this.syncInPause();
    } finally {
      leave();
    }
  }

  private async syncInPause(): Promise<PauseSyncResult> {
    const t0 = this.scheduler.now();
    const deadlineMs = this.o.pauseDeadlineMs ?? 50;
    this.heap.stop();
    if (this.precopyFailed) throw this.precopyFailed.error;
    // The destinations get ahead what the final import needs (their clocks, carried forward from
    // pre-copy's last reading or read) while the sources freeze: off the pause's path of dependent
    // round trips. The sources' clocks at the freeze are had the same way, a few ms apart, so a
    // moved flow's age is off by that much: nothing next to idle timeouts of seconds.
    for (const d of this.destinations) this.api(d).pauseStarted(this.ref);
    // Pre-copy ends here if the caller did not end it; a batch still being installed finishes
    // behind the freeze instead of before it (the final delta starts where it ends).
    const precopy = this.running;
    precopy?.stop();
    const proofs: Record<string, FinalProof> = {};
    const { work, frozen } = this.pipelines() ? this.pipelinedPause(precopy, proofs) : await this.steppedPause(precopy, proofs);
    // The deadline counts from the pause, not from the end of the freeze: a slow freeze uses it up.
    const outcome = await raceTimer(work, deadlineMs - (this.scheduler.now() - t0), this.scheduler, 'late' as const);
    let lost: LostState | undefined;
    let slots = 0;
    let aheadSlots = 0;
    let activated = false;
    if (outcome === 'late') {
      if ((this.o.onDeadline ?? 'abort') === 'abort') {
        // Writes still in flight would land after the rollback cleaned up: let them finish first
        // (the trigger releases the VM on its own clock; this only delays the cleanup) — but not
        // forever: a device that never answers is left to the rollback's own retries.
        const settled = await raceTimer(work.then(() => true, () => true), this.o.settleMs ?? 5_000, this.scheduler, false);
        if (!settled) this.logger.warn('final writes still in flight when rolling back; a late write may need a second abort', { settleMs: this.o.settleMs ?? 5_000 });
        await frozen().catch(() => undefined);
        // The caller rolls back (or, the VM already switched over, activates): this says only what happened.
        const took = `it ${settled ? 'finished' : 'had not finished'} ${Math.round(this.scheduler.now() - t0)} ms after the pause began`;
        throw new ControllerError('PAUSE_DEADLINE_MISSED', `pause-window sync (freeze, final delta, install) not done within ${deadlineMs} ms: ${took}; the deadline policy is 'abort' — a longer deadline (carryover migrate --pause-deadline-ms) or 'continue' (--on-deadline) lets such a pause activate`);
      }
      await frozen();
      lost = { slots: -1, tableEntries: 0, detail: `the final changes were not installed within ${deadlineMs} ms; activated without them (slot count unknown: the final read had not completed)` };
      work.catch(() => undefined);
    } else {
      await frozen();
      ({ slots, aheadSlots, activated } = outcome);
      const gaps = this.ledger.gaps();
      if (gaps.length > 0) {
        const detail = `sequence gaps (changes not proven to have reached the destination): ${gaps.map((g) => `${g.source} ${g.from}..${g.to}`).join(', ')}`;
        if ((this.o.onDeadline ?? 'abort') === 'abort') throw new ControllerError('INCOMPLETE_STATE', detail);
        lost = { slots: gaps.reduce((n, g) => n + Number(g.to - g.from), 0), tableEntries: 0, detail };
      }
    }
    // `synced` is written while the destinations activate, not before: the VM cannot run at a
    // destination until `activated` is durable (the trigger releases it only after this returns),
    // so a crash in between replays as FROZEN and rolls back — the destinations cleaned, the source
    // unfrozen — exactly as a crash before the activation would. One journal write (an fdatasync
    // with the file journal) fewer on the pause's path. Activated with the last import already
    // (importActivate), the destination's activation is only journalled.
    const synced = this.o.machine.record({ type: 'synced', slots, tableEntries: 0, ...(lost ? { lost } : {}) });
    const activating = activated ? Promise.resolve() : this.each(this.destinations, 'activate', (api) => api.activate(this.ref));
    const [activation, record] = await Promise.allSettled([activating, synced]);
    if (activation.status === 'rejected') throw activation.reason;
    if (record.status === 'rejected') throw record.reason;
    await this.o.machine.record({ type: 'activated' });
    this.peer?.close();
    return { slots, aheadSlots, lost, elapsedMs: this.scheduler.now() - t0, proofs };
  }

  /** Whether this pause pipelines (see MigrationEngineOptions.pipelinedPause): pre-copy idle, every source offering freezeFinal. */
  private pipelines(): boolean {
    if (this.o.transfer || this.o.pipelinedPause === false) return false;
    // The final delta starts where pre-copy's last install ended: known at once only when no
    // install is under way (else the freeze goes out first, as it does one call per step).
    if (this.roundInstalls > 0 || this.o.machine.state.rounds === 0) return false;
    return this.sources.every((s) => this.api(s).freezeFinal !== undefined);
  }

  /**
   * The pause one call per step: the sources frozen (and, meanwhile, the changes taken ahead
   * installed), then their final deltas read and installed. Resolves once the sources froze.
   */
  private async steppedPause(precopy: MigrationEngine['running'], proofs: Record<string, FinalProof>): Promise<PauseWork> {
    const freezing = this.each(this.sources, 'freeze', (api) => api.freeze(this.ref));
    // While the freeze is on its way (the source serves it, the controller would only wait): what
    // the pushed deltas already brought, translated and staged at the destinations.
    const ahead = this.o.transfer || this.o.takeAhead === false ? undefined : this.takeAhead(precopy?.done);
    ahead?.catch(() => undefined);
    const [froze, ended] = await Promise.allSettled([freezing, precopy?.done]);
    if (froze.status === 'rejected' || ended.status === 'rejected') {
      // Nothing may land at a destination after the rollback that follows has cleaned it.
      if (ahead) await raceTimer(ahead.then(() => true, () => true), this.o.settleMs ?? 5_000, this.scheduler, false);
      throw froze.status === 'rejected' ? froze.reason : (ended as PromiseRejectedResult).reason;
    }
    // Recorded while the final reads run: the record states what is already true, and a restart
    // that never saw it rolls back anyway (which unfreezes). Awaited before anything else is recorded.
    const frozen = this.o.machine.record({ type: 'frozen' });
    frozen.catch(() => undefined);
    const work = (async (): Promise<PauseOutcome> => {
      if (this.o.transfer) {
        if (!this.peer) throw new ControllerError('INTERNAL', 'peer-to-peer transfer needs pre-copy before the pause (the sources send the snapshot)');
        return { slots: await this.peer.finish(), aheadSlots: 0, activated: false };
      }
      // The final delta starts where the batch taken ahead was installed (or failed: then the pause fails with it).
      const aheadSlots = (await ahead) ?? 0;
      const finals = await this.each(this.sources, 'final delta', async (api, s) => this.withFolded(s, await api.finalDelta(this.ref, this.ledger.mark(s)), proofs));
      let slots = aheadSlots;
      for (const [s, b] of finals) slots += await this.install(s, b);
      return { slots, aheadSlots, activated: false };
    })();
    return { work, frozen: async () => void (await frozen) };
  }

  /**
   * The pause pipelined: each source frozen and its final delta read in one call (freezeFinal),
   * then the final batches installed — the last one, at a single destination, with its
   * activation (importActivate) when the proof is complete with it. Nothing is taken ahead: over
   * the network that costs a round trip of its own.
   */
  private pipelinedPause(precopy: MigrationEngine['running'], proofs: Record<string, FinalProof>): PauseWork {
    const finals = (async () => {
      await precopy?.done;
      return this.each(this.sources, 'freeze and final delta', async (api, s) => {
        const freezeFinal = api.freezeFinal as NonNullable<DeviceApi['freezeFinal']>;
        return this.withFolded(s, await freezeFinal.call(api, this.ref, this.ledger.mark(s)), proofs);
      });
    })();
    // Recorded once the sources answered, while the final batches are installed.
    const frozen = finals.then(() => this.o.machine.record({ type: 'frozen' }));
    frozen.catch(() => undefined);
    const work = (async (): Promise<PauseOutcome> => {
      const batches = [...(await finals)];
      let slots = 0;
      for (const [i, [s, b]] of batches.entries()) {
        if (i === batches.length - 1) {
          const last = await this.installLast(s, b);
          return { slots: slots + last.slots, aheadSlots: 0, activated: last.activated };
        }
        slots += await this.install(s, b);
      }
      return { slots, aheadSlots: 0, activated: false };
    })();
    return { work, frozen: async () => void (await frozen) };
  }

  /**
   * The pause's last batch: at a single destination that offers importActivate, installed and
   * activated in one call — once the ledger, with this batch, proves every change reached it
   * (else installed only, and the caller decides). Returns the slots installed and whether the
   * destination is active.
   */
  private async installLast(source: string, batch: StateBatch): Promise<{ slots: number; activated: boolean }> {
    const [dest, ...more] = this.destinations;
    const api = dest === undefined ? undefined : this.api(dest);
    if (dest === undefined || more.length > 0 || !api?.importActivate) return { slots: await this.install(source, batch), activated: false };
    // Recorded before it is sent: the proof must hold before anything activates. A failed import
    // fails the pause, so the early record never stands for state that did not arrive.
    this.ledger.record(source, batch.coversSeq);
    if (this.ledger.gaps().length > 0) return { slots: await this.install(source, batch), activated: false };
    const part = splitBatch(this.o.plan, this.caps.get(source)?.keyFields ?? [], batch, source).get(dest) as StateBatch;
    const importActivate = api.importActivate;
    const r = await this.each([dest], `import round ${batch.round} from ${source} and activate`, (a) => importActivate.call(a, this.ref, part));
    const done = r.get(dest) as ImportResult;
    return { slots: done.installed + done.alreadyPresent, activated: true };
  }

  /** A final batch with the removals pre-copy left to it (`folded`), its proof kept. */
  private withFolded(source: string, b: StateBatch, proofs: Record<string, FinalProof>): StateBatch {
    if (b.proof) proofs[source] = b.proof;
    const left = this.folded.get(source) ?? [];
    return left.length > 0 ? { ...b, removed: [...left, ...b.removed] } : b;
  }

  /**
   * The pause's batches taken ahead of the final ones (DeviceApi.pauseDelta), from where the
   * ledger stands once pre-copy's last batch is in, installed at the destinations; resolves the
   * slots installed. Sources without pauseDelta leave everything to their final delta.
   */
  private async takeAhead(precopyDone: Promise<unknown> | undefined): Promise<number> {
    const taking = this.sources.filter((s) => this.api(s).pauseDelta !== undefined);
    if (taking.length === 0) return 0;
    await precopyDone?.catch(() => undefined);
    // One turn of the event loop first: Node's HTTP/2 puts the freeze's Write and Read on the
    // socket in the loop's check phase, so work run from here as microtasks would hold them back
    // by its own length (the first take-ahead measured no gain for exactly that reason).
    await new Promise<void>((resolve) => setImmediate(resolve));
    const batches = await this.each(taking, 'changes taken ahead', (api, s) => (api.pauseDelta as NonNullable<DeviceApi['pauseDelta']>).call(api, this.ref, this.ledger.mark(s)));
    let slots = 0;
    for (const [s, b] of batches) if (b.slots.length > 0 || b.removed.length > 0) slots += await this.install(s, b);
    return slots;
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
    const r = await this.each(this.sources, 'delete at source', (api) => api.deleteAtSource(this.ref, this.o.graceMs ?? 1000));
    const deleted = [...r.values()].reduce((n, x) => n + x.deleted, 0);
    const skipped = [...r.values()].reduce((n, x) => n + x.skipped, 0);
    await this.o.machine.record({ type: 'source-cleaned', slots: deleted, tableEntries: 0 });
    return { deleted, skipped };
  }

  /**
   * Rolls back from any phase before COMMITTED: records the abort with its reason, then undoes
   * at every device (destinations cleaned, sources unfrozen). Undo failures are retried once
   * and reported; the abort stays recorded so a restarted controller finishes it.
   */
  async abort(reason: FailureReason, detail: string): Promise<{ readonly undone: string[]; readonly failed: string[] }> {
    this.heap.stop();
    const s = this.o.machine.state;
    if (s.phase !== 'ABORTED') await this.o.machine.record({ type: 'abort', reason, detail });
    const out: UndoOutcome = { undone: [], failed: [] };
    const touched = this.touched;
    const skipped = touched ? [...this.sources, ...this.destinations].filter((n) => !touched.has(n)) : [];
    if (skipped.length > 0) this.logger.info('nothing to undo where no step of the migration was accepted', { devices: skipped.join(', ') });
    const undo = (names: readonly string[]): Promise<void> => undoAt(names.filter((n) => !skipped.includes(n)), (n) => this.api(n), this.ref, this.logger, out);
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
    if (out.failed.length === 0) await this.o.machine.record({ type: 'rolled-back' });
    return out;
  }
}
