/**
 * P4Runtime entities to and from names: builds `p4.v1.Entity` messages from names and plain values
 * through the schema and codec, and decodes what a target sends back (reads, idle-timeout
 * notifications, digests, packet metadata) into objects keyed by P4Info names with bigint values.
 * Also renders an update for error messages ("INSERT table ingress.acl {dst=10.0.0.5} → allow").
 */
import type Long from 'long';
import { P4RuntimeError } from '../errors.js';
import { decodeBits, decodeBitsChecked, decodeFieldMatch, decodeInt, encodeBits, encodeFieldMatch, encodeInt, fitsWidth, parseValue } from '../codec/index.js';
import type { MatchInput, MatchValue, ValueInput } from '../codec/index.js';
import { p4, toBigInt, toLong } from '../proto/index.js';
import type { LongLike } from '../proto/index.js';
import type { P4Schema } from '../schema/index.js';
import { decodeMetadata, encodeMetadata } from './packet-metadata.js';
import type { ActionInfo, ControllerHeaderInfo, DigestInfo, MatchFieldInfo, RegisterInfo, TableInfo } from '../schema/index.js';

import type { CounterValue, DurationInput, TableEntrySpec, TableEntryRead, EntityRead, DigestConfigSpec } from './entity-types.js';

export type { CounterValue, DurationInput, TableEntrySpec, TableEntryRead, RegisterCell, CounterCell, DirectCounterCell, DigestConfigRead, EntityRead, DigestConfigSpec } from './entity-types.js';

const DURATION_UNITS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1_000n, µs: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** Parses a duration to nanoseconds: bigint/number are ns, strings carry a unit (`'30s'`, `'1.5ms'`). */
export function parseDurationNs(d: DurationInput, what: string): bigint {
  if (typeof d === 'bigint') {
    if (d < 0n || d >= 1n << 63n) throw new P4RuntimeError('VALUE_RANGE', `${what}: ${d} ns is outside 0 .. 2^63-1`);
    return d;
  }
  if (typeof d === 'number') {
    if (!Number.isSafeInteger(d) || d < 0) throw new P4RuntimeError('VALUE_RANGE', `${what}: ${d} is not a whole number of nanoseconds; pass a bigint or a string like '30s'`);
    return BigInt(d);
  }
  const m = /^\s*(\d+)(?:\.(\d+))?\s*(ns|us|µs|ms|s|m|h)\s*$/.exec(d);
  const unit = m ? DURATION_UNITS[m[3] ?? ''] : undefined;
  if (!m || unit === undefined) {
    throw new P4RuntimeError('VALUE_RANGE', `${what}: cannot read duration '${d}'; write e.g. '30s', '250ms', '2m' or a bigint of nanoseconds`);
  }
  const frac = m[2] ?? '';
  const scale = 10n ** BigInt(frac.length);
  const ns = (BigInt(m[1] ?? '0') * scale + BigInt(frac === '' ? '0' : frac)) * unit;
  if (ns % scale !== 0n) throw new P4RuntimeError('VALUE_RANGE', `${what}: '${d}' is not a whole number of nanoseconds`);
  return parseDurationNs(ns / scale, what);
}

function counterData(c: Partial<CounterValue> | undefined, what: string): p4.v1.CounterData.$Properties {
  const check = (v: bigint | undefined, name: string): bigint => {
    const x = v ?? 0n;
    if (typeof x !== 'bigint' || x < 0n || x >= 1n << 63n) throw new P4RuntimeError('VALUE_RANGE', `${what}: ${name} must be a bigint 0 .. 2^63-1, got ${String(x)}`);
    return x;
  };
  return { byteCount: toLong(check(c?.bytes, 'bytes'), true), packetCount: toLong(check(c?.packets, 'packets'), true) };
}

/** An Index.index (int64) for a cell of an array of `size`; numbers skip bigint altogether (a slot read names hundreds of cells). */
function indexLong(index: number | bigint, size: number, what: string): number | Long {
  // A plain number where it is exact: the encoders write it as is, and a read of 10^4 cells builds no Longs.
  if (typeof index === 'number' && Number.isSafeInteger(index) && index >= 0 && index < size) return index;
  return toLong(checkIndex(index, size, what), true);
}

