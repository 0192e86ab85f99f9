/**
 * Answers one Read request entity with every wildcard the spec defines: all tables (table_id 0),
 * all entries of a table, one entry by key, filters by priority/action/metadata, the default
 * entry, counter and register cells (index unset = all, id 0 = all arrays), direct counters of a
 * table, digest configs. Direct counter data and time_since_last_hit only when requested.
 */
import { toBigInt, toLong } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { i64 } from '../p4rt/int64.js';
import { canonicalBytes } from '../p4rt/bytestring.js';
import { fail } from '../p4rt/status.js';
import { hexId } from './codec-context.js';
import type { CodecContext } from './codec-context.js';
import { checkRegisterAccess, entityKindOf } from './entity-writer.js';
import type { ForwardingState } from './forwarding-state.js';
import type { TableInfo } from './p4info-index.js';
import { decodeKey, describeKey, encodeAction, encodeMatch, tableOf } from './table-entry-codec.js';
import type { CounterCell, DefaultEntryState, TableEntryState } from './table-store.js';

type EntityProps = p4.v1.Entity.$Properties;

/** What answering a read needs. */
export interface ReadContext extends CodecContext {
  readonly state: ForwardingState;
  readonly nowMs: number;
}


const counterData = (c: CounterCell | { bytes: bigint; packets: bigint }): p4.v1.CounterData.$Properties => ({ byteCount: i64(c.bytes), packetCount: i64(c.packets) });

/** Reads one entity request; returns the matching entities (possibly none) or throws SimError. */
export function readEntity(ctx: ReadContext, e: EntityProps): EntityProps[] {
  const found = readEntities(ctx, e);
  return Array.isArray(found) ? found : [...found];
}

/**
 * readEntity for the Read RPC, which sends them in chunks: a register read's cell values are taken
 * at once (the read stays one instant of the switch), their entities built only as they are
 * iterated — a wildcard read of 10^5-slot registers would otherwise hold millions of objects
 * until the last chunk is sent, and the switch then spends the next seconds collecting them.
 */
export function readEntities(ctx: ReadContext, e: EntityProps): Iterable<EntityProps> {
  const kind = entityKindOf(e);
  switch (kind) {
    case 'tableEntry':
      return readTableEntries(ctx, e.tableEntry ?? {});
    case 'counterEntry':
      return readCounters(ctx, e.counterEntry ?? {});
    case 'directCounterEntry':
      return readDirectCounters(ctx, e.directCounterEntry ?? {});
    case 'registerEntry':
      return readRegisters(ctx, e.registerEntry ?? {});
    case 'digestEntry':
      return readDigests(ctx, e.digestEntry ?? {});
    case 'packetReplicationEngineEntry':
      return ctx.state.replication.read(e.packetReplicationEngineEntry ?? {});
    case undefined:
      throw fail.invalid('Entity has no entity set; P4Runtime has no whole-state wildcard, list one entity per type (e.g. table_entry {} for every table)');
    default:
      throw fail.unimplemented(`reading ${kind} is not supported by the sim (supported: table_entry, counter_entry, direct_counter_entry, register_entry, digest_entry, packet_replication_engine_entry)`);
  }
}

interface EntryOptions {
  readonly counterData: boolean;
  readonly timeSinceLastHit: boolean;
}

function elapsedNs(ctx: ReadContext, e: TableEntryState): bigint {
  if (ctx.profile.idleTimeout.remainingWrapsAt32Bits && e.idleTimeoutNs > 0n) {
    // BMv2: remaining = (timeout_ms - since_ms) * 10^6 in uint32, reported as timeout - remaining.
    const timeoutMs = e.idleTimeoutNs / 1_000_000n;
    const sinceMs = BigInt(Math.max(0, Math.floor(ctx.nowMs - e.lastHitMs)));
    const remainingNs = timeoutMs > sinceMs ? ((timeoutMs - sinceMs) * 1_000_000n) % (1n << 32n) : 0n;
    return e.idleTimeoutNs >= remainingNs ? e.idleTimeoutNs - remainingNs : 0n;
  }
  const elapsed = BigInt(Math.max(0, Math.round((ctx.nowMs - e.lastHitMs) * 1e6)));
  return ctx.profile.idleTimeout.capElapsedAtTimeout && e.idleTimeoutNs > 0n && elapsed > e.idleTimeoutNs ? e.idleTimeoutNs : elapsed;
}

function encodeEntry(ctx: ReadContext, t: TableInfo, e: TableEntryState, o: EntryOptions): p4.v1.TableEntry.$Properties {
  const te: p4.v1.TableEntry.$Properties = { tableId: t.id, match: encodeMatch(t, e.match), priority: e.priority };
  if (e.action) te.action = encodeAction(ctx, e.action);
  if (e.metadata.length > 0) te.metadata = e.metadata;
  if (e.controllerMetadata !== 0n) te.controllerMetadata = toLong(e.controllerMetadata);
  if (e.idleTimeoutNs !== 0n) te.idleTimeoutNs = i64(e.idleTimeoutNs);
  if (o.counterData && e.counter) te.counterData = counterData(e.counter);
  if (o.timeSinceLastHit && t.idleTimeoutNotify && !(ctx.profile.idleTimeout.omitElapsedWithoutTimeout && e.idleTimeoutNs === 0n)) {
    te.timeSinceLastHit = { elapsedNs: i64(elapsedNs(ctx, e)) };
  }
  return te;
}

