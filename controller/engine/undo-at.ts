/**
 * The rollback's undo at a set of devices: each device's `abort` tried twice (a lost answer or a
 * passing fault is retried; abort is idempotent), all devices at once, the outcome per device.
 * A device still failing is retried for a while longer (retryUndo): a plugin daemon that died
 * mid-migration and is restarted by its supervisor answers again within seconds, and until it
 * does a frozen source drops the VM's traffic.
 */
import { firstValueFrom, timer } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import type { Logger } from 'p4runtime-ts';

/** Which devices undid the migration and which did not (after two tries), with each failure's message. */
export interface UndoOutcome {
  readonly undone: string[];
  readonly failed: string[];
  readonly errors: Record<string, string>;
  /** Set when the journal refused to record the rollback (its disk full?): the devices were undone all the same. */
  journalError?: string;
  /** Of `failed`, the destinations that may be active (the pause had begun): the VM's state may be live there too. */
  mayBeActive?: string[];
}

/** How long a rollback keeps trying a device whose undo failed twice, by default (ms). */
export const DEFAULT_UNDO_RETRY_MS = 30_000;

/** One device's undo: its `abort` of the migration, with the options that device gets. */
export type UndoOne = (name: string) => Promise<void>;

/** Calls `undo` at every named device (twice at most each), adding each name to `into.undone` or `into.failed`. */
export async function undoAt(names: readonly string[], undo: UndoOne, logger: Logger, into: UndoOutcome): Promise<void> {
  await Promise.all(
    names.map(async (n) => {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await undo(n);
          into.undone.push(n);
          return;
        } catch (e) {
          if (attempt === 1) {
            into.failed.push(n);
            into.errors[n] = (e as Error).message;
            logger.error('rollback failed at a device', { device: n, error: (e as Error).message });
          }
        }
      }
    }),
  );
}

/**
 * Retries `undo` at the devices in `into.failed` until each answers or `retryMs` pass on
 * `scheduler` (waits of 250 ms doubling to 1 s between tries); a device that answers moves from
 * `failed` to `undone`. `sources` are named in the warning (their traffic is dropped until then);
 * `retried` leaves devices out (default: all are retried).
 */
export async function retryUndo(into: UndoOutcome, undo: UndoOne, o: { readonly retryMs: number; readonly scheduler: SchedulerLike; readonly logger: Logger; readonly sources: readonly string[]; readonly retried?: (name: string) => boolean; readonly progress?: (line: string) => void }): Promise<void> {
  const waiting = into.failed.filter((n) => o.retried?.(n) ?? true);
  if (waiting.length === 0 || o.retryMs <= 0) return;
  const t0 = o.scheduler.now();
  const frozen = waiting.filter((n) => o.sources.includes(n));
  const line = `retrying the rollback for up to ${Math.round(o.retryMs / 1000)} s at ${waiting.join(', ')}, which did not answer${frozen.length > 0 ? ` (until it is undone, ${frozen.join(', ')} may hold the VM's traffic frozen: restart its plugin)` : ''}`;
  o.logger.warn(line, { devices: waiting.join(', ') });
  o.progress?.(line);
  await Promise.all(
    waiting.map(async (n) => {
      // Capped at 1 s: a frozen source drops the VM's traffic until the try after its daemon
      // is back (walkthrough 16: up to 5.4 s with a 4 s cap); a try costs one failed call.
      for (let wait = 250; ; wait = Math.min(wait * 2, 1_000)) {
        const left = o.retryMs - (o.scheduler.now() - t0);
        if (left <= 0) return;
        await firstValueFrom(timer(Math.ceil(Math.min(wait, left)), o.scheduler));
        try {
          await undo(n);
          into.failed.splice(into.failed.indexOf(n), 1);
          delete into.errors[n];
          into.undone.push(n);
          o.logger.info('rollback done at a device on a later try', { device: n, afterMs: Math.round(o.scheduler.now() - t0) });
          o.progress?.(`rollback done at ${n} after ${Math.round((o.scheduler.now() - t0) / 1000)} s of retries`);
          return;
        } catch (e) {
          into.errors[n] = (e as Error).message;
        }
      }
    }),
  );
}
