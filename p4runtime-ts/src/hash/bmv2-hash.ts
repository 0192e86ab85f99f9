/**
 * v1model `hash(out result, algo, base, data, max)` as BMv2 computes it: the algorithm runs over
 * the data fields concatenated big-endian in list order, and the result is `base + (h mod max)`,
 * truncated to the width of `result`. Only whole-byte fields are accepted: the lab measured
 * byte-aligned field lists only (2026-11-24 facts report), so packing of partial bytes is unknown.
 */
import { crc16 } from './crc16.js';
import { crc32 } from './crc32.js';
import { csum16 } from './csum16.js';

/** The `HashAlgorithm` members this module reproduces bit for bit. */
export const HASH_ALGORITHMS = ['crc32', 'crc16', 'csum16'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** One field of a hash input list: its value and its width in bits (a multiple of 8). */
export interface HashField {
  readonly value: number | bigint;
  readonly bits: number;
}

/** True when `name` is an algorithm this module implements. */
export function isHashAlgorithm(name: string): name is HashAlgorithm {
  return (HASH_ALGORITHMS as readonly string[]).includes(name);
}

/** Checks and narrows an algorithm name, naming the accepted ones when it is not one. */
export function parseHashAlgorithm(name: string): HashAlgorithm {
  if (!isHashAlgorithm(name)) {
    throw new Error(`hash algorithm '${name}' is not supported; expected one of ${HASH_ALGORITHMS.join(', ')}`);
  }
  return name;
}

/** Total byte length of a field list, validating each width. */
function byteLength(fields: readonly HashField[]): number {
  let bits = 0;
  for (const [i, f] of fields.entries()) {
    if (!Number.isInteger(f.bits) || f.bits <= 0 || f.bits % 8 !== 0) {
      throw new Error(
        `hash field ${i} is ${f.bits} bits wide; expected a positive multiple of 8 ` +
          '(only byte-aligned hash inputs match BMv2 as measured — pad the field list to whole bytes)',
      );
    }
    bits += f.bits;
  }
  return bits / 8;
}

/** Writes `value` big-endian into `out[offset, offset + bytes)`, rejecting values that do not fit. */
function writeField(out: Uint8Array, offset: number, bytes: number, value: number | bigint, index: number): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0 || (bytes < 7 && value >= 2 ** (8 * bytes))) {
      throw new Error(`hash field ${index} value ${value} does not fit ${bytes * 8} unsigned bits`);
    }
    if (bytes <= 6) {
      let v = value;
      for (let b = bytes - 1; b >= 0; b--) {
        out[offset + b] = v % 256;
        v = Math.floor(v / 256);
      }
      return;
    }
    value = BigInt(value);
  }
  if (value < 0n || value >= 1n << BigInt(8 * bytes)) {
    throw new Error(`hash field ${index} value ${value} does not fit ${bytes * 8} unsigned bits`);
  }
  let v = value;
  for (let b = bytes - 1; b >= 0; b--) {
    out[offset + b] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Concatenates fields big-endian in list order, as BMv2 feeds them to the hash. */
export function concatFields(fields: readonly HashField[]): Uint8Array {
  const out = new Uint8Array(byteLength(fields));
  let offset = 0;
  for (const [i, f] of fields.entries()) {
    const bytes = f.bits / 8;
    writeField(out, offset, bytes, f.value, i);
    offset += bytes;
  }
  return out;
}

/** The raw algorithm output over `bytes` (before base and max). */
export function hashBytes(algo: HashAlgorithm, bytes: Uint8Array): number {
  switch (algo) {
    case 'crc32':
      return crc32(bytes);
    case 'crc16':
      return crc16(bytes);
    case 'csum16':
      return csum16(bytes);
  }
}

/** `base + (h mod max)` truncated to `outBits`, the way BMv2 finishes a hash() call. */
export function applyBaseAndMax(h: number, base: number, max: number | bigint, outBits?: number): number {
  if (!Number.isSafeInteger(base) || base < 0) {
    throw new Error(`hash base ${base} is not a non-negative safe integer`);
  }
  let reduced: number;
  if (typeof max === 'bigint') {
    if (max <= 0n) throw new Error(`hash max ${max} must be positive (BMv2 divides by it)`);
    reduced = BigInt(h) < max ? h : Number(BigInt(h) % max);
  } else {
    if (!Number.isSafeInteger(max) || max <= 0) throw new Error(`hash max ${max} must be positive and a safe integer (BMv2 divides by it)`);
    reduced = h % max;
  }
  const result = base + reduced;
  if (outBits === undefined) return result;
  if (!Number.isInteger(outBits) || outBits <= 0 || outBits > 52) {
    throw new Error(`hash output width ${outBits} must be an integer in 1..52 bits`);
  }
  return result % 2 ** outBits;
}

/** v1model hash(): `algo` over the big-endian concatenation of `fields`, then base + (h mod max). */
export function bmv2Hash(
  algo: HashAlgorithm,
  base: number,
  fields: readonly HashField[],
  max: number | bigint,
  outBits?: number,
): number {
  return applyBaseAndMax(hashBytes(algo, concatFields(fields)), base, max, outBits);
}
