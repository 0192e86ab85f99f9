/**
 * The pause-window sync (DESIGN.md §7.4), FROZEN → SYNCED → ACTIVATED while the VM is stopped:
 * the sources frozen, their final changes read and installed, the completeness proof checked, the
 * destinations activated — within the deadline, or as its policy says. One call per step, or
 * pipelined over devices that offer freezeFinal/importActivate (over the network: two round trips
 * fewer). The MigrationEngine runs it with its own state (PauseContext).
 */
import type { SchedulerLike } from 'rxjs';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, FinalProof, MigrationRef, StateBatch } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { JournalCounters, LostState } from '../migration/events.js';
import type { PeerRounds } from './peer-rounds.js';
import { raceTimer } from './race-timer.js';
import type { SeqLedger } from './seq-ledger.js';
import type { MigrationEngineOptions, PauseSyncResult } from './engine-types.js';

/** What the pause works with: the engine's migration, as it stands when the pause begins. */
export interface PauseContext {
  readonly ref: MigrationRef;
  readonly o: MigrationEngineOptions;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
  /** The completeness proof so far. */
  readonly ledger: SeqLedger;
  /** Removals pre-copy left to the final delta, per source. */
  readonly folded: ReadonlyMap<string, readonly Record<string, bigint>[]>;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  /** Pre-copy, when it was started: the pause stops it. */
  readonly precopy: { readonly stop: () => void; readonly done: Promise<unknown> } | undefined;
  /** The sources' transfers, peer to peer. */
  readonly peer: PeerRounds | undefined;
  /** No pre-copy install under way, and the snapshot staged: where the final delta starts is known now. */
  readonly precopyIdle: boolean;
  api(name: string): DeviceApi;
  /** Calls `fn` at every device of `names` at once; rejects once all answered, naming those that failed. */
  each<T>(names: readonly string[], what: string, fn: (api: DeviceApi, name: string) => Promise<T>): Promise<Map<string, T>>;
  /** Installs a batch of `source` at its destinations (recorded in the ledger), with `activate` activating each as its part is in; resolves the slots installed. */
  install(source: string, batch: StateBatch, activate?: boolean): Promise<number>;
  /** The change in table entries held at the destinations since the last journal record that counted them. */
  takeEntries(): number;
  /** By destination, the per-VM counter values the final batches brought it (journalled with `synced`); undefined when none did. */
  sentCounters(): Readonly<Record<string, JournalCounters>> | undefined;
}

/** What the pause's work did: slots installed (of them, taken ahead), and whether the destinations are active already. */
interface PauseOutcome {
  readonly slots: number;
  readonly aheadSlots: number;
  readonly activated: boolean;
}

/** The pause's work under way, and the `frozen` record (resolves once journalled; rejects as the freeze did). */
interface PauseWork {
  readonly work: Promise<PauseOutcome>;
  readonly frozen: Promise<unknown>;
  /** Resolves once no call to a source is in flight any more (their freeze and final reads answered). */
  readonly sourcesDone?: Promise<unknown>;
}

/**
 * FROZEN → SYNCED → ACTIVATED: see the file comment. Resolves what was installed, lost and
 * proven; rejects with PAUSE_DEADLINE_MISSED, INCOMPLETE_STATE or a device's failure (the caller
 * rolls back).
 */
