/**
 * What one migration has written at a destination: per flow key, the slot and the words written —
 * and, per source, which flow came last from each of its slots.
 *
 * Why the second index: a final batch names mostly flows placed in an earlier round, and finding
 * each by its key string in a map of every placed flow cost about 2 µs a flow at 10^5 flows (cache
 * misses through the table and the key strings; BENCHMARKS.md, 2026-12-05). A source slot number
 * is a small integer key: no string to hash or compare. (Kept in a map, not an array indexed by
 * slot: an array would cost the source's whole table size, 2.6 MB for stateful_edge, for a VM of
 * ten flows.) It is only a hint: the caller checks the flow's key before using what it finds, and
 * an entry stops being found once its key is deleted or given a new entry.
 */

/** A flow of this migration placed here: its key, slot and the words written (rewritten in place, so a hint to it stays current). */
export interface PlacedEntry {
  readonly key: string;
  readonly slot: number;
  readonly words: readonly bigint[];
}

interface Entry {
  readonly key: string;
  slot: number;
  words: readonly bigint[];
  live: boolean;
}

/**
 * A destination's placed flows, by key and by the source slot they came from.
 * @example
 * const placed = new PlacedFlows();
 * const e = placed.set('10/20/6', 17, words);
 * placed.noteOrigin('src', 4, e);
 * placed.fromOrigin('src', 4); // e, until '10/20/6' is deleted or placed anew
 */
export class PlacedFlows {
  readonly #byKey = new Map<string, Entry>();
  readonly #byOrigin = new Map<string, Map<number, Entry>>();

  /** The flow placed under `key`. */
  get(key: string): PlacedEntry | undefined {
    return this.#byKey.get(key);
  }

  /** Records `key` at `slot` with `words` (its entry rewritten in place when it has one); returns the entry. */
  set(key: string, slot: number, words: readonly bigint[]): PlacedEntry {
    const e = this.#byKey.get(key);
    if (e) {
      e.slot = slot;
      e.words = words;
      return e;
    }
    const made: Entry = { key, slot, words, live: true };
    this.#byKey.set(key, made);
    return made;
  }

  /** Rewrites the words of an entry this returned, still placed (the held path: no look-up by key). */
  rewrite(entry: PlacedEntry, words: readonly bigint[]): void {
    const e = entry as Entry;
    if (!e.live) throw new Error(`placed flow ${e.key}: rewritten after it was removed`);
    e.words = words;
  }

  /** Forgets `key`; its origin hints find nothing from now on. */
  delete(key: string): boolean {
    const e = this.#byKey.get(key);
    if (!e) return false;
    e.live = false;
    return this.#byKey.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    for (const e of this.#byKey.values()) e.live = false;
    this.#byKey.clear();
    this.#byOrigin.clear();
  }

  /** Every placed flow. */
  values(): IterableIterator<PlacedEntry> {
    return this.#byKey.values();
  }

  /** Notes that `entry` (from set) came from `source`'s slot `sourceSlot`. */
  noteOrigin(source: string, sourceSlot: number, entry: PlacedEntry): void {
    let slots = this.#byOrigin.get(source);
    if (!slots) this.#byOrigin.set(source, (slots = new Map()));
    slots.set(sourceSlot, entry as Entry);
  }

  /** The flow last noted from `source`'s slot `sourceSlot`, while its key is still placed with that entry. */
  fromOrigin(source: string, sourceSlot: number): PlacedEntry | undefined {
    const e = this.#byOrigin.get(source)?.get(sourceSlot);
    return e?.live ? e : undefined;
  }
}
