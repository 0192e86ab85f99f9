/**
 * The engine-facing side of the QEMU trigger: what the migration engine implements
 * (`MigrationPhaseHandler`) and what the trigger tells it. The trigger turns QEMU's MIGRATION
 * statuses into these calls; the engine never sees QMP.
 */

/** What the engine learns when pre-copy starts. */
export interface PrecopyInfo {
  /** QEMU's migration status that started the phase (`setup`, `active`, or later when attached mid-way). */
  readonly qemuStatus: string;
  /** True when the trigger will hold the source in `pre-switchover` (an `onPause` will follow). */
  readonly pauseWindow: boolean;
  /** True when the trigger started the migration itself (`migrate`), false when it observed one. */
  readonly startedByTrigger: boolean;
}

/** The VM-not-running window the engine gets to finish the sync. */
export interface PauseWindow {
  /**
   * When the trigger decides without the handler (continue or cancel, by its `onDeadline`), on
   * the trigger's clock (ms since the epoch; by default `monotonicClock`: compare with
   * `monotonicClock.now()`, or count `budgetMs` from `onPause`).
   */
  readonly deadlineAt: number;
  /** The whole budget, ms from the `pre-switchover` event to the deadline. */
  readonly budgetMs: number;
  /** Aborted at the deadline (or when QEMU leaves `pre-switchover` on its own): stop working. */
  readonly signal: AbortSignal;
}

/**
 * The engine's verdict on the pause window: `continue` lets the VM switch over to the destination;
 * `cancel` aborts the migration (`migrate_cancel`), so the source VM resumes where its state is.
 */
export type PauseOutcome =
  | { readonly decision: 'continue'; readonly detail?: string }
  | { readonly decision: 'cancel'; readonly reason: string };

/** Why a migration ended without completing. */
export interface TriggerFailure {
  /**
   * `qemu-failed`: QEMU reported `failed` (message = its `error-desc`); `qemu-cancelled`: someone
   * cancelled it; `pause-cancelled`: the engine's own `cancel` verdict (or its handler threw);
   * `pause-deadline`: the deadline passed first and the trigger cancelled (`onDeadline: 'cancel'`);
   * `qmp-lost`: the monitor connection vanished before QEMU was released from pre-switchover (the
   * VM cannot have switched over: roll back); `qmp-lost-released`: it vanished after
   * `migrate-continue`, and no destination monitor says the VM runs there — the VM may run at
   * either side: roll nothing back, leave the migration to `carryover recover`.
   */
  readonly code: 'qemu-failed' | 'qemu-cancelled' | 'pause-cancelled' | 'pause-deadline' | 'qmp-lost' | 'qmp-lost-released';
  readonly message: string;
}

/** How the pause window went. */
export interface PauseReport {
  /**
   * `synced`: the handler said continue before the deadline; `late`: the deadline came first and
   * the trigger decided alone (`sent`: migrate-continue or migrate_cancel, by `onDeadline`); `cancelled`: the handler said cancel; `handler-failed`: it threw;
   * `preempted`: QEMU left `pre-switchover` before the trigger released it (someone else did).
   */
  readonly outcome: 'synced' | 'late' | 'cancelled' | 'handler-failed' | 'preempted';
  /** What the trigger sent QEMU. */
  readonly sent: 'migrate-continue' | 'migrate_cancel' | 'nothing';
  readonly budgetMs: number;
  /** Carryover's share of the downtime: the `pre-switchover` event's arrival to our command. */
  readonly heldMs: number | undefined;
  /** The same hold by QEMU's own event timestamps: `pre-switchover` to the next MIGRATION status. */
  readonly heldQemuMs: number | undefined;
  /** How long `onPause` ran; undefined when it had not returned when the report was made. */
  readonly handlerMs: number | undefined;
  /** The handler's detail or reason, its error message, or why the command failed. */
  readonly detail: string | undefined;
}

/** One QEMU migration status as seen, with QEMU's timestamp (NaN when it came from a query). */
export interface StatusSeen {
  readonly status: string;
  readonly qemuAtMs: number;
  readonly receivedAt: number;
}

/** What the trigger reports when the migration ends. */
export interface QemuMigrationReport {
  readonly outcome: 'completed' | 'failed' | 'cancelled';
  readonly reason: TriggerFailure | undefined;
  readonly startedByTrigger: boolean;
  /** Undefined when QEMU never entered `pre-switchover` (no pause window). */
  readonly pause: PauseReport | undefined;
  /**
   * QEMU's own `downtime` from `query-migrate` (it includes `pause.heldMs`). It ends when the
   * source has sent the last of the VM's state, not when the destination has loaded it.
   */
  readonly qemuDowntimeMs: number | undefined;
  /**
   * The downtime the VM sees: the source's STOP to the destination's RESUME, by the timestamps
   * QEMU puts on those events (each host's wall clock: exact on one host, off by the hosts' clock
   * offset across two). Undefined without the destination's monitor or when an event was missed.
   */
  readonly guestDowntimeMs: number | undefined;
  readonly totalTimeMs: number | undefined;
  readonly transferredBytes: number | undefined;
  /** The destination's `query-status` after completion, when its monitor was given. */
  readonly destinationStatus: string | undefined;
  readonly statuses: readonly StatusSeen[];
}

/** The migration engine, as the trigger drives it. Each call is made at most once per migration, in order. */
export interface MigrationPhaseHandler {
  /** Pre-copy began: the VM runs while its memory is copied; start streaming state. */
  onPrecopy(info: PrecopyInfo): void | Promise<void>;
  /**
   * The source VM is stopped in `pre-switchover`: finish the sync and say continue or cancel.
   * Should honour `window.signal`; if it has not returned by the deadline, the trigger decides
   * alone (`onDeadline`: `migrate-continue` by default, or `migrate_cancel`), the report says
   * `late`, and the verdict returned afterwards changes nothing: onCompleted or onFailed says
   * where the VM ended up.
   */
  onPause(window: PauseWindow): Promise<PauseOutcome>;
  /** QEMU completed the migration: the VM runs at the destination; commit. */
  onCompleted(report: QemuMigrationReport): void | Promise<void>;
  /** The migration failed, was cancelled, or the monitor was lost: roll back. */
  onFailed(reason: TriggerFailure, report: QemuMigrationReport | undefined): void | Promise<void>;
}
