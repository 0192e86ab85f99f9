/**
 * The rollback's undo at a set of devices: each device's `abort` tried twice (a lost answer or a
 * passing fault is retried; abort is idempotent), all devices at once, the outcome per device.
 */
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, MigrationRef } from '../../plugin/index.js';

/** Which devices undid the migration and which did not (after two tries), with each failure's message. */
export interface UndoOutcome {
  readonly undone: string[];
  readonly failed: string[];
  readonly errors: Record<string, string>;
}

/** Calls `abort(ref)` at every named device (twice at most each), adding each name to `into.undone` or `into.failed`. */
export async function undoAt(names: readonly string[], api: (name: string) => DeviceApi, ref: MigrationRef, logger: Logger, into: UndoOutcome): Promise<void> {
  await Promise.all(
    names.map(async (n) => {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await api(n).abort(ref);
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
