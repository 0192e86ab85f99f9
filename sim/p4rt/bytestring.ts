/**
 * P4Runtime bytestrings (spec §8.3) on the server side: big-endian unsigned integers of any
 * width as native `bigint`, the canonical (shortest) form the server always answers with, and the
 * checks a server applies to what clients send.
 */

const SCRATCH_BYTES = new Uint8Array(8);
const SCRATCH = new DataView(SCRATCH_BYTES.buffer);
const MAX_U64 = (1n << 64n) - 1n;

/** The unsigned big-endian integer a bytestring encodes. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length <= 6) {
    // Fits in a double exactly: avoid BigInt arithmetic per byte on the hot path.
    let n = 0;
    for (const b of bytes) n = n * 256 + b;
    return BigInt(n);
  }
  if (bytes.length <= 8) {
    // 64-bit cells: one BigInt made by the DataView, not one per byte.
    SCRATCH.setBigUint64(0, 0n);
    for (let i = 0; i < bytes.length; i++) SCRATCH.setUint8(8 - bytes.length + i, bytes[i] as number);
    return SCRATCH.getBigUint64(0);
  }
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** Number of significant bits of a non-negative value (0 for 0). */
export function bitLength(v: bigint): number {
  if (v < 0n) throw new RangeError(`bitLength: negative value ${v}`);
  if (v < 0x100000000n) return 32 - Math.clz32(Number(v));
  if (v < 0x20000000000000n) return 64 - Math.clz32(Math.floor(Number(v) / 0x100000000));
  return v.toString(2).length;
}

/** The canonical bytestring of a non-negative value: shortest big-endian form, zero is one 0x00 byte. */
export function canonicalBytes(v: bigint): Uint8Array {
  if (v < 0n) throw new RangeError(`canonicalBytes: negative value ${v}`);
  if (v < 256n) return Uint8Array.of(Number(v));
  if (v <= MAX_U64) {
    // Every 64-bit register cell of a read answer passes here: the DataView writes the bytes
    // without the BigInt per byte (two per shift) that the loop below allocates.
    SCRATCH.setBigUint64(0, v);
    let k = 0;
    while (SCRATCH_BYTES[k] === 0) k++;
    return SCRATCH_BYTES.slice(k);
  }
  const len = Math.ceil(bitLength(v) / 8);
  const out = new Uint8Array(len);
  let x = v;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** True when `bytes` is already the shortest form of its value (a lone 0x00 for zero). */
export function isCanonical(bytes: Uint8Array): boolean {
  return bytes.length === 1 || (bytes.length > 1 && bytes[0] !== 0);
}

/** Lower-case hex of a bytestring, e.g. `00 04` -> `0x0004`. */
export function toHex(bytes: Uint8Array): string {
  let s = '0x';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Mask of the low `width` bits. */
export function widthMask(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}
