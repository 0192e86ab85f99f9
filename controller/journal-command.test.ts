/**
 * `carryover journal` over a real journal directory (FileJournal files, written as a controller
 * writes them): the history lists every migration and how it ended; one migration's records; the
 * prune removes finished migrations past the age only — never an unfinished one, nor one whose
 * records do not replay — and a dry run removes nothing.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAge, runJournalCommand } from './journal-command.js';
import { FileJournal } from './journal/file-journal.js';
import type { MigrationEvent } from './migration/events.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-07T12:00:00Z');

describe('carryover journal — history and pruning', () => {
  let dir: string;
  let config: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'carryover-journal-cmd-'));
    config = join(dir, 'site.yaml');
    writeFileSync(config, 'journal: ./journal\ndevices:\n  edge-a: { address: 127.0.0.1:1, deviceId: 1, hosts: [host-a] }\n  edge-b: { address: 127.0.0.1:2, deviceId: 2, hosts: [host-b] }\nvms:\n  vm-7: { address: 10.0.0.5, host: host-a }\n');
    const j = new FileJournal(join(dir, 'journal'));
    const write = async (id: string, vm: string, at: number, tail: readonly Record<string, unknown>[]): Promise<void> => {
      const events = [{ type: 'planned', migrationId: id, vm, sources: ['edge-a'], destinations: ['edge-b'] }, { type: 'prepared' }, ...tail];
      for (const [i, e] of events.entries()) await j.append(id, { ...e, atMs: at + i * 100 } as unknown as MigrationEvent);
    };
    const committed = [{ type: 'round', round: 0, slots: 5, tableEntries: 0 }, { type: 'frozen' }, { type: 'synced', slots: 1, tableEntries: 0 }, { type: 'activated' }, { type: 'committed' }, { type: 'source-cleaned', slots: 5, tableEntries: 0 }];
    await write('m-old-commit', 'vm-7', NOW - 40 * DAY, committed);
    await write('m-old-abort', 'vm-7', NOW - 35 * DAY, [{ type: 'abort', reason: 'PAUSE_DEADLINE_MISSED', detail: 'late' }, { type: 'rolled-back' }]);
    await write('m-old-unfinished', 'vm-7', NOW - 50 * DAY, [{ type: 'round', round: 0, slots: 5, tableEntries: 0 }]);
    await write('m-old-owing', 'vm-9', NOW - 45 * DAY, committed.slice(0, -1));
    await write('m-new-commit', 'vm-9', NOW - DAY, committed);
    await j.close();
    writeFileSync(join(dir, 'journal', 'm-old-commit.ticket.json'), '{}');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runJournalCommand(['--config', config, ...argv], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) }, () => NOW);
    return { code, out, err };
  }
  const files = (): string[] => readdirSync(join(dir, 'journal')).sort();

  it('journal — lists every migration oldest first with how it ended; --vm keeps one VM\'s', async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      expect.stringMatching(/^2026-10-18T12:00:00Z {2}m-old-unfinished {2}VM vm-7 {2}edge-a → edge-b {2}unfinished in PRECOPY: run carryover recover \(or it is running now\) {2}\(200 ms, 3 records\)$/),
      expect.stringMatching(/^2026-10-23T12:00:00Z {2}m-old-owing {2}VM vm-9 .* committed, sources not yet cleaned: run carryover recover/),
      expect.stringMatching(/^2026-10-28T12:00:00Z {2}m-old-commit {2}VM vm-7 .* committed, sources cleaned {2}\(700 ms, 8 records\)$/),
      expect.stringMatching(/^2026-11-02T12:00:00Z {2}m-old-abort {2}VM vm-7 .* rolled back \(PAUSE_DEADLINE_MISSED in PREPARED\)/),
      expect.stringMatching(/^2026-12-06T12:00:00Z {2}m-new-commit {2}VM vm-9 .* committed, sources cleaned/),
    ]);
    expect((await run('--vm', 'vm-9')).out.map((l) => l.split('  ')[1])).toEqual(['m-old-owing', 'm-new-commit']);
  });

  it('journal — --migration-id prints that migration\'s records as recorded; an unknown id is a usage error naming the listing', async () => {
    const r = await run('--migration-id', 'm-old-abort');
    expect(r.out).toEqual([
      'migration m-old-abort (VM vm-7, edge-a → edge-b), ABORTED:',
      '  2026-11-02T12:00:00Z  planned  {"migrationId":"m-old-abort","vm":"vm-7","sources":["edge-a"],"destinations":["edge-b"]}',
      '  2026-11-02T12:00:00Z  prepared',
      '  2026-11-02T12:00:00Z  abort  {"reason":"PAUSE_DEADLINE_MISSED","detail":"late"}',
      '  2026-11-02T12:00:00Z  rolled-back',
    ]);
    const missing = await run('--migration-id', 'm-nope');
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toMatch(/migration m-nope is not in the journal .*'carryover journal --config .*site\.yaml' lists them/);
  });

  it('journal — --prune removes finished migrations older than the age (and a crash\'s leftover ticket), keeps recent and unfinished ones; --dry-run removes nothing', async () => {
    const before = files();
    const dry = await run('--prune', '--older-than', '30d', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out.at(-1)).toMatch(/^would remove 2 finished migrations older than 30d from .*journal; kept 1 newer and 2 unfinished$/);
    expect(files()).toEqual(before);
    const r = await run('--prune', '--older-than', '30d');
    expect(r.code).toBe(0);
    expect(r.out).toContainEqual(expect.stringMatching(/^removed m-old-commit \(VM vm-7, committed, sources cleaned, last record 2026-10-28T12:00:00Z\)$/));
    expect(r.out).toContainEqual(expect.stringMatching(/^removed m-old-abort \(VM vm-7, rolled back/));
    expect(files()).toEqual(['m-new-commit.journal.jsonl', 'm-old-owing.journal.jsonl', 'm-old-unfinished.journal.jsonl']);
    expect(existsSync(join(dir, 'journal', 'm-old-commit.ticket.json'))).toBe(false);
    // Pruning again finds nothing older.
    expect((await run('--prune', '--older-than', '30d')).out.at(-1)).toMatch(/^removed 0 finished migrations .* kept 1 newer and 2 unfinished$/);
  });

  it('journal — a file whose records do not replay is named, kept by a prune, and the exit is 1', async () => {
    writeFileSync(join(dir, 'journal', 'm-bad.journal.jsonl'), '{"type":"planned"}\n');
    const list = await run();
    expect(list.code).toBe(1);
    expect(list.err[0]).toMatch(/the records of migration m-bad do not replay \(.*m-bad\.journal\.jsonl:1: event 'planned' has no numeric atMs\)/);
    expect(list.out).toHaveLength(5);
    const r = await run('--prune', '--older-than', '1s');
    expect(r.code).toBe(1);
    expect(files()).toContain('m-bad.journal.jsonl');
  });

  it('journal — bad requests change nothing and say what is expected', async () => {
    const before = files();
    expect((await run('--prune')).err[0]).toMatch(/--prune needs --older-than AGE \(e\.g\. 30d\)/);
    expect((await run('--prune', '--older-than', '30 days')).err[0]).toMatch(/--older-than 30 days: expected a number and a unit, s m h or d/);
    expect((await run('--older-than', '3d')).err[0]).toMatch(/--older-than and --dry-run belong to --prune/);
    expect((await run('--prune', '--older-than', '3d', '--vm', 'vm-7')).code).toBe(2);
    expect(files()).toEqual(before);
    expect(parseAge('12h')).toBe(12 * 3_600_000);
    expect(parseAge('1.5d')).toBe(1.5 * DAY);
    expect(parseAge('-1d')).toBeUndefined();
  });
});
