/**
 * Applies one Write update to the forwarding state with the spec's semantics and codes, returning
 * how to undo it (for ROLLBACK_ON_ERROR / DATAPLANE_ATOMIC batches).
 */
import { toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { fail } from '../p4rt/status.js';
import { decodeValue, hexId } from './codec-context.js';
import type { CodecContext } from './codec-context.js';
import type { ForwardingState } from './forwarding-state.js';
import type { RegisterInfo, TableInfo } from './p4info-index.js';
import type { RegisterArray } from './register-array.js';
import { decodeAction, decodeKey, describeKey, tableOf } from './table-entry-codec.js';
import type { TableEntryState } from './table-store.js';

/** Reverts one applied update. */
export type Undo = () => void;

/** What applying an update needs. */
export interface WriteContext extends CodecContext {
  readonly state: ForwardingState;
  /** Scheduler time (ms), the start of a new entry's idle timer. */
  readonly nowMs: number;
}

type UpdateType = 'INSERT' | 'MODIFY' | 'DELETE';
const TYPES: Readonly<Record<number, UpdateType>> = { 1: 'INSERT', 2: 'MODIFY', 3: 'DELETE' };

/** The name of the entity oneof member that is set, if any. */
export function entityKindOf(e: p4.v1.Entity.$Properties | null | undefined): string | undefined {
  if (!e) return undefined;
  const declared = (e as { entity?: string }).entity;
  if (declared) return declared;
  for (const k of Object.keys(e)) if ((e as Record<string, unknown>)[k] != null && k !== '$unknowns') return k;
  return undefined;
}

const i64 = (v: LongLike | null | undefined): bigint => toBigInt(v, true);

/** Applies `update`; throws SimError with the code the spec prescribes. */
export function applyUpdate(ctx: WriteContext, update: p4.v1.Update.$Properties): Undo {
  const type = TYPES[update.type ?? 0];
  if (type === undefined) throw fail.invalid(`Update.type is ${update.type ?? 0} (UNSPECIFIED); set INSERT, MODIFY or DELETE`);
  const e = update.entity;
  const kind = entityKindOf(e);
  switch (kind) {
    case 'tableEntry':
      return writeTableEntry(ctx, type, e?.tableEntry ?? {});
    case 'counterEntry':
      return writeCounterEntry(ctx, type, e?.counterEntry ?? {});
    case 'directCounterEntry':
      return writeDirectCounterEntry(ctx, type, e?.directCounterEntry ?? {});
    case 'registerEntry':
      return writeRegisterEntry(ctx, type, e?.registerEntry ?? {});
    case 'digestEntry':
      return writeDigestEntry(ctx, type, e?.digestEntry ?? {});
    case 'packetReplicationEngineEntry':
      return ctx.state.replication.write(type, e?.packetReplicationEngineEntry ?? {});
    case undefined:
      throw fail.invalid('Update.entity has no entity set; set table_entry, counter_entry, register_entry, ...');
    default:
      throw fail.unimplemented(`${kind} updates are not supported by the sim (supported: table_entry, counter_entry, direct_counter_entry, register_entry, digest_entry, packet_replication_engine_entry)`);
  }
}

function checkDirectResources(t: TableInfo, te: p4.v1.TableEntry.$Properties): void {
  if (te.counterData != null && t.directCounterId === 0) throw fail.invalid(`table '${t.name}' has no direct counter; remove counter_data`);
  if (te.counterData != null && (i64(te.counterData.byteCount as LongLike) < 0n || i64(te.counterData.packetCount as LongLike) < 0n)) {
    throw fail.invalid(`table '${t.name}': counter_data must not be negative`);
  }
  if (te.meterConfig != null || te.meterCounterData != null) {
    if (t.directMeterId === 0) throw fail.invalid(`table '${t.name}' has no direct meter; remove meter_config / meter_counter_data`);
    throw fail.unimplemented(`table '${t.name}': direct meters are not supported by the sim`);
  }
  if (te.timeSinceLastHit != null) throw fail.invalid(`table '${t.name}': time_since_last_hit must be unset in a write (it is read-only)`);
  const ttl = i64(te.idleTimeoutNs as LongLike);
  if (ttl < 0n) throw fail.invalid(`table '${t.name}': idle_timeout_ns ${ttl} is negative`);
  if (ttl > 0n && !t.idleTimeoutNotify) throw fail.invalid(`table '${t.name}' does not support idle timeout (idle_timeout_behavior is NO_TIMEOUT); set idle_timeout_ns to 0`);
}

function writeTableEntry(ctx: WriteContext, type: UpdateType, te: p4.v1.TableEntry.$Properties): Undo {
  const t = tableOf(ctx, te.tableId);
  const store = ctx.state.table(t.id);
  if (te.const) throw fail.invalid(`table '${t.name}': is_const must be false in a write`);
  if (te.isDefaultAction) return writeDefaultEntry(ctx, type, t, te);
  if (t.isConst) throw fail.denied(`table '${t.name}' is a const table; its entries cannot be inserted, modified or deleted`);
  if (t.matchFields.length === 0 && type === 'INSERT') throw fail.invalid(`table '${t.name}' has no match key: INSERT is not allowed; MODIFY its default entry (is_default_action) instead`);
  const k = decodeKey(ctx, te);

  if (type === 'DELETE') {
    const removed = store.remove(k.key);
    if (!removed) throw fail.notFound(ctx.msgs.entryNotFound(`no entry with ${describeKey(k)}`));
    return () => store.add(removed);
  }

  checkDirectResources(t, te);
  if (type === 'INSERT') {
    if (te.action == null) throw fail.invalid(`INSERT into table '${t.name}' needs an action`);
    const action = decodeAction(ctx, t, te.action, false);
    if (store.get(k.key)) throw fail.exists(ctx.msgs.entryExists(`${describeKey(k)} is already installed`));
    if (t.size > 0 && store.size >= t.size) throw fail.exhausted(`table '${t.name}' is full (${t.size} entries, its P4Info size); delete entries first`);
    const entry: TableEntryState = {
      key: k.key,
      match: k.match,
      priority: k.priority,
      action,
      counter: t.directCounterId !== 0 ? { bytes: i64(te.counterData?.byteCount as LongLike), packets: i64(te.counterData?.packetCount as LongLike) } : null,
      idleTimeoutNs: i64(te.idleTimeoutNs as LongLike),
      lastHitMs: ctx.nowMs,
      idleSinceMs: ctx.nowMs,
      metadata: te.metadata ? Uint8Array.from(te.metadata) : new Uint8Array(),
      controllerMetadata: toBigInt(te.controllerMetadata as LongLike),
      seq: store.nextSeq(),
    };
    store.add(entry);
    return () => store.remove(entry.key);
  }

  // MODIFY: full-snapshot semantics for action, idle timeout and metadata; counter only if given.
  const entry = store.get(k.key);
  const action = te.action != null ? decodeAction(ctx, t, te.action, false) : null;
  if (!entry) throw fail.notFound(ctx.msgs.entryNotFound(`no entry with ${describeKey(k)}; INSERT it first`));
  const before = { action: entry.action, counter: entry.counter ? { ...entry.counter } : null, idle: entry.idleTimeoutNs, metadata: entry.metadata, cm: entry.controllerMetadata };
  if (action) entry.action = action;
  if (te.counterData != null && entry.counter) {
    entry.counter = { bytes: i64(te.counterData.byteCount as LongLike), packets: i64(te.counterData.packetCount as LongLike) };
  }
  entry.idleTimeoutNs = i64(te.idleTimeoutNs as LongLike);
  entry.metadata = te.metadata ? Uint8Array.from(te.metadata) : new Uint8Array();
  entry.controllerMetadata = toBigInt(te.controllerMetadata as LongLike);
  store.retime(entry);
  return () => {
    entry.action = before.action;
    entry.counter = before.counter;
    entry.idleTimeoutNs = before.idle;
    entry.metadata = before.metadata;
    entry.controllerMetadata = before.cm;
    store.retime(entry);
  };
}

function writeDefaultEntry(ctx: WriteContext, type: UpdateType, t: TableInfo, te: p4.v1.TableEntry.$Properties): Undo {
  if (type !== 'MODIFY') throw fail.invalid(`table '${t.name}': the default entry always exists; ${type} is not allowed on it, use MODIFY`);
  if ((te.match ?? []).length > 0 || (te.priority ?? 0) !== 0) throw fail.invalid(`table '${t.name}': a default entry (is_default_action) must have no match and priority 0`);
  if (i64(te.idleTimeoutNs as LongLike) !== 0n || te.timeSinceLastHit != null) throw fail.invalid(`table '${t.name}': default entries have no idle timeout; leave idle_timeout_ns 0 and time_since_last_hit unset`);
  if (t.constDefaultActionId !== 0) throw fail.denied(`table '${t.name}' has a const default action; it cannot be modified`);
  checkDirectResources(t, te);
  const d = ctx.state.table(t.id).defaultEntry;
  const before = { action: d.action, counter: d.counter ? { ...d.counter } : null, metadata: d.metadata, cm: d.controllerMetadata };
  if (te.action != null) {
    d.action = decodeAction(ctx, t, te.action, true);
    d.metadata = te.metadata ? Uint8Array.from(te.metadata) : new Uint8Array();
    d.controllerMetadata = toBigInt(te.controllerMetadata as LongLike);
    if (te.counterData != null && d.counter) d.counter = { bytes: i64(te.counterData.byteCount as LongLike), packets: i64(te.counterData.packetCount as LongLike) };
  } else {
    // An unset action resets the default entry to the program's, with its resources.
    d.action = d.initial;
    d.metadata = new Uint8Array();
    d.controllerMetadata = 0n;
    if (d.counter) d.counter = { bytes: 0n, packets: 0n };
  }
  return () => {
    d.action = before.action;
    d.counter = before.counter;
    d.metadata = before.metadata;
    d.controllerMetadata = before.cm;
  };
}

function checkIndex(index: p4.v1.Index.$Properties | null | undefined, size: number, what: string): number | null {
  if (index == null) return null;
  const i = i64(index.index as LongLike);
  if (i < 0n) throw fail.invalid(`${what}: index ${i} is negative`);
  if (i >= BigInt(size)) throw fail.outOfRange(`${what}: index ${i} is out of range (size ${size}, valid 0..${size - 1})`);
  return Number(i);
}

function writeCounterEntry(ctx: WriteContext, type: UpdateType, ce: p4.v1.CounterEntry.$Properties): Undo {
  const pi = ctx.profile.counterWrites === 'pi';
  if (type !== 'MODIFY' && !(pi && type === 'DELETE')) throw fail.invalid(`CounterEntry supports MODIFY only; ${type} is not defined for counters`);
  const id = ce.counterId ?? 0;
  if (id === 0) throw fail.invalid('CounterEntry.counter_id is 0; a write must name one counter');
  const info = ctx.index.counters.get(id);
  if (!info) throw fail.invalid(ctx.msgs.invalidId(`counter id ${hexId(id)} is not an indirect counter in the P4Info`));
  const arr = ctx.state.counters.get(id);
  const index = checkIndex(ce.index, info.size, `counter '${info.name}'`);
  if (type === 'DELETE') {
    // PI's DELETE of a counter cell writes 0 bytes and 0 packets, both fields valid.
    if (index === null) throw fail.unimplemented('Wildcard write is not supported for indirect counters yet');
    if (!arr) return () => undefined;
    const old = arr.get(index);
    arr.set(index, 0n, 0n);
    return () => arr.set(index, old.bytes, old.packets);
  }
  if (!arr || ce.data == null) return () => undefined;
  const bytes = i64(ce.data.byteCount as LongLike);
  const packets = i64(ce.data.packetCount as LongLike);
  if (bytes < 0n || packets < 0n) throw fail.invalid(`counter '${info.name}': byte_count and packet_count must not be negative`);
  // PI writes only the counts of the counter's unit and keeps the other as BMv2 counted it.
  const value = (cur: { bytes: bigint; packets: bigint }): [bigint, bigint] =>
    pi && info.unit === 'packets' ? [cur.bytes, packets] : pi && info.unit === 'bytes' ? [bytes, cur.packets] : [bytes, packets];
  if (index === null) {
    const saved = arr.clone();
    for (let i = 0; i < arr.size; i++) arr.set(i, ...value(arr.get(i)));
    return () => arr.copyFrom(saved);
  }
  const old = arr.get(index);
  arr.set(index, ...value(old));
  return () => arr.set(index, old.bytes, old.packets);
}

function writeDirectCounterEntry(ctx: WriteContext, type: UpdateType, dce: p4.v1.DirectCounterEntry.$Properties): Undo {
  if (type !== 'MODIFY') throw fail.invalid(`DirectCounterEntry supports MODIFY only; ${type} is not defined for direct counters`);
  const te = dce.tableEntry;
  if (!te) throw fail.invalid('DirectCounterEntry.table_entry is unset; name the table entry whose counter to write');
  const t = tableOf(ctx, te.tableId);
  if (t.directCounterId === 0) throw fail.invalid(`table '${t.name}' has no direct counter`);
  const store = ctx.state.table(t.id);
  let cellOwner: { counter: { bytes: bigint; packets: bigint } | null };
  if (te.isDefaultAction) {
    cellOwner = store.defaultEntry;
  } else {
    const k = decodeKey(ctx, te);
    const entry = store.get(k.key);
    if (!entry) throw fail.notFound(ctx.msgs.entryNotFound(`no entry with ${describeKey(k)}`));
    cellOwner = entry;
  }
  if (dce.data == null) return () => undefined;
  const bytes = i64(dce.data.byteCount as LongLike);
  const packets = i64(dce.data.packetCount as LongLike);
  if (bytes < 0n || packets < 0n) throw fail.invalid(`direct counter of table '${t.name}': byte_count and packet_count must not be negative`);
  const old = cellOwner.counter;
  cellOwner.counter = { bytes, packets };
  return () => {
    cellOwner.counter = old;
  };
}

/** Checks that the profile can access this register at all; shared by reads and writes. */
export function checkRegisterAccess(ctx: CodecContext, info: RegisterInfo): void {
  if (info.cell.kind === 'unsupported') throw fail.unimplemented(`register '${info.name}': cells of type ${info.cell.description} are not supported by the sim (bit<W> and bool are)`);
  const w = info.cell.kind === 'bit' ? info.cell.bitwidth : 1;
  if (w > ctx.profile.registers.maxBits) {
    throw fail.unimplemented(`register '${info.name}' is ${w} bits wide; this target reads and writes register cells of at most ${ctx.profile.registers.maxBits} bits over P4Runtime`);
  }
}

/** Widest cell fastRegisterWrite takes: a BigUint64Array cell, its value read as two 32-bit halves. */
const FAST_CELL_BITS = 64;

/**
 * The common register write — a bit<W> cell of at most 64 bits, one index in range, a bytestring
 * of one to eight bytes whose value fits — applied with at most three bigint operations and no
 * message built. A migration's activation is one Write of hundreds to thousands of these, inside
 * the VM's pause; the general path makes several bigints and two message strings per cell.
 * Undefined for anything else (a wider cell, a wildcard index, a padded value where only canonical
 * ones are taken, a value that does not fit): the general path then answers with the spec's code
 * and message.
 */
function fastRegisterWrite(ctx: WriteContext, info: RegisterInfo, arr: RegisterArray, re: p4.v1.RegisterEntry.$Properties): Undo | undefined {
  const cell = info.cell;
  if (cell.kind !== 'bit' || cell.bitwidth > FAST_CELL_BITS) return undefined;
  // A number when read by hand (cell-wire.ts) or by protobufjs without Long; a Long otherwise.
  const index = re.index?.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= info.size) return undefined;
  const b = re.data?.bitstring;
  if (b == null || b.length === 0 || b.length > FAST_CELL_BITS / 8) return undefined;
  const n = b.length;
  // A leading zero byte is padding (§8.3); where the profile refuses it, the general path says so.
  if (n > 1 && b[0] === 0 && ctx.profile.bytestrings === 'canonical-only') return undefined;
  // Big-endian: the last four bytes are the low half, exact in a double either way.
  const split = n > 4 ? n - 4 : 0;
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < split; k++) hi = hi * 256 + (b[k] as number);
  for (let k = split; k < n; k++) lo = lo * 256 + (b[k] as number);
  const w = cell.bitwidth;
  if (w <= 32 ? hi !== 0 || lo >= 2 ** w : hi >= 2 ** (w - 32)) return undefined;
  const old = arr.get(index);
  arr.set(index, hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo));
  return () => arr.set(index, old);
}

