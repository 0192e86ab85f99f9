/**
 * TEST DOUBLE — the state behind FakeP4RuntimeServer: table entries (with direct counters and
 * insertion time for idle-time reads), default actions, register and counter cells, digest
 * configurations, validated only against ids and sizes from the P4Info. Errors take BMv2's shape
 * (one p4.v1.Error per update, its messages and canonical codes).
 */
import { p4, toBigInt, toLong } from '../../proto/index.js';
import type { LongLike } from '../../proto/index.js';

const OK = 0;
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const OUT_OF_RANGE = 11;
const UNIMPLEMENTED = 12;

interface StoredEntry {
  readonly key: string;
  entry: p4.v1.TableEntry.$Properties;
  insertedAt: number;
  counter: { bytes: bigint; packets: bigint };
}

function hex(b: Uint8Array | null | undefined): string {
  // Strip leading zero bytes so padded and canonical keys collide, as they do on BMv2.
  const s = Buffer.from(b ?? []).toString('hex').replace(/^(00)+/, '');
  return s === '' ? '0' : s;
}

function matchKey(e: p4.v1.TableEntry.$Properties): string {
  const fields = (e.match ?? []).map((m) => {
    const v = m.exact ? hex(m.exact.value) : m.lpm ? `${hex(m.lpm.value)}/${m.lpm.prefixLen}` : m.ternary ? `${hex(m.ternary.value)}&${hex(m.ternary.mask)}` : m.range ? `${hex(m.range.low)}-${hex(m.range.high)}` : m.optional ? hex(m.optional.value) : '?';
    return `${m.fieldId}=${v}`;
  });
  fields.sort();
  return `${e.tableId}|${e.priority ?? 0}|${fields.join(',')}`;
}

/** The test double's entities; `reset` it with each pipeline, `apply` updates, `read` entities. */
export class FakeEntityStore {
  private readonly tables = new Map<number, Map<string, StoredEntry>>();
  private readonly defaults = new Map<number, p4.v1.TableAction.$Properties>();
  private readonly registers = new Map<number, Map<bigint, p4.v1.P4Data.$Properties>>();
  private readonly counters = new Map<number, Map<bigint, { bytes: bigint; packets: bigint }>>();
  private p4info: p4.config.v1.P4Info | undefined;
  /** Digest configurations written (DigestEntry), by digest id. */
  readonly digestConfigs = new Map<number, p4.v1.DigestEntry.Config.$Properties>();

  constructor(private readonly now: () => number) {}

  /** Empties every entity for a new pipeline (`p4info`; undefined: none). */
  reset(p4info: p4.config.v1.P4Info | undefined): void {
    this.p4info = p4info;
    this.tables.clear();
    this.defaults.clear();
    this.registers.clear();
    this.counters.clear();
  }

  /** The stored entries of table `tableId`. */
  entries(tableId: number): p4.v1.TableEntry.$Properties[] {
    return [...(this.tables.get(tableId)?.values() ?? [])].map((s) => s.entry);
  }

  private sizeOf(kind: 'registers' | 'counters', id: number): number | undefined {
    const list = this.p4info?.[kind] ?? [];
    const found = list.find((x) => x.preamble?.id === id);
    return found ? Number(toBigInt(found.size as LongLike)) : undefined;
  }

  /** Applies one update; the p4.v1.Error BMv2 would report for it (canonicalCode OK when applied). */
  apply(u: p4.v1.Update.$Properties): p4.v1.Error.$Properties {
    const ok = { canonicalCode: OK };
    const fail = (canonicalCode: number, message: string): p4.v1.Error.$Properties => ({ canonicalCode, message, space: 'ALL-sswitch-p4org', code: 0 });
    const T = p4.v1.Update.Type;
    const e = u.entity;
    if (e?.tableEntry) {
      const te = e.tableEntry;
      const tableId = te.tableId ?? 0;
      if (!(this.p4info?.tables ?? []).some((t) => t.preamble?.id === tableId)) return fail(INVALID_ARGUMENT, 'Invalid P4 id');
      if (te.isDefaultAction) {
        if (u.type !== T.MODIFY) return fail(INVALID_ARGUMENT, 'Default action can only be modified');
        this.defaults.set(tableId, te.action ?? {});
        return ok;
      }
      const table = this.tables.get(tableId) ?? new Map<string, StoredEntry>();
      this.tables.set(tableId, table);
      const key = matchKey(te);
      const existing = table.get(key);
      switch (u.type) {
        case T.INSERT:
          if (existing) return fail(ALREADY_EXISTS, 'Match entry exists, use MODIFY if you wish to change action');
          table.set(key, {
            key,
            entry: te,
            insertedAt: this.now(),
            counter: { bytes: toBigInt(te.counterData?.byteCount as LongLike, true), packets: toBigInt(te.counterData?.packetCount as LongLike, true) },
          });
          return ok;
        case T.MODIFY:
          if (!existing) return fail(NOT_FOUND, 'Cannot find match entry');
          existing.entry = te;
          return ok;
        case T.DELETE:
          if (!existing) return fail(NOT_FOUND, 'Cannot find match entry');
          table.delete(key);
          return ok;
        default:
          return fail(INVALID_ARGUMENT, 'Invalid update type');
      }
    }
    if (e?.registerEntry) {
      const r = e.registerEntry;
      const size = this.sizeOf('registers', r.registerId ?? 0);
      if (size === undefined) return fail(INVALID_ARGUMENT, 'Invalid P4 id');
      if (u.type !== T.MODIFY) return fail(INVALID_ARGUMENT, 'Register entries can only be modified');
      const index = toBigInt(r.index?.index as LongLike, true);
      if (!r.index || index >= BigInt(size)) return fail(OUT_OF_RANGE, `index ${index} out of range`);
      const cells = this.registers.get(r.registerId ?? 0) ?? new Map();
      this.registers.set(r.registerId ?? 0, cells);
      cells.set(index, r.data ?? {});
      return ok;
    }
    if (e?.counterEntry) {
      const c = e.counterEntry;
      const size = this.sizeOf('counters', c.counterId ?? 0);
      if (size === undefined) return fail(INVALID_ARGUMENT, 'Invalid P4 id');
      const index = toBigInt(c.index?.index as LongLike, true);
      if (!c.index || index >= BigInt(size)) return fail(OUT_OF_RANGE, `index ${index} out of range`);
      const cells = this.counters.get(c.counterId ?? 0) ?? new Map();
      this.counters.set(c.counterId ?? 0, cells);
      cells.set(index, { bytes: toBigInt(c.data?.byteCount as LongLike, true), packets: toBigInt(c.data?.packetCount as LongLike, true) });
      return ok;
    }
    if (e?.directCounterEntry) {
      const te = e.directCounterEntry.tableEntry ?? {};
      const stored = this.tables.get(te.tableId ?? 0)?.get(matchKey(te));
      if (!stored) return fail(NOT_FOUND, 'Cannot find match entry');
      const d = e.directCounterEntry.data;
      stored.counter = { bytes: toBigInt(d?.byteCount as LongLike, true), packets: toBigInt(d?.packetCount as LongLike, true) };
      return ok;
    }
    if (e?.digestEntry) {
      this.digestConfigs.set(e.digestEntry.digestId ?? 0, e.digestEntry.config ?? {});
      return ok;
    }
    return fail(UNIMPLEMENTED, 'entity type not supported by the test double');
  }

