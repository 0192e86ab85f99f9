/**
 * Address and number parsing for match keys and action parameters: IPv4, IPv6 (RFC 4291 text
 * forms, RFC 5952 output), MAC, and decimal / hex / binary numerals, all to and from `bigint`.
 * Which address forms a field accepts follows its width: 32 → IPv4, 48 → MAC, 128 → IPv6.
 */
import { P4RuntimeError } from '../errors.js';
import { checkBitwidth, showValue } from './bytes.js';

/** A value as callers write it: a bigint, a safe-integer number or a string (numeral or address). */
export type ValueInput = bigint | number | string;

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC_RE = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;

/** Parses dotted-quad IPv4 (`10.0.0.1`) to a 32-bit bigint; undefined when not IPv4 text. */
export function tryParseIPv4(text: string): bigint | undefined {
  const m = IPV4_RE.exec(text);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] ?? '';
    // Leading zeros are refused: some stacks read them as octal, so `010` is ambiguous.
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

/** Parses dotted-quad IPv4 to a 32-bit bigint; throws VALUE_RANGE on anything else. */
export function parseIPv4(text: string): bigint {
  const v = tryParseIPv4(text);
  if (v === undefined) throw new P4RuntimeError('VALUE_RANGE', `'${text}' is not an IPv4 address (expected a.b.c.d, each 0..255)`);
  return v;
}

/** Formats a 32-bit value as dotted-quad IPv4. */
export function formatIPv4(value: bigint): string {
  checkRange(value, 32, 'IPv4 address');
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
}

