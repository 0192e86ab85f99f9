/**
 * `carryover journal`: the inventory's journal as history — every migration it holds and how it
 * ended, one migration's records, and the pruning of finished ones (the journal otherwise grows by
 * one file per migration for good; field walkthrough 18 left 317 after a soak). Unfinished
 * migrations are what `carryover recover` needs: they are shown, never pruned.
 */
import { rmSync } from 'node:fs';
import { ControllerError } from './errors.js';
import { agreedTicketPath } from './federation/kept-ticket.js';
import { loadInventory } from './inventory/load-inventory.js';
import type { Inventory } from './inventory/inventory.js';
import { FileJournal } from './journal/file-journal.js';
import { journalHistory, pruneJournal } from './journal/journal-history.js';
import type { JournalEntry } from './journal/journal-history.js';
import { recoveryAction, replay } from './migration/transition.js';
import type { MigrateCommandIo } from './cli.js';
import { parseFlags } from '../plugin/cli-flags.js';

const HELP = `usage: carryover journal --config SITE.yaml [--vm NAME] [--migration-id ID] [--prune --older-than AGE [--dry-run]] [--json]

Shows the migrations in the inventory's journal directory, oldest first: when each started, its
VM and devices, and how it ended — committed (sources cleaned), rolled back (with the reason), or
unfinished (carryover recover finishes it).

options:
  --config FILE        the inventory (its 'journal' directory)
  --vm NAME            only this VM's migrations
  --migration-id ID    this migration's records, one per line, as recorded
  --prune              remove the records of finished migrations whose last record is older than
                       --older-than; an unfinished migration, or one whose records do not replay,
                       is never removed
  --older-than AGE     with --prune: a number and a unit, s m h or d (e.g. 30d, 12h)
  --dry-run            with --prune: say what would be removed, remove nothing
  --json               one JSON object
  -h, --help           this help

Exit status: 0 done, 1 a journal file could not be read or removed, 2 bad request.`;

