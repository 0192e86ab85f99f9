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
import { encodeCheckedSlotWords, fieldValue } from '../contract/index.js';
import type { SlotWrite } from '../state-access/index.js';
import type { PlacedSlot } from './slot-placement.js';
import { flowKeyString } from './slot-placement.js';

/**
 * Whether a slot holding `words` (as this migration wrote them) stays out of the pipeline's reach
 * until at least `clock` plus a quarter of the reclaim idle time (the destination's clock, unit of
 * `@migrate_clock`).
 */
export function stillHeld(group: SlotGroupSpec, words: readonly bigint[], clock: bigint): boolean {
  return holdRule(group)?.(words, clock) ?? false;
}

/** stillHeld with the group's fields looked up once (undefined: nothing is ever held). */
function holdRule(group: SlotGroupSpec): ((words: readonly bigint[], clock: bigint) => boolean) | undefined {
  const r = group.reclaim;
  const c = group.clock;
  const state = r ? group.fields.get(r.field) : undefined;
  if (!r || !c || !state) return undefined;
  const margin = r.idle - r.idle / 4n;
  return (words, clock) => {
    if (fieldValue(words, group.valid) === 0n || fieldValue(words, state) === r.freeValue) return false;
    const seen = fieldValue(words, c.field);
    // clock + idle/4 < seen + idle, i.e. clock < seen + (idle − idle/4).
    return seen > 0n && clock < seen + margin;
  };
}

/** A flow written without a condition: its slot, all its words, the changed ones in `mask`, and its key. */
export interface HeldWrite extends SlotWrite {
  readonly key: string;
  readonly mask: number;
}

/**
 * Splits translated flows into those this migration still holds a slot for (`held`: their changed
 * words, mask 0 when nothing changed) and the rest, which go through placement and WRITE_IF
 * (`restKeys`: their key strings). `flows` are checked and translated (every field declared and
 * within its width); `keys` are their key strings when the caller has them.
 */
export function splitHeld(
  group: SlotGroupSpec,
  flows: readonly Readonly<Record<string, bigint>>[],
  placed: ReadonlyMap<string, PlacedSlot>,
  clock: bigint,
  keys: readonly string[] = flows.map((f) => flowKeyString(group, f)),
): { readonly held: HeldWrite[]; readonly rest: Readonly<Record<string, bigint>>[]; readonly restKeys: string[] } {
  const held: HeldWrite[] = [];
  const rest: Readonly<Record<string, bigint>>[] = [];
  const restKeys: string[] = [];
  const holds = holdRule(group);
  for (let n = 0; n < flows.length; n++) {
    const f = flows[n] as Readonly<Record<string, bigint>>;
    const key = keys[n] as string;
    const at = placed.get(key);
    if (!at || !holds?.(at.words, clock)) {
      rest.push(f);
      restKeys.push(key);
      continue;
    }
    const words = encodeCheckedSlotWords(group, f);
    let mask = 0;
    for (let i = 0; i < words.length; i++) if (words[i] !== at.words[i]) mask |= 1 << i;
    held.push({ index: at.slot, words, mask, key });
  }
  return { held, rest, restKeys };
}