/** Parses IPv6 text (full, `::`-compressed, or with a trailing dotted IPv4) to a 128-bit bigint; undefined when not IPv6. */
export function tryParseIPv6(text: string): bigint | undefined {
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return undefined;
  let s = text;
  const tail: number[] = [];
  if (s.includes('.')) {
    // RFC 4291 §2.2 form 3: the last 32 bits may be written as dotted IPv4.
    const lastColon = s.lastIndexOf(':');
    const v4 = tryParseIPv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '');
  if (!head) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const rest = parseGroups(halves[1] ?? '');
    if (!rest) return undefined;
    rest.push(...tail);
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = [...head, ...tail];
    if (groups.length !== 8) return undefined;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

function parseGroups(part: string): number[] | undefined {
  if (part === '') return [];
  const groups: number[] = [];
  for (const g of part.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(Number.parseInt(g, 16));
  }
  return groups;
}

/** Parses IPv6 text to a 128-bit bigint; throws VALUE_RANGE on anything else. */
export function parseIPv6(text: string): bigint {
  const v = tryParseIPv6(text);
  if (v === undefined) throw new P4RuntimeError('VALUE_RANGE', `'${text}' is not an IPv6 address (expected e.g. 2001:db8::1)`);
  return v;
}

/** Formats a 128-bit value as IPv6 in RFC 5952 form: lowercase, longest zero run (≥ 2 groups) as `::`. */
export function formatIPv6(value: bigint): string {
  checkRange(value, 128, 'IPv6 address');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses a MAC address (`aa:bb:cc:dd:ee:ff` or with `-`) to a 48-bit bigint; undefined when not a MAC. */
export function tryParseMac(text: string): bigint | undefined {
  if (!MAC_RE.test(text)) return undefined;
  return BigInt(`0x${text.replace(/[:-]/g, '')}`);
}

/** Parses a MAC address to a 48-bit bigint; throws VALUE_RANGE on anything else. */
export function parseMac(text: string): bigint {
  const v = tryParseMac(text);
  if (v === undefined) throw new P4RuntimeError('VALUE_RANGE', `'${text}' is not a MAC address (expected aa:bb:cc:dd:ee:ff)`);
  return v;
}

/** Formats a 48-bit value as a lowercase colon-separated MAC address. */
export function formatMac(value: bigint): string {
  checkRange(value, 48, 'MAC address');
  return value.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** Parses a numeral: decimal, `0x` hex or `0b` binary (underscores not allowed); undefined otherwise. */
export function tryParseNumeral(text: string): bigint | undefined {
  const t = text.trim();
  if (/^-?\d+$/.test(t) || /^0x[0-9a-f]+$/i.test(t) || /^0b[01]+$/i.test(t)) return BigInt(t);
  return undefined;
}

/**
 * Parses a caller-written value for a `bit<W>` field and checks it fits. Accepts a bigint, a
 * safe-integer number, a numeral string, and — chosen by width — IPv4 (32), MAC (48), IPv6 (128).
 * @throws P4RuntimeError VALUE_RANGE naming `what`, the width and the value.
 * @example parseValue('10.0.0.1', 32, 'field dst') // 167772161n
 */
export function parseValue(input: ValueInput, bitwidth: number, what: string): bigint {
  checkBitwidth(bitwidth, what);
  let v: bigint;
  if (typeof input === 'bigint') v = input;
  else if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) {
      throw new P4RuntimeError(
        'VALUE_RANGE',
        `${what}: ${input} is not a safe integer; pass a bigint (e.g. ${Number.isFinite(input) ? `${BigInt(Math.trunc(input))}n` : '123n'}) or a string`,
      );
    }
    v = BigInt(input);
  } else if (typeof input === 'string') {
    const parsed = parseString(input, bitwidth);
    if (parsed === undefined) {
      throw new P4RuntimeError('VALUE_RANGE', `${what}: cannot read '${input}' as a bit<${bitwidth}> value (expected ${expectedForms(bitwidth)})`);
    }
    v = parsed;
  } else {
    throw new P4RuntimeError('VALUE_RANGE', `${what}: expected a bigint, number or string, got ${describe(input)}`);
  }
  checkRange(v, bitwidth, what);
  return v;
}

/** Formats a value the way parseValue reads it back: IPv4 for 32 bits, MAC for 48, IPv6 for 128, else hex for wide values, decimal otherwise. */
export function formatValue(value: bigint, bitwidth: number): string {
  if (bitwidth === 32 && value >= 0n && value < 1n << 32n) return formatIPv4(value);
  if (bitwidth === 48 && value >= 0n && value < 1n << 48n) return formatMac(value);
  if (bitwidth === 128 && value >= 0n && value < 1n << 128n) return formatIPv6(value);
  return bitwidth > 64 ? `0x${value.toString(16)}` : value.toString();
}

/** Describes what string forms a field of this width accepts (for error messages). */
export function expectedForms(bitwidth: number): string {
  const forms = ['a decimal or 0x-hex numeral'];
  if (bitwidth === 32) forms.push('an IPv4 address like 10.0.0.1');
  if (bitwidth === 48) forms.push('a MAC address like aa:bb:cc:dd:ee:ff');
  if (bitwidth === 128) forms.push('an IPv6 address like 2001:db8::1');
  return forms.join(' or ');
}

function parseString(text: string, bitwidth: number): bigint | undefined {
  const t = text.trim();
  const n = tryParseNumeral(t);
  if (n !== undefined) return n;
  if (bitwidth === 32) return tryParseIPv4(t);
  if (bitwidth === 48) return tryParseMac(t);
  if (bitwidth === 128) return tryParseIPv6(t);
  return undefined;
}

function checkRange(v: bigint, bitwidth: number, what: string): void {
  if (v < 0n || v >= 1n << BigInt(bitwidth)) {
    throw new P4RuntimeError(
      'VALUE_RANGE',
      `${what}: value ${showValue(v)} does not fit bit<${bitwidth}> (expected 0 .. ${(1n << BigInt(bitwidth)) - 1n})`,
    );
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? `an object (${JSON.stringify(x, (_k, val: unknown) => (typeof val === 'bigint' ? `${val}n` : val))})` : typeof x;
}
