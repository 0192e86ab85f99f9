/**
 * `carryover recover`: finishes what a controller left unfinished in its journal — rolls back a
 * migration it stopped in before activation, cleans the sources of one it committed, and settles
 * one it activated by asking QEMU (or the operator) where the VM runs. See
 * migrate/recover-migrations.ts.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControllerError } from './errors.js';
import { loadInventory } from './inventory/load-inventory.js';
import type { Inventory } from './inventory/inventory.js';
import { FileJournal } from './journal/file-journal.js';
import { checkJournalDir } from './journal/journal-dir.js';
import { readClaim } from './journal/vm-claim.js';
import { recoverMigrations, unfinishedMigrations } from './migrate/recover-migrations.js';
import { inPauseAt, recoveryAction } from './migration/transition.js';
import type { MigrationState } from './migration/transition.js';
import type { RecoveredMigration, VmWhereabouts } from './migrate/recover-migrations.js';
import type { MigrateCommandIo } from './cli.js';
import { parseFlags } from '../plugin/cli-flags.js';

const DEFAULT_P4INFO = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'p4', 'stateful_edge.p4info.txtpb');

const HELP = `usage: carryover recover --config SITE.yaml [--list] [--migration-id ID] [--trigger qemu:SOCK] [--vm-at source|destination] [--json]

Finishes the migrations a controller left unfinished in the inventory's journal (it was killed,
or its host went down), each the one safe way its last recorded phase allows:
  before activation     roll back: the destinations cleaned, the sources unfrozen (the source
                        stays authoritative); a QEMU migration still under way is cancelled
  committed             delete the VM's copies at the sources
  activated             only the hypervisor knows where the VM runs: QEMU's monitor is asked
                        (a VM still held in pre-switchover is released: the destinations were
                        activated), or --vm-at says; at the destination it commits, at the
                        source it rolls back
  in the pause          frozen, not yet activated: rolled back, or rolled forward (the
                        destinations activated) when QEMU completed or --vm-at destination says

options:
  --config FILE          the inventory the migration ran with (devices, VMs, journal directory)
  --migration-id ID      only this migration (default: every unfinished one)
  --trigger qemu:SOCK    the source QEMU's monitor (as given to carryover migrate)
  --vm-at WHERE          source | destination: where the VM runs now, for a migration activated
                         or stopped in its pause; one the journal contradicts (a committed
                         migration's VM at the source, one stopped before its pause at the
                         destination) is refused, nothing changed
  --list                 show the unfinished migrations and what recovery would do; change nothing
  --json                 the result as one JSON object
  -h, --help             this help

Exit status: 0 every migration recovered (or nothing to do), 1 one failed or needs the operator
(the journal keeps it open: run recover again), 2 bad request.`;

/** The line for one recovered migration. */
function line(r: RecoveredMigration): string[] {
  return [
    `migration ${r.migrationId} (VM ${r.vm}, left in ${r.phase}): ${r.outcome.toUpperCase().replace(/-/g, ' ')} — ${r.detail}`,
    ...(r.qemu ? [`  QEMU: ${r.qemu}`] : []),
    ...(r.counters ? [`  counters: ${r.counters}`] : []),
    ...(r.inventory ? [`  inventory: ${r.inventory}`] : []),
  ];
}