function checkIndex(index: number | bigint, size: number, what: string): bigint {
  const i = typeof index === 'bigint' ? index : Number.isSafeInteger(index) ? BigInt(index) : -1n;
  if (i < 0n || i >= BigInt(size)) throw new P4RuntimeError('VALUE_RANGE', `${what}: index ${String(index)} is outside 0..${size - 1}`);
  return i;
}

/**
 * Name look-ups memoized per schema object: the schema resolves suffixes and aliases by scanning,
 * which dominated the cost of building an update. Misses go to the schema, which throws the
 * "did you mean" error.
 */
const memo = new WeakMap<object, Map<string, unknown>>();
function memoized<T>(owner: object, key: string, resolve: () => T): T {
  let m = memo.get(owner);
  if (!m) {
    m = new Map();
    memo.set(owner, m);
  }
  let v = m.get(key) as T | undefined;
  if (v === undefined) {
    v = resolve();
    m.set(key, v);
  }
  return v;
}

/** A table's key field by name, memoized. */
function fieldOf(table: TableInfo, name: string): MatchFieldInfo {
  return memoized(table, `f:${name}`, () => table.matchField(name));
}

/** A table's action by name, memoized. */
function actionOf(table: TableInfo, name: string): ActionInfo {
  return memoized(table, `a:${name}`, () => table.action(name));
}

/** The exact-match fields of a table (they may not be left out), memoized. */
function exactFields(table: TableInfo): readonly MatchFieldInfo[] {
  return memoized(table, 'exact', () => table.matchFields.filter((f) => f.matchType === 'exact'));
}

/** Encodes the key of a table entry (all fields by name; don't-care fields dropped). */
export function encodeMatch(table: TableInfo, match: Readonly<Record<string, MatchInput>> | undefined): p4.v1.FieldMatch.$Properties[] {
  const out: p4.v1.FieldMatch.$Properties[] = [];
  const given = match ?? {};
  const context = `table '${table.name}'`;
  for (const name in given) {
    const field = fieldOf(table, name);
    const fm = encodeFieldMatch(field, given[name] as MatchInput, context);
    if (fm) out.push(fm);
  }
  for (const f of exactFields(table)) {
    if (!out.some((m) => m.fieldId === f.id)) {
      throw new P4RuntimeError('VALUE_RANGE', `table '${table.name}': exact match field '${f.name}' is missing; give match.${f.name.slice(f.name.lastIndexOf('.') + 1)}`);
    }
  }
  // Targets compare keys field by field; a fixed order keeps equal keys byte-equal.
  if (out.length > 1) out.sort((a, b) => (a.fieldId ?? 0) - (b.fieldId ?? 0));
  return out;
}

/** Encodes an action call with its parameters by name; every parameter must be given. */
export function encodeAction(table: TableInfo | undefined, action: ActionInfo, params: Readonly<Record<string, ValueInput>> | undefined): p4.v1.Action.$Properties {
  const given = params ?? {};
  let known = 0;
  const out: p4.v1.Action.Param.$Properties[] = [];
  for (const p of action.params) {
    const v = given[p.name];
    if (v !== undefined) known += 1;
    const what = `parameter '${p.name}' of action '${action.name}'${table ? ` in table '${table.name}'` : ''}`;
    if (v === undefined) {
      // A misspelt name is the likelier mistake: let the schema say "did you mean" first.
      for (const name in given) action.param(name);
      throw new P4RuntimeError('VALUE_RANGE', `${what} is missing; give params.${p.name} (bit<${p.bitwidth}>)`);
    }
    out.push({ paramId: p.id, value: encodeBits(parseValue(v, p.bitwidth, what), p.bitwidth, what) });
  }
  // Only when a name did not match a parameter do we ask the schema, for its "did you mean".
  if (known !== Object.keys(given).length) for (const name in given) action.param(name);
  return { actionId: action.id, params: out };
}

