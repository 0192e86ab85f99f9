/**
 * Handles on P4 objects by name — `sw.table('acl')`, `sw.register('r')`, ... — that build write
 * updates and read queries. A handle resolves its name once through the schema; the updates it
 * returns are plain `p4.v1.Update` properties, ready for `sw.write`.
 */
import { encodeRegisterModify } from './register-encoder.js';
import { EncodedUpdate } from './encoded-update.js';
import { tableEncoder } from './table-encoder.js';
import { P4RuntimeError } from '../errors.js';
import type { MatchInput, ValueInput } from '../codec/index.js';
import type { p4 } from '../proto/index.js';
import type { P4Schema, CounterInfo, DigestInfo, DirectCounterInfo, RegisterInfo, TableInfo } from '../schema/index.js';
import {
  encodeAction,
  encodeCounterData,
  encodeCounterEntry,
  encodeDigestEntry,
  encodeMatch,
  encodeRegisterEntry,
  encodeTableEntry,
  updateType,
} from './entity-codec.js';
import type {
  CounterCell,
  CounterValue,
  DigestConfigRead,
  DigestConfigSpec,
  DirectCounterCell,
  EntityRead,
  RegisterCell,
  TableEntryRead,
  TableEntrySpec,
} from './entity-codec.js';

/** One update of a Write, as protobufjs properties (built by the handles, or by hand). */
export type P4Update = p4.v1.Update.$Properties;

/**
 * What to read: the request entities plus, as a type only, what each decoded result looks like.
 * Several queries can be read in one request (`sw.read([q1, q2])`).
 */
export interface ReadQuery<T extends EntityRead = EntityRead> {
  readonly entities: readonly p4.v1.Entity.$Properties[];
  /** Type-level marker of the decoded result; never set. */
  readonly __result?: T;
}

/** The decoded result type of a query (distributes over unions of queries). */
export type ResultOf<Q> = Q extends ReadQuery<infer T> ? T : never;

/** Options of a table read. */
export interface TableReadOptions {
  /** Ask for each entry's direct counter (TableEntry.counter_data). */
  readonly withCounters?: boolean;
  /** Ask for the time since each entry was last hit (entries with an idle timeout). */
  readonly withIdleTime?: boolean;
}

function query<T extends EntityRead>(entity: p4.v1.Entity.$Properties): ReadQuery<T> {
  return { entities: [entity] };
}

function readFlags(te: p4.v1.TableEntry.$Properties, o: TableReadOptions | undefined): p4.v1.TableEntry.$Properties {
  // The spec asks for these by setting the (empty) message in the read request.
  if (o?.withCounters) te.counterData = {};
  if (o?.withIdleTime) te.timeSinceLastHit = {};
  return te;
}

/** A table by name: entry updates and reads. */
export class TableHandle {
  constructor(readonly info: TableInfo) {}

  /** An INSERT of an entry. */
  insert(spec: TableEntrySpec): P4Update {
    return this.encode(updateType('INSERT'), spec, false);
  }

  /** A MODIFY of an entry's action, parameters, timeout or counter. */
  modify(spec: TableEntrySpec): P4Update {
    return this.encode(updateType('MODIFY'), spec, false);
  }

  /** A DELETE of the entry with this key (`match` and, where needed, `priority`). */
  delete(spec: Pick<TableEntrySpec, 'match' | 'priority'>): P4Update {
    return this.encode(updateType('DELETE'), spec, true);
  }

  /** The table's compiled encoder; what it leaves (and every error) goes through the general codec. */
  private encode(type: p4.v1.Update.Type, spec: TableEntrySpec, forDelete: boolean): EncodedUpdate {
    return tableEncoder(this.info).encode(type, spec, forDelete) ?? EncodedUpdate.of({ type, entity: { tableEntry: encodeTableEntry(this.info, spec, forDelete) } });
  }