function writeRegisterEntry(ctx: WriteContext, type: UpdateType, re: p4.v1.RegisterEntry.$Properties): Undo {
  if (ctx.profile.registers.write === 'none') throw fail.unimplemented(ctx.msgs.registerWriteUnimplemented(`register id ${hexId(re.registerId ?? 0)}`));
  if (type !== 'MODIFY') throw fail.invalid(`RegisterEntry supports MODIFY only; ${type} is not defined for registers (every cell always exists)`);
  const id = re.registerId ?? 0;
  if (id === 0) throw fail.invalid('RegisterEntry.register_id is 0; a write must name one register');
  const info = ctx.index.registers.get(id);
  if (!info) throw fail.invalid(ctx.msgs.invalidId(`register id ${hexId(id)} is not a register in the P4Info`));
  checkRegisterAccess(ctx, info);
  const arr = ctx.state.registers.get(id);
  const fast = arr && fastRegisterWrite(ctx, info, arr, re);
  if (fast) return fast;
  const index = checkIndex(re.index, info.size, `register '${info.name}'`);
  const d = re.data;
  if (d == null) throw fail.invalid(`register '${info.name}': data is unset; send the cell value as P4Data`);
  let value: bigint;
  if (info.cell.kind === 'bool') {
    if (d.bool == null) throw fail.invalid(`register '${info.name}' holds bool; send P4Data.bool`);
    value = d.bool ? 1n : 0n;
  } else {
    const w = info.cell.kind === 'bit' ? info.cell.bitwidth : 1;
    if (d.bitstring == null) throw fail.invalid(`register '${info.name}' holds bit<${w}>; send P4Data.bitstring`);
    value = decodeValue(ctx, d.bitstring, w, `register '${info.name}'`);
  }
  if (!arr) return () => undefined;
  if (index === null) {
    const saved = arr.clone();
    arr.fill(value);
    return () => arr.copyFrom(saved);
  }
  const old = arr.get(index);
  arr.set(index, value);
  return () => arr.set(index, old);
}