export async function syncInPause(c: PauseContext): Promise<PauseSyncResult> {
  const t0 = c.scheduler.now();
  const deadlineMs = c.o.pauseDeadlineMs ?? 50;
  // The destinations get ahead what the final import needs (their clocks, carried forward from
  // pre-copy's last reading or read) while the sources freeze: off the pause's path of dependent
  // round trips. The sources' clocks at the freeze are had the same way, a few ms apart, so a
  // moved flow's age is off by that much: nothing next to idle timeouts of seconds.
  for (const d of c.destinations) c.api(d).pauseStarted(c.ref);
  // Pre-copy ends here if the caller did not end it; a batch still being installed finishes
  // behind the freeze instead of before it (the final delta starts where it ends).
  c.precopy?.stop();
  const proofs: Record<string, FinalProof> = {};
  const frozenAfterWork = c.peer?.freezes === true && c.o.pipelinedPause !== false;
  const { work, frozen, sourcesDone } = frozenAfterWork && c.peer ? peerPause(c, c.peer) : pipelines(c) ? pipelinedPause(c, proofs) : await steppedPause(c, proofs);
  let sourcesAnswered = false;
  void sourcesDone?.then(() => (sourcesAnswered = true), () => undefined);
  // The deadline counts from the pause, not from the end of the freeze: a slow freeze uses it up.
  let outcome: PauseOutcome | 'late' = await raceTimer(work, deadlineMs - (c.scheduler.now() - t0), c.scheduler, 'late' as const);
  let lost: LostState | undefined;
  let slots = 0;
  let aheadSlots = 0;
  let activated = false;
  if (outcome === 'late') {
    if ((c.o.onDeadline ?? 'abort') === 'abort') {
      // Writes still in flight would land after the rollback cleaned up: let them finish first
      // (the trigger releases the VM on its own clock; this only delays the cleanup) — but not
      // forever: a device that never answers is left to the rollback's own retries.
      // The sources are unfrozen meanwhile, as soon as no call to them is in flight (a freeze
      // landing after an undo would hold them frozen): QEMU resumes the VM there at the deadline
      // (field walkthrough 17: frozen 5.3 s past a 300 ms deadline while a destination hung).
      let settled = false;
      let unfreezing: Promise<void> | undefined;
      void sourcesDone?.then(() => {
        // Past the settle wait the rollback undoes the sources itself: never two undos at once.
        if (settled) return;
        unfreezing = c.each(c.sources, 'unfreeze at the deadline', (api) => api.abort(c.ref)).then(() => undefined, (e: unknown) => c.logger.warn('unfreezing the sources at the deadline failed; the rollback retries', { error: (e as Error).message }));
      }, () => undefined);
      const ended = await raceTimer(work.then(() => ({ failed: undefined }), (e: unknown) => ({ failed: e })), c.o.settleMs ?? 5_000, c.scheduler, undefined);
      settled = true;
      await unfreezing;
      if (!ended) c.logger.warn('final writes still in flight when rolling back; a late write may need a second abort', { settleMs: c.o.settleMs ?? 5_000 });
      await frozen.catch(() => undefined);
      // The caller rolls back (or, the VM already switched over, activates): this says only what
      // happened — a step that failed after the deadline too (a device lost mid-call).
      const how = !ended ? 'had not finished' : ended.failed === undefined ? 'finished' : `failed (${ended.failed instanceof Error ? ended.failed.message : String(ended.failed)})`;
      const took = `it ${how} ${Math.round(c.scheduler.now() - t0)} ms after the pause began`;
      throw new ControllerError('PAUSE_DEADLINE_MISSED', `pause-window sync (freeze, final delta, install) not done within ${deadlineMs} ms: ${took}; the deadline policy is 'abort' — a longer deadline (carryover migrate --pause-deadline-ms) or 'continue' (--on-deadline) lets such a pause activate`);
    }
    await frozen;
    // Peer to peer `frozen` is recorded only once the sources' transfers ended (the work with
    // them): the final batches are in, and nothing was lost, only time.
    if (frozenAfterWork) outcome = await work;
    if (outcome === 'late') {
      // Said as it is (walkthrough 17 F8 read "not completed" of a read that had): the sources'
      // final reads either had not answered, or had and their batches were still being installed.
      const read = sourcesAnswered ? 'the final read had completed and its batches were still being installed, so they may land after the activation' : 'the final read had not completed';
      lost = { slots: -1, tableEntries: 0, detail: `the final changes were not installed within ${deadlineMs} ms; activated without waiting for them (slot count unknown: ${read})` };
      work.catch(() => undefined);
    }
  }
  if (outcome !== 'late') {
    await frozen;
    ({ slots, aheadSlots, activated } = outcome);
    const gaps = c.ledger.gaps();
    if (gaps.length > 0) {
      const detail = `sequence gaps (changes not proven to have reached the destination): ${gaps.map((g) => `${g.source} ${g.from}..${g.to}`).join(', ')}`;
      if ((c.o.onDeadline ?? 'abort') === 'abort') throw new ControllerError('INCOMPLETE_STATE', detail);
      lost = { slots: gaps.reduce((n, g) => n + Number(g.to - g.from), 0), tableEntries: 0, detail };
    }
  }
  // `synced` is written while the destinations activate, not before: the VM cannot run at a
  // destination until `activated` is durable (the trigger releases it only after this returns),
  // so a crash in between replays as FROZEN and rolls back — the destinations cleaned, the source
  // unfrozen — exactly as a crash before the activation would. One journal write (an fdatasync
  // with the file journal) fewer on the pause's path. Activated with the last import already
  // (importActivate), the destination's activation is only journalled.
  // With the counters the destinations were sent: a recovery that activates one whose plugin has
  // forgotten the migration still carries them (recover-migrations.ts). No record of its own.
  const counters = c.sentCounters();
  const synced = c.o.machine.record({ type: 'synced', slots, tableEntries: c.takeEntries(), ...(lost ? { lost } : {}), ...(counters ? { counters } : {}) });
  const activating = activated ? Promise.resolve() : c.each(c.destinations, 'activate', (api) => api.activate(c.ref));
  const [activation, record] = await Promise.allSettled([activating, synced]);
  if (activation.status === 'rejected') throw activation.reason;
  if (record.status === 'rejected') throw record.reason;
  await c.o.machine.record({ type: 'activated' });
  c.peer?.close();
  return { slots, aheadSlots, lost, elapsedMs: c.scheduler.now() - t0, proofs };
}

