/**
 * The embedded journal: one append-only JSON-lines file per migration in a directory, each
 * record flushed to disk (fdatasync) before `append` resolves. A crash can tear only the record
 * being written, which was therefore never acted on: a torn last line is dropped on load, with a
 * warning. Any other bad line is an error naming the file and line — never silently skipped.
 */
import { open, readFile, readdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { ControllerError } from '../errors.js';
import type { MigrationEvent } from '../migration/events.js';
import { ensureJournalDir } from './journal-dir.js';
import { parseJournalEvent } from './journal.js';
import type { MigrationJournal } from './journal.js';

const SUFFIX = '.journal.jsonl';
/** Migrations whose file stays open between records (the pause records three in a row); the oldest is closed past it. */
const OPEN_FILES = 16;
/** After these a migration records nothing more: its file is closed. */
const FINAL_EVENTS: ReadonlySet<MigrationEvent['type']> = new Set(['rolled-back', 'source-cleaned']);
const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A journal in `dir` (created on first append). */
export class FileJournal implements MigrationJournal {
  /** Open files by migration id, oldest first (an open and a close cost more than the flush). */
  private readonly files = new Map<string, Promise<FileHandle>>();

  constructor(
    readonly dir: string,
    private readonly logger: Logger = silentLogger,
  ) {}

  private path(migrationId: string): string {
    // The id becomes a file name: refuse anything that could leave the directory.
    if (!SAFE_ID.test(migrationId)) throw new ControllerError('BAD_CONFIG', `migration id ${JSON.stringify(migrationId)}: use 1-128 letters, digits, '.', '_' or '-'`);
    return join(this.dir, `${migrationId}${SUFFIX}`);
  }

  /** Appends one line and flushes it to disk before resolving. */
  async append(migrationId: string, event: MigrationEvent): Promise<void> {
    const file = this.path(migrationId);
    try {
      const fh = await this.file(migrationId, file);
      try {
        await fh.write(`${JSON.stringify(event)}\n`);
        await fh.datasync();
      } catch (e) {
        await this.closeFile(migrationId);
        throw e;
      }
      if (FINAL_EVENTS.has(event.type)) await this.closeFile(migrationId);
    } catch (e) {
      throw new ControllerError('JOURNAL', `cannot record '${event.type}' of migration ${migrationId} in ${file}: ${(e as Error).message}; the step was not taken`, { cause: e });
    }
  }

  /** Closes every file kept open (records after this open them again). */
  async close(): Promise<void> {
    await Promise.all([...this.files.keys()].map((id) => this.closeFile(id)));
  }

  /** Migrations whose file is open now. */
  get openFiles(): number {
    return this.files.size;
  }

  private file(migrationId: string, path: string): Promise<FileHandle> {
    const had = this.files.get(migrationId);
    if (had) return had;
    const opening = (async () => {
      ensureJournalDir(this.dir);
      return open(path, 'a');
    })();
    this.files.set(migrationId, opening);
    opening.catch(() => this.files.delete(migrationId));
    if (this.files.size > OPEN_FILES) {
      const oldest = this.files.keys().next().value;
      if (oldest !== undefined) void this.closeFile(oldest);
    }
    return opening;
  }

  private async closeFile(migrationId: string): Promise<void> {
    const fh = this.files.get(migrationId);
    if (!fh) return;
    this.files.delete(migrationId);
    await fh.then((h) => h.close()).catch(() => undefined);
  }

  /** Reads a migration's events back, validating each line. */
  async load(migrationId: string): Promise<MigrationEvent[]> {
    const file = this.path(migrationId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ControllerError('JOURNAL', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
    }
    const lines = text.split('\n');
    const torn = lines.pop();
    if (torn !== undefined && torn !== '') this.logger.warn('journal: dropped a torn last record (written during a crash, never acted on)', { file, bytes: torn.length });
    return lines.map((line, i) => {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new ControllerError('JOURNAL', `${file}:${i + 1}: not valid JSON (${(e as Error).message}); the journal is damaged — restore it or remove the migration's file after checking its devices by hand`, { cause: e });
      }
      return parseJournalEvent(v, `${file}:${i + 1}`);
    });
  }

  /** Removes the migration's file (gone already: nothing to do). */
  async remove(migrationId: string): Promise<void> {
    const file = this.path(migrationId);
    await this.closeFile(migrationId);
    try {
      await unlink(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ControllerError('JOURNAL', `cannot remove ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Every migration with a file in the directory. */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ControllerError('JOURNAL', `cannot list ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
  }
}
