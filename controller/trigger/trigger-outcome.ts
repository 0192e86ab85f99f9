/**
 * What the QEMU trigger reports when a migration ends (qemu-trigger.ts): why it failed, from
 * QEMU's last status and what the pause window sent, and the pause window's own account. Pure,
 * so every combination is read in one place.
 */
import type { PauseWindowRun } from './pause-window.js';
import type { PauseReport, QemuMigrationReport, TriggerFailure } from './phase-handler.js';

/** What the trigger sent QEMU when the pause window closed, and when. */
export interface PauseSent {
  readonly at: number;
  readonly sent: PauseReport['sent'];
  readonly outcome: PauseReport['outcome'];
  readonly detail: string | undefined;
}

/** Why a migration that ended with `outcome` failed (undefined when it completed). */
export function failureOf(outcome: QemuMigrationReport['outcome'], pauseSent: PauseSent | undefined, cancelledWhy: string | undefined, errorDesc: string | undefined): TriggerFailure | undefined {
  if (outcome === 'completed') return undefined;
  if (pauseSent?.sent === 'migrate_cancel' && outcome === 'cancelled') {
    return pauseSent.outcome === 'late'
      ? { code: 'pause-deadline', message: pauseSent.detail ?? 'the pause deadline passed; the migration was cancelled' }
      : { code: 'pause-cancelled', message: pauseSent.detail ?? 'the pause handler cancelled the migration' };
  }
  if (outcome === 'cancelled') {
    return cancelledWhy !== undefined
      ? { code: 'qemu-cancelled', message: `the trigger cancelled the migration: ${cancelledWhy}` }
      : { code: 'qemu-cancelled', message: 'the migration was cancelled (migrate_cancel by someone other than the trigger)' };
  }
  return { code: 'qemu-failed', message: errorDesc ?? 'QEMU reported the migration failed and gave no error-desc' };
}

/** The pause window's account for the report (undefined when QEMU never paused). */
export function pauseReportOf(run: PauseWindowRun | undefined, sent: PauseSent | undefined, heldQemuMs: number | undefined): PauseReport | undefined {
  if (!run) return undefined;
  return {
    outcome: sent?.outcome ?? 'preempted',
    sent: sent?.sent ?? 'nothing',
    budgetMs: run.budgetMs,
    heldMs: sent && sent.sent !== 'nothing' ? sent.at - run.receivedAt : undefined,
    heldQemuMs,
    handlerMs: run.handlerMs,
    detail: sent?.detail ?? run.detail,
  };
}
