import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { P4RuntimeError } from '../errors.js';
import type { MatchFieldInfo, MatchType } from '../schema/types.js';
import { decodeBits } from './bytes.js';
import { decodeFieldMatch, encodeFieldMatch, formatMatchValue, matchValueToInput, prefixMask } from './match.js';
import type { MatchValue } from './match.js';

const field = (matchType: MatchType, bitwidth: number, name = 'hdr.ipv4.dstAddr'): MatchFieldInfo => ({ id: 3, name, bitwidth, matchType, annotations: [] });
const hex = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? new Uint8Array(0)).toString('hex');
const ctx = "table 'ingress.acl'";

function errorOf(f: () => unknown): P4RuntimeError {
  try {
    f();
  } catch (e) {
    return e as P4RuntimeError;
  }
  throw new Error('expected an error');
}

describe('codec/match — exact', () => {
  it('codec/match — encodes canonical bytes with the field id', () => {
    const fm = encodeFieldMatch(field('exact', 48, 'hdr.eth.dstAddr'), 'aa:bb:cc:dd:ee:ff', ctx);
    expect(fm?.fieldId).toBe(3);
    expect(hex(fm?.exact?.value)).toBe('aabbccddeeff');
    expect(hex(encodeFieldMatch(field('exact', 16), 0)?.exact?.value)).toBe('00');
    expect(hex(encodeFieldMatch(field('exact', 16), { value: 0x1234 })?.exact?.value)).toBe('1234');
  });

  it('codec/match — exact cannot be don\'t care', () => {
    expect(errorOf(() => encodeFieldMatch(field('exact', 8), null, ctx)).message).toMatch(/exact fields cannot be left as don't care/);
  });

  it('codec/match — oversize value names field, table, width and value', () => {
    const e = errorOf(() => encodeFieldMatch(field('exact', 9, 'sm.ingress_port'), 512, ctx));
    expect(e.code).toBe('VALUE_RANGE');
    expect(e.message).toBe("match field 'sm.ingress_port' (exact, bit<9>) of table 'ingress.acl': value 512 (0x200) does not fit bit<9> (expected 0 .. 511)");
  });

  it('codec/match — range syntax on an exact field is rejected naming the expected form', () => {
    expect(errorOf(() => encodeFieldMatch(field('exact', 16), { low: 1, high: 2 }, ctx)).message).toMatch(/expected a value, e\.g\. 5/);
  });
});

describe('codec/match — lpm', () => {
  const f = field('lpm', 32);
  it('codec/match — "a.b.c.d/len" and { value, prefixLen } encode the same', () => {
    const a = encodeFieldMatch(f, '10.0.0.0/8', ctx);
    const b = encodeFieldMatch(f, { value: '10.0.0.0', prefixLen: 8 }, ctx);
    expect(a).toEqual(b);
    expect(hex(a?.lpm?.value)).toBe('0a000000');
    expect(a?.lpm?.prefixLen).toBe(8);
  });

  it('codec/match — a plain value is a full-length prefix', () => {
    expect(encodeFieldMatch(f, '10.0.0.1')?.lpm?.prefixLen).toBe(32);
  });

  it('codec/match — /0 is don\'t care and omitted', () => {
    expect(encodeFieldMatch(f, '0.0.0.0/0')).toBeNull();
    expect(encodeFieldMatch(f, null)).toBeNull();
    expect(encodeFieldMatch(f, '*')).toBeNull();
  });

  it('codec/match — bits past the prefix are an error that shows the fix', () => {
    const e = errorOf(() => encodeFieldMatch(f, '10.0.0.1/8', ctx));
    expect(e.message).toBe(
      "match field 'hdr.ipv4.dstAddr' (lpm, bit<32>) of table 'ingress.acl': LPM value 10.0.0.1 has bits set past the /8 prefix (spec §9.1.1); use 10.0.0.0/8",
    );
  });

  it('codec/match — prefix length beyond the width is rejected', () => {
    expect(errorOf(() => encodeFieldMatch(f, { value: 0, prefixLen: 33 })).message).toMatch(/prefix length 33 is outside 0\.\.32/);
  });

  it('codec/match — IPv6 prefixes on a 128-bit field', () => {
    const fm = encodeFieldMatch(field('lpm', 128), '2001:db8::/32');
    expect(hex(fm?.lpm?.value)).toBe('20010db8000000000000000000000000');
    expect(fm?.lpm?.prefixLen).toBe(32);
  });
});

describe('codec/match — ternary', () => {
  const f = field('ternary', 32);
  it('codec/match — { value, mask }, "v &&& m" and a prefix all work', () => {
    const a = encodeFieldMatch(f, { value: '10.0.0.0', mask: '255.0.0.0' });
    expect(encodeFieldMatch(f, '10.0.0.0 &&& 255.0.0.0')).toEqual(a);
    expect(encodeFieldMatch(f, '10.0.0.0/8')).toEqual(a);
    expect(hex(a?.ternary?.mask)).toBe('ff000000');
  });

  it('codec/match — a plain value matches all bits', () => {
    expect(hex(encodeFieldMatch(f, 7)?.ternary?.mask)).toBe('ffffffff');
  });

  it('codec/match — mask 0 is don\'t care and omitted', () => {
    expect(encodeFieldMatch(f, { value: 0, mask: 0 })).toBeNull();
  });

  it('codec/match — value bits outside the mask are an error', () => {
    expect(errorOf(() => encodeFieldMatch(f, { value: 0x0a000001, mask: 0xff000000 }, ctx)).message).toMatch(
      /ternary value 0xa000001 has bits outside mask 0xff000000 \(spec §9\.1\.1 requires value & ~mask == 0\); use value 0xa000000/,
    );
  });
});

describe('codec/match — range and optional', () => {
  it('codec/match — { low, high } and "lo..hi" encode the same', () => {
    const f = field('range', 16, 'meta.l4_dport');
    const a = encodeFieldMatch(f, { low: 1000, high: 2000 });
    expect(encodeFieldMatch(f, '1000..2000')).toEqual(a);
    expect(hex(a?.range?.low)).toBe('03e8');
    expect(hex(a?.range?.high)).toBe('07d0');
  });

  it('codec/match — full range is don\'t care and omitted; low > high is an error', () => {
    const f = field('range', 16);
    expect(encodeFieldMatch(f, { low: 0, high: 0xffff })).toBeNull();
    expect(errorOf(() => encodeFieldMatch(f, { low: 5, high: 4 }, ctx)).message).toMatch(/range low 5 is above high 4 \(spec §9\.1\.1 requires low <= high\)/);
  });

  it('codec/match — a plain value is a one-value range', () => {
    const fm = encodeFieldMatch(field('range', 8), 6);
    expect(hex(fm?.range?.low)).toBe('06');
    expect(hex(fm?.range?.high)).toBe('06');
  });

  it('codec/match — optional: value or wildcard', () => {
    const f = field('optional', 8, 'hdr.ipv4.protocol');
    expect(hex(encodeFieldMatch(f, 6)?.optional?.value)).toBe('06');
    expect(encodeFieldMatch(f, null)).toBeNull();
    expect(encodeFieldMatch(f, '*')).toBeNull();
  });

  it('codec/match — other match types are refused by name', () => {
    const f: MatchFieldInfo = { ...field('other', 8), otherMatchType: 'selector' };
    expect(errorOf(() => encodeFieldMatch(f, 1)).message).toMatch(/match type 'other' is not supported/);
  });
});

describe('codec/match — decode', () => {
  it('codec/match — accepts padded strings and checks width', () => {
    const f = field('exact', 9);
    expect(decodeFieldMatch(f, { fieldId: 3, exact: { value: Uint8Array.of(0, 0, 1) } })).toEqual({ kind: 'exact', value: 1n });
    expect(errorOf(() => decodeFieldMatch(f, { fieldId: 3, exact: { value: Uint8Array.of(2, 0) } }, ctx)).message).toMatch(/value 0x0200 does not fit bit<9>/);
    expect(errorOf(() => decodeFieldMatch(f, { fieldId: 3, exact: { value: new Uint8Array(0) } })).message).toMatch(/an empty bytestring/);
  });

  it('codec/match — a kind that disagrees with P4Info is an error', () => {
    expect(errorOf(() => decodeFieldMatch(field('lpm', 8), { fieldId: 3, exact: { value: Uint8Array.of(1) } })).message).toMatch(
      /got a exact match but the P4Info declares it lpm/,
    );
  });

  it('codec/match — formatMatchValue renders each kind', () => {
    expect(formatMatchValue({ kind: 'lpm', value: 0x0a000000n, prefixLen: 8 }, 32)).toBe('10.0.0.0/8');
    expect(formatMatchValue({ kind: 'ternary', value: 1n, mask: 255n }, 8)).toBe('1 &&& 255');
    expect(formatMatchValue({ kind: 'range', low: 1n, high: 9n }, 16)).toBe('1..9');
  });
});

describe('codec/match — properties', () => {
  const width = fc.integer({ min: 1, max: 160 });
  const valueOf = (w: number): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n });

  /** A random MatchValue that is not a don't care, for a random width. */
  const matchCase: fc.Arbitrary<[number, MatchValue]> = width.chain((w) =>
    fc.oneof(
      valueOf(w).map((value): [number, MatchValue] => [w, { kind: 'exact', value }]),
      valueOf(w).map((value): [number, MatchValue] => [w, { kind: 'optional', value }]),
      fc.tuple(valueOf(w), fc.integer({ min: 1, max: w })).map(([v, p]): [number, MatchValue] => [w, { kind: 'lpm', value: v & prefixMask(p, w), prefixLen: p }]),
      fc.tuple(valueOf(w), valueOf(w).filter((m) => m !== 0n)).map(([v, m]): [number, MatchValue] => [w, { kind: 'ternary', value: v & m, mask: m }]),
      fc
        .tuple(valueOf(w), valueOf(w))
        .map(([a, b]): [number, MatchValue] => [w, { kind: 'range', low: a < b ? a : b, high: a < b ? b : a }])
        .filter(([, r]) => !(r.kind === 'range' && r.low === 0n && r.high === (1n << BigInt(w)) - 1n)),
    ),
  );

  it('codec/match — encode/decode round-trips every kind over widths 1..160', () => {
    fc.assert(
      fc.property(matchCase, ([w, mv]) => {
        const f = field(mv.kind, w);
        const fm = encodeFieldMatch(f, matchValueToInput(mv));
        expect(fm).not.toBeNull();
        expect(decodeFieldMatch(f, fm ?? {})).toEqual(mv);
      }),
    );
  });

  it('codec/match — encoded bytes are canonical', () => {
    fc.assert(
      fc.property(matchCase, ([w, mv]) => {
        const fm = encodeFieldMatch(field(mv.kind, w), matchValueToInput(mv)) ?? {};
        const all = [fm.exact?.value, fm.optional?.value, fm.lpm?.value, fm.ternary?.value, fm.ternary?.mask, fm.range?.low, fm.range?.high];
        for (const b of all) if (b) expect(b.length === 1 || b[0] !== 0).toBe(true);
      }),
    );
  });

  it('codec/match — LPM values with bits past the prefix are always rejected', () => {
    fc.assert(
      fc.property(
        width.filter((w) => w > 1).chain((w) => fc.tuple(fc.constant(w), fc.integer({ min: 0, max: w - 1 }), valueOf(w))),
        ([w, p, v]) => {
          const stray = v & ~prefixMask(p, w) & ((1n << BigInt(w)) - 1n);
          fc.pre(stray !== 0n);
          expect(() => encodeFieldMatch(field('lpm', w), { value: v, prefixLen: p })).toThrow(/bits set past the/);
        },
      ),
    );
  });

  it('codec/match — oversize exact values are rejected at every width', () => {
    fc.assert(
      fc.property(width, fc.bigInt({ min: 0n, max: 1n << 100n }), (w, extra) => {
        expect(() => encodeFieldMatch(field('exact', w), (1n << BigInt(w)) + extra)).toThrow(P4RuntimeError);
      }),
    );
  });

  it('codec/match — decodeBits agrees with the encoded value', () => {
    fc.assert(
      fc.property(width.chain((w) => fc.tuple(fc.constant(w), valueOf(w))), ([w, v]) => {
        expect(decodeBits(encodeFieldMatch(field('exact', w), v)?.exact?.value ?? new Uint8Array(0))).toBe(v);
      }),
    );
  });
});
