/**
 * The QEMU trigger: follows one live migration through the source QEMU's monitor and drives the
 * migration engine's phases from it. It switches on `events` and `pause-before-switchover`, so
 * QEMU stops the VM in `pre-switchover` and waits; the trigger runs the engine's pause-window sync
 * against a deadline there, then sends `migrate-continue` (or `migrate_cancel` when the engine
 * says so). It can start the migration itself or follow one an operator or libvirt starts.
 */
import { Subject } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import type { Logger, TimerHandle } from 'p4runtime-ts';
import { QmpError } from '../qmp/index.js';
import type { QmpClient, QmpEvent } from '../qmp/index.js';
import { QemuTriggerError } from './errors.js';
import { isInProgress, phaseOf, statusRank, TERMINAL_STATUSES } from './migration-status.js';
import type { TriggerPhase } from './migration-status.js';
import { parseQemuTriggerOptions } from './options.js';
import type { QemuTriggerOptions, ResolvedQemuTriggerOptions } from './options.js';
import { PauseWindowRun } from './pause-window.js';
import type { TriggerFailure, MigrationPhaseHandler, QemuMigrationReport, StatusSeen } from './phase-handler.js';
import { failureOf, pauseReportOf } from './trigger-outcome.js';
import type { PauseSent } from './trigger-outcome.js';
import { destinationStatus, finalMigrationInfo, queryMigration, setCapabilities } from './qemu-queries.js';
import { preparePauseCapabilities } from './pause-capabilities.js';
import { checkDestination, openMonitor } from './qemu-monitors.js';
import type { MigrationInfo } from './qemu-queries.js';

/** A phase change, for observers (logs, UIs); the engine is driven through its handler. */
export interface TriggerPhaseChange {
  readonly phase: TriggerPhase;
  readonly qemuStatus: string;
  readonly at: number;
}

/** Follows one migration of one source QEMU. */
export class QemuTrigger {
  /** Phase changes; completes when the migration ends, errors when the monitor is lost. */
  readonly phases: Observable<TriggerPhaseChange>;
  /** The report when the migration ends; rejects QMP_LOST or CLOSED. */
  readonly finished: Promise<QemuMigrationReport>;
  private readonly phaseSubject = new Subject<TriggerPhaseChange>();
  private readonly log: Logger;
  private phaseValue: TriggerPhase = 'idle';
  private rank = 0;
  private readonly statuses: StatusSeen[] = [];
  private startedByTrigger = false;
  private pause: PauseWindowRun | undefined;
  private pauseSent: PauseSent | undefined;
  private pauseAction: Promise<void> = Promise.resolve();
  private preSwitchoverQemuAt: number | undefined;
  private heldQemuMs: number | undefined;
  private handlerChain: Promise<void> = Promise.resolve();
  private ending = false;
  private resolveFinished!: (r: QemuMigrationReport) => void;
  private rejectFinished!: (e: QemuTriggerError) => void;
  private eventSub: Subscription | undefined;
  private destinationSub: Subscription | undefined;
  /** QEMU's timestamp of the source's last STOP (undefined once it resumed there). */
  private stoppedQemuAt: number | undefined;
  /** QEMU's timestamp of the destination's first RESUME after that STOP. */
  private resumedQemuAt: number | undefined;
  private closed = false;
  /** Why the trigger itself cancelled the migration (cancelMigration), for the report. */
  private cancelledWhy: string | undefined;
  /** Why the pause window's command to QEMU failed, when it did. */
  private pauseSendError: string | undefined;
  private terminalSeen!: (status: string) => void;
  /** Settles with QEMU's terminal status as soon as it is seen (before the handler runs). */
  private readonly terminalP = new Promise<string>((r) => (this.terminalSeen = r));
  private leftPrecopy!: () => void;
  /** Settles when the migration leaves pre-copy (paused, ended, or monitor lost). */
  private readonly leftPrecopyP = new Promise<void>((r) => (this.leftPrecopy = r));