/** Builds a TableEntry from a spec by name; `forDelete` needs only the key (and priority). */
export function encodeTableEntry(table: TableInfo, spec: TableEntrySpec, forDelete = false): p4.v1.TableEntry.$Properties {
  const te: p4.v1.TableEntry.$Properties = { tableId: table.id, match: encodeMatch(table, spec.match) };
  if (table.requiresPriority) {
    const p = spec.priority;
    if (p === undefined || !Number.isInteger(p) || p < 1 || p > 0x7fffffff) {
      throw new P4RuntimeError('VALUE_RANGE', `table '${table.name}' has ternary/range/optional keys, so entries need priority 1..2^31-1; got ${String(p)}`);
    }
    te.priority = p;
  } else if (spec.priority !== undefined && spec.priority !== 0) {
    throw new P4RuntimeError('VALUE_RANGE', `table '${table.name}' has only exact/LPM keys; leave priority unset (got ${spec.priority})`);
  }
  if (forDelete) return te;
  if (spec.action === undefined) throw new P4RuntimeError('VALUE_RANGE', `table '${table.name}': action is required; one of ${table.actions.map((a) => a.alias).join(', ')}`);
  te.action = { action: encodeAction(table, actionOf(table, spec.action), spec.params) };
  if (spec.idleTimeout !== undefined) {
    if (!table.idleTimeout) throw new P4RuntimeError('VALUE_RANGE', `table '${table.name}' does not support idle timeouts (no support_timeout = true in P4); drop idleTimeout`);
    te.idleTimeoutNs = toLong(parseDurationNs(spec.idleTimeout, `idleTimeout of table '${table.name}'`), true);
  }
  if (spec.counterData !== undefined) te.counterData = counterData(spec.counterData, `counterData of table '${table.name}'`);
  if (spec.metadata !== undefined) te.metadata = typeof spec.metadata === 'string' ? Buffer.from(spec.metadata) : spec.metadata;
  return te;
}

/** Encodes a register cell value for the register's cell type. */
export function encodeRegisterValue(reg: RegisterInfo, value: ValueInput): p4.v1.P4Data.$Properties {
  const what = `register '${reg.name}'`;
  if (!(reg.bitwidth > 0)) throw new P4RuntimeError('VALUE_RANGE', `${what}: cells are not bit<W>/int<W>; only bitstring registers can be written by value`);
  if (reg.signed) {
    const v = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : parseSigned(value, what);
    return { bitstring: encodeInt(v, reg.bitwidth, what) };
  }
  return { bitstring: encodeBits(parseValue(value, reg.bitwidth, what), reg.bitwidth, what) };
}

function parseSigned(v: ValueInput, what: string): bigint {
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  throw new P4RuntimeError('VALUE_RANGE', `${what}: expected a signed integer (bigint, number or decimal string), got ${String(v)}`);
}

/** Builds a RegisterEntry for one cell (or all cells when index is undefined, for reads). */
export function encodeRegisterEntry(reg: RegisterInfo, index: number | bigint | undefined, value?: ValueInput): p4.v1.RegisterEntry.$Properties {
  const e: p4.v1.RegisterEntry.$Properties = { registerId: reg.id };
  if (index !== undefined) e.index = { index: indexLong(index, reg.size, `register '${reg.name}'`) };
  if (value !== undefined) e.data = encodeRegisterValue(reg, value);
  return e;
}

/** Builds a CounterEntry for one cell (or all when index is undefined). */
export function encodeCounterEntry(counterId: number, name: string, size: number, index: number | bigint | undefined, data?: Partial<CounterValue>): p4.v1.CounterEntry.$Properties {
  const e: p4.v1.CounterEntry.$Properties = { counterId };
  if (index !== undefined) e.index = { index: indexLong(index, size, `counter '${name}'`) };
  if (data !== undefined) e.data = counterData(data, `counter '${name}'`);
  return e;
}

/** Builds the counter data of a DirectCounterEntry write. */
export function encodeCounterData(data: Partial<CounterValue>, what: string): p4.v1.CounterData.$Properties {
  return counterData(data, what);
}

/** Builds a DigestEntry with its configuration. */
export function encodeDigestEntry(digest: DigestInfo, config: DigestConfigSpec | undefined): p4.v1.DigestEntry.$Properties {
  if (config === undefined) return { digestId: digest.id };
  const what = `digest '${digest.name}'`;
  const size = config.maxListSize ?? 1;
  if (!Number.isInteger(size) || size < 0 || size > 0x7fffffff) throw new P4RuntimeError('VALUE_RANGE', `${what}: maxListSize must be an integer 0..2^31-1, got ${size}`);
  return {
    digestId: digest.id,
    config: {
      maxTimeoutNs: toLong(parseDurationNs(config.maxTimeoutNs ?? 0n, `${what} maxTimeoutNs`), true),
      maxListSize: size,
      ackTimeoutNs: toLong(parseDurationNs(config.ackTimeoutNs ?? 0n, `${what} ackTimeoutNs`), true),
    },
  };
}

