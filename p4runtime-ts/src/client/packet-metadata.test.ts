import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBits, encodeBits } from '../codec/index.js';
import { P4Schema } from '../schema/index.js';
import type { ControllerHeaderInfo } from '../schema/index.js';
import { p4 } from '../proto/index.js';
import { EncodedPacketIn, decodeStreamResponse } from './encoded-packet-in.js';
import { decodeMetadata, decodePacketIn, encodeMetadata, encodePacketOut } from './packet-metadata.js';

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

  it('a PacketOut written straight to the wire is the message protobufjs encodes, or the same error', () => {
    const outcome = (f: () => Uint8Array): string => {
      try {
        return `ok ${Buffer.from(f()).toString('hex')}`;
      } catch (e) {
        return `error ${(e as Error).message}`;
      }
    };
    const anyValue = fc.constantFrom<unknown>(-1n, 1n << 66n, -1, 2 ** 40, '10.0.0.1', '0x1f', 1.5, undefined, 'x');
    fc.assert(
      fc.property(
        fc.tuple(...WIDTHS.map(valueOf)),
        fc.boolean(),
        fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 })),
        fc.option(fc.tuple(fc.integer({ min: 0, max: WIDTHS.length - 1 }), anyValue), { freq: 2 }),
        fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'f8x', '_pad'),
        (values, asNumbers, payload, odd, extra) => {
          const md: Record<string, unknown> = {};
          WIDTHS.forEach((w, i) => {
            const v = values[i] as bigint;
            md[`f${w}`] = asNumbers && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
          });
          // Sometimes one field holds something else: a string, a value out of range, nothing.
          if (odd) {
            const [i, v] = odd;
            if (v === undefined) delete md[`f${WIDTHS[i]}`];
            else md[`f${WIDTHS[i]}`] = v;
          }
          if (extra) md[extra] = 0n;
          const input = md as Record<string, bigint>;
          const ours = outcome(() => encodePacketOut(header, payload, input));
          expect(ours).toBe(outcome(() => p4.v1.StreamMessageRequest.encode({ packet: { payload, metadata: encodeMetadata(header, input) } }).finish()));
          if (!odd && !extra) expect(ours.startsWith('ok')).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
    expect(Buffer.from(encodePacketOut(undefined, Uint8Array.of(1, 2), {})).toString('hex')).toBe(Buffer.from(p4.v1.StreamMessageRequest.encode({ packet: { payload: Uint8Array.of(1, 2), metadata: [] } }).finish()).toString('hex'));
    expect(() => encodePacketOut(undefined, Uint8Array.of(1), { f8: 1 })).toThrow(/needs a P4Info/);
  });

  it('a packet-in decoded straight from the wire gives what protobufjs and decodeMetadata give, or the same error', () => {
    const outcome = (f: () => { payload: Uint8Array; metadata: Record<string, bigint> }): string => {
      try {
        const r = f();
        return `ok ${Buffer.from(r.payload).toString('hex')} ${JSON.stringify(r.metadata, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
      } catch (e) {
        return `error ${(e as Error).message}`;
      }
    };
    const entry = fc.record({
      id: fc.oneof(fc.integer({ min: 1, max: WIDTHS.length }), fc.constantFrom(0, 99, 1234)),
      value: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.constantFrom(new Uint8Array(0), new Uint8Array(17).fill(255))),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 18 }), fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 300 })), fc.boolean(), (md, payload, withHeader) => {
        const h = withHeader ? header : undefined;
        const metadata = md.map((m) => ({ metadataId: m.id, value: m.value }));
        const bytes = p4.v1.StreamMessageResponse.encode({ packet: { payload, metadata } }).finish();
        const msg = decodeStreamResponse(Buffer.from(bytes));
        expect(msg.packet).toBeInstanceOf(EncodedPacketIn);
        const p = msg.packet as EncodedPacketIn;
        const ours = outcome(() => decodePacketIn(h, p.buf, p.start, p.end));
        const reference = p4.v1.StreamMessageResponse.decode(bytes).packet as p4.v1.PacketIn;
        expect(ours).toBe(outcome(() => ({ payload: reference.payload, metadata: decodeMetadata(h, reference.metadata) })));
        // Read as a p4.v1.PacketIn, it decodes on demand to the same message.
        expect(p4.v1.PacketIn.toObject(p4.v1.PacketIn.fromObject({ payload: p.payload, metadata: p.metadata }))).toEqual(p4.v1.PacketIn.toObject(reference));
      }),
      { numRuns: 400 },
    );
    // Other messages, and a packet-in followed by anything else, go to protobufjs.
    const arbitration = Buffer.from(p4.v1.StreamMessageResponse.encode({ arbitration: { deviceId: 1 } }).finish());
    expect(decodeStreamResponse(arbitration).arbitration?.deviceId?.toString()).toBe('1');
    const twoFields = Buffer.concat([Buffer.from(p4.v1.StreamMessageResponse.encode({ packet: { payload: Uint8Array.of(1) } }).finish()), Buffer.from([0x30, 0x01])]);
    expect(decodeStreamResponse(twoFields).packet).not.toBeInstanceOf(EncodedPacketIn);
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
