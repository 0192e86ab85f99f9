import { describe, expect, it } from 'vitest';
import { QEMU_SKIP_REASON } from '../../controller/testing/qemu-pair.js';
import { COMPRESSED_SETTING, runQemuFlowsBench } from './qemu-flows-bench.js';

describe.skipIf(QEMU_SKIP_REASON !== undefined)(`bench qemu with flows, real QEMU ${QEMU_SKIP_REASON ? `(skipped: ${QEMU_SKIP_REASON})` : ''}`, () => {
  it('bench qemu — one migration without and one with carryover on real QEMU: the sync row says what the pause moved, how it was proven and where its time went', async () => {
    const logs: string[] = [];
    const rows = await runQemuFlowsBench({ flows: 300, changing: 0.1, runs: 1, settings: [COMPRESSED_SETTING] }, (m) => logs.push(m));
    const sync = rows.find((r) => r.case.endsWith('engine pause-window sync, median'));
    expect(typeof sync?.value).toBe('number');
    expect(sync?.value as number).toBeGreaterThan(0);
    // One pause: its final delta moved 0 or the 30 changed flows, and its calls were timed.
    expect(sync?.note).toMatch(/^final delta slots: (0|30); proven by change-(numbers|log) ×1; median run: freeze [\d.]+, .*activate [\d.]+, between calls [\d.]+ ms$/);
    const added = rows.find((r) => r.case.endsWith('added by carryover (median with − median without)') && r.variant === undefined);
    expect(typeof added?.value).toBe('number');
    // The VM's own downtime (its STOP at the source to its RESUME at the destination), both modes.
    const own = rows.filter((r) => r.case.endsWith("the VM's own downtime, median"));
    expect(own.map((r) => r.variant)).toEqual(['without', 'with carryover']);
    for (const r of own) expect(r.value as number).toBeGreaterThan(0);
    const ownAdded = rows.find((r) => r.case.endsWith("added to the VM's own downtime (median with − median without)"));
    expect(ownAdded?.value).toBeCloseTo((own[1]?.value as number) - (own[0]?.value as number), 6);
    expect(logs).toContain('populating 300 flows');
  }, 180_000);

  it('bench qemu — the paced setting: QEMU copies memory at the bandwidth set, the flows keep changing until the pause, and its rows are its own', async () => {
    // 1 MiB/s: the test guest's stream (≈ 0.5 MiB) takes about half a second.
    const paced = { name: 'paced', maxBandwidth: 1024 * 1024, changeEveryMs: 20 };
    const rows = await runQemuFlowsBench({ flows: 300, changing: 0.1, runs: 1, settings: [paced] }, () => undefined);
    const c = 'QEMU downtime with 300 tracked flows, paced (memory copy paced at 1024 KiB/s, flows changing every 20 ms)';
    const without = rows.find((r) => r.case === c && r.variant === 'without carryover');
    const m = /migrations of (\d+) ms \(median total-time\).*every 20 ms until the pause \((\d+) batches, median per migration\)/.exec(without?.note ?? '');
    expect(m, without?.note).not.toBeNull();
    // Paced, the copy takes hundreds of ms (15–110 ms at QEMU's own bandwidth); the flows sent many batches in it.
    expect(Number(m?.[1])).toBeGreaterThan(250);
    expect(Number(m?.[2])).toBeGreaterThanOrEqual(3);
    const sync = rows.find((r) => r.case === `${c}: engine pause-window sync, median`);
    expect(sync?.note).toMatch(/^final delta slots: \d+; proven by change-(numbers|log) ×1; median run: /);
    expect(rows.every((r) => r.case.startsWith(c))).toBe(true);
  }, 180_000);
});
