/**
 * Checks shared by both backends, so a bad write fails the same way whichever one serves it.
 */
import type { SlotGroupSpec } from '../contract/index.js';
import { bitMask } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import type { SlotWrite } from './register-access.js';

/** The mask of a write (default: every word), checked against the group's word count. */
export function writeMask(group: SlotGroupSpec, w: SlotWrite): number {
  const all = (1 << group.words.length) - 1;
  const mask = w.mask ?? all;
  if (!Number.isInteger(mask) || mask < 0 || (mask & ~all) !== 0) {
    throw new EdgePluginError('VALUE_RANGE', `write of slot ${w.index}: mask ${String(mask)} names words beyond the group's ${group.words.length}; use bits 0..${group.words.length - 1}`);
  }
  return mask;
}

/** Validates a slot write: index in range, every masked word present and within its register's width. */
export function checkSlotWrite(group: SlotGroupSpec, w: SlotWrite): number {
  if (!Number.isSafeInteger(w.index) || w.index < 0 || w.index >= group.slots) {
    throw new EdgePluginError('VALUE_RANGE', `write of slot ${String(w.index)}: outside slot group '${group.name}' (0..${group.slots - 1})`);
  }
  const mask = writeMask(group, w);
  // A loop and cached limits: the final batch checks 10^3–10^4 writes inside the pause.
  const words = group.words;
  for (let i = 0; i < words.length; i++) {
    if (((mask >> i) & 1) === 0) continue;
    const word = words[i] as SlotGroupSpec['words'][number];
    const v = w.words[i];
    if (typeof v !== 'bigint') throw new EdgePluginError('VALUE_RANGE', `write of slot ${w.index}: word ${i} (${word.register}) is masked in but missing; give a bigint`);
    if (v < 0n || v > bitMask(word.bits)) throw new EdgePluginError('VALUE_RANGE', `write of slot ${w.index}: word ${i} (${word.register}) = ${v} does not fit ${word.bits} bits`);
  }
  return mask;
}

/**
 * Validates a batch of slot writes (each as checkSlotWrite) and refuses a slot named twice: the
 * writes of a batch are in flight together and retried independently (in-band) or applied in any
 * order (a P4Runtime batch), so a retried older write could land after a newer one.
 * Returns each write's mask.
 */
export function checkSlotWrites(group: SlotGroupSpec, writes: readonly SlotWrite[]): number[] {
  const first = new Map<number, number>();
  return writes.map((w, n) => {
    const mask = checkSlotWrite(group, w);
    const earlier = first.get(w.index);
    if (earlier !== undefined) {
      throw new EdgePluginError(
        'VALUE_RANGE',
        `write of slot ${w.index}: the slot appears twice in one batch of group '${group.name}' (writes #${earlier} and #${n}); ` +
          'the writes of a batch may land in any order, so merge them into one write (combine the masks) or send them in separate calls',
      );
    }
    first.set(w.index, n);
    return mask;
  });
}
