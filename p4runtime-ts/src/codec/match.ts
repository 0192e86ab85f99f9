/**
 * Table match keys per match kind (P4Runtime spec §9.1.1 "Match Format"): exact, LPM, ternary,
 * range and optional, to and from `p4.v1.FieldMatch`. The spec's rules are enforced on encode:
 * LPM value bits past the prefix are zero, ternary value & ~mask is zero, range low <= high, and a
 * don't-care match (LPM /0, ternary mask 0, full range, optional wildcard) is omitted from the
 * entry — encodeFieldMatch returns null for it.
 */
import { P4RuntimeError } from '../errors.js';
import type { p4 } from '../proto/index.js';
import type { MatchFieldInfo } from '../schema/types.js';
import { decodeBits, encodeBits, fitsWidth } from './bytes.js';
import { formatValue, parseValue } from './addr.js';
import type { ValueInput } from './addr.js';

/** A decoded match key value, by kind. */
export type MatchValue =
  | { readonly kind: 'exact'; readonly value: bigint }
  | { readonly kind: 'lpm'; readonly value: bigint; readonly prefixLen: number }
  | { readonly kind: 'ternary'; readonly value: bigint; readonly mask: bigint }
  | { readonly kind: 'range'; readonly low: bigint; readonly high: bigint }
  | { readonly kind: 'optional'; readonly value: bigint };

/**
 * A match key as callers write it. Plain values (bigint, number, numeral or address string) mean an
 * exact match of the whole field under any kind. Strings may also carry the kind's syntax:
 * `10.0.0.0/8` (lpm or ternary by prefix), `v &&& m` (ternary), `lo..hi` (range), `*` (don't care).
 * `null` is don't care too (not allowed for exact fields).
 */
export type MatchInput =
  | ValueInput
  | null
  | { readonly value: ValueInput }
  | { readonly value: ValueInput; readonly prefixLen: number }
  | { readonly value: ValueInput; readonly mask: ValueInput }
  | { readonly low: ValueInput; readonly high: ValueInput };

/** The match kinds this codec handles. */
export type MatchKind = MatchValue['kind'];

/**
 * Encodes one match field per its P4Info match type (spec §9.1.1), or returns null when the input
 * is a don't-care that the spec requires to be omitted.
 * @param context names the table in errors, e.g. `table 'ingress.acl'`.
 * @throws P4RuntimeError VALUE_RANGE naming the field, the table and the expected form.
 * @example encodeFieldMatch(dstField, '10.0.0.0/8', "table 'ingress.route'")
 */
