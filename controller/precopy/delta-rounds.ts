/**
 * Pre-copy delta rounds (DESIGN.md §7.4): while the VM runs, changes reach the controller two
 * ways — pushed (the data plane's sequenced notifications) and pulled (its change log, read
 * every round) — and are merged into one stream of rounds, each installed staged at the
 * destination before the next begins. Nothing buffers without bound: pushed changes are
 * de-duplicated by slot and capped at `maxPending`; past the cap the round falls back on the
 * pulled log alone, which covers every change by construction. Rounds stop when the trigger
 * says the VM paused (`stop$`), or when the policy says pre-copy converged.
 */
import { EMPTY, Observable, concat, defer, from, of, timer } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { concatMap, ignoreElements, map } from 'rxjs/operators';
import { monotonicScheduler } from '../monotonic-time.js';

/** One pushed change: a slot and the data plane's sequence number for it. */
export interface PushedChange {
  readonly slot: number;
  readonly seq: bigint;
}

/** What one pull of the change log returns: slots changed since `sinceSeq`, up to `toSeq`. */
export interface PulledLog {
  readonly slots: readonly number[];
  /** The log position read up to (the next pull starts here). */
  readonly toSeq: bigint;
}

/** One round: the slots to copy, and the log range it covers. */
export interface DeltaRound {
  readonly round: number;
  readonly slots: readonly number[];
  readonly fromSeq: bigint;
  readonly toSeq: bigint;
  /** Slots known from pushed notifications that the pull did not list (pushed ahead of the log). */
  readonly pushedOnly: number;
  /** Whether pushed changes overflowed `maxPending` this round (the pull alone was used). */
  readonly overflowed: boolean;
}

/** When pre-copy may stop by itself. */
export interface ConvergencePolicy {
  /** Stop after this many rounds whatever happens. */
  readonly maxRounds: number;
  /** Stop once a round copies at most this many slots (the rest fits in the pause). */
  readonly convergedAtSlots: number;
}

export interface DeltaRoundsOptions {
  readonly pushed$: Observable<PushedChange>;
  readonly pull: (sinceSeq: bigint) => Promise<PulledLog> | Observable<PulledLog>;
  /** Installs a round staged at the destinations; the next round waits for it (backpressure). */
  readonly install: (round: DeltaRound) => Promise<void> | Observable<void>;
  /** The pull position the snapshot ended at. */
  readonly startSeq: bigint;
  readonly intervalMs: number;
  readonly policy: ConvergencePolicy;
  readonly maxPending: number;
  /** Emits when the VM paused: no new round starts (a running one finishes). */
  readonly stop$?: Observable<unknown>;
  /** Timers of the round interval; default monotonicScheduler (a wall-clock step moves no round). */
  readonly scheduler?: SchedulerLike;
}

/**
 * Runs delta rounds; emits each round once installed, completes when stopped or converged.
 * @example
 * deltaRounds({ pushed$, pull, install, startSeq: snap.toSeq, intervalMs: 100, policy: { maxRounds: 30, convergedAtSlots: 200 }, maxPending: 65_536, stop$: paused$ })
 *   .subscribe((r) => log.info('round', { round: r.round, slots: r.slots.length }));
 */
export function deltaRounds(o: DeltaRoundsOptions): Observable<DeltaRound> {
  const scheduler = o.scheduler ?? monotonicScheduler;
  return new Observable<DeltaRound>((subscriber) => {
    const pending = new Set<number>();
    let overflowed = false;
    const pushSub = o.pushed$.subscribe({
      next: (c) => {
        if (overflowed) return;
        pending.add(c.slot);
        if (pending.size > o.maxPending) {
          // The pulled log covers every change: drop what we hold rather than grow without bound.
          overflowed = true;
          pending.clear();
        }
      },
      error: (e: unknown) => subscriber.error(e),
    });
    let seq = o.startSeq;
    let stopped = false;
    const stopSub = o.stop$?.subscribe(() => {
      stopped = true;
    });

    const oneRound = (round: number): Observable<DeltaRound> =>
      timer(o.intervalMs, scheduler).pipe(
        concatMap(() => (stopped ? EMPTY : defer(() => from(o.pull(seq))))),
        map((log) => {
          const pushed = [...pending];
          const wasOverflowed = overflowed;
          pending.clear();
          overflowed = false;
          const all = new Set(log.slots);
          let pushedOnly = 0;
          for (const s of pushed) if (!all.has(s)) {
            all.add(s);
            pushedOnly++;
          }
          const r: DeltaRound = { round, slots: [...all].sort((a, b) => a - b), fromSeq: seq, toSeq: log.toSeq, pushedOnly, overflowed: wasOverflowed };
          seq = log.toSeq;
          return r;
        }),
        // The next round waits until this one is installed: backpressure from the destination.
        concatMap((r) => concat(from(o.install(r)).pipe(ignoreElements()), of(r))),
      );

    let round = 1;
    let inner = EMPTY.subscribe();
    const loop = (): void => {
      if (stopped) return subscriber.complete();
      inner = oneRound(round).subscribe({
        next: (r) => {
          subscriber.next(r);
          round++;
          if (round > o.policy.maxRounds || r.slots.length <= o.policy.convergedAtSlots) subscriber.complete();
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          if (!subscriber.closed) loop();
        },
      });
    };
    loop();
    return () => {
      inner.unsubscribe();
      pushSub.unsubscribe();
      stopSub?.unsubscribe();
    };
  });
}
