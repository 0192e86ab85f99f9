import { describe, expect, it } from 'vitest';
import { applyBaseAndMax, bmv2Hash, concatFields, crc16, crc32, csum16, hashBytes } from './index.js';
import type { HashField } from './index.js';
// Test data measured on real BMv2; the library itself imports nothing of the repository's.
import { BMV2_HASH_VECTORS } from '../../../p4/testdata/bmv2-hash-vectors.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function tupleFields(v: { src: number; dst: number; sport: number; dport: number; proto: number }): HashField[] {
  return [
    { value: v.src, bits: 32 },
    { value: v.dst, bits: 32 },
    { value: v.sport, bits: 16 },
    { value: v.dport, bits: 16 },
    { value: v.proto, bits: 8 },
  ];
}

describe('hash — standard check values', () => {
  it('crc32 of "123456789" is 0xCBF43926', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
  });
  it('crc16 (CRC-16/ARC) of "123456789" is 0xBB3D', () => {
    expect(crc16(ascii('123456789'))).toBe(0xbb3d);
  });
  it('crc32 and crc16 of the empty input are 0', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc16(new Uint8Array(0))).toBe(0);
  });
  it('csum16 matches the RFC 1071 worked example', () => {
    // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (folded); the checksum is its complement.
    expect(csum16(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(~0xddf2 & 0xffff);
  });
  it('a sub-range hashes like the sliced bytes', () => {
    const b = ascii('xx123456789yy');
    expect(crc32(b, 2, 11)).toBe(0xcbf43926);
    expect(crc16(b, 2, 11)).toBe(0xbb3d);
  });
});

describe('hash — BMv2 vectors measured in the lab', () => {
  const vectors = BMV2_HASH_VECTORS;

  it('the lab file holds the 20 vectors the report describes', () => {
    expect(vectors.length).toBe(20);
  });

  it('crc32, crc16 and csum16 over the 13-byte 5-tuple equal BMv2 for every vector', () => {
    for (const v of vectors) {
      const bytes = concatFields(tupleFields(v));
      expect(bytes.length).toBe(13);
      expect(hashBytes('crc32', bytes), `crc32 ${JSON.stringify(v)}`).toBe(v.crc32);
      expect(hashBytes('crc16', bytes), `crc16 ${JSON.stringify(v)}`).toBe(v.crc16);
      expect(hashBytes('csum16', bytes), `csum16 ${JSON.stringify(v)}`).toBe(v.csum16);
    }
  });

  it('base + (h mod max) equals BMv2 for crc32 mod 65536 and crc16 mod 1000', () => {
    for (const v of vectors) {
      expect(bmv2Hash('crc32', 0, tupleFields(v), 65536)).toBe(v.crc32_mod_65536);
      expect(bmv2Hash('crc16', 0, tupleFields(v), 1000)).toBe(v.crc16_mod_1000);
      // The lab program asked for crc32 with max 2^32 as a bit<64> constant: the hash itself.
      expect(bmv2Hash('crc32', 0, tupleFields(v), 4294967296n)).toBe(v.crc32);
    }
  });
});

describe('hash — base, max and field packing', () => {
  it('adds the base after the modulo and truncates to the output width', () => {
    expect(applyBaseAndMax(70000, 262144, 65536)).toBe(262144 + (70000 % 65536));
    expect(applyBaseAndMax(0xffffffff, 0xffff, 65536, 16)).toBe((0xffff + 0xffff) % 65536);
    expect(applyBaseAndMax(12345, 0, 10n ** 30n)).toBe(12345);
  });

  it('rejects a zero max, naming it', () => {
    expect(() => applyBaseAndMax(1, 0, 0)).toThrow(/max 0 must be positive/);
    expect(() => applyBaseAndMax(1, 0, 0n)).toThrow(/max 0 must be positive/);
  });

  it('packs fields big-endian and accepts bigint values for wide fields', () => {
    expect([...concatFields([{ value: 0x0102, bits: 16 }, { value: 0x0304050607080910n, bits: 64 }])]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 0x10,
    ]);
    expect([...concatFields([{ value: 2 ** 40 + 5, bits: 64 }])]).toEqual([0, 0, 1, 0, 0, 0, 0, 5]);
  });

  it('rejects fields that are not whole bytes or whose value does not fit', () => {
    expect(() => concatFields([{ value: 1, bits: 9 }])).toThrow(/positive multiple of 8/);
    expect(() => concatFields([{ value: 256, bits: 8 }])).toThrow(/does not fit 8 unsigned bits/);
    expect(() => concatFields([{ value: -1, bits: 8 }])).toThrow(/does not fit/);
    expect(() => concatFields([{ value: 1n << 64n, bits: 64 }])).toThrow(/does not fit 64 unsigned bits/);
  });
});