/** Decodes a key read back from the target, by field name. */
export function decodeMatch(table: TableInfo, match: readonly p4.v1.FieldMatch.$Properties[] | null | undefined): Record<string, MatchValue> {
  const out: Record<string, MatchValue> = {};
  const context = `table '${table.name}'`;
  for (const fm of match ?? []) {
    const field = table.matchField(fm.fieldId ?? 0);
    out[field.name] = decodeFieldMatch(field, fm, context);
  }
  return out;
}

/** Decodes a TableEntry by name. */
export function decodeTableEntry(schema: P4Schema, te: p4.v1.TableEntry.$Properties): TableEntryRead {
  const table = schema.table(te.tableId ?? 0);
  const a = te.action?.action;
  let action: string | undefined;
  const params: Record<string, bigint> = {};
  if (a) {
    const info = schema.action(a.actionId ?? 0);
    action = info.name;
    for (const p of a.params ?? []) {
      const pi = info.param(p.paramId ?? 0);
      const bytes = p.value ?? new Uint8Array();
      // The description only when the value does not fit: reads decode every parameter of every entry.
      params[pi.name] = fitsWidth(bytes, pi.bitwidth) ? decodeBits(bytes) : decodeBitsChecked(bytes, pi.bitwidth, `parameter '${pi.name}' of action '${info.name}'`);
    }
  }
  const out: {
    -readonly [K in keyof TableEntryRead]: TableEntryRead[K];
  } = {
    kind: 'table',
    table: table.name,
    match: decodeMatch(table, te.match),
    action,
    params,
    priority: te.priority ?? 0,
    isDefault: te.isDefaultAction ?? false,
    idleTimeoutNs: toBigInt(te.idleTimeoutNs as LongLike, true),
  };
  if (te.timeSinceLastHit) out.elapsedNs = toBigInt(te.timeSinceLastHit.elapsedNs as LongLike, true);
  if (te.counterData) out.counter = decodeCounterData(te.counterData);
  if (te.metadata && te.metadata.length > 0) out.metadata = te.metadata;
  return out;
}

/** Decodes CounterData to bigints. */
export function decodeCounterData(d: p4.v1.CounterData.$Properties | null | undefined): CounterValue {
  return { bytes: toBigInt(d?.byteCount as LongLike, true), packets: toBigInt(d?.packetCount as LongLike, true) };
}

function decodeIndex(i: p4.v1.Index.$Properties | null | undefined, what: string): number {
  const v = toBigInt(i?.index as LongLike, true);
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new P4RuntimeError('VALUE_RANGE', `${what}: index ${v} is out of range`);
  return Number(v);
}

/** Decodes a register cell's value for its cell type. */
export function decodeRegisterValue(reg: RegisterInfo, data: p4.v1.P4Data.$Properties | null | undefined): bigint {
  const what = `register '${reg.name}'`;
  if (!data?.bitstring) throw new P4RuntimeError('VALUE_RANGE', `${what}: the target sent a non-bitstring cell; only bit<W>/int<W> registers are decoded`);
  return reg.signed ? decodeInt(data.bitstring, reg.bitwidth, what) : decodeBitsChecked(data.bitstring, reg.bitwidth, what);
}

