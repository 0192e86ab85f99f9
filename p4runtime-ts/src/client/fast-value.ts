/**
 * The fast path of the table encoder (table-encoder.ts) for one value: numbers, bigints, dotted
 * IPv4 and MAC text written as canonical bytestrings (P4Runtime §8.3: no redundant leading zero
 * bytes) against limits worked out once per field; anything else goes back to the general codec.
 */
import { bigintToBytes } from '../codec/bytes.js';
import { parseValue } from '../codec/addr.js';
import type { ValueInput } from '../codec/index.js';
import type { WireWriter } from '../proto/wire.js';

/** A bit<W> value's limits and its description, made once. */
export interface ValuePlan {
  readonly id: number;
  readonly width: number;
  /** 2^W when that is a safe integer bound, else MAX_SAFE_INTEGER + 1. */
  readonly maxNum: number;
  readonly maxBig: bigint;
  readonly what: string;
}

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const NOT_FAST = -1;

/** The plan of a bit<`width`> value with id `id`, described as `what` in errors. */
export function valuePlan(id: number, width: number, what: string): ValuePlan {
  const maxBig = width > 0 ? (1n << BigInt(width)) - 1n : -1n;
  // A width of 0 (a translated type) has no value the fast path may write: maxNum 0, maxBig -1.
  return { id, width, maxNum: width <= 0 ? 0 : width <= 53 ? 2 ** width : Number.MAX_SAFE_INTEGER + 1, maxBig, what };
}

/** Dotted-quad IPv4 without spaces or leading zeros, as parseValue reads it; NOT_FAST otherwise. */
function fastIPv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return NOT_FAST;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return NOT_FAST;
      value = value * 256 + part;
      if (i < n) dots++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return NOT_FAST; // leading zero: refused (octal ambiguity)
      part = part * 10 + (c - 48);
      if (++digits > 3) return NOT_FAST;
    } else return NOT_FAST;
  }
  return dots === 3 ? value : NOT_FAST;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return NOT_FAST;
}

/** `aa:bb:cc:dd:ee:ff` (or with `-`, one separator throughout) as a number; NOT_FAST otherwise. */
function fastMac(s: string): number {
  if (s.length !== 17) return NOT_FAST;
  const sep = s.charCodeAt(2);
  if (sep !== 58 && sep !== 45) return NOT_FAST;
  let value = 0;
  for (let i = 0; i < 17; i += 3) {
    const hi = hexDigit(s.charCodeAt(i));
    const lo = hexDigit(s.charCodeAt(i + 1));
    if (hi < 0 || lo < 0 || (i < 15 && s.charCodeAt(i + 2) !== sep)) return NOT_FAST;
    value = value * 256 + hi * 16 + lo;
  }
  return value;
}

/** Writes `v` as the canonical bytestring field `field`; false when the value needs the general path. */
export function writeValue(w: WireWriter, field: number, v: ValueInput | null | undefined, p: ValuePlan): boolean {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0 || v >= p.maxNum) return false;
    w.canonical(field, v);
    return true;
  }
  if (typeof v === 'bigint') {
    if (v < 0n || v > p.maxBig) return false;
    if (v <= MAX_SAFE_BIG) w.canonical(field, Number(v));
    else w.lenBytes(field, bigintToBytes(v));
    return true;
  }
  if (typeof v !== 'string') return false;
  const n = p.width === 32 ? fastIPv4(v) : p.width === 48 ? fastMac(v) : NOT_FAST;
  if (n !== NOT_FAST) {
    w.canonical(field, n);
    return true;
  }
  let parsed: bigint;
  try {
    parsed = parseValue(v, p.width, p.what);
  } catch {
    return false;
  }
  return writeValue(w, field, parsed, p);
}