function writeDigestEntry(ctx: WriteContext, type: UpdateType, de: p4.v1.DigestEntry.$Properties): Undo {
  const id = de.digestId ?? 0;
  if (id === 0) throw fail.invalid('DigestEntry.digest_id is 0; a write must name one digest');
  const info = ctx.index.digests.get(id);
  if (!info) throw fail.invalid(ctx.msgs.invalidId(`digest id ${hexId(id)} is not a digest in the P4Info`));
  const configs = ctx.state.digestConfigs;
  const old = configs.get(id);
  if (type === 'DELETE') {
    if (!old) throw fail.notFound(`digest '${info.name}' is not configured; nothing to DELETE`);
    configs.delete(id);
    return () => configs.set(id, old);
  }
  if (type === 'INSERT' && old) throw fail.exists(`digest '${info.name}' is already configured; use MODIFY to change its config`);
  if (type === 'MODIFY' && !old) throw fail.notFound(`digest '${info.name}' is not configured; INSERT it first`);
  const c = de.config;
  if (c == null) throw fail.invalid(`digest '${info.name}': config is unset; send max_timeout_ns, max_list_size and ack_timeout_ns`);
  const cfg = { maxTimeoutNs: i64(c.maxTimeoutNs as LongLike), maxListSize: c.maxListSize ?? 0, ackTimeoutNs: i64(c.ackTimeoutNs as LongLike) };
  if (cfg.maxTimeoutNs < 0n || cfg.maxListSize < 0 || cfg.ackTimeoutNs < 0n) throw fail.invalid(`digest '${info.name}': config values must not be negative`);
  configs.set(id, cfg);
  return () => (old ? configs.set(id, old) : configs.delete(id));
}
