import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { bitMask, decodeSlotFields, encodeCheckedSlotWords, readMigrationContract, slotGroup } from '../contract/index.js';
import { STATEFUL_EDGE_P4INFO_PATH } from '../testing/stateful-edge-p4info.js';
import { translateFields, translateWords } from './slot-placement.js';
import type { Translation } from './slot-placement.js';

const ct = slotGroup(readMigrationContract(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH)), 'conntrack');

/** A small deterministic generator (xorshift), so a failure names its case. */
function words(seed: number): bigint[] {
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  const next = (): bigint => {
    s ^= (s << 13n) & bitMask(64);
    s ^= s >> 7n;
    s ^= (s << 17n) & bitMask(64);
    return s & bitMask(64);
  };
  return ct.words.map(() => next());
}

describe('slot placement — translating a flow for this destination', () => {
  it('gives the same words from a slot\'s words as from its fields, for any words and clocks', () => {
    const clock = ct.clock?.field;
    expect(clock).toBeDefined();
    const max = bitMask(clock?.bits ?? 0);
    const cases: Translation[] = [
      { vmId: 9, sourceClock: undefined, localClock: 5n },
      { vmId: 0, sourceClock: 1_000_000n, localClock: 5_000_000n },
      { vmId: 3, sourceClock: max, localClock: 10n }, // older than the local clock: rebased to 1
      { vmId: 1, sourceClock: 0n, localClock: max }, // seen after the source's clock read: age 0
    ];
    for (let seed = 1; seed <= 200; seed++) {
      const w = words(seed);
      if (seed % 5 === 0 && clock) w[clock.word] = (w[clock.word] ?? 0n) & ~(max << BigInt(clock.lsb)); // never seen: not rebased
      for (const t of cases) {
        const viaFields = encodeCheckedSlotWords(ct, translateFields(ct, decodeSlotFields(ct, w), t));
        expect(translateWords(ct, w, t), `seed ${seed}, ${JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`).toEqual(viaFields);
      }
    }
  });
});
