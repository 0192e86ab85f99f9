/**
 * A slot handled as its words, without field records: which bits hold a field, which hold the
 * key, and when two groups lay their slots out alike (so one's words mean the same at the other).
 *
 * Why: a pause moves each changed flow through the controller once, and a record of a couple of
 * dozen `bigint` fields costs two `bigint` operations per field each way (BENCHMARKS.md, 2026-12-05:
 * most of the per-flow work at 10^5 flows). Where source and destination share a layout, the words
 * travel as they are and only the VM id and the clock are rewritten.
 */
import { bitMask } from './slot-codec.js';
import type { FieldRef, SlotGroupSpec } from './slot-group.js';

/** Per word: the bits some field holds, and the bits a key field holds. */
export interface SlotWordMasks {
  readonly covered: readonly bigint[];
  readonly key: readonly bigint[];
  /** Every bit of the word's register (its width). */
  readonly width: readonly bigint[];
  /** Every field's name, word, position and width, and the key, valid, VM and clock roles, as one string. */
  readonly layout: string;
}

const cache = new WeakMap<SlotGroupSpec, SlotWordMasks>();

/**
 * The group's word masks, made once per group.
 * @example
 * const m = slotWordMasks(group);
 * const keyOnly = words.map((w, i) => w & (m.key[i] ?? 0n));
 */
export function slotWordMasks(group: SlotGroupSpec): SlotWordMasks {
  let m = cache.get(group);
  if (!m) {
    const at = (f: FieldRef): bigint => bitMask(f.bits) << BigInt(f.lsb);
    const covered = group.words.map((w) => w.fields.reduce((acc, f) => acc | at(f), 0n));
    const key = group.words.map(() => 0n);
    for (const f of group.key) key[f.word] = (key[f.word] ?? 0n) | at(f);
    const fields = group.words.map((w, i) => w.fields.map((f) => [f.name, i, f.word, f.lsb, f.bits]));
    const roles = [group.key.map((f) => f.name), group.valid.name, group.vm.name, group.clock?.field.name ?? null];
    const width = group.words.map((w) => bitMask(w.bits));
    m = Object.freeze({ covered, key, width, layout: JSON.stringify([fields, roles]) });
    cache.set(group, m);
  }
  return m;
}

/** Whether `a`'s slot words mean at `b` exactly what they mean at `a` (same fields at the same bits, same roles). */
export function sameSlotLayout(a: SlotGroupSpec, b: SlotGroupSpec): boolean {
  return a === b || slotWordMasks(a).layout === slotWordMasks(b).layout;
}

/** The key bits of `words` only (what identifies the flow), one entry per word. */
export function slotKeyWords(group: SlotGroupSpec, words: readonly bigint[]): bigint[] {
  const key = slotWordMasks(group).key;
  const out = new Array<bigint>(key.length);
  for (let i = 0; i < key.length; i++) out[i] = (words[i] ?? 0n) & (key[i] as bigint);
  return out;
}

/** Whether two slots' words hold the same flow key (either may be full words or key words only). */
export function sameKeyWords(group: SlotGroupSpec, a: readonly bigint[], b: readonly bigint[]): boolean {
  const { key, width } = slotWordMasks(group);
  for (let i = 0; i < key.length; i++) {
    const k = key[i] as bigint;
    if (k === 0n) continue;
    const x = a[i] ?? 0n;
    const y = b[i] ?? 0n;
    // A word all key, both within its width (as read and written): compared as they are — a
    // `bigint` & allocates, and this runs twice per flow in the pause.
    if (k === width[i] && x >= 0n && y >= 0n && x <= k && y <= k) {
      if (x !== y) return false;
    } else if ((x & k) !== (y & k)) return false;
  }
  return true;
}

/** A copy of `words` with every bit outside a field cleared: what encoding their decoded fields gives. */
export function coveredWords(group: SlotGroupSpec, words: readonly bigint[]): bigint[] {
  const { covered, width } = slotWordMasks(group);
  const out = new Array<bigint>(covered.length);
  for (let i = 0; i < covered.length; i++) {
    const w = words[i] ?? 0n;
    const c = covered[i] as bigint;
    // Fields fill the whole register and the word is within it: nothing to clear, no allocation.
    out[i] = c === width[i] && w >= 0n && w <= c ? w : w & c;
  }
  return out;
}

/** Sets `field` in `words`, in place, to `value` masked to the field's width. */
export function setFieldValue(words: bigint[], field: FieldRef, value: bigint): void {
  const width = bitMask(field.bits);
  const lsb = BigInt(field.lsb);
  words[field.word] = ((words[field.word] ?? 0n) & ~(width << lsb)) | ((value & width) << lsb);
}
