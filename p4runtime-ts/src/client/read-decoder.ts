/**
 * ReadResponses decoded by name straight from the wire. Table entries and register cells — what
 * large reads are made of — go from bytes to `TableEntryRead` through look-up tables compiled once per schema, with no
 * protobuf objects in between and no description strings unless something is wrong. Any entry it
 * does not handle the ordinary way (an unknown id, a value too wide, an action profile, a malformed
 * message) and every other entity kind go through protobufjs and `decodeEntity`, which decode the
 * same thing or throw the same error; tests hold the two paths to equal results.
 */
import { p4 } from '../proto/index.js';
import { LEN, VARINT, WireReader } from '../proto/wire.js';
import { decodeBitsAt } from '../codec/index.js';
import type { MatchValue } from '../codec/index.js';
import type { MatchType, P4Schema, TableInfo } from '../schema/index.js';
import { decodeEntity, decodeTableEntry } from './entity-codec.js';
import type { CounterValue, EntityRead, RegisterCell, TableEntryRead } from './entity-codec.js';

interface FieldSlot {
  readonly name: string;
  readonly width: number;
  readonly kind: MatchType;
}

interface TableSlots {
  readonly name: string;
  readonly fields: ReadonlyMap<number, FieldSlot>;
}

interface ActionSlots {
  readonly name: string;
  readonly params: ReadonlyMap<number, { readonly name: string; readonly width: number }>;
}

/** Thrown inside the fast path to hand an entry to the general one; never escapes this module. */
class Fallback {}
const FALLBACK = new Fallback();

/** Decodes big-endian bytes buf[start, end) to a bigint if they fit `width` bits; else hands over. */
function bits(buf: Uint8Array, start: number, end: number, width: number): bigint {
  let i = start;
  while (i < end - 1 && buf[i] === 0) i++;
  const len = end - i;
  if (len <= 0) throw FALLBACK; // empty: not a value (the general path names it)
  const first = buf[i] as number;
  if ((len - 1) * 8 + (first === 0 ? 0 : 32 - Math.clz32(first)) > width) throw FALLBACK;
  return decodeBitsAt(buf, i, end);
}

/** Field numbers of FieldMatch's kinds (p4runtime.proto) and the kind each one is. */
const KIND_OF_FIELD: Readonly<Record<number, MatchType>> = { 2: 'exact', 3: 'ternary', 4: 'lpm', 6: 'range', 7: 'optional' };

/** The decoder of one schema's table entries. */
export class ReadDecoder {
  private readonly tables = new Map<number, TableSlots | null>();
  private readonly actions = new Map<number, ActionSlots | null>();
  /** Unsigned bit<W> registers by id (signed ones take the general path). */
  private readonly registers: ReadonlyMap<number, { readonly name: string; readonly width: number }>;

  constructor(private readonly schema: P4Schema) {
    this.registers = new Map(schema.registers.filter((x) => !x.signed).map((x) => [x.id, { name: x.name, width: x.bitwidth }]));
  }

  private table(id: number): TableSlots {
    let t = this.tables.get(id);
    if (t === undefined) {
      const info = this.schema.find('table', id) as TableInfo | undefined;
      t = info ? { name: info.name, fields: new Map(info.matchFields.map((f) => [f.id, { name: f.name, width: f.bitwidth, kind: f.matchType }])) } : null;
      this.tables.set(id, t);
    }
    if (!t) throw FALLBACK;
    return t;
  }

  private action(id: number): ActionSlots {
    let a = this.actions.get(id);
    if (a === undefined) {
      const info = this.schema.find('action', id) as { name: string; params: readonly { id: number; name: string; bitwidth: number }[] } | undefined;
      a = info ? { name: info.name, params: new Map(info.params.map((p) => [p.id, { name: p.name, width: p.bitwidth }])) } : null;
      this.actions.set(id, a);
    }
    if (!a) throw FALLBACK;
    return a;
  }

  /** Decodes every entity of one encoded ReadResponse, in order. */
  *response(buf: Uint8Array): Iterable<EntityRead> {
    // The entities' spans first: a malformed response is protobufjs's to report, before any entity.
    const spans: number[] = [];
    try {
      const r = new WireReader(buf);
      while (r.next()) {
        if (r.field !== 1 || r.wireType !== LEN) r.skip();
        else spans.push(r.span(), r.pos);
      }
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      for (const entity of p4.v1.ReadResponse.decode(buf).entities) yield decodeEntity(this.schema, entity);
      return;
    }
    for (let i = 0; i < spans.length; i += 2) yield this.entity(buf, spans[i] as number, spans[i + 1] as number);
  }

