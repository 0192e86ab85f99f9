/**
 * The QEMU side of `carryover migrate --check`, against two real QEMU processes: what it reads
 * (run states, the migration's status) and what it would refuse — a destination monitor that is
 * not waiting for the VM, a source the VM already left, a socket that is no QEMU — changing
 * nothing (the source's migration capabilities stay as they were).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QmpClient } from '../qmp/index.js';
import { QEMU_SKIP_REASON, startQemuPair } from '../testing/qemu-pair.js';
import { checkQemu } from './qemu-check.js';

describe('QEMU check — the monitors a migration would follow, read only', () => {
  it('QEMU check — a socket path with nothing there, and a socket that is no QEMU: refused naming the monitor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carryover-qemu-check-'));
    const path = join(dir, 'not-qemu.sock');
    const server = createServer((s) => s.end('hello, I am not QEMU\n'));
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const missing = await checkQemu({ source: join(dir, 'missing.sock'), startsMigration: true, timeoutMs: 2_000 });
      expect(missing.findings).toEqual([{ severity: 'refuse', detail: expect.stringMatching(/^source QEMU monitor .*missing\.sock: /) as string }]);
      const wrong = await checkQemu({ source: path, startsMigration: true, timeoutMs: 2_000 });
      expect(wrong.sourceStatus).toBeUndefined();
      expect(wrong.findings).toEqual([{ severity: 'refuse', detail: expect.stringMatching(/^source QEMU monitor .*not-qemu\.sock: /) as string }]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`QEMU check — a running source and a waiting destination pass; the source's monitor given as the destination is refused; after the VM left, the source is refused as 'postmigrate'; capabilities untouched${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    const pair = await startQemuPair();
    try {
      const src = pair.source.qmpAddress;
      const dst = pair.destination.qmpAddress;
      const ok = await checkQemu({ source: src, destination: dst, startsMigration: true });
      expect(ok).toEqual({ sourceStatus: 'running', migration: 'none', destinationStatus: 'inmigrate', findings: [] });
      // Following the operator's migrate: nothing wrong, one note saying carryover would wait.
      const waits = await checkQemu({ source: src, startsMigration: false });
      expect(waits.findings).toEqual([{ severity: 'note', detail: expect.stringMatching(/^no migration under way on the source QEMU: carryover would wait/) as string }]);
      const swapped = await checkQemu({ source: src, destination: src, startsMigration: true });
      expect(swapped.findings).toEqual([{ severity: 'refuse', detail: expect.stringMatching(/^destination QEMU \(.*\) is 'running', not waiting for an incoming migration/) as string }]);
      // QEMU's monitor takes one client at a time: the test's own session is closed before each check.
      const caps = async (): Promise<{ capability: string; state: boolean }[]> => {
        const qmp = await QmpClient.connect({ address: src, commandTimeoutMs: 30_000 });
        try {
          return await qmp.execute('query-migrate-capabilities');
        } finally {
          await qmp.close();
        }
      };
      const before = await caps();
      expect(before.find((c) => c.capability === 'pause-before-switchover')?.state).toBe(false);
      // The VM leaves this QEMU without carryover; the check then refuses the source.
      const qmp = await QmpClient.connect({ address: src, commandTimeoutMs: 30_000 });
      try {
        await qmp.execute('migrate', { uri: pair.incomingUri });
        for (let i = 0; i < 600 && (await qmp.execute<{ status?: string }>('query-migrate')).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
      } finally {
        await qmp.close();
      }
      const left = await checkQemu({ source: src, startsMigration: true });
      expect(left.sourceStatus).toBe('postmigrate');
      expect(left.migration).toBe('completed');
      expect(left.findings).toEqual([{ severity: 'refuse', detail: expect.stringMatching(/is 'postmigrate': the VM already migrated away from this QEMU; check where the VM runs now/) as string }]);
      expect(await caps()).toEqual(before);
    } finally {
      await pair.stop();
    }
  }, 120_000);
});
