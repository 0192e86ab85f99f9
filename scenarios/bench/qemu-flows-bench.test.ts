import { describe, expect, it } from 'vitest';
import type { QemuDowntimeSample } from '../../controller/index.js';
import { COMPRESSED_SETTING, DEFAULT_QEMU_FLOWS_BENCH, PACED_SETTING, addedByKind, settingCase, syncNote } from './qemu-flows-bench.js';

const sample = (mode: QemuDowntimeSample['mode'], qemuDowntimeMs: number): QemuDowntimeSample => ({ mode, qemuDowntimeMs, guestDowntimeMs: undefined, heldMs: undefined, heldQemuMs: undefined, totalTimeMs: undefined, parts: undefined });

describe('bench qemu — what carryover added, by kind of pause', () => {
  it('bench qemu — pauses with nothing to move and with changed slots get a row each: median downtime of their own migrations minus the without-carryover median', () => {
    const samples = [sample('without-trigger', 4), sample('with-trigger', 12), sample('without-trigger', 5), sample('with-trigger', 40), sample('with-trigger', 14), sample('with-trigger', 10)];
    const syncs = [{ ms: 8, slots: 0 }, { ms: 35, slots: 100 }, { ms: 9, slots: 0 }, { ms: 7, slots: 0 }];
    const rows = addedByKind('QEMU downtime', samples, syncs, 4.5);
    expect(rows.map((r) => [r.variant, r.value])).toEqual([['nothing left to move in the pause', 12 - 4.5], ['changed slots left to the pause', 40 - 4.5]]);
    expect(rows[0]?.note).toBe('3 of 4 migrations; their engine sync median 8.0 ms');
  });

  it('bench qemu — no rows when the pauses cannot be paired with the migrations (a migration without a pause)', () => {
    expect(addedByKind('QEMU downtime', [sample('with-trigger', 12), sample('with-trigger', 13)], [{ ms: 8, slots: 0 }], 4)).toEqual([]);
  });

  it('bench qemu — the sync row names every pause\'s slots and where the median pause\'s time went', () => {
    const steps = (freeze: number, activate: number) => ({ totalMs: freeze + activate + 1, steps: { freeze, activate }, otherMs: 1 });
    const note = syncNote([
      { ms: 30, slots: 100, steps: steps(20, 9), proofs: ['change-log'] },
      { ms: 8, slots: 0, steps: steps(4, 3), proofs: ['change-numbers'] },
      { ms: 12, slots: 100, steps: steps(6, 5), proofs: ['change-numbers'] },
      { ms: 14, slots: 100, steps: steps(7, 6), proofs: ['change-numbers'] },
    ]);
    // Four pauses: the row's median is the upper middle one (14 ms), and so is the run described.
    expect(note).toBe('final delta slots: 100, 0, 100, 100; proven by change-log ×1, change-numbers ×3; median run: freeze 7.00, activate 6.00, between calls 1.00 ms');
    expect(syncNote([])).toBe('final delta slots: ');
  });

  it('bench qemu — the compressed setting keeps the rows\' old name; the paced one says how QEMU copied and how the flows changed; both run by default', () => {
    expect(settingCase(10_000, COMPRESSED_SETTING)).toBe('QEMU downtime with 10000 tracked flows');
    expect(settingCase(10_000, PACED_SETTING)).toBe('QEMU downtime with 10000 tracked flows, paced (memory copy paced at 256 KiB/s, flows changing every 20 ms)');
    expect(DEFAULT_QEMU_FLOWS_BENCH.settings.map((s) => s.name)).toEqual(['compressed', 'paced']);
  });
});