  /** Decodes one Entity from buf[start, end). */
  entity(buf: Uint8Array, start: number, end: number): EntityRead {
    const r = new WireReader(buf, start, end);
    // An Entity with exactly one field, a table entry or a register cell (a delta round reads
    // hundreds in one response): the fast paths. Anything else: protobufjs.
    const kind = r.next() && r.wireType === LEN ? r.field : 0;
    if (kind === 2 || kind === 11) {
      const s = r.span();
      if (r.pos === end) {
        try {
          return kind === 2 ? this.tableEntry(buf, s, end) : this.registerEntry(buf, s, end);
        } catch (e) {
          if (e !== FALLBACK && !(e instanceof RangeError)) throw e;
        }
        if (kind === 2) return decodeTableEntry(this.schema, p4.v1.TableEntry.decode(buf.subarray(s, end)));
      }
    }
    return decodeEntity(this.schema, p4.v1.Entity.decode(buf.subarray(start, end)));
  }

  /** A RegisterEntry of an unsigned bit<W> register to its read form; throws FALLBACK otherwise. */
  private registerEntry(buf: Uint8Array, start: number, end: number): RegisterCell {
    const r = new WireReader(buf, start, end);
    let id = 0;
    let index = 0;
    let valueStart = -1;
    let valueEnd = -1;
    while (r.next()) {
      if (r.field === 1 && r.wireType === VARINT) id = r.varint();
      else if (r.field === 2 && r.wireType === LEN) {
        const s = r.span();
        const x = new WireReader(buf, s, r.pos);
        index = 0;
        while (x.next()) {
          if (x.field === 1 && x.wireType === VARINT) index = x.varint();
          else throw FALLBACK;
        }
      } else if (r.field === 3 && r.wireType === LEN) {
        const s = r.span();
        const d = new WireReader(buf, s, r.pos);
        if (!d.next() || d.field !== 1 || d.wireType !== LEN) throw FALLBACK;
        valueStart = d.span();
        valueEnd = d.pos;
        if (d.next()) throw FALLBACK;
      } else throw FALLBACK;
    }
    const reg = this.registers.get(id);
    // Unknown ids, signed registers, indices past 2^53 and missing values: the general path decides (or names the error).
    if (!reg || valueStart < 0 || index > Number.MAX_SAFE_INTEGER) throw FALLBACK;
    return { kind: 'register', register: reg.name, index, value: bits(buf, valueStart, valueEnd, reg.width) };
  }

  /** A TableEntry's bytes to its read form; throws FALLBACK when the general path must decide. */
  private tableEntry(buf: Uint8Array, start: number, end: number): TableEntryRead {
    const r = new WireReader(buf, start, end);
    let tableId = 0;
    const matchSpans: number[] = [];
    let actionStart = -1;
    let actionEnd = -1;
    let priority = 0;
    let isDefault = false;
    let idleTimeoutNs = 0n;
    let elapsedNs: bigint | undefined;
    let counter: CounterValue | undefined;
    let metadata: Uint8Array | undefined;
    while (r.next()) {
      const { field, wireType } = r;
      if (field === 1 && wireType === VARINT) tableId = r.varint();
      else if (field === 2 && wireType === LEN) {
        const s = r.span();
        matchSpans.push(s, r.pos);
      } else if (field === 3 && wireType === LEN) {
        if (actionStart >= 0) throw FALLBACK; // repeated message: protobuf merges; leave it to protobufjs
        actionStart = r.span();
        actionEnd = r.pos;
      } else if (field === 4 && wireType === VARINT) {
        priority = r.varint();
        if (priority > 0x7fffffff) throw FALLBACK;
      } else if (field === 7 && wireType === LEN) {
        if (counter) throw FALLBACK;
        counter = this.counterData(buf, r.span(), r);
      } else if (field === 8 && wireType === VARINT) isDefault = r.varint() !== 0;
      else if (field === 9 && wireType === VARINT) idleTimeoutNs = r.varint64(true);
      else if (field === 10 && wireType === LEN) {
        if (elapsedNs !== undefined) throw FALLBACK;
        const s = r.span();
        elapsedNs = 0n;
        const t = new WireReader(buf, s, r.pos);
        while (t.next()) {
          if (t.field === 1 && t.wireType === VARINT) elapsedNs = t.varint64(true);
          else t.skip();
        }
      } else if (field === 11 && wireType === LEN) {
        const s = r.span();
        metadata = r.pos > s ? buf.subarray(s, r.pos) : undefined;
      } else if (field <= 11 && field !== 5 && field !== 6) throw FALLBACK; // a known field with an unexpected wire type
      else r.skip(); // controller_metadata, meter_config, meter_counter_data, const: not part of the read form
    }
    const table = this.table(tableId);
    const match: Record<string, MatchValue> = {};
    for (let i = 0; i < matchSpans.length; i += 2) this.fieldMatch(table, buf, matchSpans[i] as number, matchSpans[i + 1] as number, match);
    let action: string | undefined;
    const params: Record<string, bigint> = {};
    if (actionStart >= 0) action = this.tableAction(buf, actionStart, actionEnd, params);
    const out: { -readonly [K in keyof TableEntryRead]: TableEntryRead[K] } = { kind: 'table', table: table.name, match, action, params, priority, isDefault, idleTimeoutNs };
    if (elapsedNs !== undefined) out.elapsedNs = elapsedNs;
    if (counter) out.counter = counter;
    if (metadata) out.metadata = metadata;
    return out;
  }

