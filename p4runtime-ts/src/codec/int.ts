/**
 * Signed `int<W>` values as P4Runtime bytestrings (P4Runtime spec §8.3 "Bytestrings"): two's
 * complement, big-endian; the canonical string has floor((A + 7) / 8) bytes where A is the fewest
 * bits with -2^(A-1) <= V <= 2^(A-1) - 1 (A = 1 for zero). Longer strings are sign-extended, and a
 * receiver checks the value fits int<W> after undoing that extension.
 */
import { P4RuntimeError } from '../errors.js';
import { checkBitwidth, decodeBits, showValue } from './bytes.js';

/** The fewest two's-complement bits that represent `value` (§8.3; zero needs one bit). */
export function signedBitLength(value: bigint): number {
  // For V >= 0 the top bit must be 0: bits(V) + 1; for V < 0, bits(~V) + 1 (~V = -V - 1).
  const magnitude = value < 0n ? -value - 1n : value;
  return magnitude === 0n ? 1 : magnitude.toString(2).length + 1;
}

/**
 * Encodes a signed value of type `int<W>` as its canonical two's-complement bytestring (spec §8.3).
 * @throws P4RuntimeError VALUE_RANGE naming `what`, the width and the value when it does not fit.
 * @example encodeInt(-99n, 8, 'delta') // Uint8Array [0x9d]
 */
export function encodeInt(value: bigint, bitwidth: number, what: string): Uint8Array {
  checkBitwidth(bitwidth, what);
  const half = 1n << BigInt(bitwidth - 1);
  if (value < -half || value >= half) {
    throw new P4RuntimeError(
      'VALUE_RANGE',
      `${what}: value ${showValue(value)} does not fit int<${bitwidth}> (expected ${-half} .. ${half - 1n})`,
    );
  }
  const nBytes = Math.floor((signedBitLength(value) + 7) / 8);
  let u = BigInt.asUintN(nBytes * 8, value);
  const out = new Uint8Array(nBytes);
  for (let i = nBytes - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

/**
 * Decodes a two's-complement bytestring received for an `int<W>` field: the string's first bit is
 * its sign (§8.3), and the value must fit int<W> once sign extension is undone.
 * @throws P4RuntimeError VALUE_RANGE naming `what` when the string is empty or the value too wide.
 */
export function decodeInt(bytes: Uint8Array, bitwidth: number, what = 'value'): bigint {
  checkBitwidth(bitwidth, what);
  if (bytes.length === 0) {
    throw new P4RuntimeError('VALUE_RANGE', `${what}: an empty bytestring is not a valid int<${bitwidth}>`);
  }
  const value = BigInt.asIntN(bytes.length * 8, decodeBits(bytes));
  if (signedBitLength(value) > bitwidth) {
    throw new P4RuntimeError(
      'VALUE_RANGE',
      `${what}: 0x${Buffer.from(bytes).toString('hex')} (${value}) does not fit int<${bitwidth}>`,
    );
  }
  return value;
}
