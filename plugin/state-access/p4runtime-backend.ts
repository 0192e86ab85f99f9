/**
 * RegisterAccess through P4Runtime `RegisterEntry` (spec-complete targets, Stratum/Tofino): one
 * register per word of the group, read wildcard (index unset = every cell) or by index, written
 * with MODIFY. A filtered read fetches the filter's words first and the other words only for the
 * slots that pass, so reading one VM's flows costs two wildcard reads plus its own cells.
 */
import type { P4Switch } from 'p4runtime-ts';
import type { SlotGroupSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import { forEachLimited } from './for-each-limited.js';
import { compileSlotFilter, epochAfter, epochConflict, selectionIndices } from './register-access.js';
import type {
  CounterReading,
  DirtySelection,
  DirtyWord,
  ReadSlotsOptions,
  RegisterAccess,
  RegisterAccessCapabilities,
  RegisterAccessStats,
  SlotRecord,
  SlotSelection,
  SlotWrite,
} from './register-access.js';
import { checkSlotWrites } from './slot-validation.js';

/** Knobs of the P4Runtime backend. */
export interface P4RuntimeBackendOptions {
  /** Register entities per ReadRequest for index reads. */
  readonly readBatch: number;
  /** ReadRequests in flight at once. */
  readonly readConcurrency: number;
  /** Above this share of a register's cells, read it wildcard instead of cell by cell. */
  readonly wildcardShare: number;
}

/** Defaults of the P4Runtime backend. */
export const DEFAULT_P4RUNTIME_BACKEND_OPTIONS: P4RuntimeBackendOptions = Object.freeze({ readBatch: 2000, readConcurrency: 2, wildcardShare: 0.25 });

/** Reads one counter cell through a P4Switch. */
export async function readCounterCell(sw: P4Switch, counter: string, index: number): Promise<CounterReading> {
  try {
    const cells = await sw.readAll(sw.counter(counter).at(index));
    const c = cells[0];
    return { counter, index, bytes: c?.bytes ?? 0n, packets: c?.packets ?? 0n };
  } catch (e) {
    throw EdgePluginError.from(e, `reading counter '${counter}'[${index}]`);
  }
}

/** Register access over P4Runtime RegisterEntry reads and MODIFY writes. */
export class P4RuntimeRegisterAccess implements RegisterAccess {
  private readonly counts = { requests: 0, retries: 0, timeouts: 0, duplicateAnswers: 0, strayAnswers: 0, maxInFlight: 0 };

  constructor(
    private readonly sw: P4Switch,
    readonly group: SlotGroupSpec,
    private readonly reason: string,
    private readonly options: P4RuntimeBackendOptions = DEFAULT_P4RUNTIME_BACKEND_OPTIONS,
  ) {}

  capabilities(): RegisterAccessCapabilities {
    return { backend: 'p4runtime', reason: this.reason, group: this.group.name, slots: this.group.slots };
  }

  stats(): RegisterAccessStats {
    return { ...this.counts, inFlight: 0 };
  }

  /**
   * Reads cells of one register into `out` (indexed by cell): wildcard when `indices` is undefined
   * or covers more than `wildcardShare` of the register, else index reads in batches.
   */
  private async readRegister(register: string, size: number, indices: readonly number[] | undefined, out: BigUint64Array): Promise<void> {
    const what = `reading register '${register}'`;
    try {
      if (indices === undefined || indices.length > size * this.options.wildcardShare) {
        this.counts.requests++;
        for await (const cell of this.sw.read(this.sw.register(register).all())) out[cell.index] = cell.value;
        return;
      }
      const handle = this.sw.register(register);
      const batches: number[][] = [];
      for (let i = 0; i < indices.length; i += this.options.readBatch) batches.push(indices.slice(i, i + this.options.readBatch));
      await forEachLimited(batches, this.options.readConcurrency, async (batch) => {
        this.counts.requests++;
        for await (const cell of this.sw.read(batch.map((i) => handle.at(i)))) out[cell.index] = cell.value;
      });
    } catch (e) {
      throw EdgePluginError.from(e, what);
    }
  }

  async readSlots(selection: SlotSelection, options?: ReadSlotsOptions): Promise<SlotRecord[]> {
    const g = this.group;
    const filter = compileSlotFilter(g, options);
    let indices = selectionIndices(selection, g.slots, `read of slot group '${g.name}'`);
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

  async writeSlots(writes: readonly SlotWrite[]): Promise<void> {
    const updates = [];
    // P4Runtime applies the updates of one Write in any order: a slot may appear only once.
    const masks = checkSlotWrites(this.group, writes);
    for (const [n, w] of writes.entries()) {
      const mask = masks[n] ?? 0;
      for (const word of this.group.words) {
        if ((mask >> word.index) & 1) updates.push(this.sw.register(word.register).modify(w.index, w.words[word.index] ?? 0n));
      }
    }
    if (updates.length === 0) return;
    this.counts.requests++;
    try {
      await this.sw.write(updates);
    } catch (e) {
      throw EdgePluginError.from(e, `writing ${writes.length} slot(s) of group '${this.group.name}'`);
    }
  }

  private dirty(): NonNullable<SlotGroupSpec['dirty']> {
    const d = this.group.dirty;
    if (!d) throw new EdgePluginError('CONTRACT_MISSING', `slot group '${this.group.name}' has no dirty bitmap; declare one with @migrate_dirty("${this.group.name}", "epoch register")`, { annotation: '@migrate_dirty' });
    return d;
  }

  async readDirtyWords(selection: DirtySelection, options?: { readonly nonZeroOnly?: boolean }): Promise<DirtyWord[]> {
    const d = this.dirty();
    const indices = selectionIndices(selection, d.words, `read of dirty bitmap '${d.register}'`, d.wordsPerBuffer) ?? [];
    const cells = new BigUint64Array(d.words);
    await this.readRegister(d.register, d.words, indices, cells);
    const out: DirtyWord[] = [];
    for (const index of indices) {
      const value = cells[index] ?? 0n;
      if (!options?.nonZeroOnly || value !== 0n) out.push({ index, value });
    }
    return out;
  }

  async clearDirtyWords(indices: readonly number[]): Promise<DirtyWord[]> {
    const d = this.dirty();
    const read = await this.readDirtyWords({ indices });
    const updates = read.filter((w) => w.value !== 0n).map((w) => this.sw.register(d.register).modify(w.index, 0n));
    if (updates.length > 0) {
      this.counts.requests++;
      try {
        await this.sw.write(updates);
      } catch (e) {
        throw EdgePluginError.from(e, `clearing ${updates.length} word(s) of dirty bitmap '${d.register}'`);
      }
    }
    return read;
  }

  async readEpoch(): Promise<bigint> {
    const d = this.dirty();
    const cells = new BigUint64Array(1);
    await this.readRegister(d.epochRegister, 1, [0], cells);
    return cells[0] ?? 0n;
  }

  /**
   * Conditional flip from `from`: read, compare, then MODIFY to the absolute value `from + 1`.
   * P4Runtime has no compare-and-set, so the read and the write are two RPCs; what holds: a
   * caller's retry never flips twice (it finds `from + 1` and writes nothing, and even a repeated
   * MODIFY writes the same value), and an epoch moved by someone else before the read is refused
   * (STATE_CONFLICT). A writer that slips in between the read and the MODIFY is overwritten —
   * only the primary controller may write, and the data plane never writes the epoch, so that
   * takes a second writer on the same device (e.g. another controller's in-band FLIP_EPOCH).
   */
  async flipEpoch(from: bigint): Promise<bigint> {
    const d = this.dirty();
    const target = epochAfter(from, d.epochBits, d.epochRegister);
    const now = await this.readEpoch();
    if (now === target) return target;
    if (now !== from) throw epochConflict(d.epochRegister, from, now);
    this.counts.requests++;
    try {
      await this.sw.write(this.sw.register(d.epochRegister).modify(0, target));
    } catch (e) {
      throw EdgePluginError.from(e, `flipping epoch register '${d.epochRegister}' from ${from} to ${target}`);
    }
    return target;
  }

  readCounter(counter: string, index: number): Promise<CounterReading> {
    this.counts.requests++;
    return readCounterCell(this.sw, counter, index);
  }

  close(): void {
    // Nothing of its own to release: the P4Switch belongs to the caller.
  }
}