/** Whether this pause pipelines (see MigrationEngineOptions.pipelinedPause): pre-copy idle, every source offering freezeFinal. */
function pipelines(c: PauseContext): boolean {
  if (c.o.transfer || c.o.pipelinedPause === false) return false;
  // The final delta starts where pre-copy's last install ended: known at once only when no
  // install is under way (else the freeze goes out first, as it does one call per step).
  if (!c.precopyIdle) return false;
  return c.sources.every((s) => c.api(s).freezeFinal !== undefined);
}

/**
 * The pause one call per step: the sources frozen (and, meanwhile, the changes taken ahead
 * installed), then their final deltas read and installed. Resolves once the sources froze.
 */
async function steppedPause(c: PauseContext, proofs: Record<string, FinalProof>): Promise<PauseWork> {
  const freezing = c.each(c.sources, 'freeze', (api) => api.freeze(c.ref));
  // While the freeze is on its way (the source serves it, the controller would only wait): what
  // the pushed deltas already brought, translated and staged at the destinations.
  const ahead = c.o.transfer || c.o.takeAhead === false ? undefined : takeAhead(c);
  ahead?.catch(() => undefined);
  const [froze, ended] = await Promise.allSettled([freezing, c.precopy?.done]);
  if (froze.status === 'rejected' || ended.status === 'rejected') {
    // Nothing may land at a destination after the rollback that follows has cleaned it.
    if (ahead) await raceTimer(ahead.then(() => true, () => true), c.o.settleMs ?? 5_000, c.scheduler, false);
    throw froze.status === 'rejected' ? froze.reason : (ended as PromiseRejectedResult).reason;
  }
  // Recorded while the final reads run: the record states what is already true, and a restart
  // that never saw it rolls back anyway (which unfreezes). Awaited before anything else is recorded.
  const frozen = c.o.machine.record({ type: 'frozen' });
  frozen.catch(() => undefined);
  const work = (async (): Promise<PauseOutcome> => {
    if (c.o.transfer) {
      if (!c.peer) throw new ControllerError('INTERNAL', 'peer-to-peer transfer needs pre-copy before the pause (the sources send the snapshot)');
      return { slots: await c.peer.finish(), aheadSlots: 0, activated: false };
    }
    // The final delta starts where the batch taken ahead was installed (or failed: then the pause fails with it).
    const aheadSlots = (await ahead) ?? 0;
    const finals = await c.each(c.sources, 'final delta', async (api, s) => withFolded(c, s, await api.finalDelta(c.ref, c.ledger.mark(s)), proofs));
    let slots = aheadSlots;
    for (const [s, b] of finals) slots += await c.install(s, b);
    return { slots, aheadSlots, activated: false };
  })();
  return { work, frozen };
}

/**
 * The pause pipelined: each source frozen and its final delta read in one call (freezeFinal),
 * then the final batches installed — the last one, at a single destination, with its
 * activation (importActivate) when the proof is complete with it. Nothing is taken ahead: over
 * the network that costs a round trip of its own.
 */
