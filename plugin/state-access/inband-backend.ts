/**
 * RegisterAccess through the pipeline's in-band service (p4/README.md "In-band state access"),
 * for targets whose P4Runtime server cannot read or write registers (BMv2). One request per slot,
 * dirty word or epoch operation, through the windowed InbandClient.
 */
import { INBAND_OP, INBAND_STATUS } from '../contract/index.js';
import type { InbandSpec, SlotGroupSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import { InbandClient } from './inband-client.js';
import type { InbandChannel, InbandOptions } from './inband-client.js';
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
import { changeLogOf, checkPosition, checkTracker, decodeEntries, logCell, logSpan, trackerConflict, trackerState } from './change-log-access.js';
import type { ChangedSlots, ConditionalOutcome, TrackerState } from './change-log-access.js';
import type { Clock, Logger } from 'p4runtime-ts';
import { ClockEstimate } from './clock-estimate.js';

/** Reads a counter cell over P4Runtime (counters are P4Runtime entities on every target). */
export type CounterSource = (counter: string, index: number) => Promise<CounterReading>;

/** What the in-band backend is built from. */
export interface InbandBackendParts {
  readonly group: SlotGroupSpec;
  readonly spec: InbandSpec;
  readonly channel: InbandChannel;
  readonly options: InbandOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters: CounterSource;
  /** Why this backend serves the device, for capabilities(). */
  readonly reason: string;
}

/** Register access over PacketOut/PacketIn. */
export class InbandRegisterAccess implements RegisterAccess {
  readonly group: SlotGroupSpec;
  private readonly client: InbandClient;
  /** The data plane's time as last heard (undefined: the group has no clock, or its answers carry no time). */
  private readonly heard: ClockEstimate | undefined;

  constructor(private readonly parts: InbandBackendParts) {
    this.group = parts.group;
    this.heard = parts.group.clock && parts.spec.tsBits > 0 ? new ClockEstimate(parts.group.clock.unit, parts.spec.tsBits) : undefined;
    if (parts.spec.group !== parts.group.name) {
      throw new EdgePluginError('CONTRACT_INVALID', `the in-band service serves slot group '${parts.spec.group}', not '${parts.group.name}'; use the group @migrate_inband names`, { annotation: '@migrate_inband' });
    }
    this.client = new InbandClient(parts.spec, parts.channel, parts.options, parts.clock, parts.logger);
  }

  capabilities(): RegisterAccessCapabilities {
    return { backend: 'inband', reason: this.parts.reason, group: this.group.name, slots: this.group.slots, window: this.parts.options.window, trackers: this.group.changeLog?.trackers ?? 0, conditional: 'inband' };
  }

  stats(): RegisterAccessStats {
    return this.client.stats();
  }

  async readSlots(selection: SlotSelection, options?: ReadSlotsOptions): Promise<SlotRecord[]> {
    const g = this.group;
    const filter = compileSlotFilter(g, options);
    const filtered = filter.words.length > 0;
    const listed = selectionIndices(selection, g.slots, `read of slot group '${g.name}'`);
    const count = listed ? listed.length : g.slots;
    const at = (i: number): number => (listed ? (listed[i] ?? 0) : i);
    // Answers land in flat columns, not in per-slot arrays: a scan then keeps nothing per answer
    // alive, so the collector never walks 327,680 small arrays while requests are in flight.
    const W = g.words.length;
    const columns = g.words.map(() => new BigUint64Array(count));
    const keep = new Uint8Array(count);
    await this.client.runBatch(
      count,
      (i) => ({ op: INBAND_OP.READ_SLOT, index: at(i) }),
      (i, ans) => {
        const words = ans.words;
        if (filtered && !filter.matches(words)) return;
        keep[i] = 1;
        for (let w = 0; w < W; w++) (columns[w] as BigUint64Array)[i] = words[w] ?? 0n;
      },
      (_op, index) => `READ_SLOT slot ${index} of group '${g.name}'`,
    );
    const found: SlotRecord[] = [];
    // selectionIndices returns indices ascending, so the records come out sorted.
    for (let i = 0; i < count; i++) if (keep[i]) found.push({ index: at(i), words: columns.map((c) => c[i] ?? 0n) });
    return found;
  }

  async writeSlots(writes: readonly SlotWrite[]): Promise<void> {
    const masks = checkSlotWrites(this.group, writes);
    // WRITE_SLOT is idempotent (same words, same mask), so retries are safe — and with each slot
    // at most once per batch, no retried write can land after a newer one to the same slot.
    await this.client.runBatch(
      writes.length,
      (i) => {
        const w = writes[i] as SlotWrite;
        return { op: INBAND_OP.WRITE_SLOT, index: w.index, mask: masks[i] ?? 0, words: w.words };
      },
      () => undefined,
      (_op, index) => `WRITE_SLOT slot ${index} of group '${this.group.name}'`,
    );
  }

  private dirty(): NonNullable<SlotGroupSpec['dirty']> {
    const d = this.group.dirty;
    if (!d) throw new EdgePluginError('CONTRACT_MISSING', `slot group '${this.group.name}' has no dirty bitmap; declare one with @migrate_dirty("${this.group.name}", "epoch register")`, { annotation: '@migrate_dirty' });
    return d;
  }

  /** Sends `op` for each dirty word index; returns w0 of each answer by index. */
  private async dirtyBatch(op: number, indices: readonly number[], register: string): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    const name = op === INBAND_OP.CLEAR_DIRTY ? 'CLEAR_DIRTY' : 'READ_DIRTY';
    await this.client.runBatch(
      indices.length,
      (i) => ({ op, index: indices[i] ?? 0 }),
      (i, ans) => out.set(indices[i] ?? 0, ans.words[0] ?? 0n),
      (_op, index) => `${name} word ${index} of '${register}'`,
    );
    return out;
  }

  async readDirtyWords(selection: DirtySelection, options?: { readonly nonZeroOnly?: boolean }): Promise<DirtyWord[]> {
    const d = this.dirty();
    const indices = selectionIndices(selection, d.words, `read of dirty bitmap '${d.register}'`, d.wordsPerBuffer) ?? [];
    const values = await this.dirtyBatch(INBAND_OP.READ_DIRTY, indices, d.register);
    return indices.map((index) => ({ index, value: values.get(index) ?? 0n })).filter((w) => !options?.nonZeroOnly || w.value !== 0n);
  }

  async clearDirtyWords(indices: readonly number[]): Promise<DirtyWord[]> {
    const d = this.dirty();
    const list = selectionIndices({ indices }, d.words, `clear of dirty bitmap '${d.register}'`) ?? [];
    // READ first: if a CLEAR's answer is lost, the retried CLEAR returns only newer bits, and the
    // READ still holds what was there before.
    const before = await this.dirtyBatch(INBAND_OP.READ_DIRTY, list, d.register);
    const cleared = await this.dirtyBatch(INBAND_OP.CLEAR_DIRTY, list, d.register);
    return list.map((index) => ({ index, value: (before.get(index) ?? 0n) | (cleared.get(index) ?? 0n) }));
  }

  async readEpoch(): Promise<bigint> {
    const d = this.dirty();
    const ans = await this.client.request(INBAND_OP.READ_EPOCH, 0, `READ_EPOCH of '${d.epochRegister}'`);
    return ans.words[0] ?? 0n;
  }

  /**
   * Conditional flip from `from`: FLIP_EPOCH with mask bit 0 flips in the pipeline only when the
   * epoch equals w0, so no other controller's flip can slip in between a check and the flip. It
   * is still sent once (no automatic retry), and a lost answer is settled by a READ_EPOCH first
   * in the same FIFO stream: `from + 1` means it landed.
   */
  async flipEpoch(from: bigint): Promise<bigint> {
    const d = this.dirty();
    const target = epochAfter(from, d.epochBits, d.epochRegister);
    const check = async (): Promise<boolean> => {
      const now = await this.readEpoch();
      if (now === target) return true;
      if (now !== from) throw epochConflict(d.epochRegister, from, now);
      return false;
    };
    if (await check()) return target;
    for (let attempt = 1; ; attempt++) {
      try {
        // FLIP_EPOCH must not run twice: one attempt, and on a lost answer look before flipping again.
        const ans = await this.client.request(INBAND_OP.FLIP_EPOCH, 0, `FLIP_EPOCH of '${d.epochRegister}'`, { retry: false, mask: 1, words: [from] });
        const now = ans.words[0] ?? target;
        if (now !== target) throw epochConflict(d.epochRegister, from, now);
        return now;
      } catch (e) {
        if (!(e instanceof EdgePluginError) || e.code !== 'INBAND_TIMEOUT') throw e;
        // Requests pass the pipeline in order: a READ_EPOCH sent now sees the flip if it was not lost.
        if (await check()) return target;
        if (attempt >= this.parts.options.maxAttempts) {
          throw new EdgePluginError('INBAND_TIMEOUT', `FLIP_EPOCH of '${d.epochRegister}': no answer after ${attempt} attempt(s) and the epoch is still ${from}; retry flipEpoch(${from}n)`, { cause: e });
        }
      }
    }
  }

  async readTracker(tracker: number): Promise<TrackerState> {
    const c = changeLogOf(this.group);
    checkTracker(c, tracker);
    const ans = await this.client.request(INBAND_OP.TRK_READ, tracker, `TRK_READ of tracker ${tracker}`);
    const st = trackerState(c, tracker, ans.words);
    // Every answer carries the data plane's time (READ_CLOCK answers the same value in w0).
    if (this.parts.spec.tsBits <= 0) return st;
    this.heard?.heard(ans.ts);
    return { ...st, clock: ans.ts };
  }

  /**
   * TRK_FLIP is conditional in the pipeline (mask bit 0: flip only from w0), so a retry after a
   * lost answer cannot flip twice: it answers CONFLICT with the epoch the first attempt made.
   */
  async flipTracker(tracker: number, from: bigint): Promise<TrackerState> {
    const c = changeLogOf(this.group);
    checkTracker(c, tracker);
    const target = (checkPosition(from, 'epoch') + 1n) % (1n << 32n);
    const ans = await this.client.request(INBAND_OP.TRK_FLIP, tracker, `TRK_FLIP of tracker ${tracker} from epoch ${from}`, { mask: 1, words: [from] });
    const st = trackerState(c, tracker, ans.words);
    if (st.epoch !== target) throw trackerConflict(tracker, from, st.epoch);
    // CONFLICT with the target epoch: an earlier attempt flipped and this one only read. Its count
    // is later than the flip's, so it cannot bound the round's changes from below: unknown.
    return ans.status === INBAND_STATUS.CONFLICT ? { ...st, changes: undefined } : st;
  }

  async readChangedSlots(tracker: number, since: bigint, upTo?: bigint): Promise<ChangedSlots> {
    const c = changeLogOf(this.group);
    checkTracker(c, tracker);
    checkPosition(since, 'since');
    const to = upTo === undefined ? (await this.readTracker(tracker)).head : checkPosition(upTo, 'upTo');
    const span = logSpan(c, since, to);
    // LOG_READ answers nine consecutive entries of the ring: one request per nine changes.
    const per = this.group.words.length;
    const cells = new Array<bigint>(span.count).fill(0n);
    const requests = Math.ceil(span.count / per);
    await this.client.runBatch(
      requests,
      (i) => ({ op: INBAND_OP.LOG_READ, index: logCell(c, tracker, span.from + BigInt(i * per)) }),
      (i, ans) => ans.words.forEach((w, k) => {
        if (i * per + k < span.count) cells[i * per + k] = w;
      }),
      (_op, index) => `LOG_READ cell ${index} of '${c.logRegister}'`,
    );
    return decodeEntries(tracker, span.from, to, cells, span.overflow);
  }

  writeSlotsIf(writes: readonly SlotWrite[]): Promise<ConditionalOutcome[]> {
    return this.conditional(INBAND_OP.WRITE_IF, writes, checkSlotWrites(this.group, writes));
  }

  clearSlotsIf(clears: readonly SlotWrite[]): Promise<ConditionalOutcome[]> {
    checkSlotWrites(this.group, clears);
    return this.conditional(INBAND_OP.CLEAR_IF, clears, clears.map(() => 0));
  }

  /** One WRITE_IF / CLEAR_IF per slot; both are safe to retry (the condition sees the first attempt's effect). */
  private async conditional(op: number, items: readonly SlotWrite[], masks: readonly number[]): Promise<ConditionalOutcome[]> {
    const out = new Array<ConditionalOutcome>(items.length);
    const name = op === INBAND_OP.WRITE_IF ? 'WRITE_IF' : 'CLEAR_IF';
    await this.client.runBatch(
      items.length,
      (i) => {
        const w = items[i] as SlotWrite;
        return { op, index: w.index, mask: masks[i] ?? 0, words: w.words };
      },
      (i, ans) => {
        out[i] = { index: (items[i] as SlotWrite).index, applied: ans.status === INBAND_STATUS.OK, words: ans.words };
      },
      (_op, index) => `${name} slot ${index} of group '${this.group.name}'`,
    );
    return out;
  }

  async readClock(): Promise<bigint> {
    const ans = await this.client.request(INBAND_OP.READ_CLOCK, 0, 'READ_CLOCK');
    const t = ans.words[0] ?? 0n;
    this.heard?.heard(t);
    return t;
  }

  estimateClock(maxAgeMs: number): bigint | undefined {
    return this.heard?.now(maxAgeMs);
  }

  readCounter(counter: string, index: number): Promise<CounterReading> {
    return this.parts.counters(counter, index);
  }

  close(): void {
    this.client.close();
  }
}
