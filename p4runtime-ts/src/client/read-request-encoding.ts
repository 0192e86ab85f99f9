/**
 * ReadRequest bytes written by hand (P4Runtime 1.4 §11, p4runtime.proto: ReadRequest device_id = 1,
 * entities = 2, role = 3; Entity.register_entry = 11; RegisterEntry register_id = 1, index = 2;
 * Index.index = 1). A read of many register cells — one entity per cell, the final delta's read of a
 * VM's changed slots — is mostly RegisterEntry{id, index}: those are written straight into a slab;
 * any other entity goes through protobufjs. The bytes decode to the same message protobufjs writes.
 */
import { p4 } from '../proto/index.js';
import { VARINT, WireWriter, tag } from '../proto/wire.js';

/** A protobufjs Long, or a plain number (what our entity builders store). */
interface LongBits {
  readonly low: number;
  readonly high: number;
}

const writer = new WireWriter();

/** The int64 of an Index as a bigint, or undefined when it is not a number or Long. */
function int64Of(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'bigint') return v;
  if (v !== null && typeof v === 'object' && typeof (v as LongBits).low === 'number' && typeof (v as LongBits).high === 'number') {
    const l = v as LongBits;
    // Small non-negative values, every register index: no bigint on the way.
    if (l.high === 0 && l.low >= 0) return BigInt(l.low);
    return BigInt.asIntN(64, (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0));
  }
  return undefined;
}

/** Writes `e` when it is a plain register-cell query (id and index, nothing else); false otherwise. */
function registerCell(w: WireWriter, e: p4.v1.Entity.$Properties): boolean {
  const r = e.registerEntry;
  if (!r || r.data != null || typeof r.registerId !== 'number') return false;
  for (const k in e) if (k !== 'registerEntry' && (e as Record<string, unknown>)[k] != null) return false;
  let index: bigint | undefined;
  if (r.index != null) {
    index = int64Of(r.index.index ?? 0);
    if (index === undefined) return false;
  }
  const entity = w.open(2);
  const reg = w.open(11);
  if (r.registerId !== 0) {
    w.varint(tag(1, VARINT));
    w.varint(r.registerId);
  }
  if (index !== undefined) {
    const ix = w.open(2);
    if (index !== 0n) {
      w.varint(tag(1, VARINT));
      w.varint64(index);
    }
    w.close(ix);
  }
  w.close(reg);
  w.close(entity);
  return true;
}

/** The encoded ReadRequest for `deviceId`, `role` and `entities` (the protobuf message, byte for byte decodable by any reader). */
export function encodeReadRequest(deviceId: bigint, role: string, entities: readonly p4.v1.Entity.$Properties[]): Uint8Array {
  const w = writer;
  w.reset();
  if (deviceId !== 0n) {
    w.varint(tag(1, VARINT));
    w.varint64(deviceId);
  }
  for (const e of entities) {
    if (!registerCell(w, e)) w.lenBytes(2, p4.v1.Entity.encode(e).finish());
  }
  if (role !== '') w.lenBytes(3, Buffer.from(role, 'utf8'));
  return w.finish();
}