function pipelinedPause(c: PauseContext, proofs: Record<string, FinalProof>): PauseWork {
  const finals = (async () => {
    await c.precopy?.done;
    return c.each(c.sources, 'freeze and final delta', async (api, s) => {
      const freezeFinal = api.freezeFinal as NonNullable<DeviceApi['freezeFinal']>;
      return withFolded(c, s, await freezeFinal.call(api, c.ref, c.ledger.mark(s)), proofs);
    });
  })();
  // Recorded once the sources answered, while the final batches are installed.
  const frozen = finals.then(() => c.o.machine.record({ type: 'frozen' }));
  frozen.catch(() => undefined);
  const sourcesDone = finals.then(() => undefined);
  sourcesDone.catch(() => undefined);
  const work = (async (): Promise<PauseOutcome> => {
    const batches = [...(await finals)];
    const last = batches.pop();
    let slots = 0;
    for (const [s, b] of batches) slots += await c.install(s, b);
    if (!last) return { slots, aheadSlots: 0, activated: false };
    const activated = activatesWith(c, ...last);
    return { slots: slots + (await c.install(...last, activated)), aheadSlots: 0, activated };
  })();
  return { work, frozen, sourcesDone };
}

/** How long past the pause deadline a source frozen in its own transfer waits on its destinations before it undoes the freeze (ms). */
export const SOURCE_FROZEN_GRACE_MS = 1_000;

/**
 * The pause peer to peer, pipelined: one Transfer per source that freezes, sends the final delta
 * once its pre-copy transfer ended and — one source, one destination — activates with it
 * (TransferMode `final` with `freeze`, `activate`). No state passes through the controller, and
 * the pause waits for one call from it instead of three (freeze, final transfer, activation).
 */
function peerPause(c: PauseContext, peer: PeerRounds): PauseWork {
  // Under the abort policy a source stuck on a silent destination unfreezes itself soon after the
  // deadline (walkthrough 22: frozen 30 s); the grace lets this side's own deadline act first, and
  // a call that ends late but ends be settled as it is elsewhere. Under continue this side waits.
  const finished = peer.freezeFinish(true, c.o.onDeadline === 'continue' ? undefined : (c.o.pauseDeadlineMs ?? 50) + SOURCE_FROZEN_GRACE_MS);
  // Recorded once the sources answered (they froze before that), while nothing else is left to do.
  const frozen = finished.then(() => c.o.machine.record({ type: 'frozen' }));
  frozen.catch(() => undefined);
  const work = finished.then(({ slots, activated }) => ({ slots, aheadSlots: 0, activated }));
  return { work, frozen };
}

/**
 * Whether the pause's last batch may activate its destination in the same call (importActivate):
 * a single destination that offers it, and the proof complete with this batch — else it is
 * installed only, and activated after (or not: the caller decides).
 */
function activatesWith(c: PauseContext, source: string, batch: StateBatch): boolean {
  const [dest, ...more] = c.destinations;
  return dest !== undefined && more.length === 0 && c.api(dest).importActivate !== undefined && c.ledger.gapsWith(source, batch.coversSeq).length === 0;
}

/** A final batch with the removals pre-copy left to it (`folded`), its proof kept. */
function withFolded(c: PauseContext, source: string, b: StateBatch, proofs: Record<string, FinalProof>): StateBatch {
  if (b.proof) proofs[source] = b.proof;
  const left = c.folded.get(source) ?? [];
  return left.length > 0 ? { ...b, removed: [...left, ...b.removed] } : b;
}

/**
 * The pause's batches taken ahead of the final ones (DeviceApi.pauseDelta), from where the
 * ledger stands once pre-copy's last batch is in, installed at the destinations; resolves the
 * slots installed. Sources without pauseDelta leave everything to their final delta.
 */
async function takeAhead(c: PauseContext): Promise<number> {
  const taking = c.sources.filter((s) => c.api(s).pauseDelta !== undefined);
  if (taking.length === 0) return 0;
  await c.precopy?.done.catch(() => undefined);
  // One turn of the event loop first: Node's HTTP/2 puts the freeze's Write and Read on the
  // socket in the loop's check phase, so work run from here as microtasks would hold them back
  // by its own length (the first take-ahead measured no gain for exactly that reason).
  await new Promise<void>((resolve) => setImmediate(resolve));
  const batches = await c.each(taking, 'changes taken ahead', (api, s) => (api.pauseDelta as NonNullable<DeviceApi['pauseDelta']>).call(api, c.ref, c.ledger.mark(s)));
  let slots = 0;
  for (const [s, b] of batches) if (b.slots.length > 0 || b.removed.length > 0) slots += await c.install(s, b);
  return slots;
}