  /** A MODIFY of the table's default action. */
  setDefault(action: string, params?: Readonly<Record<string, ValueInput>>): P4Update {
    if (this.info.constDefaultActionId !== 0) {
      throw new P4RuntimeError('VALUE_RANGE', `table '${this.info.name}' has a const default action; it cannot be changed`);
    }
    return {
      type: updateType('MODIFY'),
      entity: { tableEntry: { tableId: this.info.id, isDefaultAction: true, action: { action: encodeAction(this.info, this.info.action(action), params) } } },
    };
  }

  /** Reads every entry of the table. */
  all(options?: TableReadOptions): ReadQuery<TableEntryRead> {
    return query({ tableEntry: readFlags({ tableId: this.info.id }, options) });
  }

  /** Reads the one entry with this key. */
  entry(match: Readonly<Record<string, MatchInput>>, options?: TableReadOptions & { readonly priority?: number }): ReadQuery<TableEntryRead> {
    const te: p4.v1.TableEntry.$Properties = { tableId: this.info.id, match: encodeMatch(this.info, match) };
    if (options?.priority !== undefined) te.priority = options.priority;
    return query({ tableEntry: readFlags(te, options) });
  }

  /** Reads the table's default entry. */
  defaultEntry(): ReadQuery<TableEntryRead> {
    return query({ tableEntry: { tableId: this.info.id, isDefaultAction: true } });
  }
}

/** A register array by name: cell writes and reads. */
export class RegisterHandle {
  constructor(readonly info: RegisterInfo) {}

  /** A MODIFY of one cell (registers have no INSERT/DELETE). */
  modify(index: number | bigint, value: ValueInput): P4Update {
    return encodeRegisterModify(this.info, index, value) ?? { type: updateType('MODIFY'), entity: { registerEntry: encodeRegisterEntry(this.info, index, value) } };
  }

  /** Reads every cell (index unset: the spec's wildcard). */
  all(): ReadQuery<RegisterCell> {
    return query({ registerEntry: encodeRegisterEntry(this.info, undefined) });
  }

  /** Reads one cell. */
  at(index: number | bigint): ReadQuery<RegisterCell> {
    return query({ registerEntry: encodeRegisterEntry(this.info, index) });
  }

  /**
   * Reads the cells `indices`, in order, as one query (one entity per cell; the same range checks
   * as `at`): a batch of thousands without a query object per cell.
   *
   * @example
   * for await (const cells of sw.readChunks(sw.register('ct_state').cells([3, 17, 42]))) use(cells);
   */
  cells(indices: readonly (number | bigint)[]): ReadQuery<RegisterCell> {
    const entities: p4.v1.Entity.$Properties[] = new Array<p4.v1.Entity.$Properties>(indices.length);
    for (let i = 0; i < indices.length; i++) entities[i] = { registerEntry: encodeRegisterEntry(this.info, indices[i] as number | bigint) };
    return { entities };
  }
}

/** An indirect counter array by name: cell writes and reads. */
export class CounterHandle {
  constructor(readonly info: CounterInfo) {}

  /** A MODIFY of one cell's byte/packet counts. */
  modify(index: number | bigint, value: Partial<CounterValue>): P4Update {
    const i = this.info;
    return { type: updateType('MODIFY'), entity: { counterEntry: encodeCounterEntry(i.id, i.name, i.size, index, value) } };
  }

  /** Reads every cell (index unset). */
  all(): ReadQuery<CounterCell> {
    return query({ counterEntry: encodeCounterEntry(this.info.id, this.info.name, this.info.size, undefined) });
  }

  /** Reads one cell. */
  at(index: number | bigint): ReadQuery<CounterCell> {
    return query({ counterEntry: encodeCounterEntry(this.info.id, this.info.name, this.info.size, index) });
  }
}

/** The direct counter of a table (addressed by the table's name). */
export class DirectCounterHandle {
  constructor(readonly table: TableInfo) {
    if (!table.directCounter) throw new P4RuntimeError('SCHEMA_LOOKUP', `table '${table.name}' has no direct counter`);
  }

