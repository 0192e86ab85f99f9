import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QEMU_SKIP_REASON, startQemuPair } from './qemu-pair.js';

const status = (pid: number): string => readFileSync(`/proc/${pid}/status`, 'utf8');

describe('qemu pair', () => {
  it('qemu pair — a CPU list that is not one is refused before any QEMU starts', async () => {
    await expect(startQemuPair({ binary: '/nonexistent/qemu', cpus: '0;1' })).rejects.toThrow(/QEMU CPUs '0;1' is not a CPU list/);
  });

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`qemu pair — with cpus, both QEMUs run on those CPUs only, tracked by their own PIDs ${QEMU_SKIP_REASON ? `(skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    const pair = await startQemuPair({ cpus: '0' });
    try {
      for (const p of [pair.source, pair.destination]) {
        const s = status(p.pid);
        // taskset exec'd QEMU: the PID we track is QEMU itself, confined to CPU 0.
        expect(s).toMatch(/^Name:\s*qemu-system-x86/m);
        expect(/^Cpus_allowed_list:\s*(\S+)/m.exec(s)?.[1]).toBe('0');
      }
    } finally {
      await pair.stop();
    }
    expect(pair.source.hasExited() && pair.destination.hasExited()).toBe(true);
  }, 60_000);
});
