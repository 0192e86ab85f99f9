/**
 * A table's updates encoded straight to the wire: an encoder compiled once per table (cached with
 * the schema's TableInfo) resolves names through its own maps, turns the common value forms
 * (numbers, bigints, IPv4 and MAC text) into canonical bytestrings in place, and writes the Update
 * message without building protobuf objects (LPM, ternary, range and optional keys are checked by
 * the general match codec, then written the same way). Descriptions for errors are made once per
 * field, not per value. Anything it does not handle the ordinary way — an unknown or misspelt
 * name, a missing or out-of-range value — it leaves to `encodeTableEntry`, which builds the same
 * update (or throws the same error) through the general codec; tests hold the two to the same
 * bytes.
 */
import { fieldWhat, encodeFieldMatch } from '../codec/match.js';
import type { MatchInput, ValueInput } from '../codec/index.js';
import type { p4 } from '../proto/index.js';
import { VARINT, WireWriter, tag } from '../proto/wire.js';
import type { ActionInfo, MatchFieldInfo, TableInfo } from '../schema/index.js';
import { EncodedUpdate } from './encoded-update.js';
import { valuePlan, writeValue } from './fast-value.js';
import type { ValuePlan } from './fast-value.js';
import { parseDurationNs } from './entity-codec.js';
import type { TableEntrySpec } from './entity-codec.js';

interface FieldPlan extends ValuePlan {
  readonly info: MatchFieldInfo;
  readonly index: number;
}

interface ActionPlan {
  readonly id: number;
  readonly params: readonly (ValuePlan & { readonly name: string })[];
}

/**
 * Field numbers of p4runtime.proto (P4Runtime v1): WriteRequest (updates 4), Update (type 1, entity 2), Entity (table_entry 2),
 * TableEntry (table_id 1, match 2, action 3, priority 4, counter_data 7, idle_timeout_ns 9,
 * metadata 11), FieldMatch (field_id 1, exact 2, ternary 3, lpm 4, range 6, optional 7; inside
 * each: value/low 1, mask/prefix_len/high 2), TableAction (action 1), Action (action_id 1,
 * params 4), Action.Param (param_id 2, value 3), CounterData (byte_count 1, packet_count 2).
 * Fields are written in the order protobufjs writes them (declaration order), so the bytes are
 * the same as the general codec's, not merely equivalent.
 */
const F = {
  requestUpdates: 4, updateType: 1, updateEntity: 2, tableEntry: 2,
  tableId: 1, match: 2, action: 3, priority: 4, counterData: 7, idleTimeout: 9, metadata: 11,
  fieldId: 1, exact: 2, ternary: 3, lpm: 4, range: 6, optional: 7, first: 1, second: 2,
  tableAction: 1, actionId: 1, params: 4, paramId: 2, paramValue: 3,
  byteCount: 1, packetCount: 2,
} as const;

/** The params of an action given none: shared, so an entry without params allocates nothing for them. */
const NO_PARAMS: Readonly<Record<string, ValueInput>> = Object.freeze({});

/** CounterData's int64 counts accept 0 .. 2^63-1 (the general codec's check). */
const MAX_COUNT = (1n << 63n) - 1n;

/** Writes `b` as bytes field `field`, left out when empty (proto3 default, as protobufjs does). */
function writeBytes(w: WireWriter, field: number, b: Uint8Array | null | undefined): void {
  if (b && b.length > 0) w.lenBytes(field, b);
}

/** Writes a FieldMatch the general codec built (every kind but exact's fast form). */
function writeFieldMatch(w: WireWriter, fm: p4.v1.FieldMatch.$Properties): void {
  const m = w.open(F.match);
  if (fm.fieldId) {
    w.varint(tag(F.fieldId, VARINT));
    w.varint(fm.fieldId);
  }
  const kind = fm.exact ? F.exact : fm.ternary ? F.ternary : fm.lpm ? F.lpm : fm.range ? F.range : F.optional;
  const k = w.open(kind);
  if (fm.exact) writeBytes(w, F.first, fm.exact.value);
  else if (fm.ternary) {
    writeBytes(w, F.first, fm.ternary.value);
    writeBytes(w, F.second, fm.ternary.mask);
  } else if (fm.lpm) {
    writeBytes(w, F.first, fm.lpm.value);
    // prefix_len is 1..W here: the codec returns no FieldMatch for /0.
    if (fm.lpm.prefixLen) {
      w.varint(tag(F.second, VARINT));
      w.varint(fm.lpm.prefixLen);
    }
  } else if (fm.range) {
    writeBytes(w, F.first, fm.range.low);
    writeBytes(w, F.second, fm.range.high);
  } else writeBytes(w, F.first, fm.optional?.value);
  w.close(k);
  w.close(m);
}

