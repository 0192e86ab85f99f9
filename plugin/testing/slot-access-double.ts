/**
 * A RegisterAccess double for slot-index tests: slots held in a map (slot → VM id), read by
 * index, range or filtered scan; every read recorded, and held back while a gate is set so a test
 * can act with a read on its way. Only readSlots and group are served.
 */
import type { SlotGroupSpec } from '../contract/index.js';
import { encodeSlotWords, fieldValue } from '../contract/index.js';
import type { ReadSlotsOptions, RegisterAccess, SlotRecord, SlotSelection } from '../state-access/index.js';

/** The double, what it was asked, and its gate. */
export interface SlotAccessDouble {
  readonly access: RegisterAccess;
  /** Per read, how many slots it named ('all': the group's size). */
  readonly reads: number[];
  /** While set, each read answers only once this resolves (what it found was read before). */
  gate: Promise<void> | undefined;
}

/** A double of `group` holding `held` (slot → VM id; changes show in later reads). */
export function slotAccessDouble(group: SlotGroupSpec, held: Map<number, number>): SlotAccessDouble {
  const d: SlotAccessDouble = {
    reads: [],
    gate: undefined,
    access: {
      group,
      async readSlots(sel: SlotSelection, o: ReadSlotsOptions = {}): Promise<SlotRecord[]> {
        const indices = sel === 'all' ? Array.from({ length: group.slots }, (_, i) => i) : 'ranges' in sel ? sel.ranges.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.start + i)) : [...sel.indices];
        const where = Object.entries(o.where ?? {});
        const found = indices
          .filter((i) => held.has(i))
          .map((index) => ({ index, words: encodeSlotWords(group, { [group.vm.name]: held.get(index) ?? 0, [group.valid.name]: 1 }) }))
          .filter((r) => where.every(([name, v]) => name === group.vm.name && fieldValue(r.words, group.vm) === BigInt(v)));
        d.reads.push(indices.length);
        if (d.gate) await d.gate;
        return found;
      },
    } as unknown as RegisterAccess,
  };
  return d;
}
