/**
 * Which carryover process is moving a VM right now: a small file beside the journal
 * (`<journal>/<vm>.running`: pid, host, start) written when a migration or a recovery of the VM
 * starts and removed when it ends. The journal alone cannot tell a migration in progress from one
 * whose controller died: both are unfinished. Without this, a second `carryover migrate` called a
 * running migration "left in flight", and `carryover recover` would undo one under its
 * controller's feet (with plugin daemons nothing else stops it).
 *
 * A claim whose process is gone (killed: the file stays) is stale and taken over. On the same host
 * that is checked (the pid is gone, or is no carryover process any more); a claim from another
 * host sharing the journal cannot be checked and counts as live — its message says which file to
 * delete once that process is known to be gone.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ControllerError } from '../errors.js';
import { ensureJournalDir } from './journal-dir.js';

/** What a claim file holds. */
export interface VmClaim {
  readonly pid: number;
  readonly host: string;
  /** ISO time the claim was made. */
  readonly since: string;
  /** What holds it: `migrate` or `recover`, and the migration id when known. */
  readonly by: string;
}

/** A claim as found: whether its process still runs (undefined: another host, not checkable). */
export type FoundClaim = VmClaim & { readonly live: boolean | undefined; readonly file: string };

/** The claim file of `vm` in journal directory `dir`. */
export function claimFile(dir: string, vm: string): string {
  return join(dir, `${encodeURIComponent(vm)}.running`);
}

/** Whether process `pid` on this host runs, and is a carryover (a reused pid is not). */
function runsHere(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    // Linux: a pid reused by another program no longer names carryover on its command line.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('carryover');
  } catch {
    return true;
  }
}

/** The claim on `vm`, if any, and whether its process still runs. */
export function readClaim(dir: string, vm: string): FoundClaim | undefined {
  const file = claimFile(dir, vm);
  let c: Partial<VmClaim>;
  try {
    c = JSON.parse(readFileSync(file, 'utf8')) as Partial<VmClaim>;
  } catch {
    return undefined; // none, or torn: a claim cannot be half written by a live holder for long
  }
  if (typeof c.pid !== 'number' || typeof c.host !== 'string') return undefined;
  const claim = { pid: c.pid, host: c.host, since: String(c.since ?? '?'), by: String(c.by ?? '?') };
  return { ...claim, file, live: claim.host === hostname() ? claim.pid === process.pid || runsHere(claim.pid) : undefined };
}

/** One line naming who holds `c` and what to do. */
export function describeClaim(vm: string, c: FoundClaim): string {
  const who = `carryover ${c.by} (pid ${c.pid} on ${c.host}, since ${c.since})`;
  return c.live === undefined
    ? `VM ${vm} is held by ${who}, on another host: wait for it to end; if that process is gone, delete ${c.file}`
    : c.by.startsWith('federation ')
      ? `VM ${vm} is being moved into this domain now by ${who}: it finishes or rolls back as the source domain says — run carryover recover at the source domain (it tells this one), or wait for it to end`
      : `VM ${vm} is being moved now by ${who}: wait for it to end, or stop it (Ctrl-C), then try again`;
}

/**
 * Claims `vm` for this process (`by`: what for); throws VM_BUSY naming the holder when a live
 * process holds it. Returns the release (idempotent; also run when the process exits).
 * @example
 * const release = claimVm(inv.journal, 'vm-7', 'migrate');
 * try { await run(); } finally { release(); }
 */
export function claimVm(dir: string, vm: string, by: string): () => void {
  const held = readClaim(dir, vm);
  if (held && held.live !== false && held.pid !== process.pid) throw new ControllerError('VM_BUSY', describeClaim(vm, held));
  ensureJournalDir(dir);
  const file = claimFile(dir, vm);
  const mine: VmClaim = { pid: process.pid, host: hostname(), since: new Date().toISOString(), by };
  try {
    writeFileSync(file, JSON.stringify(mine));
  } catch (e) {
    throw new ControllerError('BAD_CONFIG', `journal directory ${dir}: cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set 'journal' in the inventory to a directory this user can write`, { cause: e });
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    // Only our own claim: a later holder's file stays.
    if (readClaim(dir, vm)?.pid === process.pid) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  };
  // Ctrl-C ends the command with process.exit: the claim goes with it.
  process.on('exit', release);
  return release;
}