/** A count as the general codec takes it, or undefined when it would refuse it. */
function count(v: unknown): bigint | undefined {
  const x = v ?? 0n;
  return typeof x === 'bigint' && x >= 0n && x <= MAX_COUNT ? x : undefined;
}

/** The compiled encoder of one table. */
export class TableEncoder {
  private readonly fields: readonly FieldPlan[];
  private readonly fieldIndex = new Map<string, number>();
  /** The match keys of the last entry, in its order, and their field indices. */
  private readonly seenNames: string[] = [];
  private readonly seenFields: Array<number | undefined> = [];
  private readonly actionPlans = new Map<string, ActionPlan | null>();
  private readonly slots: Array<MatchInput | undefined>;
  private readonly w = new WireWriter();
  private readonly context: string;
  private readonly idleWhat: string;

  constructor(private readonly table: TableInfo) {
    this.context = `table '${table.name}'`;
    this.idleWhat = `idleTimeout of table '${table.name}'`;
    // In id order: targets compare keys field by field, so equal keys must be byte-equal.
    const byId = [...table.matchFields].sort((a, b) => a.id - b.id);
    this.fields = byId.map((f, index) => ({ ...valuePlan(f.id, f.bitwidth, fieldWhat(f, this.context)), info: f, index }));
    this.slots = new Array<MatchInput | undefined>(byId.length).fill(undefined);
  }

  private field(name: string): number | undefined {
    let i = this.fieldIndex.get(name);
    if (i === undefined) {
      let info: MatchFieldInfo;
      try {
        info = this.table.matchField(name);
      } catch {
        return undefined;
      }
      i = this.fields.findIndex((f) => f.info === info);
      this.fieldIndex.set(name, i);
    }
    return i;
  }

  private action(name: string): ActionPlan | null {
    let plan = this.actionPlans.get(name);
    if (plan === undefined) {
      let info: ActionInfo | undefined;
      try {
        info = this.table.action(name);
      } catch {
        info = undefined;
      }
      plan = info ? { id: info.id, params: info.params.map((p) => ({ ...valuePlan(p.id, p.bitwidth, `parameter '${p.name}' of action '${info.name}' in table '${this.table.name}'`), name: p.name })) } : null;
      this.actionPlans.set(name, plan);
    }
    return plan;
  }

  /** The update encoded, or undefined when it needs the general path (which also reports errors). */
  encode(type: p4.v1.Update.Type, spec: TableEntrySpec, forDelete: boolean): EncodedUpdate | undefined {
    const w = this.w;
    w.reset();
    // Framed as WriteRequest.updates (field 4), so batches are made by copying runs of the slab.
    const framed = w.open(F.requestUpdates);
    w.varint(tag(F.updateType, VARINT));
    w.varint(type);
    const entity = w.open(F.updateEntity);
    const te = w.open(F.tableEntry);
    if (this.table.id !== 0) {
      w.varint(tag(F.tableId, VARINT));
      w.varint(this.table.id);
    }
    if (!this.writeMatch(spec.match)) return undefined;
    if (!forDelete && !this.writeAction(spec)) return undefined;
    const p = spec.priority;
    if (this.table.requiresPriority) {
      if (p === undefined || !Number.isInteger(p) || p < 1 || p > 0x7fffffff) return undefined;
      w.varint(tag(F.priority, VARINT));
      w.varint(p);
    } else if (p !== undefined && p !== 0) return undefined;
    if (!forDelete && !this.writeTail(spec)) return undefined;
    w.close(te);
    w.close(entity);
    w.close(framed);
    const end = w.offset;
    return new EncodedUpdate(type, w.slab, w.seal(), end);
  }

