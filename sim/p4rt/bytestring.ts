/**
 * P4Runtime bytestrings (spec §8.3) on the server side: big-endian unsigned integers of any
 * width as native `bigint`, the canonical (shortest) form the server always answers with, and the
 * checks a server applies to what clients send.
 */

import { bigintToBytes, decodeBits } from 'p4runtime-ts';

/** True when `bytes` is already the shortest form of its value (a lone 0x00 for zero). */
export { isCanonical } from 'p4runtime-ts';

/** The unsigned big-endian integer a bytestring encodes (p4runtime-ts's decoder: one codec for both ends). */
export const bytesToBigInt: (bytes: Uint8Array) => bigint = decodeBits;

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
  // A plain Uint8Array view of p4runtime-ts's bytes (which may be a pooled Buffer): what the sim's messages carry.
  const b = bigintToBytes(v);
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
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
