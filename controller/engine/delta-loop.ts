/**
 * Pre-copy's delta rounds through the controller (DESIGN.md §7.4), after the snapshot is staged:
 * each source's delta stream queues batches, and every round installs what queued before it, the
 * next round starting only after that (backpressure). Rounds end when the VM paused (batches not
 * installed are left to the final delta), when the convergence policy says so, or past
 * `maxPending` queued slots (the destinations cannot keep up: the rest moves in the pause).
 */
import type { SchedulerLike } from 'rxjs';
import type { DeviceApi, MigrationRef, StateBatch } from '../../plugin/index.js';
import { isQuietBatch } from '../../plugin/index.js';
import type { MigrationMachine } from '../migration/migration-machine.js';
import type { ConvergencePolicy } from '../precopy/delta-rounds.js';
import { stepFailure } from './call-each.js';
import type { PrecopyRound } from './engine-types.js';
import { raceTimer } from './race-timer.js';
import { RoundReports } from './round-reports.js';
import type { SeqLedger } from './seq-ledger.js';

/** The engine's migration, as the rounds work with it. */
export interface DeltaLoopContext {
  readonly ref: MigrationRef;
  readonly sources: readonly string[];
  api(name: string): DeviceApi;
  /** The completeness proof: quiet reports' ranges go in directly. */
  readonly ledger: SeqLedger;
  readonly machine: MigrationMachine;
  readonly scheduler: SchedulerLike;
  /** Installs one batch of `source` at the destinations (recorded in the ledger); resolves the slots installed. */
  install(source: string, batch: StateBatch): Promise<number>;
  /** Keeps the removals of batches left to the final delta. */
  fold(left: readonly { source: string; batch: StateBatch }[]): void;
  /** The change in table entries held at the destinations since the last record that counted them. */
  takeEntries(): number;
}

/** When the rounds stop, and how often they run. */
export interface DeltaLoopOptions {
  /** The VM paused: no new round, and what queued is left to the final delta. */
  readonly isStopped: () => boolean;
  /** Resolves when the VM pauses: ends the wait between rounds at once. */
  readonly woken: Promise<void>;
  readonly intervalMs: number;
  readonly policy: ConvergencePolicy;
  /** Slots queued past which pre-copy ends. */
  readonly maxPending: number;
  /** Sources that report their quiet pulls (a round is converged only once each was heard). */
  readonly reporting: readonly string[];
}

/** Runs delta rounds until the VM pauses or the policy ends them; resolves the rounds installed. */
export async function deltaRounds(c: DeltaLoopContext, o: DeltaLoopOptions): Promise<PrecopyRound[]> {
  // Pushed batches queue here between rounds (see the file comment).
  const pending: { source: string; batch: StateBatch }[] = [];
  let queued = 0;
  let failed: unknown;
  const reports = new RoundReports(o.reporting);
  const subs = c.sources.map((source) =>
    c.api(source).exportDeltas(c.ref, reports.reports(source) ? { reportQuiet: true } : {}).subscribe({
      next: (batch) => {
        reports.note(source);
        // A quiet report: the log range it read needs nothing at the destinations.
        if (isQuietBatch(batch)) return void c.ledger.record(source, batch.coversSeq);
        pending.push({ source, batch });
        queued += batch.slots.length;
      },
      error: (e: unknown) => (failed = e),
    }),
  );
  const rounds: PrecopyRound[] = [];
  try {
    for (let round = 1; round <= o.policy.maxRounds && !o.isStopped(); round++) {
      await raceTimer(o.woken, o.intervalMs, c.scheduler, undefined);
      // Only a policy that can end pre-copy waits for a late report (-1, the demos' and benches', never does).
      if (o.policy.convergedAtSlots >= 0) await reports.awaitAll(o.woken, o.intervalMs, c.scheduler);
      if (failed !== undefined) throw stepFailure(failed, 'delta stream');
      if (o.isStopped()) break;
      const heard = reports.take();
      const take = pending.splice(0, pending.length);
      const overflowed = queued > o.maxPending;
      queued = 0;
      let n = 0;
      for (const [i, { source, batch }] of take.entries()) {
        if (o.isStopped()) {
          c.fold(take.slice(i));
          break;
        }
        n += await c.install(source, batch);
      }
      await c.machine.record({ type: 'round', round, slots: n, tableEntries: c.takeEntries() });
      rounds.push({ round, slots: n, batches: take.length });
      if (overflowed || (n <= o.policy.convergedAtSlots && heard)) break;
    }
    // Whatever queued since the last round: left to the final delta when the VM paused, else
    // installed now, so the pause has only the final delta.
    const rest = pending.splice(0, pending.length);
    if (o.isStopped()) c.fold(rest);
    else if (rest.length > 0) {
      let n = 0;
      for (const { source, batch } of rest) n += await c.install(source, batch);
      const round = rounds.length + 1;
      await c.machine.record({ type: 'round', round, slots: n, tableEntries: c.takeEntries() });
      rounds.push({ round, slots: n, batches: rest.length });
    }
  } finally {
    for (const s of subs) s.unsubscribe();
  }
  return rounds;
}
