/**
 * Packet metadata by name, compiled once per controller header: field order, ids, widths and
 * ranges are laid out when a header is first used, so encoding a PacketOut and decoding a
 * PacketIn are straight loops with no name look-ups and no message strings — those are built
 * only when a value is refused. Values up to 64 bits convert without strings or BigInt shifts.
 */
import { P4RuntimeError } from '../errors.js';
import { bigintToBytes, decodeBits, decodeBitsChecked, encodeBits, parseValue } from '../codec/index.js';
import type { ValueInput } from '../codec/index.js';
import type { p4 } from '../proto/index.js';
import { I32, I64, LEN, VARINT, WireWriter, tag } from '../proto/wire.js';
import type { ControllerHeaderInfo } from '../schema/index.js';

interface Field {
  readonly id: number;
  readonly name: string;
  readonly bits: number;
  /** Largest value, as a bigint and (when exact) as a number. */
  readonly max: bigint;
  readonly maxNumber: number;
  readonly padding: boolean;
}

interface Layout {
  readonly header: ControllerHeaderInfo;
  readonly fields: readonly Field[];
  /** Field by metadata id (ids are small in practice; a Map holds the rest). */
  readonly byId: Map<number, Field>;
}

const layouts = new WeakMap<ControllerHeaderInfo, Layout>();

function layoutOf(header: ControllerHeaderInfo): Layout {
  let l = layouts.get(header);
  if (!l) {
    const fields = header.metadata.map((f) => {
      const max = (1n << BigInt(f.bitwidth)) - 1n;
      return { id: f.id, name: f.name, bits: f.bitwidth, max, maxNumber: f.bitwidth <= 53 ? Number(max) : Number.MAX_SAFE_INTEGER, padding: f.name.startsWith('_') || f.annotations.some((a) => a.name === 'padding') };
    });
    l = { header, fields, byId: new Map(fields.map((f) => [f.id, f])) };
    layouts.set(header, l);
  }
  return l;
}

const TWO32 = 0x1_0000_0000;

/** Canonical bytes of a safe non-negative integer (no bigint work at all). */
function numberBytes(n: number): Uint8Array {
  if (n < TWO32) {
    const len = n < 0x100 ? 1 : n < 0x1_0000 ? 2 : n < 0x100_0000 ? 3 : 4;
    const out = Buffer.allocUnsafe(len);
    for (let i = len - 1, v = n; i >= 0; i--, v >>>= 8) out[i] = v & 0xff;
    return out;
  }
  const hi = Math.floor(n / TWO32);
  const len = 4 + (hi < 0x100 ? 1 : hi < 0x1_0000 ? 2 : 3);
  const out = Buffer.allocUnsafe(len);
  out.writeUInt32BE(n >>> 0, len - 4);
  for (let i = len - 5, v = hi; i >= 0; i--, v >>>= 8) out[i] = v & 0xff;
  return out;
}

/** Canonical bytes of a bigint that fits 64 bits, through one 64-bit store. */
function bigint64Bytes(v: bigint): Uint8Array {
  if (v <= 0x1f_ffff_ffff_ffffn) return numberBytes(Number(v));
  const full = Buffer.allocUnsafe(8);
  full.writeBigUInt64BE(v);
  let i = 0;
  while (full[i] === 0) i++;
  return i === 0 ? full : full.subarray(i);
}

/** Encodes packet metadata by name for a controller header: every field, in header order. */
export function encodeMetadata(header: ControllerHeaderInfo, md: Readonly<Record<string, ValueInput>>): p4.v1.PacketMetadata.$Properties[] {
  const { fields } = layoutOf(header);
  const out = new Array<p4.v1.PacketMetadata.$Properties>(fields.length);
  let given = 0;
  for (let n = 0; n < fields.length; n++) {
    const f = fields[n] as Field;
    const v = md[f.name];
    let value: Uint8Array;
    if (typeof v === 'bigint' && v >= 0n && v <= f.max && f.bits <= 64) value = bigint64Bytes(v);
    else if (typeof v === 'number' && v >= 0 && v <= f.maxNumber && Number.isInteger(v)) value = numberBytes(v);
    else value = slowValue(header, f, v, md);
    if (v !== undefined) given++;
    out[n] = { metadataId: f.id, value };
  }
  // A name the header does not have is a caller's mistake: find it, and let the schema say "did you mean".
  let keys = 0;
  for (const k in md) if (Object.prototype.hasOwnProperty.call(md, k)) keys++;
  if (keys !== given) for (const k of Object.keys(md)) header.metadataField(k);
  return out;
}

