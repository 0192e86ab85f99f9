/**
 * Slots as words and as named fields, per a group's @migrate_layout; and the dirty bitmap's
 * arithmetic (which word and bit marks a slot, which slots a word marks).
 */
import { EdgePluginError } from '../errors.js';
import type { DirtySpec, FieldRef, SlotGroupSpec } from './slot-group.js';
import { slotLayoutCode } from './slot-layout-code.js';

// Masks and shift amounts as bigints made once: every field of every slot read or written needs them.
const MASKS: readonly bigint[] = Array.from({ length: 129 }, (_, b) => (1n << BigInt(b)) - 1n);
const SHIFTS: readonly bigint[] = Array.from({ length: 129 }, (_, b) => BigInt(b));
/** The largest value a field of `bits` bits holds (2^bits − 1), made once per width. */
export const bitMask = (bits: number): bigint => MASKS[bits] ?? (1n << BigInt(bits)) - 1n;
const mask = bitMask;
const shift = (n: number): bigint => SHIFTS[n] ?? BigInt(n);

/** The value of one field of a slot, given the slot's words. */
export function fieldValue(words: readonly bigint[], ref: FieldRef): bigint {
  return ((words[ref.word] ?? 0n) >> shift(ref.lsb)) & mask(ref.bits);
}

/** Per group: every field in layout order, and an object with those properties (all 0n) to clone. */
interface FieldTemplate {
  readonly fields: readonly FieldRef[];
  readonly blank: Readonly<Record<string, bigint>>;
}
const templates = new WeakMap<SlotGroupSpec, FieldTemplate>();

function templateOf(group: SlotGroupSpec): FieldTemplate {
  let t = templates.get(group);
  if (!t) {
    const fields = group.words.flatMap((w) => w.fields);
    t = { fields, blank: Object.fromEntries(fields.map((f) => [f.name, 0n])) };
    templates.set(group, t);
  }
  return t;
}

/** Every field of a slot by name (bigint values), in layout order. */
export function decodeSlotFields(group: SlotGroupSpec, words: readonly bigint[]): Record<string, bigint> {
  const code = slotLayoutCode(group);
  if (code) return code.decode(words);
  // A clone of a template that already has every property, then stores to existing ones: V8
  // turns an object that gains more than a dozen properties by keyed stores into a dictionary
  // (every later look-up, copy and for-in of the fields a hash-table walk), and this runs for
  // every slot of every batch — 4× faster than building it from entries.
  const t = templateOf(group);
  const out: Record<string, bigint> = { ...t.blank };
  const fields = t.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as FieldRef;
    out[f.name] = fieldValue(words, f);
  }
  return out;
}

/** The words of a slot from its fields by name; missing fields are 0, values must fit their width. */
export function encodeSlotWords(group: SlotGroupSpec, fields: Readonly<Record<string, bigint | number>>): bigint[] {
  for (const name of Object.keys(fields)) {
    if (!group.fields.has(name)) throw new EdgePluginError('VALUE_RANGE', `slot group '${group.name}' has no field '${name}' (fields: ${group.fieldNames.join(', ')})`);
  }
  return group.words.map((w) => {
    let word = 0n;
    for (const f of w.fields) {
      const raw = fields[f.name];
      if (raw === undefined) continue;
      const v = typeof raw === 'bigint' ? raw : BigInt(raw);
      if (v < 0n || v > mask(f.bits)) throw new EdgePluginError('VALUE_RANGE', `slot group '${group.name}': field '${f.name}' = ${v} does not fit its ${f.bits} bits`);
      word |= v << shift(f.lsb);
    }
    return word;
  });
}

/**
 * encodeSlotWords for fields already checked against the group (every name declared, every value
 * within its width — as checkIncomingBatch and translation guarantee): no checks, so a final batch
 * of 10^3 flows does not look up 2·10^4 names again.
 */
export function encodeCheckedSlotWords(group: SlotGroupSpec, fields: Readonly<Record<string, bigint>>): bigint[] {
  const code = slotLayoutCode(group);
  if (code) return code.encode(fields);
  const words = group.words;
  const out = new Array<bigint>(words.length);
  for (let w = 0; w < words.length; w++) {
    const fs = (words[w] as SlotGroupSpec['words'][number]).fields;
    let word = 0n;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i] as FieldRef;
      const v = fields[f.name];
      if (v === undefined || v === 0n) continue;
      word |= f.lsb === 0 ? v : v << shift(f.lsb);
    }
    out[w] = word;
  }
  return out;
}

/** True when the slot holds a flow (its valid field is non-zero). */
export function isOccupied(group: SlotGroupSpec, words: readonly bigint[]): boolean {
  return fieldValue(words, group.valid) !== 0n;
}

/** The key field values of a slot (the hash input), by field name. */
export function slotKey(group: SlotGroupSpec, words: readonly bigint[]): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const f of group.key) out[f.name] = fieldValue(words, f);
  return out;
}

/** Dirty-bitmap position of a slot in the buffer an epoch selects: word index and bit. */
export function dirtyPosition(dirty: DirtySpec, slot: number, epoch: number | bigint): { readonly word: number; readonly bit: number } {
  const buffer = Number(BigInt(epoch) & 1n);
  return { word: buffer * dirty.wordsPerBuffer + Math.floor(slot / dirty.slotsPerWord), bit: slot % dirty.slotsPerWord };
}

/** The word indices of one buffer (0 or 1) of a dirty bitmap. */
export function dirtyBufferWords(dirty: DirtySpec, buffer: 0 | 1): { readonly start: number; readonly count: number } {
  return { start: buffer * dirty.wordsPerBuffer, count: dirty.wordsPerBuffer };
}

/** The slots a dirty word marks (bit n of word w of a buffer is slot (w mod wordsPerBuffer)·b + n). */
export function slotsOfDirtyWord(dirty: DirtySpec, wordIndex: number, value: bigint): number[] {
  const base = (wordIndex % dirty.wordsPerBuffer) * dirty.slotsPerWord;
  const out: number[] = [];
  let v = value;
  for (let bit = 0; v !== 0n; bit++, v >>= 1n) if ((v & 1n) === 1n) out.push(base + bit);
  return out;
}
