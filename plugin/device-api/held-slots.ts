/**
 * Flows this migration already holds a slot for at a destination, written without WRITE_IF.
 *
 * Why that is safe: the destination drops a staged VM's packets before the pipeline tracks them,
 * and WRITE_IF takes only an empty slot or one holding the same key, so a slot written for this
 * migration can change hands only by the pipeline's own reclaim rule (`@migrate_reclaim`): its
 * free-state value, or idle past the shortest timeout. A slot whose copy here is neither — with a
 * quarter of that timeout to spare past the destination's clock — is still ours when the write
 * lands, and only the words that changed need writing. Where the program declares no reclaim rule,
 * or the backend cannot write registers over P4Runtime, every flow keeps its conditional write.
 */
import type { SlotGroupSpec } from '../contract/index.js';
import { encodeSlotWords, fieldValue } from '../contract/index.js';
import type { SlotWrite } from '../state-access/index.js';
import type { PlacedSlot } from './slot-placement.js';
import { flowKeyString } from './slot-placement.js';

/**
 * Whether a slot holding `words` (as this migration wrote them) stays out of the pipeline's reach
 * until at least `clock` plus a quarter of the reclaim idle time (the destination's clock, unit of
 * `@migrate_clock`).
 */
export function stillHeld(group: SlotGroupSpec, words: readonly bigint[], clock: bigint): boolean {
  const r = group.reclaim;
  const c = group.clock;
  if (!r || !c) return false;
  const state = group.fields.get(r.field);
  if (!state || fieldValue(words, group.valid) === 0n || fieldValue(words, state) === r.freeValue) return false;
  const seen = fieldValue(words, c.field);
  return seen > 0n && clock + r.idle / 4n < seen + r.idle;
}

/** A flow written without a condition: its slot, all its words, the changed ones in `mask`, and its key. */
export interface HeldWrite extends SlotWrite {
  readonly key: string;
  readonly mask: number;
}

/**
 * Splits translated flows into those this migration still holds a slot for (`held`: their changed
 * words, mask 0 when nothing changed) and the rest, which go through placement and WRITE_IF.
 * `keys` are the flows' key strings when the caller has them.
 */
export function splitHeld(
  group: SlotGroupSpec,
  flows: readonly Readonly<Record<string, bigint>>[],
  placed: ReadonlyMap<string, PlacedSlot>,
  clock: bigint,
  keys: readonly string[] = flows.map((f) => flowKeyString(group, f)),
): { readonly held: HeldWrite[]; readonly rest: Readonly<Record<string, bigint>>[] } {
  const held: HeldWrite[] = [];
  const rest: Readonly<Record<string, bigint>>[] = [];
  for (const [n, f] of flows.entries()) {
    const key = keys[n] as string;
    const at = placed.get(key);
    if (!at || !stillHeld(group, at.words, clock)) {
      rest.push(f);
      continue;
    }
    const words = encodeSlotWords(group, f);
    let mask = 0;
    for (let i = 0; i < words.length; i++) if (words[i] !== at.words[i]) mask |= 1 << i;
    held.push({ index: at.slot, words, mask, key });
  }
  return { held, rest };
}