function encodeDefault(ctx: ReadContext, t: TableInfo, d: DefaultEntryState, o: EntryOptions): p4.v1.TableEntry.$Properties {
  const te: p4.v1.TableEntry.$Properties = { tableId: t.id, isDefaultAction: true };
  if (d.action) te.action = encodeAction(ctx, d.action);
  if (d.metadata.length > 0) te.metadata = d.metadata;
  if (d.controllerMetadata !== 0n) te.controllerMetadata = toLong(d.controllerMetadata);
  if (o.counterData && d.counter) te.counterData = counterData(d.counter);
  return te;
}

function readTableEntries(ctx: ReadContext, te: p4.v1.TableEntry.$Properties): EntityProps[] {
  const o: EntryOptions = { counterData: te.counterData != null, timeSinceLastHit: te.timeSinceLastHit != null };
  const out: EntityProps[] = [];
  if ((te.tableId ?? 0) === 0) {
    const filtered = (te.match ?? []).length > 0 || (te.priority ?? 0) !== 0 || te.action != null || te.isDefaultAction || (te.metadata?.length ?? 0) > 0;
    if (filtered) throw fail.invalid('table_id 0 reads every entry of every table; no other filter (match, priority, action, metadata, is_default_action) may be set');
    for (const store of ctx.state.tables.values()) {
      for (const e of store.entries()) out.push({ tableEntry: encodeEntry(ctx, store.info, e, o) });
    }
    return out;
  }
  const t = tableOf(ctx, te.tableId);
  if (o.timeSinceLastHit && !t.idleTimeoutNotify) throw fail.invalid(`table '${t.name}' does not support idle timeout; do not request time_since_last_hit`);
  const store = ctx.state.table(t.id);
  if (te.isDefaultAction) {
    if ((te.match ?? []).length > 0) throw fail.invalid(`table '${t.name}': a default-entry read (is_default_action) must have no match`);
    return [{ tableEntry: encodeDefault(ctx, t, store.defaultEntry, o) }];
  }
  if ((te.match ?? []).length > 0) {
    const k = decodeKey(ctx, te);
    const e = store.get(k.key);
    if (!e) throw fail.notFound(ctx.msgs.entryNotFound(`no entry with ${describeKey(k)}`));
    return [{ tableEntry: encodeEntry(ctx, t, e, o) }];
  }
  const prio = te.priority ?? 0;
  const actionId = te.action?.action?.actionId ?? 0;
  const md = te.metadata && te.metadata.length > 0 ? te.metadata : null;
  const cm = toBigInt(te.controllerMetadata as LongLike);
  for (const e of store.entries()) {
    if (prio !== 0 && e.priority !== prio) continue;
    if (actionId !== 0 && e.action?.actionId !== actionId) continue;
    if (md && !sameBytes(md, e.metadata)) continue;
    if (cm !== 0n && e.controllerMetadata !== cm) continue;
    out.push({ tableEntry: encodeEntry(ctx, t, e, o) });
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function indexOf(ctx: ReadContext, index: p4.v1.Index.$Properties | null | undefined, size: number, what: string, beyond: 'out-of-range' | 'unknown'): number | null {
  if (index == null) return null;
  const i = toBigInt(index.index as LongLike, true);
  if (i < 0n) throw fail.invalid(`${what}: index ${i} is negative`);
  if (i >= BigInt(size)) {
    const detail = `${what}: index ${i} is out of range (size ${size}, valid 0..${size - 1})`;
    throw beyond === 'unknown' ? fail.unknown(ctx.msgs.counterIndexBeyondSize(detail)) : fail.outOfRange(detail);
  }
  return Number(i);
}

function readCounters(ctx: ReadContext, ce: p4.v1.CounterEntry.$Properties): EntityProps[] {
  const id = ce.counterId ?? 0;
  const out: EntityProps[] = [];
  if (id === 0) {
    if (ce.index != null) throw fail.invalid('counter_id 0 reads every cell of every counter; leave index unset');
    for (const [cid, arr] of ctx.state.counters) {
      for (let i = 0; i < arr.size; i++) out.push({ counterEntry: { counterId: cid, index: { index: i }, data: counterData(arr.get(i)) } });
    }
    return out;
  }
  const info = ctx.index.counters.get(id);
  if (!info) throw fail.invalid(ctx.msgs.invalidId(`counter id ${hexId(id)} is not an indirect counter in the P4Info`));
  const arr = ctx.state.counters.get(id);
  if (!arr) return out;
  const index = indexOf(ctx, ce.index, info.size, `counter '${info.name}'`, ctx.profile.counterIndexBeyondSize);
  if (index !== null) return [{ counterEntry: { counterId: id, index: { index }, data: counterData(arr.get(index)) } }];
  for (let i = 0; i < arr.size; i++) out.push({ counterEntry: { counterId: id, index: { index: i }, data: counterData(arr.get(i)) } });
  return out;
}

function readDirectCounters(ctx: ReadContext, dce: p4.v1.DirectCounterEntry.$Properties): EntityProps[] {
  const te = dce.tableEntry ?? {};
  const out: EntityProps[] = [];
  const push = (t: TableInfo, match: p4.v1.TableEntry.$Properties, c: CounterCell | null): void => {
    if (c) out.push({ directCounterEntry: { tableEntry: match, data: counterData(c) } });
  };
  if ((te.tableId ?? 0) === 0) {
    for (const store of ctx.state.tables.values()) {
      if (store.info.directCounterId === 0) continue;
      for (const e of store.entries()) push(store.info, { tableId: store.info.id, match: encodeMatch(store.info, e.match), priority: e.priority }, e.counter);
    }
    return out;
  }
  const t = tableOf(ctx, te.tableId);
  if (t.directCounterId === 0) throw fail.invalid(`table '${t.name}' has no direct counter`);
  const store = ctx.state.table(t.id);
  if (te.isDefaultAction) {
    push(t, { tableId: t.id, isDefaultAction: true }, store.defaultEntry.counter);
    return out;
  }
  if ((te.match ?? []).length > 0) {
    const k = decodeKey(ctx, te);
    const e = store.get(k.key);
    if (!e) throw fail.notFound(ctx.msgs.entryNotFound(`no entry with ${describeKey(k)}`));
    push(t, { tableId: t.id, match: encodeMatch(t, e.match), priority: e.priority }, e.counter);
    return out;
  }
  for (const e of store.entries()) push(t, { tableId: t.id, match: encodeMatch(t, e.match), priority: e.priority }, e.counter);
  return out;
}

function readRegisters(ctx: ReadContext, re: p4.v1.RegisterEntry.$Properties): Iterable<EntityProps> {
  if (!ctx.profile.registers.read) throw fail.unimplemented(ctx.msgs.registerReadUnimplemented(`register id ${hexId(re.registerId ?? 0)}`));
  const id = re.registerId ?? 0;
  const runs: { readonly rid: number; readonly from: number; readonly isBool: boolean; readonly values: bigint[] }[] = [];
  const cells = (rid: number, from: number, to: number): void => {
    const info = ctx.index.registers.get(rid);
    const arr = ctx.state.registers.get(rid);
    if (!info || !arr) return;
    const values = new Array<bigint>(to - from);
    for (let i = from; i < to; i++) values[i - from] = arr.get(i);
    runs.push({ rid, from, isBool: info.cell.kind === 'bool', values });
  };
  const out = function* (): Generator<EntityProps> {
    for (const r of runs) {
      for (let n = 0; n < r.values.length; n++) {
        const v = r.values[n] as bigint;
        yield { registerEntry: { registerId: r.rid, index: { index: r.from + n }, data: r.isBool ? { bool: v !== 0n } : { bitstring: canonicalBytes(v) } } };
      }
    }
  };
  if (id === 0) {
    if (re.index != null) throw fail.invalid('register_id 0 reads every cell of every register; leave index unset');
    for (const info of ctx.index.registers.values()) {
      checkRegisterAccess(ctx, info);
      cells(info.id, 0, info.size);
    }
    return out();
  }
  const info = ctx.index.registers.get(id);
  if (!info) throw fail.invalid(ctx.msgs.invalidId(`register id ${hexId(id)} is not a register in the P4Info`));
  checkRegisterAccess(ctx, info);
  const index = indexOf(ctx, re.index, info.size, `register '${info.name}'`, 'out-of-range');
  if (index !== null) cells(id, index, index + 1);
  else cells(id, 0, info.size);
  return out();
}

function readDigests(ctx: ReadContext, de: p4.v1.DigestEntry.$Properties): EntityProps[] {
  const id = de.digestId ?? 0;
  const entry = (did: number): EntityProps[] => {
    const c = ctx.state.digestConfigs.get(did);
    return c ? [{ digestEntry: { digestId: did, config: { maxTimeoutNs: i64(c.maxTimeoutNs), maxListSize: c.maxListSize, ackTimeoutNs: i64(c.ackTimeoutNs) } } }] : [];
  };
  if (id === 0) return [...ctx.state.digestConfigs.keys()].flatMap(entry);
  if (!ctx.index.digests.has(id)) throw fail.invalid(ctx.msgs.invalidId(`digest id ${hexId(id)} is not a digest in the P4Info`));
  const found = entry(id);
  if (found.length === 0 && ctx.profile.unconfiguredDigestRead === 'not-found') throw fail.notFound(`Digest ${id} not configured`);
  return found;
}