  /** A MODIFY of the counter of the entry with this key. */
  modify(match: Readonly<Record<string, MatchInput>>, value: Partial<CounterValue>, priority?: number): P4Update {
    const te: p4.v1.TableEntry.$Properties = { tableId: this.table.id, match: encodeMatch(this.table, match) };
    if (priority !== undefined) te.priority = priority;
    return { type: updateType('MODIFY'), entity: { directCounterEntry: { tableEntry: te, data: encodeCounterData(value, `direct counter of table '${this.table.name}'`) } } };
  }

  /** Reads the counters of every entry of the table. */
  all(): ReadQuery<DirectCounterCell> {
    return query({ directCounterEntry: { tableEntry: { tableId: this.table.id } } });
  }

  /** Reads the counter of one entry. */
  entry(match: Readonly<Record<string, MatchInput>>, priority?: number): ReadQuery<DirectCounterCell> {
    const te: p4.v1.TableEntry.$Properties = { tableId: this.table.id, match: encodeMatch(this.table, match) };
    if (priority !== undefined) te.priority = priority;
    return query({ directCounterEntry: { tableEntry: te } });
  }
}

/** A digest by name: its configuration (subscribe to lists with `sw.digests$(name)`). */
export class DigestHandle {
  constructor(readonly info: DigestInfo) {}

  /** An INSERT of the digest's configuration: enables delivery of its lists. */
  configure(config: DigestConfigSpec): P4Update {
    return { type: updateType('INSERT'), entity: { digestEntry: encodeDigestEntry(this.info, config) } };
  }

  /** A MODIFY of an existing configuration (e.g. `maxListSize: 1` before a pause). */
  modify(config: DigestConfigSpec): P4Update {
    return { type: updateType('MODIFY'), entity: { digestEntry: encodeDigestEntry(this.info, config) } };
  }

  /** A DELETE of the configuration: stops delivery. */
  delete(): P4Update {
    return { type: updateType('DELETE'), entity: { digestEntry: encodeDigestEntry(this.info, undefined) } };
  }

  /** Reads the configuration. */
  config(): ReadQuery<DigestConfigRead> {
    return query({ digestEntry: { digestId: this.info.id } });
  }
}

/** Reads every entry of every table (table_id 0: the spec's wildcard). */
export function allTablesQuery(options?: TableReadOptions): ReadQuery<TableEntryRead> {
  return query({ tableEntry: readFlags({ tableId: 0 }, options) });
}

/** Resolves handles by name against one schema, caching them (name lookups cost on hot paths). */
export class HandleCache {
  private readonly tables = new Map<string | number, TableHandle>();
  private readonly registers = new Map<string | number, RegisterHandle>();
  private readonly counters = new Map<string | number, CounterHandle>();
  private readonly directCounters = new Map<string | number, DirectCounterHandle>();
  private readonly digests = new Map<string | number, DigestHandle>();

  constructor(readonly schema: P4Schema) {}

  /** A table handle by name, alias or id. */
  table(x: string | number): TableHandle {
    return cached(this.tables, x, () => new TableHandle(this.schema.table(x)));
  }

  /** A register handle. */
  register(x: string | number): RegisterHandle {
    return cached(this.registers, x, () => new RegisterHandle(this.schema.register(x)));
  }

  /** An indirect counter handle. */
  counter(x: string | number): CounterHandle {
    return cached(this.counters, x, () => new CounterHandle(this.schema.counter(x)));
  }

  /** The direct counter of a table, by the table's name (or the direct counter's own name). */
  directCounter(x: string | number): DirectCounterHandle {
    return cached(this.directCounters, x, () => {
      const dc = this.schema.find('direct_counter', x) as DirectCounterInfo | undefined;
      const table = dc ? this.schema.table(dc.tableId) : this.schema.table(x);
      return new DirectCounterHandle(table);
    });
  }

  /** A digest handle. */
  digest(x: string | number): DigestHandle {
    return cached(this.digests, x, () => new DigestHandle(this.schema.digest(x)));
  }
}

function cached<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}
