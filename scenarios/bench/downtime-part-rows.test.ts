import { describe, expect, it } from 'vitest';
import { downtimePartRows, guestDowntimeRows } from './downtime-part-rows.js';

describe('bench qemu — downtime part rows', () => {
  it('bench qemu — a row per known part and mode; no hold row without the trigger, none for parts QEMU gave no event for', () => {
    const rows = downtimePartRows('c', { without: { holdMs: 0, restMs: 3, headMs: undefined, tailMs: undefined }, with: { holdMs: 15, restMs: 6, headMs: 2, tailMs: 4 } }, 'with carryover');
    expect(rows.map((r) => [r.variant, r.case.replace('c: downtime part, median: ', ''), r.value])).toEqual([
      ['without', "QEMU's own part (downtime − hold)", 3],
      ['with carryover', 'held in pre-switchover', 15],
      ['with carryover', "QEMU's own part (downtime − hold)", 6],
      ['with carryover', 'of which stop → pause', 2],
      ['with carryover', 'of which final transfer → completed', 4],
    ]);
    expect(downtimePartRows('c', { without: undefined, with: undefined }, 'x')).toEqual([]);
  });

  it('bench qemu — the VM\'s own downtime: a row per mode with its range, and what the trigger added to it', () => {
    const rows = guestDowntimeRows('c', { guestWithout: { medianMs: 30, minMs: 6, maxMs: 50 }, guestWith: { medianMs: 34.5, minMs: 20, maxMs: 60 }, guestAddedMedianMs: 4.5 }, 'with carryover');
    expect(rows.map((r) => [r.case, r.variant, r.value])).toEqual([
      ["c: the VM's own downtime, median", 'without', 30],
      ["c: the VM's own downtime, median", 'with carryover', 34.5],
      ["c: added to the VM's own downtime (median with − median without)", undefined, 4.5],
    ]);
    expect(rows[0]?.note).toContain('min 6.0, max 50.0');
  });
});
