/**
 * The ticket both domains agreed for a cross-domain migration, kept beside the journal of each
 * controller (`<journal>/<migration>.ticket.json`, readable by that controller alone) from the
 * agreement until the migration ends: `carryover recover`, or a restarted federation server, needs
 * it to reach plugins that require both domains' signatures after the process that agreed it is gone.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ticketFromWire, ticketToWire } from '../../plugin/index.js';
import type { MigrationTicket } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import { recoveryAction } from '../migration/transition.js';
import type { MigrationState } from '../migration/transition.js';

/** Where journal directory `dir` keeps migration `migrationId`'s agreed ticket. */
export function agreedTicketPath(dir: string, migrationId: string): string {
  return join(dir, `${migrationId}.ticket.json`);
}

/** Keeps `t` for migration `migrationId` in journal directory `dir`. */
export function keepAgreedTicket(dir: string, migrationId: string, t: MigrationTicket): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(agreedTicketPath(dir, migrationId), `${JSON.stringify(ticketToWire(t))}\n`, { mode: 0o600 });
}

/** The ticket kept for `migrationId`; undefined when none was kept. @throws ControllerError JOURNAL when it does not read. */
export function keptTicket(dir: string, migrationId: string): MigrationTicket | undefined {
  const path = agreedTicketPath(dir, migrationId);
  if (!existsSync(path)) return undefined;
  try {
    return ticketFromWire(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new ControllerError('JOURNAL', `${path}: the agreed ticket kept for migration ${migrationId} does not read (${(e as Error).message}); without it, plugins that require both domains' signatures refuse the recovery`, { cause: e });
  }
}

/** Removes the kept ticket once the migration in state `s` has ended (nothing left to recover). */
export function forgetTicketWhenEnded(dir: string, s: MigrationState): void {
  if (recoveryAction(s).kind === 'none') rmSync(agreedTicketPath(dir, s.migrationId), { force: true });
}
