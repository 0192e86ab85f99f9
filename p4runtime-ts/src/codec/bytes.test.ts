import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { P4RuntimeError } from '../errors.js';
import { canonicalize, decodeBits, decodeBitsChecked, encodeBits, fitsWidth, isCanonical } from './bytes.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** An arbitrary width 1..160 with a value that fits it. */
const widthAndValue = fc.integer({ min: 1, max: 160 }).chain((w) => fc.tuple(fc.constant(w), fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n })));

describe('codec/bytes — spec §8.3 examples', () => {
  // P4Runtime spec §8.3, "Examples of Valid Bytestring Encoding" (bit<W> rows).
  const valid: [number, string, boolean][] = [
    [8, '63', true],
    [16, '0063', false],
    [16, '63', true],
    [16, '3064', true],
    [16, '003064', false],
    [12, '0063', false],
    [12, '63', true],
    [12, '000063', false],
  ];
  it.each(valid)('codec/bytes — bit<%i> 0x%s fits, canonical=%s', (w, h, canonical) => {
    expect(fitsWidth(bytes(h), w)).toBe(true);
    expect(isCanonical(bytes(h))).toBe(canonical);
    expect(hex(canonicalize(bytes(h)))).toBe(hex(encodeBits(decodeBits(bytes(h)), w, 'x')));
  });

  // "Examples of Invalid Bytestring Encoding" (bit<W> rows).
  const invalid: [number, string][] = [
    [8, '0163'],
    [8, ''],
    [16, '010063'],
    [12, '1063'],
    [12, '010063'],
    [12, '004063'],
  ];
  it.each(invalid)('codec/bytes — bit<%i> 0x%s is rejected', (w, h) => {
    expect(fitsWidth(bytes(h), w)).toBe(false);
    expect(() => decodeBitsChecked(bytes(h), w, 'field f')).toThrow(/field f: .* does not fit bit</);
  });

  it('codec/bytes — zero encodes as one 0x00 byte at any width', () => {
    expect(hex(encodeBits(0n, 1, 'x'))).toBe('00');
    expect(hex(encodeBits(0n, 128, 'x'))).toBe('00');
    expect(hex(canonicalize(bytes('000000')))).toBe('00');
    expect(isCanonical(bytes('00'))).toBe(true);
    expect(isCanonical(bytes('0000'))).toBe(false);
  });

  it('codec/bytes — bit<9> 2 is 0x02 and 510 is 0x01fe', () => {
    expect(hex(encodeBits(2n, 9, 'port'))).toBe('02');
    expect(hex(encodeBits(510n, 9, 'port'))).toBe('01fe');
  });
});

describe('codec/bytes — errors', () => {
  it('codec/bytes — oversize value names what, width and value', () => {
    let err: unknown;
    try {
      encodeBits(512n, 9, "param 'port' of action 'allow'");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(P4RuntimeError);
    expect((err as P4RuntimeError).code).toBe('VALUE_RANGE');
    expect((err as P4RuntimeError).message).toBe("param 'port' of action 'allow': value 512 (0x200) does not fit bit<9> (expected 0 .. 511)");
  });

  it('codec/bytes — negative value is rejected', () => {
    expect(() => encodeBits(-1n, 8, 'f')).toThrow(/f: value -1 does not fit bit<8>/);
  });

  it('codec/bytes — non-positive width is rejected', () => {
    expect(() => encodeBits(0n, 0, 'f')).toThrow(/bit width must be a positive integer, got 0/);
  });
});

describe('codec/bytes — properties', () => {
  it('codec/bytes — encode/decode round-trips over widths 1..160', () => {
    fc.assert(
      fc.property(widthAndValue, ([w, v]) => {
        const b = encodeBits(v, w, 'x');
        expect(decodeBits(b)).toBe(v);
        expect(isCanonical(b)).toBe(true);
        expect(fitsWidth(b, w)).toBe(true);
        // Canonical: shortest big-endian, so the length is ceil(bits/8) with zero taking one byte.
        expect(b.length).toBe(Math.max(1, Math.ceil(v.toString(2).length / 8)));
      }),
    );
  });

  it('codec/bytes — padded strings canonicalize to the encoded form and still fit', () => {
    fc.assert(
      fc.property(widthAndValue, fc.integer({ min: 0, max: 8 }), ([w, v], pad) => {
        const b = encodeBits(v, w, 'x');
        const padded = Uint8Array.from([...new Array<number>(pad).fill(0), ...b]);
        expect(fitsWidth(padded, w)).toBe(true);
        expect(hex(canonicalize(padded))).toBe(hex(b));
        expect(decodeBits(padded)).toBe(v);
      }),
    );
  });

  it('codec/bytes — values of 2^W and above are rejected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 160 }), fc.bigInt({ min: 0n, max: 1n << 200n }), (w, extra) => {
        const v = (1n << BigInt(w)) + extra;
        expect(() => encodeBits(v, w, 'x')).toThrow(P4RuntimeError);
        expect(fitsWidth(encodeBits(v, w + 201, 'x'), w)).toBe(false);
      }),
    );
  });
});