/** Runs `carryover recover` with `argv`; resolves with the exit code. */
export async function runRecoverCommand(argv: string[], io: MigrateCommandIo = { stdout: (l) => process.stdout.write(`${l}\n`), stderr: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseFlags({
      args: argv,
      options: { config: { type: 'string' }, 'migration-id': { type: 'string' }, trigger: { type: 'string' }, 'vm-at': { type: 'string' }, list: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    io.stderr(`carryover recover: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (v['help']) {
    io.stdout(HELP);
    return 0;
  }
  if (typeof v['config'] !== 'string') {
    io.stderr(`carryover recover: missing --config\n\n${HELP}`);
    return 2;
  }
  const vmAt = v['vm-at'];
  if (vmAt !== undefined && vmAt !== 'source' && vmAt !== 'destination') {
    io.stderr(`carryover recover: --vm-at ${String(vmAt)}: expected source or destination`);
    return 2;
  }
  const trigger = v['trigger'];
  if (trigger !== undefined && !/^qemu:.+/.test(String(trigger))) {
    io.stderr(`carryover recover: --trigger ${String(trigger)}: expected qemu:/path/to/the/source/qmp.sock`);
    return 2;
  }
  let inv: Inventory;
  try {
    inv = loadInventory(v['config']);
    checkJournalDir(inv);
  } catch (e) {
    io.stderr(`carryover recover: ${ControllerError.from(e).message}`);
    return 2;
  }
  const journal = new FileJournal(inv.journal);
  // A journal file that does not replay is named, and the others are still listed and recovered.
  const damaged: string[] = [];
  const unreadable = (migrationId: string, error: Error): void => {
    damaged.push(migrationId);
    io.stderr(`carryover recover: the journal of migration ${migrationId} cannot be replayed (${error.message}); it is left as it is — the others are recovered. Move ${migrationId}.journal.jsonl out of ${inv.journal} once its devices are checked by hand`);
  };
  try {
    const id = v['migration-id'];
    if (typeof id === 'string' && (await journal.load(id)).length === 0) {
      io.stderr(`carryover recover: migration ${id} is not in the journal (${inv.journal}); 'carryover recover --config ${v['config']} --list' shows the unfinished ones`);
      return 2;
    }
    if (v['list']) return await listUnfinished(journal, io, v['json'] === true, typeof id === 'string' ? id : undefined, vmAt === 'source' || vmAt === 'destination' ? vmAt : undefined, unreadable).then((code) => (damaged.length > 0 ? 1 : code));
    const results = await recoverMigrations({
      inventory: inv,
      journal,
      ...(typeof id === 'string' ? { migrationId: id } : {}),
      ...(vmAt ? { vmAt: vmAt as VmWhereabouts } : {}),
      ...(typeof trigger === 'string' ? { qemu: trigger.slice('qemu:'.length) } : {}),
      defaultP4info: DEFAULT_P4INFO,
      progress: (l) => io.stderr(`recover: ${l}`),
      unreadable,
    });
    if (v['json']) io.stdout(JSON.stringify({ journal: inv.journal, migrations: results }));
    else if (results.length === 0) io.stdout(`nothing to recover: no unfinished migration in ${inv.journal}`);
    else for (const r of results) for (const l of line(r)) io.stdout(l);
    return damaged.length === 0 && results.every((r) => r.outcome !== 'failed' && r.outcome !== 'needs-operator') ? 0 : 1;
  } catch (e) {
    const err = ControllerError.from(e, 'recovery');
    io.stderr(`carryover recover: ${err.code}: ${err.message}`);
    return err.code === 'BAD_CONFIG' ? 2 : 1;
  } finally {
    await journal.close();
  }
}

/**
 * What recovery does with `--vm-at` (walkthrough 17: `--list` ignored it, and showed a roll-back
 * where the run rolled forward). Refusals are those recoverMigrations makes.
 */
function withVmAt(s: MigrationState, action: string, vmAt: 'source' | 'destination' | undefined): string {
  if (vmAt === undefined) return action;
  const pause = inPauseAt(s, s.phase);
  if (action === 'ask-trigger') return vmAt === 'destination' ? 'commit (--vm-at destination: the sources cleaned)' : 'roll-back (--vm-at source: the destinations cleaned)';
  if (action === 'clean-sources') return vmAt === 'source' ? 'refused (--vm-at source: the journal says it committed)' : action;
  if (action === 'roll-back' && vmAt === 'destination') {
    if (s.phase === 'ABORTED' || (s.phase === 'PRECOPY' && s.activationDelegated === true)) return `refused (--vm-at destination: ${s.phase === 'ABORTED' ? 'the journal says it was aborted' : 'nothing of the pause is journalled; --trigger qemu: can say'})`;
    return pause ? 'roll-forward (--vm-at destination: the destinations activated with what they hold, the sources cleaned)' : 'refused (--vm-at destination: stopped before its pause)';
  }
  return action;
}

async function listUnfinished(journal: FileJournal, io: MigrateCommandIo, json: boolean, only: string | undefined, vmAt: 'source' | 'destination' | undefined, unreadable: (id: string, e: Error) => void): Promise<number> {
  const found = (await unfinishedMigrations(journal, undefined, unreadable)).filter((s) => only === undefined || s.migrationId === only);
  // A migration whose controller still runs is unfinished but not left behind: listed as running.
  const rows = found.map((s) => {
    const held = readClaim(journal.dir, s.vm);
    const running = held && held.live !== false ? { pid: held.pid, host: held.host, since: held.since, by: held.by } : null;
    return { migrationId: s.migrationId, vm: s.vm, phase: s.phase, sources: s.sources, destinations: s.destinations, action: withVmAt(s, recoveryAction(s).kind, vmAt), cleanedAt: s.cleanedAt, running };
  });
  if (json) io.stdout(JSON.stringify({ journal: journal.dir, unfinished: rows }));
  else if (rows.length === 0) io.stdout(`no unfinished migration in ${journal.dir}`);
  else for (const r of rows) io.stdout(`migration ${r.migrationId} (VM ${r.vm}): ${r.running ? `running now in carryover ${r.running.by} (pid ${r.running.pid} on ${r.running.host}), in ${r.phase}` : `left in ${r.phase}`}, ${r.sources.join(', ')} → ${r.destinations.join(', ')}; recovery: ${r.running ? 'none while it runs' : r.action === 'ask-trigger' ? 'ask-trigger (activated: it needs to know where the VM runs — --trigger qemu:SOCK, or --vm-at source|destination)' : r.action}${r.cleanedAt.length > 0 ? ` (already done at ${r.cleanedAt.join(', ')})` : ''}`);
  return 0;
}
