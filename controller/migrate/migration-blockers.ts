/**
 * What the journal says against starting a migration of a VM now: one left in flight, or an
 * ended one whose cleanup is still owed at a switch the new one uses (`carryover migrate`).
 */
import { FileJournal } from '../journal/file-journal.js';
import type { Inventory } from '../inventory/inventory.js';
import { unfinishedMigrations } from './recover-migrations.js';

/**
 * Whether a new migration of `vm` may start. A migration its controller left in flight (stopped
 * before it ended: no abort or commit recorded) may hold a frozen source or staged state: refused
 * until `carryover recover` finishes it. One that ended but whose cleanup did not finish
 * everywhere (a rollback or a source delete a device refused) blocks a migration using a switch
 * that cleanup still owes, and is only reported otherwise (a switch taken out of service).
 */
export async function unfinishedOf(inv: Inventory, vm: string, planned: readonly string[]): Promise<{ refuse?: string; warn?: string }> {
  let left;
  try {
    left = await unfinishedMigrations(new FileJournal(inv.journal), vm);
  } catch (e) {
    return { refuse: `the journal (${inv.journal}) cannot be read: ${(e as Error).message}` };
  }
  const list = (ss: typeof left): string => ss.map((s) => `${s.migrationId} (left in ${s.phase})`).join(', ');
  const inFlight = left.filter((s) => s.phase !== 'ABORTED' && s.phase !== 'COMMITTED');
  const ended = left.filter((s) => s.phase === 'ABORTED' || s.phase === 'COMMITTED');
  // The cleanup still owed there (a rollback's at both sides, a commit's at the sources) would undo
  // what this migration puts on the same switches (field walkthrough 15: a later recover wiped the
  // VM's live state at the destination it had been migrated to since).
  // Not where its cleanup did finish (`cleaned-at`): recovery leaves those switches alone.
  const owedAt = (s: (typeof left)[number]): readonly string[] => (s.phase === 'COMMITTED' ? s.sources : [...s.sources, ...s.destinations]).filter((n) => !s.cleanedAt.includes(n));
  const blocking = ended.filter((s) => owedAt(s).some((n) => planned.includes(n)));
  const other = ended.filter((s) => !blocking.includes(s));
  const refusals = [
    ...(inFlight.length > 0 ? [`VM ${vm} has a migration its controller left in flight: ${list(inFlight)}; its devices may hold a frozen source or staged state`] : []),
    ...blocking.map((s) => `an earlier migration of VM ${vm}, ${s.migrationId} (${s.phase === 'COMMITTED' ? 'committed' : 'aborted'}), did not finish its cleanup at ${owedAt(s).filter((n) => planned.includes(n)).join(', ')}, which this migration uses: run later, that cleanup would undo this migration's state there`),
  ];
  return {
    ...(refusals.length > 0 ? { refuse: `${refusals.join('; ')}. Run 'carryover recover --config ${inv.source}' first (carryover recover --help)` } : {}),
    ...(other.length > 0 ? { warn: `earlier migrations of VM ${vm} ended without their cleanup finishing everywhere: ${list(other)}; 'carryover recover' retries it` } : {}),
  };
}
