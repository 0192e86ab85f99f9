import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { P4RuntimeError } from '../errors.js';
import { formatIPv4, formatIPv6, formatMac, formatValue, parseIPv4, parseIPv6, parseMac, parseValue, tryParseIPv6 } from './addr.js';

describe('codec/addr — IPv4', () => {
  it('codec/addr — parses and formats dotted quads', () => {
    expect(parseIPv4('10.0.0.1')).toBe(0x0a000001n);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffffn);
    expect(formatIPv4(0xc0a80101n)).toBe('192.168.1.1');
  });

  it.each(['10.0.0', '10.0.0.256', '10.0.0.01', 'a.b.c.d', '1.2.3.4.5'])('codec/addr — rejects %s', (s) => {
    expect(() => parseIPv4(s)).toThrow(/is not an IPv4 address \(expected a\.b\.c\.d/);
  });

  it('codec/addr — IPv4 round-trips', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 0xffffffffn }), (v) => {
      expect(parseIPv4(formatIPv4(v))).toBe(v);
    }));
  });
});

describe('codec/addr — IPv6', () => {
  it.each([
    ['::', 0n],
    ['::1', 1n],
    ['2001:db8::1', 0x20010db8000000000000000000000001n],
    ['2001:DB8:0:0:0:0:0:1', 0x20010db8000000000000000000000001n],
    ['fe80::', 0xfe800000000000000000000000000000n],
    ['::ffff:10.0.0.1', 0xffff0a000001n],
    ['1:2:3:4:5:6:7:8', 0x00010002000300040005000600070008n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
  ])('codec/addr — parses %s', (s, v) => {
    expect(parseIPv6(s)).toBe(v);
  });

  it.each(['1:2:3:4:5:6:7', '1::2::3', '12345::', ':1', '1:2:3:4:5:6:7:8:9', '::g', '1:2:3:4:5:6:7::8', '10.0.0.1'])('codec/addr — rejects %s', (s) => {
    expect(tryParseIPv6(s)).toBeUndefined();
  });

  it('codec/addr — formats per RFC 5952 (longest zero run, leftmost on ties, no single-group ::)', () => {
    expect(formatIPv6(0x20010db8000000000000000000000001n)).toBe('2001:db8::1');
    expect(formatIPv6(0n)).toBe('::');
    expect(formatIPv6(1n)).toBe('::1');
    expect(formatIPv6(0x20010db8000000010000000000000001n)).toBe('2001:db8:0:1::1');
    expect(formatIPv6(0x20010db8000000000001000000000001n)).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(0x20010db8000000010001000100010001n)).toBe('2001:db8:0:1:1:1:1:1');
  });

  it('codec/addr — IPv6 round-trips', () => {
    // Bias towards zero groups so `::` compression is exercised.
    const group = fc.oneof(fc.constant(0n), fc.constant(0n), fc.bigInt({ min: 0n, max: 0xffffn }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (gs) => {
        const v = gs.reduce((acc, g) => (acc << 16n) | g, 0n);
        expect(parseIPv6(formatIPv6(v))).toBe(v);
      }),
    );
  });
});

describe('codec/addr — MAC', () => {
  it('codec/addr — parses colon and dash forms, formats lowercase colon form', () => {
    expect(parseMac('aa:bb:cc:dd:ee:ff')).toBe(0xaabbccddeeffn);
    expect(parseMac('AA-BB-CC-DD-EE-01')).toBe(0xaabbccddee01n);
    expect(formatMac(0x0000000000ffn)).toBe('00:00:00:00:00:ff');
    expect(() => parseMac('aa:bb:cc:dd:ee')).toThrow(/not a MAC address/);
    expect(() => parseMac('aa:bb-cc:dd:ee:ff')).toThrow(/not a MAC address/);
  });

  it('codec/addr — MAC round-trips', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), (v) => {
      expect(parseMac(formatMac(v))).toBe(v);
    }));
  });
});

describe('codec/addr — parseValue', () => {
  it('codec/addr — accepts bigint, safe number, decimal, hex and binary strings', () => {
    expect(parseValue(5n, 8, 'f')).toBe(5n);
    expect(parseValue(5, 8, 'f')).toBe(5n);
    expect(parseValue('200', 8, 'f')).toBe(200n);
    expect(parseValue('0xff', 8, 'f')).toBe(255n);
    expect(parseValue('0b101', 8, 'f')).toBe(5n);
  });

  it('codec/addr — chooses the address form by width', () => {
    expect(parseValue('10.0.0.1', 32, 'f')).toBe(0x0a000001n);
    expect(parseValue('aa:bb:cc:dd:ee:ff', 48, 'f')).toBe(0xaabbccddeeffn);
    expect(parseValue('2001:db8::1', 128, 'f')).toBe(0x20010db8000000000000000000000001n);
    expect(() => parseValue('10.0.0.1', 16, "field 'port'")).toThrow(
      "field 'port': cannot read '10.0.0.1' as a bit<16> value (expected a decimal or 0x-hex numeral)",
    );
    expect(() => parseValue('aa:bb:cc:dd:ee:ff', 32, 'f')).toThrow(/or an IPv4 address like 10\.0\.0\.1/);
  });

  it('codec/addr — rejects unsafe numbers, suggesting a bigint', () => {
    expect(() => parseValue(2 ** 60, 64, 'f')).toThrow(/not a safe integer; pass a bigint/);
    expect(() => parseValue(1.5, 64, 'f')).toThrow(/not a safe integer/);
  });

  it('codec/addr — rejects values wider than the field, naming it', () => {
    const e = (() => {
      try {
        parseValue('0x1ff', 8, "field 'proto'");
      } catch (x) {
        return x as P4RuntimeError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(P4RuntimeError);
    expect(e?.code).toBe('VALUE_RANGE');
    expect(e?.message).toBe("field 'proto': value 511 (0x1ff) does not fit bit<8> (expected 0 .. 255)");
    expect(() => parseValue(-1, 8, 'f')).toThrow(/value -1 does not fit bit<8>/);
  });

  it('codec/addr — formatValue reads back through parseValue', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 9, 16, 32, 48, 64, 100, 128, 160), fc.bigInt({ min: 0n, max: (1n << 160n) - 1n }), (w, raw) => {
        const v = raw & ((1n << BigInt(w)) - 1n);
        expect(parseValue(formatValue(v, w), w, 'f')).toBe(v);
      }),
    );
  });
});