  /** Idle timeout, counter data and metadata, in field order; false when the general path must decide. */
  private writeTail(spec: TableEntrySpec): boolean {
    const w = this.w;
    let idleNs = 0n;
    if (spec.idleTimeout !== undefined) {
      if (!this.table.idleTimeout) return false;
      // The general path checks the timeout before the counts: its error comes first there too.
      idleNs = parseDurationNs(spec.idleTimeout, this.idleWhat);
    }
    const c = spec.counterData;
    if (c !== undefined) {
      if (c === null || typeof c !== 'object') return false;
      const bytes = count(c.bytes);
      const packets = count(c.packets);
      if (bytes === undefined || packets === undefined) return false;
      const cd = w.open(F.counterData);
      if (bytes !== 0n) {
        w.varint(tag(F.byteCount, VARINT));
        w.varint64(bytes);
      }
      if (packets !== 0n) {
        w.varint(tag(F.packetCount, VARINT));
        w.varint64(packets);
      }
      w.close(cd);
    }
    if (idleNs !== 0n) {
      w.varint(tag(F.idleTimeout, VARINT));
      w.varint64(idleNs);
    }
    const md = spec.metadata;
    if (md !== undefined) {
      if (typeof md === 'string') writeBytes(w, F.metadata, Buffer.from(md));
      else if (md instanceof Uint8Array) writeBytes(w, F.metadata, md);
      else return false;
    }
    return true;
  }

  private writeMatch(match: Readonly<Record<string, MatchInput>> | undefined): boolean {
    const slots = this.slots;
    const seen = this.seenNames;
    let ok = true;
    let k = 0;
    for (const name in match) {
      // Entries are usually written with the same keys in the same order: the k-th name is
      // compared with the last entry's k-th (one string comparison) before the map is asked.
      let i: number | undefined;
      if (seen[k] === name) i = this.seenFields[k];
      else {
        i = this.field(name);
        seen[k] = name;
        this.seenFields[k] = i;
      }
      k++;
      const v = match[name];
      // An unknown name, one field named twice, or an undefined value: the general path decides.
      if (i === undefined || i < 0 || slots[i] !== undefined || v === undefined) {
        ok = false;
        break;
      }
      slots[i] = v;
    }
    const w = this.w;
    for (const f of this.fields) {
      const v = slots[f.index];
      slots[f.index] = undefined;
      if (!ok) continue;
      if (v === undefined) {
        if (f.info.matchType === 'exact') ok = false;
        continue;
      }
      if (f.info.matchType === 'exact' && v !== null && typeof v !== 'object') {
        const fm = w.open(F.match);
        if (f.id !== 0) {
          w.varint(tag(F.fieldId, VARINT));
          w.varint(f.id);
        }
        const ex = w.open(F.exact);
        ok = writeValue(w, F.first, v, f);
        w.close(ex);
        w.close(fm);
      } else if (f.info.matchType === 'exact') {
        ok = false;
      } else {
        // Other kinds through the general codec (same checks), then encoded as one field; its
        // errors are left to the general path, which reports the first bad field in the caller's order.
        try {
          const fm = encodeFieldMatch(f.info, v, this.context);
          if (fm) writeFieldMatch(w, fm);
        } catch {
          ok = false;
        }
      }
    }
    return ok;
  }

  private writeAction(spec: TableEntrySpec): boolean {
    if (spec.action === undefined) return false;
    const plan = this.action(spec.action);
    if (!plan) return false;
    const given = spec.params ?? NO_PARAMS;
    let count = 0;
    for (const _ in given) count++;
    if (count !== plan.params.length) return false;
    const w = this.w;
    const ta = w.open(F.action);
    const a = w.open(F.tableAction);
    if (plan.id !== 0) {
      w.varint(tag(F.actionId, VARINT));
      w.varint(plan.id);
    }
    for (const p of plan.params) {
      const v = given[p.name];
      if (v === undefined) return false;
      const pm = w.open(F.params);
      if (p.id !== 0) {
        w.varint(tag(F.paramId, VARINT));
        w.varint(p.id);
      }
      if (!writeValue(w, F.paramValue, v, p)) return false;
      w.close(pm);
    }
    w.close(a);
    w.close(ta);
    return true;
  }
}

const encoders = new WeakMap<TableInfo, TableEncoder>();

/** The compiled encoder of a table, made on first use and kept as long as the schema lives. */
export function tableEncoder(table: TableInfo): TableEncoder {
  let e = encoders.get(table);
  if (!e) {
    e = new TableEncoder(table);
    encoders.set(table, e);
  }
  return e;
}
