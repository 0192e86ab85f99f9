import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileJournal } from '../journal/file-journal.js';
import { MemoryJournal } from '../journal/journal.js';
import type { MigrationJournal } from '../journal/journal.js';
import type { MigrationEvent } from './events.js';
import { MigrationMachine } from './migration-machine.js';

const PLAN = { migrationId: 'm1', vm: 'vm-7', sources: ['edge-1'], destinations: ['edge-2'] };

describe('migration machine — record, journal, phases', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('migration machine — phases$ emits each phase once, in order, stamped by the injected clock, and completes on close', async () => {
    let t = 100;
    const m = await MigrationMachine.plan(PLAN, { journal: new MemoryJournal(), now: () => t++ });
    const seen: unknown[] = [];
    let completed = false;
    m.phases$.subscribe({ next: (p) => seen.push(p), complete: () => (completed = true) });
    await m.record({ type: 'prepared' });
    await m.record({ type: 'round', round: 0, slots: 10, tableEntries: 0 });
    await m.record({ type: 'round', round: 1, slots: 2, tableEntries: 0 });
    await m.record({ type: 'abort', reason: 'ABORTED_BY_TRIGGER', detail: 'QEMU reported cancelled' });
    m.close();
    expect(seen).toEqual([
      { migrationId: 'm1', phase: 'PLANNED', atMs: 100 },
      { migrationId: 'm1', phase: 'PREPARED', atMs: 101 },
      { migrationId: 'm1', phase: 'PRECOPY', atMs: 102 },
      { migrationId: 'm1', phase: 'ABORTED', atMs: 104 },
    ]);
    expect(completed).toBe(true);
  });

  it('migration machine — an illegal event is refused before it is recorded; a journal failure leaves the state unchanged', async () => {
    const journal = new MemoryJournal();
    const m = await MigrationMachine.plan(PLAN, { journal, now: () => 1 });
    await expect(m.record({ type: 'activated' })).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    expect((await journal.load('m1')).map((e) => e.type)).toEqual(['planned']);

    let full = false;
    const flaky: MigrationJournal = {
      append: (id, e) => (full ? Promise.reject(new Error('disk full')) : journal.append(id, e)),
      load: (id) => journal.load(id),
      list: () => journal.list(),
    };
    const m2 = await MigrationMachine.resume('m1', { journal: flaky, now: () => 2 });
    full = true;
    await expect(m2.record({ type: 'prepared' })).rejects.toThrow(/disk full/);
    expect(m2.state.phase).toBe('PLANNED');
    full = false;
    expect((await m2.record({ type: 'prepared' })).phase).toBe('PREPARED');
  });

  it('migration machine — concurrent records apply one at a time in call order', async () => {
    const journal = new MemoryJournal();
    const m = await MigrationMachine.plan(PLAN, { journal, now: () => 1 });
    await m.record({ type: 'prepared' });
    const rounds = await Promise.all([0, 1, 2, 3].map((round) => m.record({ type: 'round', round, slots: 1, tableEntries: 0 })));
    expect(rounds.map((s) => s.rounds)).toEqual([1, 2, 3, 4]);
    expect((await journal.load('m1')).filter((e) => e.type === 'round').map((e) => (e as Extract<MigrationEvent, { type: 'round' }>).round)).toEqual([0, 1, 2, 3]);
  });

  it('migration machine — a restarted controller resumes from the file journal exactly where it was', async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-journal-'));
    const before = await MigrationMachine.plan(PLAN, { journal: new FileJournal(dir), now: () => 5 });
    await before.record({ type: 'prepared' });
    await before.record({ type: 'round', round: 0, slots: 500, tableEntries: 3 });
    await before.record({ type: 'frozen' });
    const after = await MigrationMachine.resume('m1', { journal: new FileJournal(dir), now: () => 9 });
    expect(after.state).toEqual(before.state);
    await expect(MigrationMachine.plan(PLAN, { journal: new FileJournal(dir), now: () => 9 })).rejects.toThrow(/already in the journal; choose a new id \(carryover recover --list/);
    expect(await new FileJournal(dir).list()).toEqual(['m1']);
  });
});