const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d` → milliseconds; undefined when malformed. */
export function parseAge(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Number.isFinite(ms) ? ms : undefined;
}

const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** How one migration ended, in a few words. */
export function endedAs(e: JournalEntry): string {
  if (e.phase === 'COMMITTED') return e.finished ? 'committed, sources cleaned' : 'committed, sources not yet cleaned: run carryover recover';
  if (e.phase === 'ABORTED') {
    const why = e.abort ? ` (${e.abort.reason} in ${e.abort.inPhase})` : '';
    return e.finished ? `rolled back${why}` : `aborted${why}, rollback unfinished: run carryover recover`;
  }
  return `unfinished in ${e.phase}: run carryover recover (or it is running now)`;
}

/** One line per migration. */
function entryLine(e: JournalEntry): string {
  const took = e.lastAtMs - e.startedAtMs;
  return `${when(e.startedAtMs)}  ${e.migrationId}  VM ${e.vm}  ${e.sources.join(', ')} → ${e.destinations.join(', ')}  ${endedAs(e)}  (${took < 10_000 ? `${took} ms` : `${Math.round(took / 1000)} s`}, ${e.records} records)`;
}

/** Runs `carryover journal` with `argv`; resolves with the exit code. */
export async function runJournalCommand(argv: string[], io: MigrateCommandIo = { stdout: (l) => process.stdout.write(`${l}\n`), stderr: (l) => process.stderr.write(`${l}\n`) }, now: () => number = Date.now): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseFlags({
      args: argv,
      options: { config: { type: 'string' }, vm: { type: 'string' }, 'migration-id': { type: 'string' }, prune: { type: 'boolean' }, 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    io.stderr(`carryover journal: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (v['help']) {
    io.stdout(HELP);
    return 0;
  }
  const refuse = (message: string): number => {
    io.stderr(`carryover journal: ${message}`);
    return 2;
  };
  if (typeof v['config'] !== 'string') return refuse(`missing --config\n\n${HELP}`);
  const prune = v['prune'] === true;
  const olderThan = v['older-than'];
  if (prune && typeof olderThan !== 'string') return refuse('--prune needs --older-than AGE (e.g. 30d): how old a finished migration\'s last record must be to be removed');
  if (!prune && (olderThan !== undefined || v['dry-run'])) return refuse('--older-than and --dry-run belong to --prune');
  if (prune && (v['migration-id'] !== undefined || v['vm'] !== undefined)) return refuse('--prune removes finished migrations by age, across the journal: leave out --migration-id and --vm');
  const ageMs = typeof olderThan === 'string' ? parseAge(olderThan) : undefined;
  if (prune && ageMs === undefined) return refuse(`--older-than ${String(olderThan)}: expected a number and a unit, s m h or d (e.g. 30d, 12h)`);
  let inv: Inventory;
  try {
    inv = loadInventory(v['config']);
  } catch (e) {
    return refuse(ControllerError.from(e).message);
  }
  const journal = new FileJournal(inv.journal);
  const json = v['json'] === true;
  try {
    const id = v['migration-id'];
    if (typeof id === 'string') {
      const events = await journal.load(id);
      if (events.length === 0) return refuse(`migration ${id} is not in the journal (${inv.journal}); 'carryover journal --config ${v['config']}' lists them`);
      const s = replay(events);
      if (json) io.stdout(JSON.stringify({ journal: inv.journal, migrationId: id, vm: s.vm, phase: s.phase, finished: recoveryAction(s).kind === 'none', records: events }));
      else {
        io.stdout(`migration ${id} (VM ${s.vm}, ${s.sources.join(', ')} → ${s.destinations.join(', ')}), ${s.phase}:`);
        for (const e of events) {
          const { type, atMs, ...rest } = e as { type: string; atMs: number } & Record<string, unknown>;
          io.stdout(`  ${when(atMs)}  ${type}${Object.keys(rest).length > 0 ? `  ${JSON.stringify(rest)}` : ''}`);
        }
      }
      return 0;
    }
    if (prune) {
      const r = await pruneJournal(journal, { olderThanMs: ageMs as number, nowMs: now(), dryRun: v['dry-run'] === true });
      // The agreed ticket of a cross-domain migration is removed when it ends; one left by a crash goes with it.
      if (v['dry-run'] !== true) for (const e of r.removed) rmSync(agreedTicketPath(inv.journal, e.migrationId), { force: true });
      for (const u of r.unreadable) io.stderr(`carryover journal: the records of migration ${u.migrationId} do not replay (${u.error}); kept`);
      if (json) io.stdout(JSON.stringify({ journal: inv.journal, dryRun: v['dry-run'] === true, removed: r.removed.map((e) => e.migrationId), keptRecent: r.keptRecent, keptUnfinished: r.keptUnfinished, unreadable: r.unreadable }));
      else {
        const verb = v['dry-run'] === true ? 'would remove' : 'removed';
        for (const e of r.removed) io.stdout(`${verb} ${e.migrationId} (VM ${e.vm}, ${endedAs(e)}, last record ${when(e.lastAtMs)})`);
        io.stdout(`${verb} ${r.removed.length} finished migration${r.removed.length === 1 ? '' : 's'} older than ${String(olderThan)} from ${inv.journal}; kept ${r.keptRecent} newer and ${r.keptUnfinished} unfinished`);
      }
      return r.unreadable.length > 0 ? 1 : 0;
    }
    const { entries, unreadable } = await journalHistory(journal, typeof v['vm'] === 'string' ? v['vm'] : undefined);
    for (const u of unreadable) io.stderr(`carryover journal: the records of migration ${u.migrationId} do not replay (${u.error})`);
    if (json) io.stdout(JSON.stringify({ journal: inv.journal, migrations: entries, unreadable }));
    else if (entries.length === 0) io.stdout(`no migration${typeof v['vm'] === 'string' ? ` of VM ${v['vm']}` : ''} in ${inv.journal}`);
    else for (const e of entries) io.stdout(entryLine(e));
    return unreadable.length > 0 ? 1 : 0;
  } catch (e) {
    const err = ControllerError.from(e, 'journal');
    io.stderr(`carryover journal: ${err.code}: ${err.message}`);
    return 1;
  } finally {
    await journal.close();
  }
}