/**
 * Field numbers of p4runtime.proto: StreamMessageRequest (packet 2), PacketOut (payload 1,
 * metadata 2), PacketMetadata (metadata_id 1, value 2). Written in the order protobufjs writes
 * them, zero id and empty bytes left out as it does.
 */
const PO = { packet: 2, payload: 1, metadata: 2, id: 1, value: 2 } as const;

/** One writer for every PacketOut: each message is sent (copied into the gRPC frame) before the next is written. */
const packetWriter = new WireWriter();

/**
 * A StreamMessageRequest holding a PacketOut, written straight to the wire: the same message as
 * `{ packet: { payload, metadata: encodeMetadata(header, md) } }` encoded by protobufjs, without
 * a PacketMetadata object and a Buffer per field. Values are checked (and errors worded) exactly
 * as `encodeMetadata` does; `header` may be undefined only when `md` is empty.
 */
export function encodePacketOut(header: ControllerHeaderInfo | undefined, payload: Uint8Array, md: Readonly<Record<string, ValueInput>>): Uint8Array {
  const w = packetWriter;
  w.reset();
  const packet = w.open(PO.packet);
  if (payload.length > 0) w.lenBytes(PO.payload, payload);
  if (header) {
    const { fields } = layoutOf(header);
    let given = 0;
    for (let n = 0; n < fields.length; n++) {
      const f = fields[n] as Field;
      const v = md[f.name];
      const m = w.open(PO.metadata);
      if (f.id !== 0) {
        w.varint(tag(PO.id, VARINT));
        w.varint(f.id);
      }
      if (typeof v === 'number' && v >= 0 && v <= f.maxNumber && Number.isInteger(v)) w.canonical(PO.value, v);
      else if (typeof v === 'bigint' && v >= 0n && v <= f.max && f.bits <= 64) {
        if (v <= 0x1f_ffff_ffff_ffffn) w.canonical(PO.value, Number(v));
        else w.lenBytes(PO.value, bigint64Bytes(v));
      } else w.lenBytes(PO.value, slowValue(header, f, v, md));
      if (v !== undefined) given++;
      w.close(m);
    }
    let keys = 0;
    for (const k in md) if (Object.prototype.hasOwnProperty.call(md, k)) keys++;
    if (keys !== given) for (const k of Object.keys(md)) header.metadataField(k);
  } else {
    for (const k in md) if (Object.prototype.hasOwnProperty.call(md, k)) throw new P4RuntimeError('FAILED_PRECONDITION', 'packetOut with metadata needs a P4Info: call ensurePipeline(), bindSchema() or fetchSchema() first');
  }
  w.close(packet);
  return w.finish();
}

/** A value the fast paths did not take: missing, a string, too wide or negative — checked with full messages. */
function slowValue(header: ControllerHeaderInfo, f: Field, v: ValueInput | undefined, md: Readonly<Record<string, ValueInput>>): Uint8Array {
  const what = `packet metadata '${f.name}' of '${header.name}'`;
  if (v === undefined) {
    // A misspelt name explains a missing field better than "missing" does: report it first.
    for (const k of Object.keys(md)) header.metadataField(k);
    // Targets parse the header whole: padding fields (`_name` or @padding) default to 0, others must be given.
    if (!f.padding) {
      throw new P4RuntimeError('VALUE_RANGE', `${what} is missing; give a value for every field of '${header.name}' (${header.metadata.map((m) => m.name).join(', ')}); padding fields default to 0`);
    }
    return bigintToBytes(0n);
  }
  return encodeBits(parseValue(v, f.bits, what), f.bits, what);
}

/** Decodes packet metadata by name; ids the header does not declare are kept under `#<id>`. */
export function decodeMetadata(header: ControllerHeaderInfo | undefined, md: readonly p4.v1.PacketMetadata.$Properties[] | null | undefined): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (!md) return out;
  const byId = header ? layoutOf(header).byId : undefined;
  for (const m of md) {
    const id = m.metadataId ?? 0;
    const f = byId?.get(id);
    const bytes = m.value ?? EMPTY;
    if (!f) {
      out[`#${id}`] = decodeBits(bytes);
      continue;
    }
    const v = bytes.length > 0 && bytes.length <= 8 ? bytesUpTo64(bytes) : undefined;
    out[f.name] = v !== undefined && v <= f.max ? v : decodeBitsChecked(bytes, f.bits, `packet metadata '${f.name}'`);
  }
  return out;
}