  private constructor(
    private readonly opts: ResolvedQemuTriggerOptions,
    private readonly source: QmpClient,
    private readonly destination: QmpClient | undefined,
    private readonly owned: readonly QmpClient[],
    /** Capabilities as they were before we changed them, restored when we are done. */
    private readonly restoreCaps: Readonly<Record<string, boolean>> | undefined,
    private readonly pauseWindow: boolean,
  ) {
    this.phases = this.phaseSubject.asObservable();
    this.log = opts.logger.child({ trigger: source.description });
    this.finished = new Promise<QemuMigrationReport>((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    this.finished.catch(() => undefined); // a caller who never awaits must not crash the process
  }

  /**
   * Connects to the source (and destination) monitor, prepares the source's capabilities and
   * learns where a migration stands (`query-migrate`), following it if one is in progress.
   * @example
   * const trigger = await QemuTrigger.attach({ source: 'unix:/run/src.qmp', handler: engine, pauseDeadlineMs: 100 });
   * await trigger.startMigration('tcp:10.0.0.2:4444');
   * const report = await trigger.finished; // report.qemuDowntimeMs, report.pause?.heldMs
   */
  static async attach(options: QemuTriggerOptions): Promise<QemuTrigger> {
    const opts = parseQemuTriggerOptions(options);
    const owned: QmpClient[] = [];
    try {
      const source = await openMonitor(opts, opts.source, owned);
      const destination = opts.destination === undefined ? undefined : await openMonitor(opts, opts.destination, owned);
      if (destination) await checkDestination(destination, opts.commandTimeoutMs);
      // Listen before asking, so no status change falls between the answer and the subscription.
      const early: QmpEvent[] = [];
      const earlySub = source.events.subscribe({ next: (e) => early.push(e), error: () => undefined });
      const { info, seq } = await queryMigration(source, opts.commandTimeoutMs);
      const { restore, pauseWindow } = await preparePauseCapabilities(source, info.status, isInProgress(info.status), opts.requirePauseWindow, opts.commandTimeoutMs);
      const trigger = new QemuTrigger(opts, source, destination, owned, restore, pauseWindow);
      trigger.log.info('trigger attached', { qemuStatus: info.status, pauseWindow, changedCapabilities: restore === undefined ? [] : Object.keys(restore) });
      earlySub.unsubscribe();
      trigger.listen();
      if (isInProgress(info.status)) trigger.onStatus({ status: info.status, qemuAtMs: NaN, receivedAt: opts.clock.now() });
      for (const e of early) if (e.seq > seq) trigger.onEvent(e);
      return trigger;
    } catch (e) {
      for (const c of owned) await c.close();
      throw QemuTriggerError.from(e, 'attaching the QEMU trigger');
    }
  }

  /** The current phase. */
  get phase(): TriggerPhase {
    return this.phaseValue;
  }

  /**
   * Starts the migration (`migrate` with `uri`, e.g. `tcp:10.0.0.2:4444`); refuses with
   * MIGRATION_ACTIVE when one is already being followed.
   */
  async startMigration(uri: string): Promise<void> {
    if (this.phaseValue !== 'idle' || this.ending) {
      throw new QemuTriggerError('MIGRATION_ACTIVE', `cannot start a migration on ${this.source.description}: one is already in phase ${this.phaseValue}`);
    }
    if (typeof uri !== 'string' || uri.length === 0) throw new QemuTriggerError('BAD_OPTIONS', 'startMigration(uri): expected a migration URI such as "tcp:10.0.0.2:4444"');
    this.startedByTrigger = true;
    try {
      await this.source.execute('migrate', { uri }, { timeoutMs: this.opts.commandTimeoutMs });
    } catch (e) {
      if (this.phaseValue === 'idle') this.startedByTrigger = false;
      throw QemuTriggerError.from(e, `starting the migration to ${uri}`);
    }
  }

  /**
   * Cancels the migration being followed (`migrate_cancel`; a VM held in `pre-switchover` through
   * its pause window) so the VM runs on at the source, and waits up to `timeoutMs` for QEMU to
   * end it. Resolves with QEMU's last status (`cancelled` once it did; `none` when no migration
   * was started); rejects when QEMU could not be told. The handler then hears `onFailed` as usual.
   */
  async cancelMigration(why: string, timeoutMs = 3_000): Promise<string> {
    const last = (): string => this.statuses[this.statuses.length - 1]?.status ?? 'none';
    // Idle with our own `migrate` in flight is a migration too: QEMU may not have said so yet.
    if (this.ending || (this.phaseValue === 'idle' && !this.startedByTrigger)) return last();
    this.cancelledWhy = why;
    if (this.pause && !this.pauseSent) {
      this.pause.cancel(why);
      if (!(await this.within(this.pauseAction, timeoutMs))) throw new QemuTriggerError('QMP', `migrate_cancel on ${this.source.description}: no answer within ${timeoutMs} ms`);
      if (this.pauseSendError !== undefined) throw new QemuTriggerError('QMP', `migrate_cancel on ${this.source.description}: ${this.pauseSendError}`);
    } else if (!this.pauseSent) {
      try {
        await this.source.execute('migrate_cancel', undefined, { timeoutMs });
      } catch (e) {
        throw QemuTriggerError.from(e, `migrate_cancel on ${this.source.description}`);
      }
    }
    await this.within(this.terminalP, timeoutMs);
    return last();
  }

  /**
   * Lets a VM held in `pre-switchover` switch over now (`migrate-continue`, as `close()` does),
   * without waiting for the handler; resolves true once QEMU was told (or the window had already
   * closed), false when nothing was sent within `timeoutMs` or the command failed.
   */
  async releasePause(why: string, timeoutMs = 3_000): Promise<boolean> {
    // No window open or coming (none asked for, or the migration ended): nothing holds the VM.
    if (!this.pause) return !this.pauseWindow || this.ending;
    if (!this.pauseSent) this.pause.release(why);
    return (await this.within(this.pauseAction, timeoutMs)) && this.pauseSendError === undefined;
  }

  /** Whether `p` settled within `ms` on the trigger's clock. */
  private async within(p: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: TimerHandle | undefined;
    const late = new Promise<false>((r) => (timer = this.opts.clock.setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([p.then(() => true, () => true), late]);
    } finally {
      if (timer !== undefined) this.opts.clock.clearTimeout(timer);
    }
  }

  /**
   * Stops following. A VM held in `pre-switchover` is released first; capabilities the trigger
   * switched on are switched off again when no migration runs; monitors it opened are closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.phaseValue === 'precopy' && !this.ending) {
      // With pause-before-switchover on, QEMU would wait in pre-switchover for a trigger that is
      // gone: stay until it pauses and release it at once (the handler is not called any more).
      this.log.warn('trigger closing during pre-copy: QEMU will be released as soon as it pauses');
      await this.leftPrecopyP;
    }
    if (this.pause && !this.pauseSent) this.pause.release('the trigger was closed during the pause window; QEMU released');
    await this.pauseAction;
    if (!this.ending) {
      this.ending = true;
      if (this.phaseValue === 'idle') await this.restoreCapabilities();
      this.rejectFinished(new QemuTriggerError('CLOSED', `the trigger on ${this.source.description} was closed in phase ${this.phaseValue}`));
      this.phaseSubject.complete();
    }
    this.eventSub?.unsubscribe();
    this.destinationSub?.unsubscribe();
    for (const c of this.owned) await c.close();
  }

  private listen(): void {
    this.eventSub = this.source.events.subscribe({
      next: (e) => this.onEvent(e),
      error: (e: unknown) => this.onMonitorLost(QmpError.from(e)),
    });
    // The destination's RESUME ends the VM's downtime as the VM sees it; a lost destination
    // monitor only costs that figure (and the run-state check after completion).
    this.destinationSub = this.destination?.events.subscribe({
      next: (e) => {
        if (e.event === 'RESUME' && this.stoppedQemuAt !== undefined && this.resumedQemuAt === undefined && e.timestampMs >= this.stoppedQemuAt) this.resumedQemuAt = e.timestampMs;
      },
      error: () => undefined,
    });
  }

  private onEvent(e: QmpEvent): void {
    if (e.event === 'STOP' || e.event === 'RESUME') {
      if (!this.ending) this.stoppedQemuAt = e.event === 'STOP' && !Number.isNaN(e.timestampMs) ? e.timestampMs : undefined;
      return;
    }
    if (e.event !== 'MIGRATION') return;
    const status = e.data.status;
    if (typeof status !== 'string') {
      this.log.warn('MIGRATION event without a status ignored', { data: e.data });
      return;
    }
    this.onStatus({ status, qemuAtMs: e.timestampMs, receivedAt: e.receivedAt });
  }

  private onStatus(s: StatusSeen): void {
    if (this.ending) return;
    const r = statusRank(s.status);
    if (r === undefined || r <= this.rank) {
      this.log.debug('migration status ignored (unknown or older than what we know)', { status: s.status, known: this.phaseValue });
      return;
    }
    this.rank = r;
    this.statuses.push(s);
    this.log.info('qemu migration status', { status: s.status });
    if (this.preSwitchoverQemuAt !== undefined && this.heldQemuMs === undefined && s.status !== 'pre-switchover') {
      this.heldQemuMs = s.qemuAtMs - this.preSwitchoverQemuAt;
    }
    if (this.phaseValue === 'idle') this.enterPrecopy(s);
    if (s.status === 'pre-switchover') {
      this.enterPause(s);
      return;
    }
    if (this.pause && !this.pauseSent) this.pause.preempt(`QEMU moved to '${s.status}' before the trigger released it`);
    if (TERMINAL_STATUSES.has(s.status)) this.terminalSeen(s.status);
    if (TERMINAL_STATUSES.has(s.status)) void this.finish(s.status as QemuMigrationReport['outcome']);
    else if (s.status !== 'cancelling' && phaseOf(s.status) !== this.phaseValue) this.setPhase(phaseOf(s.status), s);
  }

  private enterPrecopy(s: StatusSeen): void {
    this.setPhase('precopy', s);
    const info = { qemuStatus: s.status, pauseWindow: this.pauseWindow, startedByTrigger: this.startedByTrigger };
    this.callHandler('onPrecopy', () => this.opts.handler.onPrecopy(info));
  }

  private enterPause(s: StatusSeen): void {
    this.setPhase('pause', s);
    this.preSwitchoverQemuAt = Number.isNaN(s.qemuAtMs) ? undefined : s.qemuAtMs;
    const handler = this.closed ? CLOSED_HANDLER : this.opts.handler;
    const run = new PauseWindowRun(handler, this.opts.clock, this.opts.pauseDeadlineMs, s.receivedAt, this.opts.onHandlerError, this.log, this.opts.onDeadline);
    this.pause = run;
    if (this.closed) run.release('the trigger was closed during pre-copy; QEMU released at once');
    // The handler's later calls wait for the window to close, not for a late handler to return.
    this.handlerChain = this.handlerChain.then(() => run.verdict.then(() => undefined));
    this.pauseAction = run.verdict.then(async (v) => {
      this.pauseSent = { at: this.opts.clock.now(), sent: v.send, outcome: v.outcome, detail: v.detail };
      this.log.info('pause window closed', { outcome: v.outcome, sent: v.send, heldMs: this.pauseSent.at - run.receivedAt });
      if (v.send === 'nothing') return;
      try {
        if (v.send === 'migrate-continue') await this.source.execute('migrate-continue', { state: 'pre-switchover' }, { timeoutMs: this.opts.commandTimeoutMs });
        else await this.source.execute('migrate_cancel', undefined, { timeoutMs: this.opts.commandTimeoutMs });
      } catch (e) {
        const err = QmpError.from(e);
        this.pauseSendError = err.message;
        this.pauseSent = { ...this.pauseSent, detail: `${this.pauseSent.detail ?? v.outcome}; ${v.send} failed: ${err.message}` };
        this.log.warn('releasing QEMU from pre-switchover failed', { command: v.send, code: err.code, error: err.message });
      }
    });
    this.leftPrecopy();
  }

  private async finish(outcome: QemuMigrationReport['outcome']): Promise<void> {
    this.ending = true;
    this.leftPrecopy();
    await this.pauseAction;
    let info: MigrationInfo | undefined;
    try {
      info = await finalMigrationInfo(this.source, this.opts.clock, this.opts.commandTimeoutMs);
    } catch (e) {
      this.log.warn('query-migrate after the end failed', { error: QmpError.from(e).message });
    }
    await this.restoreCapabilities();
    const dst = outcome === 'completed' && this.destination ? await destinationStatus(this.destination, this.opts.destinationTimeoutMs, this.opts.commandTimeoutMs) : undefined;
    const reason = failureOf(outcome, this.pauseSent, this.cancelledWhy, info?.errorDesc);
    const report: QemuMigrationReport = {
      outcome,
      reason,
      startedByTrigger: this.startedByTrigger,
      pause: pauseReportOf(this.pause, this.pauseSent, this.heldQemuMs),
      qemuDowntimeMs: info?.downtimeMs,
      guestDowntimeMs: outcome === 'completed' && this.stoppedQemuAt !== undefined && this.resumedQemuAt !== undefined ? this.resumedQemuAt - this.stoppedQemuAt : undefined,
      totalTimeMs: info?.totalTimeMs,
      transferredBytes: info?.transferredBytes,
      destinationStatus: dst,
      statuses: [...this.statuses],
    };
    if (outcome === 'completed') this.callHandler('onCompleted', () => this.opts.handler.onCompleted(report));
    else this.callHandler('onFailed', () => this.opts.handler.onFailed(reason!, report));
    await this.handlerChain;
    this.setPhase(outcome === 'completed' ? 'committed' : 'rolled-back', this.statuses[this.statuses.length - 1]!);
    this.phaseSubject.complete();
    this.resolveFinished(report);
  }

  private onMonitorLost(err: QmpError): void {
    if (this.pause && !this.pauseSent) this.pause.preempt(`the monitor was lost during the pause window: ${err.message}`);
    const wasEnding = this.ending;
    this.ending = true;
    this.leftPrecopy();
    if (wasEnding && this.phaseValue !== 'idle' && this.statuses.some((s) => TERMINAL_STATUSES.has(s.status))) return; // finish() reports what it could learn
    const lost = new QemuTriggerError('QMP_LOST', `lost the source monitor ${this.source.description} in phase ${this.phaseValue}; the migration's outcome is unknown (${err.message})`, { cause: err });
    this.log.error('source monitor lost', { phase: this.phaseValue, error: err.message });
    // Released from pre-switchover, the VM may be switching over: a rollback could strand it at
    // the destination without its state (walkthrough 14). The destination's monitor tells.
    if (this.pauseSent?.sent === 'migrate-continue') {
      this.afterReleasedLoss(lost).catch((e: unknown) => {
        this.log.error('ending after the lost monitor failed', { error: e instanceof Error ? e.message : String(e) });
        this.rejectFinished(lost);
      });
      return;
    }
    if (this.phaseValue !== 'idle') {
      const reason: TriggerFailure = { code: 'qmp-lost', message: lost.message };
      this.callHandler('onFailed', () => this.opts.handler.onFailed(reason, undefined));
    }
    void this.handlerChain.then(() => {
      this.phaseSubject.error(lost);
      this.rejectFinished(lost);
    });
  }

  /** The source's monitor lost after `migrate-continue`: completed if the destination runs the VM, else left unknown. */
  private async afterReleasedLoss(lost: QemuTriggerError): Promise<void> {
    const status = this.destination ? await destinationStatus(this.destination, this.opts.destinationTimeoutMs, this.opts.commandTimeoutMs) : undefined;
    if (status === 'running') {
      this.log.warn('the source monitor was lost after QEMU was released, and the destination runs the VM: completed', { error: lost.message });
      await this.finish('completed');
      return;
    }
    const where = status === undefined ? 'no destination monitor was given (--qemu-destination) to ask' : `the destination's status is '${status}'`;
    const reason: TriggerFailure = { code: 'qmp-lost-released', message: `${lost.message}; QEMU had been released from pre-switchover and ${where}: the VM may run at either side` };
    this.callHandler('onFailed', () => this.opts.handler.onFailed(reason, undefined));
    void this.handlerChain.then(() => {
      this.phaseSubject.error(lost);
      this.rejectFinished(lost);
    });
  }

  private async restoreCapabilities(): Promise<void> {
    if (!this.restoreCaps || this.source.isClosed) return;
    try {
      await setCapabilities(this.source, this.restoreCaps, this.opts.commandTimeoutMs);
    } catch (e) {
      this.log.warn('could not restore migration capabilities', { capabilities: this.restoreCaps, error: QmpError.from(e).message });
    }
  }

  /** Runs handler calls one after another; a throwing handler is logged, never fatal here. */
  private callHandler(name: string, call: () => void | Promise<void>): void {
    if (this.closed) return;
    this.handlerChain = this.handlerChain.then(async () => {
      try {
        await call();
      } catch (e) {
        this.log.error('migration phase handler failed', { handler: name, error: e instanceof Error ? e.message : String(e) });
      }
    });
  }

  private setPhase(phase: TriggerPhase, s: StatusSeen): void {
    this.phaseValue = phase;
    this.phaseSubject.next({ phase, qemuStatus: s.status, at: s.receivedAt });
  }
}

/** Stands in for the engine once the trigger is closed: never asked, the window is released at once. */
const CLOSED_HANDLER: MigrationPhaseHandler = {
  onPrecopy: () => undefined,
  onPause: () => new Promise<never>(() => undefined),
  onCompleted: () => undefined,
  onFailed: () => undefined,
};
