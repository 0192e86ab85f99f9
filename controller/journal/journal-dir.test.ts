import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkJournalDir, ensureJournalDir } from './journal-dir.js';
import { claimVm } from './vm-claim.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'carryover-journal-dir-'));
  dirs.push(d);
  return d;
};
const root = typeof process.getuid === 'function' && process.getuid() === 0;

describe('journal directory — checked and created with a message naming the field', () => {
  it('journal directory — missing levels are created; a check alone creates nothing', () => {
    const dir = join(scratch(), 'a', 'b', 'journal');
    checkJournalDir({ source: 'site.yaml', journal: dir });
    expect(existsSync(dir)).toBe(false);
    ensureJournalDir(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('journal directory — a file where the journal goes is BAD_CONFIG naming the inventory field, not VM_BUSY or a raw ENOTDIR (walkthrough 22)', () => {
    const file = join(scratch(), 'site.yaml');
    writeFileSync(file, 'x');
    expect(() => checkJournalDir({ source: file, journal: file })).toThrow(/^.*site\.yaml: journal: .*site\.yaml is a file, not a directory; set 'journal' in the inventory to a directory/);
    expect(() => checkJournalDir({ source: file, journal: join(file, 'journal') })).toThrow(/journal cannot be created: .*site\.yaml is a file, not a directory/);
    expect(() => claimVm(file, 'vm-a', 'migrate')).toThrow(expect.objectContaining({ code: 'BAD_CONFIG', message: expect.stringMatching(/^journal directory .* is a file, not a directory; set 'journal'/) as unknown }));
  });

  it.runIf(existsSync('/proc/self'))('journal directory — under /proc it fails at once instead of spinning in a recursive mkdir (walkthrough 22: 10 min at 45% CPU)', () => {
    const t0 = Date.now();
    expect(() => ensureJournalDir('/proc/carryover-journal-test/x')).toThrow(/journal directory \/proc\/carryover-journal-test\/x cannot be created \(mkdir \/proc\/carryover-journal-test: ENOENT\)/);
    expect(() => claimVm('/proc/carryover-journal-test', 'vm-a', 'migrate')).toThrow(/BAD_CONFIG|cannot be created/);
    expect(Date.now() - t0).toBeLessThan(1000);
  }, 5_000);

  it.skipIf(root)('journal directory — a directory this user cannot write is named with the fix, not a raw EACCES', () => {
    const dir = join(scratch(), 'journal');
    ensureJournalDir(dir);
    chmodSync(dir, 0o500);
    try {
      expect(() => checkJournalDir({ source: 'site.yaml', journal: dir })).toThrow(/site\.yaml: journal: .*journal is not writable by this user \(EACCES\); set 'journal'/);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});
