import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBits, encodeBits } from '../codec/index.js';
import { P4Schema } from '../schema/index.js';
import type { ControllerHeaderInfo } from '../schema/index.js';
import { decodeMetadata, encodeMetadata } from './packet-metadata.js';

const WIDTHS = [1, 8, 9, 16, 31, 32, 33, 48, 52, 53, 54, 63, 64, 65, 128];

const schema = P4Schema.fromText(
  `controller_packet_metadata {
  preamble { id: 67121543 name: "packet_out" alias: "packet_out" annotations: "@controller_header(\\"packet_out\\")" }
${WIDTHS.map((w, i) => `  metadata { id: ${i + 1} name: "f${w}" bitwidth: ${w} }`).join('\n')}
  metadata { id: 99 name: "_pad" bitwidth: 7 }
}
`,
  'packet-metadata-test',
);
const header = schema.controllerHeader('packet_out') as ControllerHeaderInfo;

const valueOf = (w: number): fc.Arbitrary<bigint> =>
  fc.oneof(fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n }), fc.constantFrom(0n, (1n << BigInt(w)) - 1n, 1n << BigInt(w - 1)));

describe('packet metadata codec — compiled per header', () => {
  it('encodes every field in header order as the canonical bytestring, and decodes it back', () => {
    fc.assert(
      fc.property(fc.tuple(...WIDTHS.map(valueOf)), fc.boolean(), (values, asNumbers) => {
        const md: Record<string, bigint | number> = {};
        WIDTHS.forEach((w, i) => {
          const v = values[i] as bigint;
          md[`f${w}`] = asNumbers && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        });
        const out = encodeMetadata(header, md);
        expect(out.map((m) => m.metadataId)).toEqual([...WIDTHS.map((_, i) => i + 1), 99]);
        WIDTHS.forEach((w, i) => expect(Buffer.from(out[i]?.value ?? []).toString('hex')).toBe(Buffer.from(encodeBits(values[i] as bigint, w, 'ref')).toString('hex')));
        expect(out[WIDTHS.length]?.value).toEqual(Uint8Array.of(0));
        const back = decodeMetadata(header, out);
        WIDTHS.forEach((w, i) => expect(back[`f${w}`]).toBe(values[i]));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes padded bytestrings by value and keeps undeclared ids under #id', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WIDTHS), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 12 }), (w, raw, pad) => {
        const v = raw & ((1n << BigInt(w)) - 1n);
        const bytes = Buffer.concat([Buffer.alloc(pad), Buffer.from(encodeBits(v, w, 'ref'))]);
        const i = WIDTHS.indexOf(w);
        expect(decodeMetadata(header, [{ metadataId: i + 1, value: bytes }])).toEqual({ [`f${w}`]: v });
        expect(decodeMetadata(header, [{ metadataId: 1234, value: bytes }])).toEqual({ '#1234': decodeBits(bytes) });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what does not fit, naming the field; a misspelt name before a missing one', () => {
    const all = Object.fromEntries(WIDTHS.map((w) => [`f${w}`, 1n]));
    expect(() => encodeMetadata(header, { ...all, f9: 512n })).toThrow(/packet metadata 'f9' of 'packet_out'.*bit<9>/);
    expect(() => encodeMetadata(header, { ...all, f64: 1n << 64n })).toThrow(/'f64'.*bit<64>/);
    expect(() => encodeMetadata(header, { ...all, f8: -1 })).toThrow(/'f8'/);
    expect(() => encodeMetadata(header, { ...all, f8: 1.5 })).toThrow(/'f8'/);
    expect(() => encodeMetadata(header, { ...all, f8x: 1n })).toThrow(/did you mean 'f8'/);
    const { f16: _dropped, ...missing } = all;
    expect(() => encodeMetadata(header, missing)).toThrow(/packet metadata 'f16' of 'packet_out' is missing/);
    expect(() => encodeMetadata(header, { ...missing, f61: 1n })).toThrow(/did you mean/);
    expect([...(encodeMetadata(header, { ...all, f32: '10.0.0.1' })[5]?.value ?? [])]).toEqual([10, 0, 0, 1]);
    expect(() => decodeMetadata(header, [{ metadataId: 3, value: Uint8Array.of(2, 0) }])).toThrow(/packet metadata 'f9': 0x0200 does not fit bit<9>/);
    expect(() => decodeMetadata(header, [{ metadataId: 3, value: new Uint8Array(0) }])).toThrow(/'f9': an empty bytestring/);
  });
});