describe('file journal — on disk', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('file journal — a migration\'s file stays open between records and closes after its last one; every record is on disk', async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-journal-'));
    const j = new FileJournal(dir);
    await j.append('m1', { type: 'planned', atMs: 1, ...PLAN });
    await j.append('m1', { type: 'prepared', atMs: 2 });
    await j.append('m2', { type: 'planned', atMs: 3, ...PLAN, migrationId: 'm2' });
    expect(j.openFiles).toBe(2);
    // Another reader sees every record flushed, while the file is still open.
    expect((await new FileJournal(dir).load('m1')).map((e) => e.type)).toEqual(['planned', 'prepared']);
    await j.append('m1', { type: 'abort', atMs: 4, reason: 'ABORTED_BY_TRIGGER', detail: 'test' });
    await j.append('m1', { type: 'rolled-back', atMs: 5 });
    expect(j.openFiles).toBe(1);
    await j.close();
    expect(j.openFiles).toBe(0);
    expect((await new FileJournal(dir).load('m1')).map((e) => e.type)).toEqual(['planned', 'prepared', 'abort', 'rolled-back']);
  });

  it('file journal — at most 16 files stay open; an older migration\'s file opens again for its next record', async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-journal-'));
    const j = new FileJournal(dir);
    for (let i = 0; i < 20; i++) await j.append(`m${i}`, { type: 'planned', atMs: i, ...PLAN, migrationId: `m${i}` });
    expect(j.openFiles).toBe(16);
    await j.append('m0', { type: 'prepared', atMs: 30 });
    expect((await j.load('m0')).map((e) => e.type)).toEqual(['planned', 'prepared']);
    await j.close();
  });

  it('file journal — a torn last record (crash mid-write) is dropped with a warning; the rest loads', async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-journal-'));
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (m: string) => warnings.push(m), error: () => {}, child: () => logger };
    const j = new FileJournal(dir, logger);
    await j.append('m1', { type: 'planned', atMs: 1, ...PLAN });
    await j.append('m1', { type: 'prepared', atMs: 2 });
    await appendFile(join(dir, 'm1.journal.jsonl'), '{"type":"fro');
    expect((await j.load('m1')).map((e) => e.type)).toEqual(['planned', 'prepared']);
    expect(warnings).toEqual([expect.stringMatching(/torn last record/)]);
  });

  it('file journal — a damaged or malformed record in the middle is an error naming file and line', async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-journal-'));
    const file = join(dir, 'm1.journal.jsonl');
    const j = new FileJournal(dir);
    await writeFile(file, `${JSON.stringify({ type: 'planned', atMs: 1, ...PLAN })}\nnot json\n${JSON.stringify({ type: 'prepared', atMs: 2 })}\n`);
    await expect(j.load('m1')).rejects.toThrow(/m1\.journal\.jsonl:2: not valid JSON/);
    await writeFile(file, `${JSON.stringify({ type: 'planned', atMs: 1, ...PLAN })}\n${JSON.stringify({ type: 'abort', atMs: 2, reason: 'BECAUSE', detail: '' })}\n`);
    await expect(j.load('m1')).rejects.toThrow(/:2: event 'abort' needs reason \(one of CAPACITY_EXCEEDED/);
    await writeFile(file, `${JSON.stringify({ type: 'teleported', atMs: 1 })}\n`);
    await expect(j.load('m1')).rejects.toThrow(/:1: unknown event type "teleported"/);
    expect(await readFile(file, 'utf8')).toContain('teleported');
  });

  it('file journal — a migration id that could leave the directory is refused', async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-journal-'));
    await expect(new FileJournal(dir).append('../evil', { type: 'prepared', atMs: 1 })).rejects.toMatchObject({ code: 'BAD_CONFIG' });
  });
});
