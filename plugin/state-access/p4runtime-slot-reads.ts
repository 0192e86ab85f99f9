/**
 * Slot and register reads over P4Runtime for P4RuntimeRegisterAccess: wildcard reads of whole
 * registers where a read covers much of the table, index reads in shared ReadRequests otherwise.
 */
import type { P4Switch } from 'p4runtime-ts';
import type { SlotGroupSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import { forEachLimited } from './for-each-limited.js';
import { compileSlotFilter, selectionIndices } from './register-access.js';
import type { ReadSlotsOptions, SlotFilter, SlotRecord, SlotSelection } from './register-access.js';
import type { P4RuntimeBackendOptions } from './p4runtime-backend.js';

/** Reads a slot group's registers; counts requests and cells into the backend's tallies. */
export class P4RuntimeSlotReader {
  constructor(
    private readonly sw: P4Switch,
    private readonly group: SlotGroupSpec,
    private readonly options: P4RuntimeBackendOptions,
    private readonly counts: { requests: number },
    private readonly ops: { cells: number },
  ) {}

  /**
   * Reads cells of one register into `out` (indexed by cell): wildcard when `indices` is undefined
   * or covers more than `wildcardShare` of the register, else index reads in batches.
   */
  async readRegister(register: string, size: number, indices: readonly number[] | undefined, out: BigUint64Array): Promise<void> {
    const what = `reading register '${register}'`;
    try {
      if (indices === undefined || indices.length > size * this.options.wildcardShare) {
        this.counts.requests++;
        for await (const cells of this.sw.readChunks(this.sw.register(register).all())) for (const cell of cells) {
          out[cell.index] = cell.value;
          this.ops.cells++;
        }
        return;
      }
      const handle = this.sw.register(register);
      const batches: number[][] = [];
      for (let i = 0; i < indices.length; i += this.options.readBatch) batches.push(indices.slice(i, i + this.options.readBatch));
      await forEachLimited(batches, this.options.readConcurrency, async (batch) => {
        this.counts.requests++;
        for await (const cells of this.sw.readChunks(handle.cells(batch))) for (const cell of cells) {
          out[cell.index] = cell.value;
          this.ops.cells++;
        }
      });
    } catch (e) {
      throw EdgePluginError.from(e, what);
    }
  }

  /** The selected slots that pass the filter: by index when few, else whole registers (filter words first). */
  async readSlots(selection: SlotSelection, options?: ReadSlotsOptions): Promise<SlotRecord[]> {
    const g = this.group;
    const filter = compileSlotFilter(g, options);
    let indices = selectionIndices(selection, g.slots, `read of slot group '${g.name}'`);
    if (indices !== undefined && indices.length <= g.slots * this.options.wildcardShare) return this.readListed(indices, filter);
    const columns = new Map<number, BigUint64Array>();
    const column = (w: number): BigUint64Array => {
      let c = columns.get(w);
      if (!c) {
        c = new BigUint64Array(g.slots);
        columns.set(w, c);
      }
      return c;
    };
    const readWords = async (words: readonly number[], at: readonly number[] | undefined): Promise<void> => {
      await forEachLimited(words, this.options.readConcurrency, async (w) => {
        const word = g.words[w];
        if (word) await this.readRegister(word.register, g.slots, at, column(w));
      });
    };
    const wordsOf = (c: Map<number, BigUint64Array>, i: number): bigint[] => g.words.map((w) => c.get(w.index)?.[i] ?? 0n);

    if (filter.words.length > 0) {
      await readWords(filter.words, indices);
      const all = indices ?? Array.from({ length: g.slots }, (_, i) => i);
      indices = all.filter((i) => filter.matches(wordsOf(columns, i)));
      if (indices.length === 0) return [];
    }
    const rest = g.words.map((w) => w.index).filter((w) => !columns.has(w));
    await readWords(rest, indices);
    const result = indices ?? Array.from({ length: g.slots }, (_, i) => i);
    return result.map((index) => ({ index, words: wordsOf(columns, index) }));
  }

  /**
   * Slots named by index (a delta round's, a VM's): the cells of every word go together in
   * ReadRequests of `readBatch` entities — one round trip for a round's few hundred slots, not one
   * per register — and land in per-slot arrays, so nothing sized by the table is allocated.
   */
  private async readListed(indices: readonly number[], filter: SlotFilter): Promise<SlotRecord[]> {
    const g = this.group;
    const at = new Map(indices.map((index, n) => [index, n]));
    const words = indices.map(() => g.words.map(() => 0n));
    const store = (w: number, index: number, value: bigint): void => {
      const slot = words[at.get(index) ?? -1];
      if (slot && w >= 0) slot[w] = value;
    };
    let keep = indices;
    if (filter.words.length > 0) {
      await this.readCells(filter.words, indices, store);
      keep = indices.filter((i) => filter.matches(words[at.get(i) ?? -1] ?? []));
      if (keep.length === 0) return [];
    }
    const rest = g.words.map((w) => w.index).filter((w) => !filter.words.includes(w));
    await this.readCells(rest, keep, store);
    return keep.map((index) => ({ index, words: words[at.get(index) ?? -1] ?? [] }));
  }

  /** Reads cells `indices` of each word in `wordIdx`, mixed in shared ReadRequests; `store(word, index, value)` per cell. */
  private async readCells(wordIdx: readonly number[], indices: readonly number[], store: (word: number, index: number, value: bigint) => void): Promise<void> {
    if (wordIdx.length === 0 || indices.length === 0) return;
    const handles = wordIdx.map((w) => this.sw.register(this.group.words[w]?.register ?? ''));
    // Answers name the register by its full name: map it back to the word.
    const byName = new Map(handles.map((h, n) => [h.info.name, wordIdx[n] as number]));
    const total = wordIdx.length * indices.length;
    const batches: number[] = [];
    for (let k = 0; k < total; k += this.options.readBatch) batches.push(k);
    try {
      await forEachLimited(batches, this.options.readConcurrency, async (from) => {
        // Cells are numbered word-major: a batch is a run of indices of one word, or of a few in turn.
        const to = Math.min(total, from + this.options.readBatch);
        const queries = [];
        for (let k = from; k < to; ) {
          const start = k % indices.length;
          const end = Math.min(indices.length, start + (to - k));
          queries.push((handles[Math.floor(k / indices.length)] as (typeof handles)[number]).cells(indices.slice(start, end)));
          k += end - start;
        }
        this.counts.requests++;
        for await (const cells of this.sw.readChunks(queries)) for (const cell of cells) {
          store(byName.get(cell.register) ?? -1, cell.index, cell.value);
          this.ops.cells++;
        }
      });
    } catch (e) {
      throw EdgePluginError.from(e, `reading ${total} cells of slot group '${this.group.name}'`);
    }
  }
}
