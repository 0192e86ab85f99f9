/**
 * Register-cell MODIFYs encoded straight to the wire (P4Runtime 1.4 §9.6; p4runtime.proto:
 * WriteRequest.updates = 4; Update.type = 1, entity = 2; Entity.register_entry = 11;
 * RegisterEntry register_id = 1, index = 2, data = 3; Index.index = 1; P4Data.bitstring = 1).
 * A migration's final slots are hundreds of cell writes in one Write: through protobufjs each
 * builds a tree of objects and a Long, and the encoding cost more than the switch's work. The
 * common case — an unsigned bit<W> cell, a number or bigint value in range, an index in range —
 * is written here; anything else (and every error) goes through the general codec. The bytes
 * decode to the same Update the general codec builds (tests hold them to it).
 */
import { bigintToBytes } from '../codec/bytes.js';
import type { ValueInput } from '../codec/index.js';
import { p4 } from '../proto/index.js';
import { VARINT, WireWriter, tag } from '../proto/wire.js';
import type { RegisterInfo } from '../schema/index.js';
import { EncodedUpdate } from './encoded-update.js';

const writer = new WireWriter();
const MODIFY = p4.v1.Update.Type.MODIFY;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** A MODIFY of `reg[index] = value` as an EncodedUpdate, or undefined when it needs the general codec. */
export function encodeRegisterModify(reg: RegisterInfo, index: number | bigint, value: ValueInput): EncodedUpdate | undefined {
  if (reg.signed || !(reg.bitwidth > 0)) return undefined;
  let i: number;
  if (typeof index === 'number') {
    if (!Number.isSafeInteger(index) || index < 0 || index >= reg.size) return undefined;
    i = index;
  } else if (typeof index === 'bigint') {
    if (index < 0n || index >= BigInt(reg.size)) return undefined;
    i = Number(index);
  } else return undefined;
  let big: bigint | undefined;
  let num = 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0 || (reg.bitwidth < 53 && value >= 2 ** reg.bitwidth)) return undefined;
    num = value;
  } else if (typeof value === 'bigint') {
    if (value < 0n || value >> BigInt(reg.bitwidth) !== 0n) return undefined;
    if (value <= MAX_SAFE_BIG) num = Number(value);
    else big = value;
  } else return undefined;

  const w = writer;
  w.reset();
  const framed = w.open(4);
  w.varint(tag(1, VARINT));
  w.varint(MODIFY);
  const entity = w.open(2);
  const re = w.open(11);
  if (reg.id !== 0) {
    w.varint(tag(1, VARINT));
    w.varint(reg.id);
  }
  const ix = w.open(2);
  w.varint(tag(1, VARINT));
  w.varint(i);
  w.close(ix);
  const data = w.open(3);
  if (big === undefined) w.canonical(1, num);
  else w.lenBytes(1, bigintToBytes(big));
  w.close(data);
  w.close(re);
  w.close(entity);
  w.close(framed);
  const end = w.offset;
  return new EncodedUpdate(MODIFY, w.slab, w.seal(), end);
}
