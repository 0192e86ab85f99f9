import { describe, expect, it } from 'vitest';
import { EntryTally } from './entry-tally.js';

describe('entry tally — pinholes held at the destinations', () => {
  it('entry tally — a list sent again (snapshot, then final) is counted once; sources add up; each take is the change since the last', () => {
    const t = new EntryTally();
    expect(t.take()).toBe(0);
    t.note('a', 2);
    t.note('b', 1);
    expect(t.take()).toBe(3);
    expect(t.take()).toBe(0);
    t.note('a', 2); // the final batch lists the same two again
    expect(t.take()).toBe(0);
    t.note('a', 1); // one expired at the source before the final batch
    t.note('b', 3);
    expect(t.take()).toBe(1);
  });
});
