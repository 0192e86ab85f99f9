/**
 * The engine's pre-copy and pause sync when the sources send their state straight to the
 * destinations (peer to peer): the controller starts one transfer per source, keeps the
 * completeness proof from their progress reports (the sequence marks every destination
 * acknowledged), journals a round per interval, and after the freeze waits for each source to
 * flush what it still held, then has it send the final delta from the first sequence not proven.
 * No state passes through the controller.
 */
import { firstValueFrom, lastValueFrom, timer } from 'rxjs';
import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import { planForSource, transferState } from '../../plugin/index.js';
import type { DeviceApi, MigrationRef, SplitPlan, TransferProgress, TransferRequest } from '../../plugin/index.js';
import type { MigrationMachine } from '../migration/migration-machine.js';
import type { EntryTally } from './entry-tally.js';
import type { ConvergencePolicy } from '../precopy/delta-rounds.js';
import { raceTimer } from './race-timer.js';
import { RoundReports } from './round-reports.js';
import type { SeqLedger } from './seq-ledger.js';

/** The peer rounds' wait for reports is not cut short by the pause (their interval is not either). */
const NEVER_WOKEN = new Promise<void>(() => undefined);

/** Starts a transfer of migration `m` at source `source` (in process, or over the migration protocol). */
export type TransferStarter = (source: string, m: MigrationRef, request: TransferRequest) => Observable<TransferProgress>;

/**
 * Transfers between device APIs of this process: each source's plugin sends to the destinations'
 * plugins directly (the in-process transport of the same transfer a plugin daemon runs).
 */
export function inProcessTransfer(apis: ReadonlyMap<string, DeviceApi>): TransferStarter {
  const api = (n: string): DeviceApi => {
    const a = apis.get(n);
    if (!a) throw new Error(`no device API for '${n}'`);
    return a;
  };
  return (source, m, request) => transferState({ source: api(source), peer: api }, m, request);
}

/** What the peer rounds share with the engine. */
export interface PeerRoundsDeps {
  readonly ref: MigrationRef;
  readonly sources: readonly string[];
  readonly plan: SplitPlan;
  readonly start: TransferStarter;
  readonly ledger: SeqLedger;
  readonly machine: MigrationMachine;
  readonly scheduler: SchedulerLike;
  readonly intervalMs: number;
  readonly policy: ConvergencePolicy;
  /** Wraps a failure with the step and device (the engine's reasons). */
  readonly failure: (e: unknown, what: string) => Error;
  /** The table entries the sources report sent (their complete lists), for the journal. */
  readonly entries: EntryTally;
  /** Sources whose transfers report their quiet pulls too (DeviceCapabilities.quietReports). */
  readonly reporting: readonly string[];
  /** Every source's transfer can freeze first and activate with the final batch (DeviceCapabilities.transferFreezes). */
  readonly freezing: boolean;
}

/** One pre-copy round as the engine reports it. */
export interface PeerRound {
  readonly round: number;
  readonly slots: number;
  readonly batches: number;
}

/** The pre-copy transfers of one migration and what they reported. */
export class PeerRounds {
  private readonly subs: Subscription[] = [];
  private readonly ended = new Map<string, Promise<void>>();
  private failed: Error | undefined;
  /** Progress not yet counted in a round. */
  private pending = { slots: 0, batches: 0 };
  /** Largest batches merged at any source (flow control), for the report. */
  merged = 0;
  /** Which reporting sources told of a pull since the last round (a quiet one too). */
  private readonly reports: RoundReports;

  constructor(private readonly d: PeerRoundsDeps) {
    this.reports = new RoundReports(d.reporting);
  }

  private onProgress(source: string, p: TransferProgress): void {
    // The snapshot starts the proof; a final transfer numbers its one batch 0 too, and must not
    // restart it (that would hide every gap before the final batch).
    if (p.round === 0 && !p.final) this.d.ledger.start(source, p.coversSeq.from);
    this.d.ledger.record(source, p.coversSeq);
    if (p.tableEntries !== undefined) this.d.entries.note(source, p.tableEntries);
    this.pending = { slots: this.pending.slots + p.slots, batches: this.pending.batches + 1 };
    this.merged = Math.max(this.merged, p.merged);
    if (p.round > 0) this.reports.note(source);
  }

