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
import { p4 } from 'p4runtime-ts/proto';

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** A cursor over one buffer; every read checks the end it was given. */
class Cursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint as a number; exact to 2^53, larger values come back above MAX_SAFE_INTEGER. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
      if (scale > 2 ** 63) throw new RangeError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
  }

  /** The length of a length-delimited field, checked against the end; the cursor stays at its body. */
  length(): number {
    const len = this.varint();
    if (this.pos + len > this.end) throw new RangeError(`length-delimited field of ${len} bytes runs past the end of its message (byte ${this.pos})`);
    return len;
  }

  /** Skips a value of `wireType`. */
  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === LEN) {
      const len = this.length();
      this.pos += len;
    }
    else if (wireType === I64 || wireType === I32) {
      this.pos += wireType === I64 ? 8 : 4;
      if (this.pos > this.end) throw new RangeError('truncated fixed-width field');
    } else throw new RangeError(`wire type ${wireType} is not one this message uses`);
  }
}

/** The body [start, end) of the only field `field` (LEN) of the message at [at, end), or undefined when it has anything else. */
function onlyLen(buf: Uint8Array, at: number, end: number, field: number): [number, number] | undefined {
  const c = new Cursor(buf, at, end);
  if (c.pos >= end) return undefined;
  const t = c.varint();
  if (t !== field * 8 + LEN) return undefined;
  const len = c.length();
  if (c.pos + len !== end) return undefined;
  return [c.pos, c.pos + len];
}

/** A register-cell MODIFY as a plain Update, or undefined when the update needs the general decoder. */
function registerUpdate(buf: Uint8Array, start: number, end: number): p4.v1.Update.$Properties | undefined {
  const c = new Cursor(buf, start, end);
  let type = 0;
  let entity: [number, number] | undefined;
  while (c.pos < end) {
    const t = c.varint();
    if (t === 1 * 8 + VARINT) type = c.varint();
    else if (t === 2 * 8 + LEN && entity === undefined) {
      const len = c.length();
      entity = [c.pos, c.pos + len];
      c.pos += len;
    } else return undefined;
  }
  if (!entity || type > 3) return undefined;
  const re = onlyLen(buf, entity[0], entity[1], 11);
  if (!re) return undefined;
  const r = new Cursor(buf, re[0], re[1]);
  let registerId = 0;
  let index: number | undefined;
  let bitstring: Uint8Array | undefined;
  while (r.pos < re[1]) {
    const t = r.varint();
    if (t === 1 * 8 + VARINT) registerId = r.varint();
    else if (t === 2 * 8 + LEN && index === undefined) {
      const len = r.length();
      const stop = r.pos + len;
      index = 0;
      const ix = new Cursor(buf, r.pos, stop);
      while (ix.pos < stop) {
        if (ix.varint() !== 1 * 8 + VARINT) return undefined;
        index = ix.varint();
      }
      // A negative or huge int64 index: the general decoder keeps its exact value for the error.
      if (index > Number.MAX_SAFE_INTEGER) return undefined;
      r.pos = stop;
    } else if (t === 3 * 8 + LEN && bitstring === undefined) {
      const len = r.length();
      const data = onlyLen(buf, r.pos, r.pos + len, 1);
      if (!data) return undefined;
      bitstring = buf.subarray(data[0], data[1]);
      r.pos += len;
    } else return undefined;
  }
  if (index === undefined || bitstring === undefined || registerId > 0xffff_ffff) return undefined;
  return { type, entity: { entity: 'registerEntry', registerEntry: { registerId, index: { index }, data: { bitstring } } } as p4.v1.Entity.$Properties };
}

/** Decodes a WriteRequest (throws on a malformed one, as protobufjs does). */
export function decodeWriteRequest(buf: Uint8Array): p4.v1.WriteRequest {
  const c = new Cursor(buf, 0, buf.length);
  const updates: p4.v1.Update.$Properties[] = [];
  const other: Uint8Array[] = [];
  while (c.pos < buf.length) {
    const at = c.pos;
    const t = c.varint();
    if (t === 4 * 8 + LEN) {
      const len = c.length();
      updates.push(registerUpdate(buf, c.pos, c.pos + len) ?? p4.v1.Update.decode(buf.subarray(c.pos, c.pos + len)));
      c.pos += len;
    } else {
      c.skip(t & 7);
      other.push(buf.subarray(at, c.pos));
    }
  }
  // The other fields (device, election id, role, atomicity) are a WriteRequest of their own.
  const req = p4.v1.WriteRequest.decode(other.length === 1 ? (other[0] as Uint8Array) : Buffer.concat(other));
  (req as { updates: p4.v1.Update.$Properties[] }).updates = updates;
  return req;
}
