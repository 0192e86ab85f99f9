/**
 * What `carryover migrate --check --trigger qemu:…` asks QEMU, reading only: the source's run
 * state, whether a migration is under way there and with which capabilities, whether it offers
 * `pause-before-switchover` at all; the destination's run state (it must wait for the incoming
 * migration). Nothing is set: attach() sets the capabilities when the migration really starts.
 */
import { QmpClient, QmpError } from '../qmp/index.js';
import { isInProgress } from './migration-status.js';
import { migrationCapabilities } from './pause-capabilities.js';
import { queryMigration } from './qemu-queries.js';

/** One thing QEMU would make the migration fail on (`refuse`), or worth knowing (`note`). */
export interface QemuFinding {
  readonly severity: 'refuse' | 'note';
  readonly detail: string;
}

/** What the check found. */
export interface QemuCheck {
  /** The source QEMU's run state (`query-status`), undefined when it could not be asked. */
  readonly sourceStatus?: string;
  /** Its migration's status (`query-migrate`; `none`: never ran). */
  readonly migration?: string;
  readonly destinationStatus?: string;
  readonly findings: readonly QemuFinding[];
}

/** Where the check looks: the monitors, and whether carryover would start the migration (`--migrate-uri`). */
export interface QemuCheckOptions {
  readonly source: string;
  readonly destination?: string;
  readonly startsMigration: boolean;
  readonly timeoutMs?: number;
}

/** Run states from which QEMU starts no migration of this VM. */
const CANNOT_LEAVE: Readonly<Record<string, string>> = {
  postmigrate: 'the VM already migrated away from this QEMU',
  inmigrate: 'this QEMU is itself waiting for an incoming migration (is it the destination\'s monitor?)',
  shutdown: 'the VM has shut down',
  'guest-panicked': 'the guest has panicked',
  'internal-error': 'QEMU stopped on an internal error',
};

/**
 * Asks the source (and destination) QEMU whether a migration followed by carryover could run now.
 * @example
 * const q = await checkQemu({ source: '/run/vm-7.qmp', startsMigration: false });
 * for (const f of q.findings) console.log(f.severity, f.detail);
 */
export async function checkQemu(o: QemuCheckOptions): Promise<QemuCheck> {
  const timeoutMs = o.timeoutMs ?? 5_000;
  const findings: QemuFinding[] = [];
  const refuse = (detail: string): number => findings.push({ severity: 'refuse', detail });
  const out: { sourceStatus?: string; migration?: string; destinationStatus?: string } = {};
  const source = await open(o.source, 'source', timeoutMs, refuse);
  if (source) {
    try {
      const { status } = await source.execute<{ status: string }>('query-status', undefined, { timeoutMs });
      out.sourceStatus = status;
      const why = CANNOT_LEAVE[status];
      if (why !== undefined) refuse(`source QEMU (${o.source}) is '${status}': ${why}; check where the VM runs now (the inventory's host)`);
      const { info } = await queryMigration(source, timeoutMs);
      out.migration = info.status;
      const state = await migrationCapabilities(source, timeoutMs);
      if (!state.has('pause-before-switchover')) refuse(`source QEMU (${o.source}) has no 'pause-before-switchover' capability (QEMU 2.11 or later has it): carryover would get no pause window to sync in`);
      if (isInProgress(info.status)) {
        if (o.startsMigration) refuse(`a migration is already ${info.status} on the source QEMU (${o.source}): --migrate-uri would be refused; follow it (leave out --migrate-uri) or wait for it to end`);
        else if (state.get('events') !== true || state.get('pause-before-switchover') !== true) refuse(`a migration is already ${info.status} on the source QEMU (${o.source}) without the 'events' and 'pause-before-switchover' capabilities, which cannot change while it runs: cancel it and start it again with carryover attached`);
        else findings.push({ severity: 'note', detail: `a migration is already ${info.status} on the source QEMU: carryover would follow it` });
      } else if (!o.startsMigration) findings.push({ severity: 'note', detail: `no migration under way on the source QEMU: carryover would wait for yours (or libvirt's) 'migrate', or start one with --migrate-uri` });
    } catch (e) {
      refuse(`source QEMU (${o.source}) did not answer as a QEMU monitor: ${QmpError.from(e).message}`);
    } finally {
      await source.close();
    }
  }
  if (o.destination !== undefined) {
    const destination = await open(o.destination, 'destination', timeoutMs, refuse);
    if (destination) {
      try {
        const { status } = await destination.execute<{ status: string }>('query-status', undefined, { timeoutMs });
        out.destinationStatus = status;
        if (status !== 'inmigrate') refuse(`destination QEMU (${o.destination}) is '${status}', not waiting for an incoming migration ('inmigrate': started with -incoming)`);
      } catch (e) {
        refuse(`destination QEMU (${o.destination}) did not answer as a QEMU monitor: ${QmpError.from(e).message}`);
      } finally {
        await destination.close();
      }
    }
  }
  return { ...out, findings };
}

/** A connected monitor, or undefined with the failure said. */
async function open(address: string, role: string, timeoutMs: number, refuse: (detail: string) => number): Promise<QmpClient | undefined> {
  try {
    return await QmpClient.connect({ address, commandTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs });
  } catch (e) {
    refuse(`${role} QEMU monitor ${address}: ${QmpError.from(e).message}`);
    return undefined;
  }
}
