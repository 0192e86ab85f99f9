/**
 * A test double of the sim's PipelineEnv: tables (exact and ternary, default actions, direct
 * counters), registers, indirect counters, digests and a settable clock, all in memory. It lets
 * the stateful_edge model run without the P4Runtime server; it is not the sim's state store.
 */
import type { PipelineEnv, TableHit } from '../../program.js';

/** One match field of an entry: exact when `mask` is absent, ternary otherwise. */
export interface DoubleMatch {
  readonly value: bigint;
  readonly mask?: bigint;
}

export interface DoubleEntry {
  readonly match: Readonly<Record<string, DoubleMatch>>;
  /** Higher wins among matching ternary entries (P4Runtime convention). */
  readonly priority?: number;
  readonly action: string;
  readonly params?: Readonly<Record<string, bigint>>;
}

export interface CounterCell {
  packets: number;
  bytes: number;
}

interface TableState {
  entries: { entry: DoubleEntry; counter: CounterCell; lastHitNs: bigint }[];
  defaultAction: { action: string; params: Readonly<Record<string, bigint>> };
}

/** An in-memory PipelineEnv for unit tests of a program model. */
export class InMemoryPipelineEnvDouble implements PipelineEnv {
  private readonly tables = new Map<string, TableState>();
  private readonly registers = new Map<string, Map<number, bigint>>();
  private readonly counters = new Map<string, Map<number, CounterCell>>();
  readonly digests: { digest: string; fields: Readonly<Record<string, bigint>> }[] = [];
  /** Every table application, for tests that check what the program looked up. */
  readonly applied: { table: string; key: Readonly<Record<string, bigint>> }[] = [];
  nowNsValue = 0n;
  registerReads = 0;

  /** Declares a table and its default action (a miss runs it). */
  defineTable(table: string, defaultAction: string, params: Readonly<Record<string, bigint>> = {}): this {
    this.tables.set(table, { entries: [], defaultAction: { action: defaultAction, params } });
    return this;
  }

  /** Adds an entry to a declared table. */
  addEntry(table: string, entry: DoubleEntry): this {
    this.table(table).entries.push({ entry, counter: { packets: 0, bytes: 0 }, lastHitNs: 0n });
    return this;
  }

  /** Removes every entry of `table` whose match equals `match` field by field. */
  removeEntries(table: string, match: Readonly<Record<string, bigint>>): number {
    const t = this.table(table);
    const before = t.entries.length;
    t.entries = t.entries.filter((e) => !Object.entries(match).every(([k, v]) => e.entry.match[k]?.value === v));
    return before - t.entries.length;
  }

  /** The direct counter of the first entry whose exact fields equal `match`. */
  directCounter(table: string, match: Readonly<Record<string, bigint>>): CounterCell | undefined {
    return this.table(table).entries.find((e) => Object.entries(match).every(([k, v]) => e.entry.match[k]?.value === v))?.counter;
  }

  private table(name: string): TableState {
    const t = this.tables.get(name);
    if (!t) throw new Error(`test double: table '${name}' was not defined; call defineTable first`);
    return t;
  }

  applyTable(table: string, key: Readonly<Record<string, bigint>>, bytes: number): TableHit {
    this.applied.push({ table, key });
    const t = this.table(table);
    let best: TableState['entries'][number] | undefined;
    for (const e of t.entries) {
      const ok = Object.entries(e.entry.match).every(([field, m]) => {
        const v = key[field];
        if (v === undefined) throw new Error(`test double: table '${table}' applied without key field '${field}'`);
        return m.mask === undefined ? v === m.value : (v & m.mask) === (m.value & m.mask);
      });
      if (ok && (!best || (e.entry.priority ?? 0) > (best.entry.priority ?? 0))) best = e;
    }
    if (!best) return { action: t.defaultAction.action, params: t.defaultAction.params, hit: false };
    best.counter.packets += 1;
    best.counter.bytes += bytes;
    best.lastHitNs = this.nowNsValue;
    return { action: best.entry.action, params: best.entry.params ?? {}, hit: true };
  }

  registerRead(register: string, index: number): bigint {
    this.registerReads++;
    return this.registers.get(register)?.get(index) ?? 0n;
  }

  registerWrite(register: string, index: number, value: bigint): void {
    let cells = this.registers.get(register);
    if (!cells) this.registers.set(register, (cells = new Map()));
    cells.set(index, value);
  }

  /** Indices of `register` that hold a non-zero value. */
  nonZeroCells(register: string): number[] {
    return [...(this.registers.get(register)?.entries() ?? [])].filter(([, v]) => v !== 0n).map(([i]) => i);
  }

  counterCount(counter: string, index: number, bytes: number): void {
    let cells = this.counters.get(counter);
    if (!cells) this.counters.set(counter, (cells = new Map()));
    const cell = cells.get(index) ?? { packets: 0, bytes: 0 };
    cell.packets += 1;
    cell.bytes += bytes;
    cells.set(index, cell);
  }

  /** One cell of an indirect counter (zero when never counted). */
  counter(counter: string, index: number): CounterCell {
    return this.counters.get(counter)?.get(index) ?? { packets: 0, bytes: 0 };
  }

  digest(digest: string, fields: Readonly<Record<string, bigint>>): void {
    this.digests.push({ digest, fields });
  }

  nowNs(): bigint {
    return this.nowNsValue;
  }
}

/** A double with the stateful_edge tables declared with the P4's default actions. */
export function statefulEdgeEnvDouble(): InMemoryPipelineEnvDouble {
  return new InMemoryPipelineEnvDouble()
    .defineTable('port_role', 'unknown_port')
    .defineTable('vm_table', 'unknown_vm')
    .defineTable('vm_migration', 'no_migration')
    .defineTable('static_acl', 'static_miss')
    .defineTable('dyn_acl', 'pinhole_miss');
}