/** Decodes any entity a Read returns, by name. */
export function decodeEntity(schema: P4Schema, e: p4.v1.Entity.$Properties): EntityRead {
  if (e.tableEntry) return decodeTableEntry(schema, e.tableEntry);
  if (e.registerEntry) {
    const reg = schema.register(e.registerEntry.registerId ?? 0);
    return { kind: 'register', register: reg.name, index: decodeIndex(e.registerEntry.index, `register '${reg.name}'`), value: decodeRegisterValue(reg, e.registerEntry.data) };
  }
  if (e.counterEntry) {
    const c = schema.counter(e.counterEntry.counterId ?? 0);
    return { kind: 'counter', counter: c.name, index: decodeIndex(e.counterEntry.index, `counter '${c.name}'`), ...decodeCounterData(e.counterEntry.data) };
  }
  if (e.directCounterEntry) {
    const te = e.directCounterEntry.tableEntry ?? {};
    const table = schema.table(te.tableId ?? 0);
    return { kind: 'directCounter', table: table.name, match: decodeMatch(table, te.match), priority: te.priority ?? 0, ...decodeCounterData(e.directCounterEntry.data) };
  }
  if (e.digestEntry) {
    const d = schema.digest(e.digestEntry.digestId ?? 0);
    const c = e.digestEntry.config;
    return {
      kind: 'digest',
      digest: d.name,
      maxTimeoutNs: toBigInt(c?.maxTimeoutNs as LongLike, true),
      maxListSize: c?.maxListSize ?? 0,
      ackTimeoutNs: toBigInt(c?.ackTimeoutNs as LongLike, true),
    };
  }
  throw new P4RuntimeError('UNIMPLEMENTED', `cannot decode entity ${JSON.stringify(Object.keys(e))}: only table, register, counter, direct counter and digest entries are supported`);
}

/** Flattens a P4Data into its leaves in declaration order (matches DigestInfo.members). */
function leaves(d: p4.v1.P4Data.$Properties, out: Array<p4.v1.P4Data.$Properties | Uint8Array>): void {
  if (d.struct) for (const m of d.struct.members ?? []) leaves(m, out);
  else if (d.tuple) for (const m of d.tuple.members ?? []) leaves(m, out);
  else if (d.header) for (const b of d.header.bitstrings ?? []) out.push(b);
  else out.push(d);
}

/** Decodes one digest message (a P4Data of the digest's type) into values by member name. */
export function decodeDigestData(digest: DigestInfo, data: p4.v1.P4Data.$Properties): Record<string, bigint> {
  const flat: Array<p4.v1.P4Data.$Properties | Uint8Array> = [];
  leaves(data, flat);
  if (flat.length !== digest.members.length) {
    throw new P4RuntimeError('VALUE_RANGE', `digest '${digest.name}': message has ${flat.length} values, the P4Info declares ${digest.members.length} (${digest.members.map((m) => m.name).join(', ')})`);
  }
  const out: Record<string, bigint> = {};
  digest.members.forEach((m, i) => {
    const leaf = flat[i] as p4.v1.P4Data.$Properties | Uint8Array;
    const what = `digest '${digest.name}' member '${m.name}'`;
    const bytes = leaf instanceof Uint8Array ? leaf : (leaf.bitstring ?? leaf.varbit?.bitstring ?? leaf.enumValue);
    if (leaf instanceof Uint8Array || bytes) {
      const b = bytes ?? new Uint8Array();
      out[m.name] = m.type === 'int' ? decodeInt(b, m.bitwidth, what) : m.bitwidth > 0 ? decodeBitsChecked(b, m.bitwidth, what) : decodeBits(b);
    } else if (leaf.bool !== undefined && leaf.bool !== null) {
      out[m.name] = leaf.bool ? 1n : 0n;
    } else {
      throw new P4RuntimeError('VALUE_RANGE', `${what}: value is not a bitstring or bool; it cannot be decoded to a number`);
    }
  });
  return out;
}

/** Decodes packet metadata by name; ids unknown to the header are kept under `#<id>`. */
export function decodePacketMetadata(header: ControllerHeaderInfo | undefined, md: readonly p4.v1.PacketMetadata.$Properties[] | null | undefined): Record<string, bigint> {
  return decodeMetadata(header, md);
}

/** Encodes packet metadata by name for a controller header (e.g. packet_out): every field, in header order; padding fields default to 0. */
export function encodePacketMetadata(header: ControllerHeaderInfo, md: Readonly<Record<string, ValueInput>>): p4.v1.PacketMetadata.$Properties[] {
  return encodeMetadata(header, md);
}

export { describeUpdate } from './describe-update.js';

/** The update type number for a name. */
export function updateType(t: 'INSERT' | 'MODIFY' | 'DELETE'): p4.v1.Update.Type {
  return p4.v1.Update.Type[t];
}
