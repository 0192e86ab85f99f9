import { describe, expect, it } from 'vitest';
import { decodeEntries, logCell, logSpan } from './change-log-access.js';

const spec = { logRegister: 'l', headRegister: 'h', roundRegister: 'r', markRegister: 'm', changesRegister: undefined, trackers: 4, logSize: 16 };

describe('change-log access — spans and entries', () => {
  it('change-log access — reads [since, upTo) within the ring, wrapping 32-bit positions', () => {
    expect(logSpan(spec, 5n, 9n)).toEqual({ from: 5n, count: 4, overflow: false });
    expect(logSpan(spec, 0xfffffffen, 2n)).toEqual({ from: 0xfffffffen, count: 4, overflow: false });
    expect(logCell(spec, 2, 0xffffffffn)).toBe(2 * 16 + 15);
    expect(() => logSpan(spec, 9n, 5n)).toThrow(/log position 9 is past 5/);
  });

  it('change-log access — more than a ring since the position is an overflow, reading the newest ring', () => {
    expect(logSpan(spec, 0n, 20n)).toEqual({ from: 4n, count: 16, overflow: true });
  });

  it('change-log access — an entry of another lap is an overflow; slots come out distinct and ascending', () => {
    const ok = decodeEntries(1, 3n, 6n, [(3n << 32n) | 9n, (4n << 32n) | 2n, (5n << 32n) | 9n], false);
    expect(ok).toEqual({ tracker: 1, from: 3n, to: 6n, entries: [{ seq: 3n, slot: 9 }, { seq: 4n, slot: 2 }, { seq: 5n, slot: 9 }], slots: [2, 9], overflow: false });
    const lapped = decodeEntries(1, 3n, 5n, [(19n << 32n) | 9n, (4n << 32n) | 2n], false);
    expect(lapped.overflow).toBe(true);
    expect(lapped.entries).toEqual([{ seq: 4n, slot: 2 }]);
  });
});