  private counterData(buf: Uint8Array, start: number, outer: WireReader): CounterValue {
    const r = new WireReader(buf, start, outer.pos);
    let bytes = 0n;
    let packets = 0n;
    while (r.next()) {
      if (r.field === 1 && r.wireType === VARINT) bytes = r.varint64(true);
      else if (r.field === 2 && r.wireType === VARINT) packets = r.varint64(true);
      else r.skip();
    }
    return { bytes, packets };
  }

  private fieldMatch(table: TableSlots, buf: Uint8Array, start: number, end: number, out: Record<string, MatchValue>): void {
    const r = new WireReader(buf, start, end);
    let fieldId = 0;
    let kind: MatchType | undefined;
    let body = -1;
    let bodyEnd = -1;
    while (r.next()) {
      if (r.field === 1 && r.wireType === VARINT) fieldId = r.varint();
      else if (r.wireType === LEN && KIND_OF_FIELD[r.field] !== undefined) {
        if (kind !== undefined) throw FALLBACK; // two kinds in one FieldMatch
        kind = KIND_OF_FIELD[r.field];
        body = r.span();
        bodyEnd = r.pos;
      } else throw FALLBACK; // `other`, or a malformed field
    }
    const f = table.fields.get(fieldId);
    if (!f || kind !== f.kind) throw FALLBACK;
    // The kind's two byte fields (value/mask, low/high; LPM's prefix length is a varint).
    let a0 = -1;
    let a1 = -1;
    let b0 = -1;
    let b1 = -1;
    let prefixLen = 0;
    const m = new WireReader(buf, body, bodyEnd);
    while (m.next()) {
      if (m.field === 1 && m.wireType === LEN) {
        a0 = m.span();
        a1 = m.pos;
      } else if (m.field === 2 && m.wireType === LEN && (kind === 'ternary' || kind === 'range')) {
        b0 = m.span();
        b1 = m.pos;
      } else if (m.field === 2 && m.wireType === VARINT && kind === 'lpm') prefixLen = m.varint();
      else m.skip();
    }
    const w = f.width;
    if (a0 < 0) throw FALLBACK;
    switch (kind) {
      case 'exact':
      case 'optional':
        out[f.name] = { kind, value: bits(buf, a0, a1, w) };
        return;
      case 'lpm':
        if (prefixLen > w) throw FALLBACK;
        out[f.name] = { kind, value: bits(buf, a0, a1, w), prefixLen };
        return;
      case 'ternary':
        if (b0 < 0) throw FALLBACK;
        out[f.name] = { kind, value: bits(buf, a0, a1, w), mask: bits(buf, b0, b1, w) };
        return;
      case 'range':
        if (b0 < 0) throw FALLBACK;
        out[f.name] = { kind, low: bits(buf, a0, a1, w), high: bits(buf, b0, b1, w) };
        return;
      default:
        throw FALLBACK;
    }
  }

  /** A TableAction: the direct action's name and params; undefined for action profile references. */
  private tableAction(buf: Uint8Array, start: number, end: number, params: Record<string, bigint>): string | undefined {
    const r = new WireReader(buf, start, end);
    let a0 = -1;
    let a1 = -1;
    while (r.next()) {
      if (r.field === 1 && r.wireType === LEN) {
        if (a0 >= 0) throw FALLBACK;
        a0 = r.span();
        a1 = r.pos;
      } else r.skip();
    }
    if (a0 < 0) return undefined;
    const a = new WireReader(buf, a0, a1);
    let actionId = 0;
    const spans: number[] = [];
    while (a.next()) {
      if (a.field === 1 && a.wireType === VARINT) actionId = a.varint();
      else if (a.field === 4 && a.wireType === LEN) {
        const s = a.span();
        spans.push(s, a.pos);
      } else a.skip();
    }
    const info = this.action(actionId);
    for (let i = 0; i < spans.length; i += 2) {
      const p = new WireReader(buf, spans[i] as number, spans[i + 1] as number);
      let paramId = 0;
      let v0 = -1;
      let v1 = -1;
      while (p.next()) {
        if (p.field === 2 && p.wireType === VARINT) paramId = p.varint();
        else if (p.field === 3 && p.wireType === LEN) {
          v0 = p.span();
          v1 = p.pos;
        } else p.skip();
      }
      const pi = info.params.get(paramId);
      if (!pi || v0 < 0) throw FALLBACK;
      params[pi.name] = bits(buf, v0, v1, pi.width);
    }
    return info.name;
  }
}

const decoders = new WeakMap<P4Schema, ReadDecoder>();

/** The read decoder of a schema, made on first use and kept as long as the schema lives. */
export function readDecoder(schema: P4Schema): ReadDecoder {
  let d = decoders.get(schema);
  if (!d) {
    d = new ReadDecoder(schema);
    decoders.set(schema, d);
  }
  return d;
}