const EMPTY = new Uint8Array(0);

/** An unsigned value of `b[at, at + len)`, 1..8 big-endian bytes, with number arithmetic up to 6 bytes. */
function bytesUpTo64(b: Uint8Array, at = 0, len = b.length): bigint {
  if (len <= 6) {
    let n = 0;
    for (let i = at; i < at + len; i++) n = n * 256 + (b[i] as number);
    return BigInt(n);
  }
  let hi = 0;
  const end = at + len;
  for (let i = at; i < end - 4; i++) hi = hi * 256 + (b[i] as number);
  const lo = (((b[end - 4] as number) << 24) >>> 0) + ((b[end - 3] as number) << 16) + ((b[end - 2] as number) << 8) + (b[end - 1] as number);
  // Below 2^53 one double holds it exactly; above, one shift and one OR.
  return hi < 0x20_0000 ? BigInt(hi * TWO32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** A PacketIn decoded by name: its payload (a view of the buffer) and its metadata. */
export interface DecodedPacketIn {
  readonly payload: Uint8Array;
  readonly metadata: Record<string, bigint>;
}

/** Where `varint` left off (one decoder runs at a time: decoding never yields). */
let pos = 0;

function varint(b: Uint8Array, end: number): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    if (pos >= end) throw new RangeError('truncated varint');
    const x = b[pos++] as number;
    result += (x & 0x7f) * scale;
    if (x < 0x80) return result;
    scale *= 0x80;
    if (scale > 2 ** 63) throw new RangeError('varint longer than 10 bytes');
  }
}

/** Moves past a field of wire type `wt` (the tag read); returns where a length-delimited body starts. */
function skipField(b: Uint8Array, wt: number, end: number): number {
  if (wt === VARINT) varint(b, end);
  else if (wt === LEN) {
    const len = varint(b, end);
    const start = pos;
    pos += len;
    if (pos > end) throw new RangeError('truncated length-delimited field');
    return start;
  } else if (wt === I64) pos += 8;
  else if (wt === I32) pos += 4;
  else throw new RangeError(`unsupported wire type ${wt}`);
  if (pos > end) throw new RangeError('truncated field');
  return pos;
}

/**
 * Decodes the PacketIn message in `b[start, end)` straight from the wire: what
 * `decodeMetadata(header, p4.v1.PacketIn.decode(…).metadata)` gives (the same values, the same
 * errors), without a protobuf object and a buffer view per metadata field.
 */
export function decodePacketIn(header: ControllerHeaderInfo | undefined, b: Uint8Array, start: number, end: number): DecodedPacketIn {
  const metadata: Record<string, bigint> = {};
  const byId = header ? layoutOf(header).byId : undefined;
  let payload: Uint8Array = EMPTY;
  pos = start;
  while (pos < end) {
    const t = varint(b, end);
    const field = Math.floor(t / 8);
    const wt = t & 7;
    const body = skipField(b, wt, end);
    if (wt !== LEN || (field !== 1 && field !== 2)) continue;
    const bodyEnd = pos;
    if (field === 1) {
      payload = b.subarray(body, bodyEnd);
      continue;
    }
    // PacketMetadata: metadata_id 1 (varint), value 2 (bytes); the last of a repeated field wins.
    let id = 0;
    let vStart = 0;
    let vEnd = 0;
    pos = body;
    while (pos < bodyEnd) {
      const mt = varint(b, bodyEnd);
      const mf = Math.floor(mt / 8);
      const mw = mt & 7;
      if (mf === 1 && mw === VARINT) id = varint(b, bodyEnd) >>> 0;
      else if (mf === 2 && mw === LEN) {
        vStart = skipField(b, mw, bodyEnd);
        vEnd = pos;
      } else skipField(b, mw, bodyEnd);
    }
    pos = bodyEnd;
    const f = byId?.get(id);
    const len = vEnd - vStart;
    if (!f) {
      metadata[`#${id}`] = decodeBits(b.subarray(vStart, vEnd));
      continue;
    }
    const v = len > 0 && len <= 8 ? bytesUpTo64(b, vStart, len) : undefined;
    metadata[f.name] = v !== undefined && v <= f.max ? v : decodeBitsChecked(b.subarray(vStart, vEnd), f.bits, `packet metadata '${f.name}'`);
  }
  return { payload, metadata };
}
