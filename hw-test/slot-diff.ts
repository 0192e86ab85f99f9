/**
 * Slot-by-slot comparison of two views of a slot group (model vs target, backend vs backend),
 * field by field per @migrate_layout, and its rendering as the first differences: slot index,
 * register and field, expected vs actual. The @migrate_clock field is compared for presence
 * only — each side stamps its own clock.
 */
import type { SlotGroupSpec } from '../plugin/index.js';
import { fieldValue } from '../plugin/index.js';
import { describeSlot, formatField } from './slot-format.js';

/** One field that differs. */
export interface FieldMismatch {
  readonly register: string;
  readonly field: string;
  readonly bits: number;
  readonly expected: bigint;
  readonly actual: bigint;
}

/** One slot that differs. */
export interface SlotMismatch {
  readonly slot: number;
  readonly expected: readonly bigint[] | undefined;
  readonly actual: readonly bigint[] | undefined;
  readonly fields: readonly FieldMismatch[];
}

/** Compares `slots` of two views; a missing slot reads as all zero. */
export function compareSlots(group: SlotGroupSpec, slots: Iterable<number>, expected: ReadonlyMap<number, readonly bigint[]>, actual: ReadonlyMap<number, readonly bigint[]>): SlotMismatch[] {
  const clock = group.clock?.field.name;
  const out: SlotMismatch[] = [];
  for (const slot of slots) {
    const e = expected.get(slot) ?? [];
    const a = actual.get(slot) ?? [];
    const fields: FieldMismatch[] = [];
    for (const w of group.words) {
      for (const f of w.fields) {
        const ev = fieldValue(e, f);
        const av = fieldValue(a, f);
        const differs = f.name === clock ? (ev === 0n) !== (av === 0n) : ev !== av;
        if (differs) fields.push({ register: w.register, field: f.name, bits: f.bits, expected: ev, actual: av });
      }
    }
    if (fields.length > 0) out.push({ slot, expected: expected.get(slot), actual: actual.get(slot), fields });
  }
  return out;
}

/** The first `max` differing slots as readable lines, then "… and N more". */
export function formatSlotMismatches(group: SlotGroupSpec, mismatches: readonly SlotMismatch[], max: number, names: { readonly expected: string; readonly actual: string } = { expected: 'model', actual: 'target' }): string[] {
  const lines: string[] = [];
  for (const m of mismatches.slice(0, max)) {
    lines.push(`slot ${m.slot}: ${names.expected} ${describeSlot(group, m.expected)}; ${names.actual} ${describeSlot(group, m.actual)}`);
    for (const f of m.fields) {
      lines.push(`  ${f.register}.${f.field}: ${names.expected} ${formatField(f.field, f.bits, f.expected)}, ${names.actual} ${formatField(f.field, f.bits, f.actual)}`);
    }
  }
  if (mismatches.length > max) lines.push(`… and ${mismatches.length - max} more slot(s) differ`);
  return lines;
}