export function encodeFieldMatch(field: MatchFieldInfo, input: MatchInput, context?: string): p4.v1.FieldMatch.$Properties | null {
  const what = fieldWhat(field, context);
  const W = field.bitwidth;
  const all = (1n << BigInt(W)) - 1n;
  const isWildcard = input === null || (typeof input === 'string' && input.trim() === '*');
  switch (field.matchType) {
    case 'exact': {
      if (isWildcard) throw bad(what, input, 'an exact value; exact fields cannot be left as don\'t care');
      const v = plainValue(input, W, what, 'a value, e.g. 5, "0x0a" or an address');
      return { fieldId: field.id, exact: { value: encodeBits(v, W, what) } };
    }
    case 'optional': {
      if (isWildcard) return null;
      const v = plainValue(input, W, what, 'a value, or null / "*" for don\'t care');
      return { fieldId: field.id, optional: { value: encodeBits(v, W, what) } };
    }
    case 'lpm': {
      if (isWildcard) return null;
      let value: bigint;
      let prefixLen: number;
      if (typeof input === 'string' && input.includes('/')) {
        ({ value, prefixLen } = parsePrefix(input, W, what));
      } else if (isObject(input) && 'prefixLen' in input) {
        value = parseValue(input.value, W, what);
        prefixLen = input.prefixLen;
      } else if (isObject(input) && !('value' in input && Object.keys(input).length === 1)) {
        throw bad(what, input, 'an LPM key: "10.0.0.0/8", { value, prefixLen } or a plain value (full-length prefix)');
      } else {
        value = plainValue(input, W, what, 'an LPM key: "10.0.0.0/8", { value, prefixLen } or a plain value');
        prefixLen = W;
      }
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > W) {
        throw new P4RuntimeError('VALUE_RANGE', `${what}: prefix length ${prefixLen} is outside 0..${W}`);
      }
      const mask = prefixMask(prefixLen, W);
      if ((value & ~mask & all) !== 0n) {
        throw new P4RuntimeError(
          'VALUE_RANGE',
          `${what}: LPM value ${formatValue(value, W)} has bits set past the /${prefixLen} prefix (spec §9.1.1); use ${formatValue(value & mask, W)}/${prefixLen}`,
        );
      }
      if (prefixLen === 0) return null;
      return { fieldId: field.id, lpm: { value: encodeBits(value, W, what), prefixLen } };
    }
    case 'ternary': {
      if (isWildcard) return null;
      let value: bigint;
      let mask: bigint;
      if (typeof input === 'string' && input.includes('&&&')) {
        const [v, m, ...extra] = input.split('&&&');
        if (extra.length > 0 || v === undefined || m === undefined) throw bad(what, input, 'one "value &&& mask"');
        value = parseValue(v.trim(), W, what);
        mask = parseValue(m.trim(), W, `${what} mask`);
      } else if (typeof input === 'string' && input.includes('/')) {
        const p = parsePrefix(input, W, what);
        value = p.value;
        mask = prefixMask(p.prefixLen, W);
      } else if (isObject(input) && 'mask' in input) {
        value = parseValue(input.value, W, what);
        mask = parseValue(input.mask, W, `${what} mask`);
      } else if (isObject(input) && !('value' in input && Object.keys(input).length === 1)) {
        throw bad(what, input, 'a ternary key: { value, mask }, "v &&& m", "10.0.0.0/8" or a plain value (all bits)');
      } else {
        value = plainValue(input, W, what, 'a ternary key: { value, mask }, "v &&& m" or a plain value');
        mask = all;
      }
      if ((value & ~mask) !== 0n) {
        throw new P4RuntimeError(
          'VALUE_RANGE',
          `${what}: ternary value 0x${value.toString(16)} has bits outside mask 0x${mask.toString(16)} (spec §9.1.1 requires value & ~mask == 0); use value 0x${(value & mask).toString(16)}`,
        );
      }
      if (mask === 0n) return null;
      return { fieldId: field.id, ternary: { value: encodeBits(value, W, what), mask: encodeBits(mask, W, `${what} mask`) } };
    }
    case 'range': {
      if (isWildcard) return null;
      let low: bigint;
      let high: bigint;
      if (typeof input === 'string' && input.includes('..')) {
        const [l, h, ...extra] = input.split('..');
        if (extra.length > 0 || l === undefined || h === undefined) throw bad(what, input, 'one "low..high"');
        low = parseValue(l.trim(), W, `${what} low`);
        high = parseValue(h.trim(), W, `${what} high`);
      } else if (isObject(input) && 'low' in input) {
        low = parseValue(input.low, W, `${what} low`);
        high = parseValue(input.high, W, `${what} high`);
      } else if (isObject(input) && !('value' in input && Object.keys(input).length === 1)) {
        throw bad(what, input, 'a range key: { low, high }, "low..high" or a plain value (a one-value range)');
      } else {
        low = high = plainValue(input, W, what, 'a range key: { low, high }, "low..high" or a plain value');
      }
      if (low > high) {
        throw new P4RuntimeError('VALUE_RANGE', `${what}: range low ${formatValue(low, W)} is above high ${formatValue(high, W)} (spec §9.1.1 requires low <= high)`);
      }
      if (low === 0n && high === all) return null;
      return { fieldId: field.id, range: { low: encodeBits(low, W, `${what} low`), high: encodeBits(high, W, `${what} high`) } };
    }
    default:
      throw new P4RuntimeError('VALUE_RANGE', `${what}: match type '${field.matchType}' is not supported (only exact, lpm, ternary, range, optional)`);
  }
}

/**
 * Decodes a `p4.v1.FieldMatch` read back from a target into a MatchValue, checking that its kind
 * agrees with the field's P4Info match type and that each value fits the width (padded strings
 * are accepted, as the spec §8.3 requires of receivers).
 * @throws P4RuntimeError VALUE_RANGE naming the field and the table.
 */
