/**
 * ReadRequest deserialization for the sim's Read RPC. A migration's pause reads thousands of
 * register cells in one request, each a bare register_id and index; protobufjs built three
 * messages and a Long per cell, and that plus its garbage was a large share of the sim's CPU for
 * such reads. Plain register-cell queries are read by hand into plain objects; any other entity,
 * and the request's other fields, go through the generated decoder. Field numbers from
 * p4runtime.proto (ReadRequest device_id = 1, entities = 2, role = 3; Entity.register_entry = 11;
 * RegisterEntry register_id = 1, index = 2; Index.index = 1).
 *
 * The result, and whether it throws, is protobufjs': the hand path takes only the encodings
 * protobufjs reads the same way (one-byte tags, length prefixes of at most five bytes, a
 * register_id below 2^32, an index that is a safe integer, no repeated index to merge) and leaves
 * everything else to it; when walking the request by hand throws, protobufjs decodes the whole
 * buffer, so a malformed request fails (or, for the odd encoding it tolerates, succeeds) with
 * protobufjs' own verdict and message.
 */
import { LEN, VARINT, WireReader, p4 } from 'p4runtime-ts/proto';

type Entity = p4.v1.Entity.$Properties;

/** Longest tag or length prefix protobufjs accepts (Reader.tag, Reader.size: five bytes). */
const MAX_PREFIX_BYTES = 5;

/**
 * Entity.decode as ReadRequest.decode calls it: one level deep, so protobufjs' recursion limit
 * (the `_depth` parameter of the generated decoders) counts the same as for the whole request.
 */
const decodeEntity = p4.v1.Entity.decode as (reader: Uint8Array, length: undefined, end: undefined, depth: number) => p4.v1.Entity;

/** The index of an Index message at [at, end), or undefined when it is not one plain safe integer field. */
function indexOf(buf: Uint8Array, at: number, end: number): number | undefined {
  const r = new WireReader(buf, at, end);
  let index = 0;
  for (let tag = r.pos; r.next(); tag = r.pos) {
    if (r.pos - tag !== 1 || r.field !== 1 || r.wireType !== VARINT) return undefined;
    index = r.varint();
  }
  // A negative or huge int64 index: the general decoder keeps its exact value for the error.
  return index > Number.MAX_SAFE_INTEGER ? undefined : index;
}

/** A register-cell query at [start, end) as a plain Entity, or undefined when the entity needs the general decoder. */
function registerCell(buf: Uint8Array, start: number, end: number): Entity | undefined {
  // The entity must be exactly one field: register_entry (11, LEN), tag 0x5a, and a length.
  if (end - start < 2 || buf[start] !== 0x5a) return undefined;
  const e = new WireReader(buf, start + 1, end);
  const body = e.span();
  if (body - start - 1 > MAX_PREFIX_BYTES || e.pos !== end) return undefined;
  const r = new WireReader(buf, body, end);
  let registerId = 0;
  let index: number | undefined;
  for (let tag = r.pos; r.next(); tag = r.pos) {
    if (r.pos - tag !== 1) return undefined;
    if (r.field === 1 && r.wireType === VARINT) {
      // protobufjs keeps the low 32 bits of a wider varint.
      registerId = r.varint();
      if (registerId > 0xffff_ffff) return undefined;
    } else if (r.field === 2 && r.wireType === LEN && index === undefined) {
      const prefix = r.pos;
      const at = r.span();
      if (at - prefix > MAX_PREFIX_BYTES) return undefined;
      index = indexOf(buf, at, r.pos);
      if (index === undefined) return undefined;
    } else return undefined;
  }
  // No index: every cell of the register (the reader tells it from index 0 by `index == null`).
  const registerEntry: p4.v1.RegisterEntry.$Properties = index === undefined ? { registerId } : { registerId, index: { index } };
  // `entity` names the oneof's member, as protobufjs' getter does on a decoded Entity.
  return { entity: 'registerEntry', registerEntry } as Entity;
}

/** The request with its register-cell queries read by hand; throws where protobufjs may not, for decodeReadRequest to ask it. */
function decodeByHand(buf: Uint8Array): p4.v1.ReadRequest {
  const r = new WireReader(buf);
  const entities: Entity[] = [];
  const other: Uint8Array[] = [];
  for (let at = r.pos; r.next(); at = r.pos) {
    // An over-long tag goes with the other fields, where protobufjs rejects it.
    if (r.field === 2 && r.wireType === LEN && r.pos - at <= MAX_PREFIX_BYTES) {
      const prefix = r.pos;
      const start = r.span();
      // protobufjs rejects an over-long length prefix; the catch below lets it say so.
      if (start - prefix > MAX_PREFIX_BYTES) throw new RangeError('over-long length prefix');
      entities.push(registerCell(buf, start, r.pos) ?? decodeEntity(buf.subarray(start, r.pos), undefined, undefined, 1));
    } else {
      r.skip();
      other.push(buf.subarray(at, r.pos));
    }
  }
  // The other fields (device id, role, unknown fields) are a ReadRequest of their own.
  const req = other.length === 0 ? new p4.v1.ReadRequest() : p4.v1.ReadRequest.decode(other.length === 1 ? (other[0] as Uint8Array) : Buffer.concat(other));
  if (entities.length > 0) req.entities = entities;
  return req;
}

/** Decodes a ReadRequest as protobufjs does (throws on a malformed one, with protobufjs' message). */
export function decodeReadRequest(buf: Uint8Array): p4.v1.ReadRequest {
  try {
    return decodeByHand(buf);
  } catch {
    // Malformed somewhere, or an encoding only protobufjs walks (a group, a varint past ten bytes).
    return p4.v1.ReadRequest.decode(buf);
  }
}
