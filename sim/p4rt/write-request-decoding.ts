/**
 * WriteRequest deserialization for the sim's Write RPC. A migration's pause ends with one Write
 * of hundreds (at 10^5 flows, thousands) of register-cell MODIFYs; protobufjs built five objects
 * and a Long per cell, more than the sim then spent applying it. Register-cell updates of the
 * plain form (type, entity.register_entry with register_id, index and a bitstring) are read by
 * hand; any other update, and the request's other fields, go through the generated decoder.
 * Field numbers from p4runtime.proto (WriteRequest.updates = 4; Update.type = 1, entity = 2;
 * Entity.register_entry = 11; RegisterEntry register_id = 1, index = 2, data = 3; Index.index = 1)
 * and p4data.proto (P4Data.bitstring = 1).
 */
import { LEN, VARINT, WireReader, p4 } from 'p4runtime-ts/proto';

/** The body [start, end) of the message at [at, end) when its only field is `field` (LEN); else undefined. */
function onlyLen(buf: Uint8Array, at: number, end: number, field: number): [number, number] | undefined {
  const r = new WireReader(buf, at, end);
  if (!r.next() || r.field !== field || r.wireType !== LEN) return undefined;
  const start = r.span();
  const stop = r.pos;
  return r.next() ? undefined : [start, stop];
}

/** The index of an Index message at [at, end), or undefined when it is not one plain safe integer field. */
function indexOf(buf: Uint8Array, at: number, end: number): number | undefined {
  const r = new WireReader(buf, at, end);
  let index = 0;
  while (r.next()) {
    if (r.field !== 1 || r.wireType !== VARINT) return undefined;
    index = r.varint();
  }
  // A negative or huge int64 index: the general decoder keeps its exact value for the error.
  return index > Number.MAX_SAFE_INTEGER ? undefined : index;
}

/** A register-cell MODIFY as a plain Update, or undefined when the update needs the general decoder. */
function registerUpdate(buf: Uint8Array, start: number, end: number): p4.v1.Update.$Properties | undefined {
  const u = new WireReader(buf, start, end);
  let type = 0;
  let entity: [number, number] | undefined;
  while (u.next()) {
    if (u.field === 1 && u.wireType === VARINT) type = u.varint();
    else if (u.field === 2 && u.wireType === LEN && entity === undefined) entity = [u.span(), u.pos];
    else return undefined;
  }
  if (!entity || type > 3) return undefined;
  const re = onlyLen(buf, entity[0], entity[1], 11);
  if (!re) return undefined;
  const r = new WireReader(buf, re[0], re[1]);
  let registerId = 0;
  let index: number | undefined;
  let bitstring: Uint8Array | undefined;
  while (r.next()) {
    if (r.field === 1 && r.wireType === VARINT) registerId = r.varint();
    else if (r.field === 2 && r.wireType === LEN && index === undefined) {
      const at = r.span();
      index = indexOf(buf, at, r.pos);
      if (index === undefined) return undefined;
    } else if (r.field === 3 && r.wireType === LEN && bitstring === undefined) {
      const at = r.span();
      const data = onlyLen(buf, at, r.pos, 1);
      if (!data) return undefined;
      bitstring = buf.subarray(data[0], data[1]);
    } else return undefined;
  }
  if (index === undefined || bitstring === undefined || registerId > 0xffff_ffff) return undefined;
  return { type, entity: { entity: 'registerEntry', registerEntry: { registerId, index: { index }, data: { bitstring } } } as p4.v1.Entity.$Properties };
}

/** Decodes a WriteRequest (throws on a malformed one, as protobufjs does). */
export function decodeWriteRequest(buf: Uint8Array): p4.v1.WriteRequest {
  const r = new WireReader(buf);
  const updates: p4.v1.Update.$Properties[] = [];
  const other: Uint8Array[] = [];
  for (let at = r.pos; r.next(); at = r.pos) {
    if (r.field === 4 && r.wireType === LEN) {
      const start = r.span();
      updates.push(registerUpdate(buf, start, r.pos) ?? p4.v1.Update.decode(buf.subarray(start, r.pos)));
    } else {
      r.skip();
      other.push(buf.subarray(at, r.pos));
    }
  }
  // The other fields (device, election id, role, atomicity) are a WriteRequest of their own.
  const req = p4.v1.WriteRequest.decode(other.length === 1 ? (other[0] as Uint8Array) : Buffer.concat(other));
  (req as { updates: p4.v1.Update.$Properties[] }).updates = updates;
  return req;
}
