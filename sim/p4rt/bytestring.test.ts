import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bitLength, bytesToBigInt, canonicalBytes, isCanonical, toHex } from './bytestring.js';

describe('bytestring — canonical form', () => {
  it('bytestring — zero is one 0x00 byte', () => {
    expect([...canonicalBytes(0n)]).toEqual([0]);
    expect(isCanonical(Uint8Array.of(0))).toBe(true);
  });

  it('bytestring — padded forms are not canonical but decode to the same value', () => {
    expect(isCanonical(Uint8Array.of(0, 0, 0, 4))).toBe(false);
    expect(bytesToBigInt(Uint8Array.of(0, 0, 0, 4))).toBe(4n);
    expect(isCanonical(new Uint8Array())).toBe(false);
  });

  it('bytestring — round trips over widths 1..160', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 160 }), fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }), (w, raw) => {
        const v = raw & ((1n << BigInt(w)) - 1n);
        const b = canonicalBytes(v);
        expect(bytesToBigInt(b)).toBe(v);
        expect(isCanonical(b)).toBe(true);
        expect(b.length).toBe(Math.max(1, Math.ceil(bitLength(v) / 8)));
      }),
    );
  });

  it('bytestring — the canonical bytes are the value\'s hex digits, and any padding of them decodes back (64-bit fast path and wider)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 100n) - 1n })), fc.integer({ min: 0, max: 4 }), (v, pad) => {
        const hex = v.toString(16);
        expect(toHex(canonicalBytes(v))).toBe(`0x${hex.length % 2 === 1 ? `0${hex}` : hex}`);
        expect(bytesToBigInt(Uint8Array.from([...new Array<number>(pad).fill(0), ...canonicalBytes(v)]))).toBe(v);
      }),
      { numRuns: 500 },
    );
  });

  it('bytestring — bitLength agrees with the binary string length', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 200n) - 1n }), (v) => {
        expect(bitLength(v)).toBe(v.toString(2).length);
      }),
    );
    for (let i = 0; i < 60; i++) {
      expect(bitLength(1n << BigInt(i))).toBe(i + 1);
      expect(bitLength((1n << BigInt(i + 1)) - 1n)).toBe(i + 1);
    }
    expect(bitLength(0n)).toBe(0);
  });

  it('bytestring — hex names the bytes as sent', () => {
    expect(toHex(Uint8Array.of(0x7f, 0xff))).toBe('0x7fff');
  });
});
