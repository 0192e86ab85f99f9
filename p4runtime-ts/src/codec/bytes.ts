/**
 * Canonical P4Runtime bytestrings for unsigned `bit<W>` values (P4Runtime spec §8.3 "Bytestrings"):
 * big-endian, the shortest string that holds the value, and zero is the single byte 0x00. Receivers
 * accept any length as long as the value fits the width after dropping leading zero bits.
 */
import { P4RuntimeError } from '../errors.js';

/** Throws unless `bitwidth` is a positive integer (a zero or fractional width is a schema bug). */
export function checkBitwidth(bitwidth: number, what: string): void {
  if (!Number.isInteger(bitwidth) || bitwidth <= 0) {
    throw new P4RuntimeError('VALUE_RANGE', `${what}: bit width must be a positive integer, got ${bitwidth}`);
  }
}

/** Formats a value for error messages: decimal plus hex, so both readings are at hand. */
export function showValue(value: bigint): string {
  return value < 0n ? `${value}` : `${value} (0x${value.toString(16)})`;
}

/** Eight bytes for 64-bit values on their way to and from bytestrings (one thread: never shared across an await). */
const SCRATCH_BYTES = new Uint8Array(8);
const SCRATCH = new DataView(SCRATCH_BYTES.buffer);

/** The shortest big-endian bytes of a non-negative bigint; zero is one 0x00 byte (§8.3). */
export function bigintToBytes(value: bigint): Uint8Array {
  if (value === 0n) return Uint8Array.of(0);
  // Most fields (ports, addresses, indexes) fit 32 bits: plain number arithmetic, no strings.
  if (value < 0x1_0000_0000n) return numberToBytes(Number(value));
  // Up to 64 bits (register cells, 64-bit keys): the DataView writes the bytes, no BigInt
  // arithmetic (splitting into 32-bit halves cost 4x as much) and no strings.
  if (value <= 0xffff_ffff_ffff_ffffn) {
    SCRATCH.setBigUint64(0, value);
    let k = 0;
    while (SCRATCH_BYTES[k] === 0) k++;
    const out = Buffer.allocUnsafe(8 - k);
    for (let i = k; i < 8; i++) out[i - k] = SCRATCH_BYTES[i] as number;
    return out;
  }
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The shortest big-endian bytes of a non-negative safe integer; zero is one 0x00 byte (§8.3). */
export function numberToBytes(n: number): Uint8Array {
  let len = 1;
  while (len < 7 && n >= 2 ** (8 * len)) len++;
  // A slice of Node's shared pool: no ArrayBuffer per value, far less work for the GC.
  const out = Buffer.allocUnsafe(len);
  if (n < 0x1_0000_0000) for (let i = len - 1, v = n; i >= 0; i--, v >>>= 8) out[i] = v & 0xff;
  else for (let i = len - 1, v = n; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
  return out;
}

/**
 * Encodes an unsigned value of type `bit<W>` as its canonical bytestring (spec §8.3).
 * @throws P4RuntimeError VALUE_RANGE naming `what`, the width and the value when it does not fit.
 * @example encodeBits(0x3064n, 16, 'port') // Uint8Array [0x30, 0x64]
 */
export function encodeBits(value: bigint, bitwidth: number, what: string): Uint8Array {
  checkBitwidth(bitwidth, what);
  if (value < 0n || value >= 1n << BigInt(bitwidth)) {
    throw new P4RuntimeError(
      'VALUE_RANGE',
      `${what}: value ${showValue(value)} does not fit bit<${bitwidth}> (expected 0 .. ${(1n << BigInt(bitwidth)) - 1n})`,
    );
  }
  return bigintToBytes(value);
}

/** Decodes a big-endian bytestring as an unsigned bigint (any length; empty decodes as 0). */
export function decodeBits(bytes: Uint8Array): bigint {
  return decodeBitsAt(bytes, 0, bytes.length);
}

/** The unsigned big-endian value of buf[start, end), as decodeBits: a read answer's cells decode in place. */
export function decodeBitsAt(buf: Uint8Array, start: number, end: number): bigint {
  const len = end - start;
  if (len <= 6) {
    // Up to 48 bits is exact in a double: no string round trip.
    let n = 0;
    for (let i = start; i < end; i++) n = n * 256 + (buf[i] as number);
    return BigInt(n);
  }
  if (len <= 8) {
    // 64-bit values (most register cells): one BigInt from the DataView, no hex string.
    SCRATCH.setBigUint64(0, 0n);
    for (let k = 0; k < len; k++) SCRATCH.setUint8(8 - len + k, buf[start + k] as number);
    return SCRATCH.getBigUint64(0);
  }
  // Hex through one BigInt() call: far fewer bigint operations than shifting byte by byte.
  let hex = '0x';
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    hex += b < 16 ? `0${b.toString(16)}` : b.toString(16);
  }
  return BigInt(hex);
}

/** True when `bytes` is the canonical form of its value: non-empty, no redundant leading 0x00 (§8.3). */
export function isCanonical(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  return bytes.length === 1 || bytes[0] !== 0;
}

/**
 * True when an unsigned bytestring's value fits `bit<W>` (§8.3: receivers accept padded strings;
 * only the value counts). The empty string never fits: the spec says servers reject it.
 */
export function fitsWidth(bytes: Uint8Array, bitwidth: number): boolean {
  if (bytes.length === 0) return false;
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const first = bytes[i] ?? 0;
  const bits = (bytes.length - i - 1) * 8 + (first === 0 ? 0 : 32 - Math.clz32(first));
  return bits <= bitwidth;
}

/** The canonical form of an unsigned bytestring: leading 0x00 bytes dropped, zero kept as 0x00. */
export function canonicalize(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return Uint8Array.of(0);
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return i === 0 ? bytes : bytes.slice(i);
}

/**
 * Decodes an unsigned bytestring received for a `bit<W>` field, checking it fits (§8.3).
 * @throws P4RuntimeError VALUE_RANGE naming `what` when the string is empty or too wide.
 */
export function decodeBitsChecked(bytes: Uint8Array, bitwidth: number, what: string): bigint {
  if (!fitsWidth(bytes, bitwidth)) {
    const shown = bytes.length === 0 ? 'an empty bytestring' : `0x${Buffer.from(bytes).toString('hex')}`;
    throw new P4RuntimeError('VALUE_RANGE', `${what}: ${shown} does not fit bit<${bitwidth}>`);
  }
  return decodeBits(bytes);
}