  /** The (id, index) cells a register or counter read names: a wildcard id or index expands to all. */
  private *cells(kind: 'registers' | 'counters', id: number | null | undefined, index: p4.v1.Index.$Properties | null | undefined): Generator<[number, bigint]> {
    const ids = id ? [id] : (this.p4info?.[kind] ?? []).map((x) => x.preamble?.id ?? 0);
    for (const one of ids) {
      if (index) {
        yield [one, toBigInt(index.index as LongLike, true)];
        continue;
      }
      const size = this.sizeOf(kind, one) ?? 0;
      for (let i = 0; i < size; i++) yield [one, BigInt(i)];
    }
  }

  /** The entities a Read of `e` returns (wildcards expanded). */
  read(e: p4.v1.Entity): p4.v1.Entity.$Properties[] {
    const out: p4.v1.Entity.$Properties[] = [];
    if (e.tableEntry?.isDefaultAction) {
      const id = e.tableEntry.tableId ?? 0;
      const action = this.defaults.get(id);
      if (action) out.push({ tableEntry: { tableId: id, isDefaultAction: true, action } });
    } else if (e.tableEntry) {
      const q = e.tableEntry;
      const ids = q.tableId ? [q.tableId] : [...this.tables.keys()];
      for (const id of ids) {
        for (const s of this.tables.get(id)?.values() ?? []) {
          if ((q.match ?? []).length > 0 && matchKey({ ...q, tableId: id }) !== s.key) continue;
          const te: p4.v1.TableEntry.$Properties = { ...s.entry };
          delete te.timeSinceLastHit;
          delete te.counterData;
          if (q.counterData) te.counterData = { byteCount: toLong(s.counter.bytes, true), packetCount: toLong(s.counter.packets, true) };
          const timeout = toBigInt(s.entry.idleTimeoutNs as LongLike, true);
          if (q.timeSinceLastHit && timeout > 0n) {
            const elapsed = BigInt(this.now() - s.insertedAt) * 1_000_000n;
            te.timeSinceLastHit = { elapsedNs: toLong(elapsed < timeout ? elapsed : timeout, true) };
          }
          out.push({ tableEntry: te });
        }
      }
    } else if (e.registerEntry) {
      const q = e.registerEntry;
      for (const [id, i] of this.cells('registers', q.registerId, q.index)) {
        const data = this.registers.get(id)?.get(i) ?? { bitstring: new Uint8Array([0]) };
        out.push({ registerEntry: { registerId: id, index: { index: toLong(i, true) }, data } });
      }
    } else if (e.counterEntry) {
      const q = e.counterEntry;
      for (const [id, i] of this.cells('counters', q.counterId, q.index)) {
        const v = this.counters.get(id)?.get(i) ?? { bytes: 0n, packets: 0n };
        out.push({ counterEntry: { counterId: id, index: { index: toLong(i, true) }, data: { byteCount: toLong(v.bytes, true), packetCount: toLong(v.packets, true) } } });
      }
    } else if (e.digestEntry) {
      const id = e.digestEntry.digestId ?? 0;
      const config = this.digestConfigs.get(id);
      if (config) out.push({ digestEntry: { digestId: id, config } });
    } else if (e.directCounterEntry) {
      const q = e.directCounterEntry.tableEntry ?? {};
      for (const s of this.tables.get(q.tableId ?? 0)?.values() ?? []) {
        if ((q.match ?? []).length > 0 && matchKey(q) !== s.key) continue;
        out.push({
          directCounterEntry: {
            tableEntry: { tableId: s.entry.tableId, match: s.entry.match, priority: s.entry.priority },
            data: { byteCount: toLong(s.counter.bytes, true), packetCount: toLong(s.counter.packets, true) },
          },
        });
      }
    }
    return out;
  }
}
