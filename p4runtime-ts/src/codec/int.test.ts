import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { P4RuntimeError } from '../errors.js';
import { decodeInt, encodeInt, signedBitLength } from './int.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

describe('codec/int — spec §8.3 examples', () => {
  // P4Runtime spec §8.3 "Examples of Valid Bytestring Encoding" (int<W> rows).
  it.each([
    [8, 99n, '63', true],
    [8, -99n, '9d', true],
    [8, -99n, 'ff9d', false],
    [12, -739n, 'fd1d', true],
    [16, 0n, '0000', false],
    [16, 0n, '00', true],
  ] as const)('codec/int — int<%i> %s as 0x%s decodes (canonical=%s)', (w, v, h, canonical) => {
    expect(decodeInt(bytes(h), w)).toBe(v);
    expect(hex(encodeInt(v, w, 'x')) === h).toBe(canonical);
  });

  // "Examples of Invalid Bytestring Encoding" (int<W> rows).
  it.each([
    [8, '009d'],
    [12, '8d1d'],
    [16, ''],
  ] as const)('codec/int — int<%i> 0x%s is rejected', (w, h) => {
    expect(() => decodeInt(bytes(h), w, 'reg r')).toThrow(P4RuntimeError);
  });

  it('codec/int — 128 needs a leading 0x00 so it does not read as negative', () => {
    expect(hex(encodeInt(128n, 16, 'x'))).toBe('0080');
    expect(hex(encodeInt(-128n, 16, 'x'))).toBe('80');
    expect(hex(encodeInt(-129n, 16, 'x'))).toBe('ff7f');
  });

  it('codec/int — out of range names what, width and range', () => {
    expect(() => encodeInt(128n, 8, 'delta')).toThrow('delta: value 128 (0x80) does not fit int<8> (expected -128 .. 127)');
    expect(() => encodeInt(-129n, 8, 'delta')).toThrow('delta: value -129 does not fit int<8> (expected -128 .. 127)');
    expect(() => encodeInt(1n, 1, 'b')).toThrow(/does not fit int<1> \(expected -1 .. 0\)/);
  });
});

describe('codec/int — properties', () => {
  const widthAndValue = fc.integer({ min: 1, max: 160 }).chain((w) => {
    const half = 1n << BigInt(w - 1);
    return fc.tuple(fc.constant(w), fc.bigInt({ min: -half, max: half - 1n }));
  });

  it('codec/int — encode/decode round-trips over widths 1..160', () => {
    fc.assert(
      fc.property(widthAndValue, ([w, v]) => {
        const b = encodeInt(v, w, 'x');
        expect(decodeInt(b, w)).toBe(v);
        expect(b.length).toBe(Math.floor((signedBitLength(v) + 7) / 8));
      }),
    );
  });

  it('codec/int — sign-extended padding decodes to the same value', () => {
    fc.assert(
      fc.property(widthAndValue, fc.integer({ min: 1, max: 6 }), ([w, v], pad) => {
        const b = encodeInt(v, w, 'x');
        const fill = v < 0n ? 0xff : 0x00;
        expect(decodeInt(Uint8Array.from([...new Array<number>(pad).fill(fill), ...b]), w)).toBe(v);
      }),
    );
  });

  it('codec/int — the canonical string is the shortest: dropping its first byte changes the value', () => {
    fc.assert(
      fc.property(widthAndValue, ([w, v]) => {
        const b = encodeInt(v, w, 'x');
        if (b.length > 1) expect(BigInt.asIntN((b.length - 1) * 8, BigInt(`0x${hex(b.subarray(1))}`))).not.toBe(v);
      }),
    );
  });
});
