/**
 * Register cells read off the wire by hand, exactly as protobufjs reads them: the part the sim's
 * two hand decoders share (read-request-decoding.ts for Read, write-request-decoding.ts for
 * Write). Each reads its request's register cells into plain objects and leaves everything else to
 * protobufjs, and each must give protobufjs' result for every encoding (8.8.1: the same request
 * where it decodes one, its own error where it throws). What keeps them exact lives here once, so
 * the two cannot drift apart: the hand path takes only one-byte tags inside a cell, length
 * prefixes of at most five bytes, a register_id below 2^32, an index that is a safe integer and no
 * repeated message field to merge; the request's other items go to the generated decoder one
 * level deep, where its recursion limit counts as in the whole request; and when the walk by hand
 * throws anywhere, protobufjs decodes the whole buffer and has the last word. Field numbers from
 * p4runtime.proto (Entity.register_entry = 11; RegisterEntry register_id = 1, index = 2, data = 3;
 * Index.index = 1) and p4data.proto (P4Data.bitstring = 1).
 */
import { LEN, VARINT, WireReader } from 'p4runtime-ts/proto';
import type { p4 } from 'p4runtime-ts/proto';

/** Longest tag or length prefix protobufjs accepts (Reader.tag, Reader.size: five bytes). */
const MAX_PREFIX_BYTES = 5;

/** Entity.register_entry (11, LEN) and P4Data.bitstring (1, LEN) as one-byte tags. */
const REGISTER_ENTRY_TAG = 0x5a;
const BITSTRING_TAG = 0x0a;

/** The start of the body of the length-delimited field `r` has just reached, moving `r` past it; -1 when its length prefix is longer than protobufjs reads. */
export function bodyStart(r: WireReader): number {
  const prefix = r.pos;
  const start = r.span();
  return start - prefix > MAX_PREFIX_BYTES ? -1 : start;
}

/** The body start of the message at [at, end) when it is one length-delimited field with the one-byte tag `tag`; else -1. */
function onlyField(buf: Uint8Array, at: number, end: number, tag: number): number {
  if (end - at < 2 || buf[at] !== tag) return -1;
  const r = new WireReader(buf, at + 1, end);
  const start = bodyStart(r);
  return r.pos === end ? start : -1;
}

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

/** The RegisterEntry at [start, end) as a plain object (with a bitstring when `data` allows one), or undefined when it needs the general decoder. */
function registerEntryAt(buf: Uint8Array, start: number, end: number, data: boolean): p4.v1.RegisterEntry.$Properties | undefined {
  const r = new WireReader(buf, start, end);
  let registerId = 0;
  let index: number | undefined;
  let bitstring: Uint8Array | undefined;
  for (let tag = r.pos; r.next(); tag = r.pos) {
    if (r.pos - tag !== 1) return undefined;
    if (r.field === 1 && r.wireType === VARINT) {
      // protobufjs keeps the low 32 bits of a wider varint.
      registerId = r.varint();
      if (registerId > 0xffff_ffff) return undefined;
    } else if (r.field === 2 && r.wireType === LEN && index === undefined) {
      const at = bodyStart(r);
      index = at < 0 ? undefined : indexOf(buf, at, r.pos);
      if (index === undefined) return undefined;
    } else if (data && r.field === 3 && r.wireType === LEN && bitstring === undefined) {
      const at = bodyStart(r);
      const value = at < 0 ? -1 : onlyField(buf, at, r.pos, BITSTRING_TAG);
      if (value < 0) return undefined;
      bitstring = buf.subarray(value, r.pos);
    } else return undefined;
  }
  // No index: every cell of the register (readers tell it from index 0 by `index == null`). Each
  // shape in one literal: a property added later would move the entry's fields out of the object.
  if (bitstring === undefined) return index === undefined ? { registerId } : { registerId, index: { index } };
  return index === undefined ? { registerId, data: { bitstring } } : { registerId, index: { index }, data: { bitstring } };
}

/**
 * The Entity at [start, end) as a plain register-cell entity (register_id, index and, when `data`
 * allows, a bitstring value), or undefined when it needs the general decoder.
 */
export function registerCell(buf: Uint8Array, start: number, end: number, data: boolean): p4.v1.Entity.$Properties | undefined {
  // The entity must be exactly one field: register_entry.
  const at = onlyField(buf, start, end, REGISTER_ENTRY_TAG);
  const registerEntry = at < 0 ? undefined : registerEntryAt(buf, at, end, data);
  // `entity` names the oneof's member, as protobufjs' getter does on a decoded Entity.
  return registerEntry && ({ entity: 'registerEntry', registerEntry } as p4.v1.Entity.$Properties);
}

/** A generated protobufjs message class, as decodeExactly uses it (`depth` is the generated decoder's `_depth`). */
export interface MessageClass<T> {
  new (): T;
  decode(reader: Uint8Array, length?: number, end?: number, depth?: number): T;
}

/** A request with one repeated field of items the hand decoder reads: what decodeExactly needs to know of it. */
export interface RequestLayout<R, I> {
  /** The request's generated class, for its other fields and for the whole buffer when the walk by hand throws. */
  readonly request: MessageClass<R>;
  /** The repeated field's number. */
  readonly field: number;
  /** The item's generated class, for the items `byHand` leaves to protobufjs. */
  readonly item: MessageClass<I>;
  /** The item at [start, end) as a plain object, or undefined when it needs the general decoder (may throw where protobufjs may not). */
  readonly byHand: (buf: Uint8Array, start: number, end: number) => I | undefined;
  /** Stores the decoded items in the request. */
  readonly store: (req: R, items: I[]) => void;
}

/** The request walked by hand; throws where protobufjs may not, for decodeExactly to ask it. */
function decodeByHand<R, I>(buf: Uint8Array, layout: RequestLayout<R, I>): R {
  const r = new WireReader(buf);
  const items: I[] = [];
  const other: Uint8Array[] = [];
  for (let at = r.pos; r.next(); at = r.pos) {
    // An over-long tag goes with the other fields, where protobufjs rejects it.
    if (r.field === layout.field && r.wireType === LEN && r.pos - at <= MAX_PREFIX_BYTES) {
      const start = bodyStart(r);
      // protobufjs rejects an over-long length prefix; decodeExactly lets it say so.
      if (start < 0) throw new RangeError('over-long length prefix');
      // One level deep, as the request's decoder calls it, so the recursion limit counts the same.
      items.push(layout.byHand(buf, start, r.pos) ?? layout.item.decode(buf.subarray(start, r.pos), undefined, undefined, 1));
    } else {
      r.skip();
      other.push(buf.subarray(at, r.pos));
    }
  }
  // The other fields (device id, role, unknown fields, ...) are a request of their own.
  const req = other.length === 0 ? new layout.request() : layout.request.decode(other.length === 1 ? (other[0] as Uint8Array) : Buffer.concat(other));
  if (items.length > 0) layout.store(req, items);
  return req;
}

/** Decodes a request as protobufjs does, its register cells by hand (throws on a malformed one, with protobufjs' message). */
export function decodeExactly<R, I>(buf: Uint8Array, layout: RequestLayout<R, I>): R {
  try {
    return decodeByHand(buf, layout);
  } catch {
    // Malformed somewhere, or an encoding only protobufjs walks (a group, a varint past ten bytes).
    return layout.request.decode(buf);
  }
}
