/**
 * ReadRequest bytes written by hand (P4Runtime 1.4 §11, p4runtime.proto: ReadRequest device_id = 1,
 * entities = 2, role = 3; Entity.register_entry = 11; RegisterEntry register_id = 1, index = 2;
 * Index.index = 1). A read of many register cells — one entity per cell, the final delta's read of a
 * VM's changed slots — is mostly RegisterEntry{id, index}: those are written straight into a slab;
 * any other entity goes through protobufjs. The bytes decode to the same message protobufjs writes.
 */
import { p4, toBigInt } from '../proto/index.js';
import { VARINT, WireWriter, tag } from '../proto/wire.js';

const writer = new WireWriter();

/** Writes `e` when it is a plain register-cell query (id and index, nothing else); false otherwise. */
function registerCell(w: WireWriter, e: p4.v1.Entity.$Properties): boolean {
  const r = e.registerEntry;
  if (!r || r.data != null || typeof r.registerId !== 'number') return false;
  for (const k in e) if (k !== 'registerEntry' && (e as Record<string, unknown>)[k] != null) return false;
  let index: number | bigint | undefined;
  if (r.index != null) {
    const i = r.index.index ?? 0;
    // Numbers (what our entity builders store) and Longs; anything else — and a negative number,
    // whose int64 varint protobufjs writes — goes through protobufjs.
    if (typeof i === 'number') {
      if (!Number.isSafeInteger(i) || i < 0) return false;
      index = i;
    } else if (typeof i === 'object' && i !== null) index = toBigInt(i, true);
    else return false;
  }
  const entity = w.open(2);
  const reg = w.open(11);
  if (r.registerId !== 0) {
    w.varint(tag(1, VARINT));
    w.varint(r.registerId);
  }
  if (index !== undefined) {
    const ix = w.open(2);
    if (typeof index === 'number') {
      if (index !== 0) {
        w.varint(tag(1, VARINT));
        w.varint(index);
      }
    } else if (index !== 0n) {
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