  /**
   * Starts a transfer at every source; resolves with the rounds once the snapshot reached every
   * destination and then `isStopped()` or the convergence policy ended pre-copy. The transfers go
   * on sending until the sources freeze.
   */
  async precopy(isStopped: () => boolean): Promise<PeerRound[]> {
    const snapshots = new Map<string, Promise<void>>();
    for (const s of this.d.sources) {
      let snapshotIn: () => void = () => undefined;
      let snapshotFailed: (e: unknown) => void = () => undefined;
      snapshots.set(s, new Promise<void>((ok, ko) => {
        snapshotIn = ok;
        snapshotFailed = ko;
      }));
      this.ended.set(s, new Promise<void>((ok, ko) => {
        this.subs.push(this.d.start(s, this.d.ref, { plan: planForSource(this.d.plan, s), mode: { kind: 'precopy' } }).subscribe({
          next: (p) => {
            this.onProgress(s, p);
            if (p.round === 0) snapshotIn();
          },
          error: (e: unknown) => {
            this.failed ??= this.d.failure(e, `peer transfer from ${s}`);
            snapshotFailed(this.failed);
            ko(this.failed);
          },
          complete: () => {
            snapshotFailed(this.d.failure(new Error('the transfer ended before the snapshot arrived'), `peer transfer from ${s}`));
            ok();
          },
        }));
      }));
      this.ended.get(s)?.catch(() => undefined);
    }
    await Promise.all(snapshots.values());
    const first = this.take();
    this.reports.take();
    await this.d.machine.record({ type: 'round', round: 0, slots: first.slots, tableEntries: this.d.entries.take() });
    const rounds: PeerRound[] = [];
    for (let round = 1; round <= this.d.policy.maxRounds && !isStopped(); round++) {
      await firstValueFrom(timer(this.d.intervalMs, this.d.scheduler));
      // A pull still being read or sent when the interval ended is no quiet round (round-reports.ts).
      if (this.d.policy.convergedAtSlots >= 0) await this.reports.awaitAll(NEVER_WOKEN, this.d.intervalMs, this.d.scheduler);
      if (this.failed) throw this.failed;
      if (isStopped()) break;
      const heard = this.reports.take();
      const n = this.take();
      await this.d.machine.record({ type: 'round', round, slots: n.slots, tableEntries: this.d.entries.take() });
      rounds.push({ round, slots: n.slots, batches: n.batches });
      if (n.slots <= this.d.policy.convergedAtSlots && heard) break;
    }
    return rounds;
  }

  private take(): { slots: number; batches: number } {
    const t = this.pending;
    this.pending = { slots: 0, batches: 0 };
    return t;
  }

  /**
   * After the freeze: waits for every source to flush what it held, then has each send its final
   * delta from the first sequence the ledger has not proven; resolves with the slots installed
   * since the last round.
   */
  async finish(): Promise<number> {
    await Promise.all([...this.ended.values()]);
    await Promise.all(this.d.sources.map(async (s) => {
      try {
        const p = await lastValueFrom(this.d.start(s, this.d.ref, { plan: planForSource(this.d.plan, s), mode: { kind: 'final', sinceSeq: this.d.ledger.mark(s) } }));
        this.onProgress(s, p);
      } catch (e) {
        throw this.d.failure(e, `final delta from ${s}, peer to peer`);
      }
    }));
    return this.take().slots;
  }

  /** Whether the pause can be one call per source (freezeFinish): every source's transfer freezes by itself. */
  get freezes(): boolean {
    return this.d.freezing;
  }

  /**
   * The pause in one call per source: each source freezes, lets its pre-copy transfer end and
   * sends its final delta from the first sequence the ledger has not proven — with a single
   * source and destination and `activate`, together with the destination's activation when that
   * batch covers everything from there. Resolves the slots installed since the last round and
   * whether the destination is active; `frozen` is called once every source answered. With
   * `budgetMs` (the deadline policy abort) a source past it undoes its freeze itself.
   */
  async freezeFinish(activate: boolean, budgetMs?: number): Promise<{ slots: number; activated: boolean }> {
    const one = activate && this.d.sources.length === 1 && this.d.plan.destinations.length === 1;
    const finals = await Promise.all(this.d.sources.map(async (s) => {
      try {
        const p = await lastValueFrom(this.d.start(s, this.d.ref, { plan: planForSource(this.d.plan, s), mode: { kind: 'final', sinceSeq: this.d.ledger.mark(s), freeze: true, ...(one ? { activate: true } : {}), ...(budgetMs !== undefined ? { budgetMs } : {}) } }));
        return [s, p] as const;
      } catch (e) {
        throw this.d.failure(e, `freeze and final delta at ${s}, peer to peer`);
      }
    }));
    // The pre-copy transfers ended at the sources before their final batches went (their last
    // progress is in the ledger before the final one is).
    await Promise.all([...this.ended.values()]);
    for (const [s, p] of finals) this.onProgress(s, p);
    return { slots: this.take().slots, activated: one && finals.every(([, p]) => p.activated === true) };
  }

  /** Waits (at most `ms`) for the transfers to end — before a rollback cleans the destinations. */
  async settle(ms: number): Promise<boolean> {
    const all = Promise.allSettled([...this.ended.values()]).then(() => true);
    return raceTimer(all, ms, this.d.scheduler, false);
  }

  /** Stops listening to the transfers (the sources stop at their freeze or abort). */
  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}
