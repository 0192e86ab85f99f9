/**
 * One pause window: runs the engine's `onPause` against a deadline and decides what QEMU is told.
 * The deadline is a timer started from the `pre-switchover` event's arrival, independent of the
 * handler, so a slow or stuck handler never holds the VM past it.
 */
import type { Clock, Logger, TimerHandle } from 'p4runtime-ts';
import type { MigrationPhaseHandler, PauseReport } from './phase-handler.js';

/** How late the deadline's timer may fire before the report says QEMU was held past the deadline (ms). */
const TIMER_SLACK_MS = 5;

/** What the window decided, the moment it decided. */
export interface PauseVerdict {
  readonly outcome: PauseReport['outcome'];
  readonly send: PauseReport['sent'];
  readonly detail: string | undefined;
}

/** A running pause window. */
export class PauseWindowRun {
  /** Settles once: handler verdict, deadline, handler failure, or preemption — whichever is first. */
  readonly verdict: Promise<PauseVerdict>;
  readonly deadlineAt: number;
  private decide!: (v: PauseVerdict) => void;
  private decided = false;
  private readonly controller = new AbortController();
  private readonly timer: TimerHandle;
  private readonly startedAt: number;
  private handlerEndedAt: number | undefined;
  private handlerDetail: string | undefined;

  constructor(
    handler: MigrationPhaseHandler,
    private readonly clock: Clock,
    readonly budgetMs: number,
    /** When the `pre-switchover` event arrived (clock time). */
    readonly receivedAt: number,
    onHandlerError: 'cancel' | 'continue',
    private readonly log: Logger,
    /** What QEMU is told when the deadline comes first: the engine's deadline policy must say the same. */
    private readonly onDeadlineSend: 'cancel' | 'continue' = 'continue',
  ) {
    this.verdict = new Promise((resolve) => (this.decide = resolve));
    this.deadlineAt = receivedAt + budgetMs;
    this.startedAt = clock.now();
    this.timer = clock.setTimeout(() => this.onDeadline(), Math.max(0, this.deadlineAt - clock.now()));
    const window = { deadlineAt: this.deadlineAt, budgetMs, signal: this.controller.signal };
    Promise.resolve()
      .then(() => handler.onPause(window))
      .then(
        (outcome) => {
          this.handlerEndedAt = this.clock.now();
          this.handlerDetail = outcome.decision === 'cancel' ? outcome.reason : outcome.detail;
          if (this.decided) {
            this.log.warn('pause handler returned after QEMU was released', { decision: outcome.decision, handlerMs: this.handlerMs });
            return;
          }
          if (outcome.decision === 'cancel') this.settle({ outcome: 'cancelled', send: 'migrate_cancel', detail: outcome.reason });
          else this.settle({ outcome: 'synced', send: 'migrate-continue', detail: outcome.detail });
        },
        (e: unknown) => {
          this.handlerEndedAt = this.clock.now();
          this.handlerDetail = `onPause threw: ${e instanceof Error ? e.message : String(e)}`;
          this.log.error('pause handler failed', { error: this.handlerDetail, policy: onHandlerError });
          if (!this.decided) this.settle({ outcome: 'handler-failed', send: onHandlerError === 'cancel' ? 'migrate_cancel' : 'migrate-continue', detail: this.handlerDetail });
        },
      );
  }

  /** How long the handler ran, if it has returned. */
  get handlerMs(): number | undefined {
    return this.handlerEndedAt === undefined ? undefined : this.handlerEndedAt - this.startedAt;
  }

  /** The handler's detail, reason or error, once it has returned. */
  get detail(): string | undefined {
    return this.handlerDetail;
  }

  /** QEMU left `pre-switchover` by itself (someone else continued or cancelled): nothing to send. */
  preempt(why: string): void {
    this.settle({ outcome: 'preempted', send: 'nothing', detail: why });
  }

  /** Ends the window now and lets the VM continue (the trigger is going away). */
  release(why: string): void {
    this.settle({ outcome: 'late', send: 'migrate-continue', detail: why });
  }

  /** Ends the window now and cancels the migration (the trigger was told to): the VM resumes at the source. */
  cancel(why: string): void {
    this.settle({ outcome: 'cancelled', send: 'migrate_cancel', detail: why });
  }

  private onDeadline(): void {
    // A timer fires late when this process is starved of CPU (walkthrough 14: 175 ms held against
    // 50): said so, rather than "on time".
    const lateMs = this.clock.now() - this.deadlineAt;
    const when = lateMs > TIMER_SLACK_MS ? `${Math.round(lateMs)} ms after the deadline (this process was not scheduled in time: the machine is loaded)` : 'on time';
    const why = `the pause-window sync did not finish within ${this.budgetMs} ms`;
    if (this.onDeadlineSend === 'cancel') this.settle({ outcome: 'late', send: 'migrate_cancel', detail: `${why}; the migration was cancelled ${when}, the VM resumes at the source` });
    else this.settle({ outcome: 'late', send: 'migrate-continue', detail: `${why}; QEMU released ${when}` });
    if (lateMs > TIMER_SLACK_MS) this.log.warn('the pause deadline was acted on late: QEMU was held past it', { budgetMs: this.budgetMs, lateMs: Math.round(lateMs) });
  }

  private settle(v: PauseVerdict): void {
    if (this.decided) return;
    this.decided = true;
    this.clock.clearTimeout(this.timer);
    // Whatever decided, the engine's work for this window is over now.
    this.controller.abort(new Error(`pause window closed: ${v.outcome}`));
    this.decide(v);
  }
}
