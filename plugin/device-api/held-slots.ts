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
import { decodeSlotFields, encodeCheckedSlotWords, fieldValue, sameKeyWords } from '../contract/index.js';
import type { SlotWrite } from '../state-access/index.js';
import type { SlotRecordOut } from './device-api.js';
import type { PlacedEntry, PlacedFlows } from './placed-flows.js';
import type { Translation } from './slot-placement.js';
import { flowKeyString, translateFields, translateWords } from './slot-placement.js';
import { InLayout } from './slot-words-record.js';

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

/** A flow written without a condition: its slot, all its words, the changed ones in `mask`, and its placed entry. */
export interface HeldWrite extends SlotWrite {
  readonly mask: number;
  readonly entry: PlacedEntry;
}

/** A flow that goes through placement and WRITE_IF: its translated fields, key, and source slot (words records only). */
export interface PlacedFlow {
  readonly fields: Readonly<Record<string, bigint>>;
  readonly key: string;
  readonly sourceSlot: number | undefined;
}

/** What splitHeld needs besides the records. */
export interface HeldContext {
  readonly placed: PlacedFlows;
  readonly translation: Translation;
  /** The batch's source (undefined: no look-up by source slot). */
  readonly source: string | undefined;
  /** Whether a flow may be written without a condition at all (the backend writes registers over P4Runtime). */
  readonly plain: boolean;
}

/**
 * Translates a batch's records for this destination and splits them into flows this migration
 * still holds a slot for (`held`: their changed words, mask 0 when nothing changed) and the rest,
 * which go through placement and WRITE_IF. A record read at a source with this layout
 * (SlotWordsRecord, sameSlotLayout) is translated on its words and found through its source
 * slot, its key checked on the words: no field record, no key string. Anything else — another
 * layout, a peer's record, a flow not found that way — by its fields and key string.
 */
export function splitHeld(group: SlotGroupSpec, records: readonly SlotRecordOut[], clock: bigint, c: HeldContext): { readonly held: HeldWrite[]; readonly rest: PlacedFlow[] } {
  const held: HeldWrite[] = [];
  const rest: PlacedFlow[] = [];
  const holds = c.plain ? holdRule(group) : undefined;
  const byOrigin = holds !== undefined && c.source !== undefined;
  const asWords = new InLayout(group);
  for (let n = 0; n < records.length; n++) {
    const rec = records[n] as SlotRecordOut;
    let fields: Readonly<Record<string, bigint>>;
    let sourceSlot: number | undefined;
    // On the words path, the translated words (what encoding `fields` would give again).
    let translated: bigint[] | undefined;
    if (asWords.has(rec)) {
      translated = translateWords(group, rec.words, c.translation);
      const at = byOrigin ? c.placed.fromOrigin(c.source as string, rec.sourceSlot) : undefined;
      if (at && sameKeyWords(group, at.words, translated) && holds?.(at.words, clock)) {
        held.push({ index: at.slot, words: translated, mask: changedWords(translated, at.words), entry: at });
        continue;
      }
      fields = decodeSlotFields(group, translated);
      sourceSlot = rec.sourceSlot;
    } else {
      fields = translateFields(group, rec.fields, c.translation);
    }
    const key = flowKeyString(group, fields);
    const at = holds ? c.placed.get(key) : undefined;
    if (at && holds?.(at.words, clock)) {
      const words = translated ?? encodeCheckedSlotWords(group, fields);
      held.push({ index: at.slot, words, mask: changedWords(words, at.words), entry: at });
      if (sourceSlot !== undefined && c.source !== undefined) c.placed.noteOrigin(c.source, sourceSlot, at);
      continue;
    }
    rest.push({ fields, key, sourceSlot });
  }
  return { held, rest };
}

/** Bit i set when word i differs. */
function changedWords(words: readonly bigint[], before: readonly bigint[]): number {
  let mask = 0;
  for (let i = 0; i < words.length; i++) if (words[i] !== before[i]) mask |= 1 << i;
  return mask;
}
