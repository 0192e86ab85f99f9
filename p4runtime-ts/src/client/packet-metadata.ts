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

/** An unsigned value of 1..8 big-endian bytes, with number arithmetic up to 6 bytes. */
function bytesUpTo64(b: Uint8Array): bigint {
  const len = b.length;
  if (len <= 6) {
    let n = 0;
    for (let i = 0; i < len; i++) n = n * 256 + (b[i] as number);
    return BigInt(n);
  }
  let hi = 0;
  for (let i = 0; i < len - 4; i++) hi = hi * 256 + (b[i] as number);
  const lo = (((b[len - 4] as number) << 24) >>> 0) + ((b[len - 3] as number) << 16) + ((b[len - 2] as number) << 8) + (b[len - 1] as number);
  // Below 2^53 one double holds it exactly; above, one shift and one OR.
  return hi < 0x20_0000 ? BigInt(hi * TWO32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}
