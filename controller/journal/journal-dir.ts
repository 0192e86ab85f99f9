/**
 * The journal directory, checked before a migration relies on it and created one level at a time.
 * Node's recursive mkdir loops forever where mkdir answers ENOENT under an existing parent (e.g.
 * /proc: walkthrough 22 saw `migrate` spin at 45% CPU), and its raw EACCES or ENOTDIR named neither
 * the journal nor the inventory field to fix.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ControllerError } from '../errors.js';

/** The error code of a failed fs call, or its message. */
function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * Why `dir` cannot hold the journal, or undefined when it can. With `create`, missing levels are
 * made by one plain mkdir each (bounded by the path's depth); without, only checked.
 */
export function journalDirProblem(dir: string, create: boolean): string | undefined {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(at).isDirectory();
    } catch (e) {
      const code = codeOf(e);
      // ENOTDIR: a file on the way, found as the walk goes up.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(at) !== at) {
        missing.unshift(at);
        at = dirname(at);
        continue;
      }
      return `${dir} cannot be reached (${code} at ${at})`;
    }
    if (!isDir) return at === dir ? `${dir} is a file, not a directory` : `${dir} cannot be created: ${at} is a file, not a directory`;
    break;
  }
  try {
    accessSync(at, constants.W_OK | constants.X_OK);
  } catch (e) {
    return at === dir ? `${dir} is not writable by this user (${codeOf(e)})` : `${dir} cannot be created: ${at} is not writable by this user (${codeOf(e)})`;
  }
  if (!create) return undefined;
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      if (codeOf(e) !== 'EEXIST') return `${dir} cannot be created (mkdir ${level}: ${codeOf(e)})`;
    }
  }
  return undefined;
}

/** The fix, said the same way wherever the journal directory fails. */
const FIX = "set 'journal' in the inventory to a directory this user can create or write";

/**
 * Makes sure `dir` exists and is writable, creating it as needed.
 * @throws ControllerError BAD_CONFIG naming the directory, the problem and the fix.
 */
export function ensureJournalDir(dir: string): void {
  const problem = journalDirProblem(dir, true);
  if (problem !== undefined) throw new ControllerError('BAD_CONFIG', `journal directory ${problem}; ${FIX}`);
}

/**
 * Checks the inventory's journal directory without creating it (`--plan`, `--check`, before a run).
 * @throws ControllerError BAD_CONFIG naming the inventory file, its `journal` field, the problem and the fix.
 */
export function checkJournalDir(inv: { readonly source: string; readonly journal: string }): void {
  const problem = journalDirProblem(inv.journal, false);
  if (problem !== undefined) throw new ControllerError('BAD_CONFIG', `${inv.source}: journal: ${problem}; ${FIX}`);
}