export function decodeFieldMatch(field: MatchFieldInfo, fm: p4.v1.FieldMatch.$Properties, context?: string): MatchValue {
  // Reads decode this for every field of every entry: the description is made only for an error.
  const W = field.bitwidth;
  let out: MatchValue;
  if (fm.exact) out = { kind: 'exact', value: fitting(field, context, fm.exact.value, 'value') };
  else if (fm.lpm) {
    const prefixLen = fm.lpm.prefixLen ?? 0;
    if (prefixLen < 0 || prefixLen > W) throw new P4RuntimeError('VALUE_RANGE', `${fieldWhat(field, context)}: prefix length ${prefixLen} is outside 0..${W}`);
    out = { kind: 'lpm', value: fitting(field, context, fm.lpm.value, 'value'), prefixLen };
  } else if (fm.ternary) out = { kind: 'ternary', value: fitting(field, context, fm.ternary.value, 'value'), mask: fitting(field, context, fm.ternary.mask, 'mask') };
  else if (fm.range) out = { kind: 'range', low: fitting(field, context, fm.range.low, 'low'), high: fitting(field, context, fm.range.high, 'high') };
  else if (fm.optional) out = { kind: 'optional', value: fitting(field, context, fm.optional.value, 'value') };
  else throw new P4RuntimeError('VALUE_RANGE', `${fieldWhat(field, context)}: FieldMatch carries no exact/lpm/ternary/range/optional value`);
  if (out.kind !== field.matchType) {
    throw new P4RuntimeError('VALUE_RANGE', `${fieldWhat(field, context)}: got a ${out.kind} match but the P4Info declares it ${field.matchType}`);
  }
  return out;
}

const NO_BYTES = new Uint8Array(0);

/** A received bytestring's value, checked to fit the field (§8.3 accepts padded strings). */
function fitting(field: MatchFieldInfo, context: string | undefined, b: Uint8Array | null | undefined, part: string): bigint {
  const bytes = b ?? NO_BYTES;
  if (!fitsWidth(bytes, field.bitwidth)) {
    const shown = bytes.length === 0 ? 'an empty bytestring' : `0x${Buffer.from(bytes).toString('hex')}`;
    throw new P4RuntimeError('VALUE_RANGE', `${fieldWhat(field, context)}: ${part} ${shown} does not fit bit<${field.bitwidth}>`);
  }
  return decodeBits(bytes);
}

/** Turns a decoded MatchValue back into a MatchInput that encodeFieldMatch accepts (for re-writing what was read). */
export function matchValueToInput(mv: MatchValue): MatchInput {
  switch (mv.kind) {
    case 'exact':
    case 'optional':
      return mv.value;
    case 'lpm':
      return { value: mv.value, prefixLen: mv.prefixLen };
    case 'ternary':
      return { value: mv.value, mask: mv.mask };
    case 'range':
      return { low: mv.low, high: mv.high };
  }
}

/** Renders a MatchValue for messages and logs, e.g. `10.0.0.0/8`, `0x0a &&& 0xff`, `10..20`. */
export function formatMatchValue(mv: MatchValue, bitwidth: number): string {
  switch (mv.kind) {
    case 'exact':
    case 'optional':
      return formatValue(mv.value, bitwidth);
    case 'lpm':
      return `${formatValue(mv.value, bitwidth)}/${mv.prefixLen}`;
    case 'ternary':
      return `${formatValue(mv.value, bitwidth)} &&& ${formatValue(mv.mask, bitwidth)}`;
    case 'range':
      return `${formatValue(mv.low, bitwidth)}..${formatValue(mv.high, bitwidth)}`;
  }
}

/** The mask of the top `prefixLen` bits of a `bitwidth`-bit field. */
export function prefixMask(prefixLen: number, bitwidth: number): bigint {
  const all = (1n << BigInt(bitwidth)) - 1n;
  return (all >> BigInt(bitwidth - prefixLen)) << BigInt(bitwidth - prefixLen);
}

function parsePrefix(input: string, W: number, what: string): { value: bigint; prefixLen: number } {
  const slash = input.lastIndexOf('/');
  const lenText = input.slice(slash + 1).trim();
  if (!/^\d+$/.test(lenText)) throw bad(what, input, `"value/prefixLen" with prefixLen 0..${W}`);
  return { value: parseValue(input.slice(0, slash).trim(), W, what), prefixLen: Number(lenText) };
}

function plainValue(input: MatchInput, W: number, what: string, expected: string): bigint {
  if (input === null) throw bad(what, input, expected);
  if (isObject(input)) {
    if ('value' in input && Object.keys(input).length === 1) return parseValue(input.value, W, what);
    throw bad(what, input, expected);
  }
  return parseValue(input, W, what);
}

function isObject(x: MatchInput): x is Extract<MatchInput, object> {
  return typeof x === 'object' && x !== null;
}

/** How errors name a match field, e.g. `match field 'dst' (exact, bit<32>) of table 'acl'`. */
export function fieldWhat(field: MatchFieldInfo, context: string | undefined): string {
  return `match field '${field.name}' (${field.matchType}, bit<${field.bitwidth}>)${context ? ` of ${context}` : ''}`;
}

function bad(what: string, input: MatchInput, expected: string): P4RuntimeError {
  const shown = typeof input === 'string' ? `'${input}'` : JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return new P4RuntimeError('VALUE_RANGE', `${what}: cannot use ${shown}; expected ${expected}`);
}
