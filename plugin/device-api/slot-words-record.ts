/**
 * A slot record as a source switch read it: the slot's words in its group's layout and the slot
 * it came from, with the fields by name decoded only when something asks for them.
 *
 * A destination in the same process with the same layout (sameSlotLayout) takes the words as they
 * are (destination-import.ts): in the pause no field record is built at either end. Anything else
 * — a peer over the wire, a splitter hashing key fields, a test — reads `fields` as from any
 * record. Only this process can make one: the wire carries fields, so nothing a peer sends is
 * taken as words.
 */
import type { SlotGroupSpec } from '../contract/index.js';
import { decodeSlotFields, sameSlotLayout } from '../contract/index.js';
import type { SlotRecordOut } from './device-api.js';

/**
 * One slot read at a source, fields decoded on first use.
 * @example
 * const rec = new SlotWordsRecord(group, read.words, read.index);
 * rec.fields['vm_port']; // decoded now, then kept
 */
export class SlotWordsRecord implements SlotRecordOut {
  #fields: Readonly<Record<string, bigint>> | undefined;

  constructor(
    /** The source's slot group: the layout `words` are in. */
    readonly group: SlotGroupSpec,
    /** The slot's words as read. */
    readonly words: readonly bigint[],
    /** The source slot they were read from. */
    readonly sourceSlot: number,
  ) {}

  /** Every field by name, as decodeSlotFields gives them. */
  get fields(): Readonly<Record<string, bigint>> {
    return (this.#fields ??= decodeSlotFields(this.group, this.words));
  }

  /** What a plain record serializes to: the fields. */
  toJSON(): SlotRecordOut {
    return { fields: this.fields };
  }
}

/**
 * A test for records whose words mean at `group` what they meant where they were read
 * (SlotWordsRecord of the same layout: sameSlotLayout); the layouts, long strings, are compared
 * once per source group a batch holds, not once per record. A class, not a closure made per batch:
 * its test runs per record of the pause's final batch, and one method keeps its optimized code
 * across batches (README, "No closure made per call for the pause's per-slot loops").
 * @example
 * const asWords = new InLayout(group);
 * for (const rec of batch.slots) if (asWords.has(rec)) use(rec.words);
 */
export class InLayout {
  private seen: SlotGroupSpec | undefined;
  private alike = false;

  constructor(private readonly group: SlotGroupSpec) {}

  /** Whether `rec` is a words record of this layout. */
  has(rec: SlotRecordOut): rec is SlotWordsRecord {
    if (!(rec instanceof SlotWordsRecord)) return false;
    if (rec.group !== this.seen) this.alike = sameSlotLayout((this.seen = rec.group), this.group);
    return this.alike;
  }
}
