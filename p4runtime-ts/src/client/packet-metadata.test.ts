import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBits, decodeBitsChecked, encodeBits, parseValue } from '../codec/index.js';
import type { ValueInput } from '../codec/index.js';
import { P4RuntimeError } from '../errors.js';
import type { p4 } from '../proto/index.js';
import type { ControllerHeaderInfo } from '../schema/index.js';
import { decodePacketMetadata, encodePacketMetadata } from './entity-codec.js';
import { codecSchema } from './testing/codec-p4info.js';

const header = codecSchema().controllerHeader('packet_out') as ControllerHeaderInfo;

/** The codec as it was before compilation: the reference the compiled one must agree with. */
function referenceEncode(h: ControllerHeaderInfo, md: Readonly<Record<string, ValueInput>>): p4.v1.PacketMetadata.$Properties[] {
  const given = new Map<number, ValueInput>();
  for (const name of Object.keys(md)) given.set(h.metadataField(name).id, md[name] as ValueInput);
  return h.metadata.map((f) => {
    const what = `packet metadata '${f.name}' of '${h.name}'`;
    let v = given.get(f.id);
    if (v === undefined) {
      if (!(f.name.startsWith('_') || f.annotations.some((a) => a.name === 'padding'))) {
        throw new P4RuntimeError('VALUE_RANGE', `${what} is missing; give a value for every field of '${h.name}' (${h.metadata.map((m) => m.name).join(', ')}); padding fields default to 0`);
      }
      v = 0n;
    }
    return { metadataId: f.id, value: encodeBits(parseValue(v, f.bitwidth, what), f.bitwidth, what) };
  });
}
function referenceDecode(h: ControllerHeaderInfo, md: readonly p4.v1.PacketMetadata.$Properties[]): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const m of md) {
    const info = h.metadata.find((x) => x.id === (m.metadataId ?? 0));
    const bytes = m.value ?? new Uint8Array();
    out[info ? info.name : `#${m.metadataId ?? 0}`] = info ? decodeBitsChecked(bytes, info.bitwidth, `packet metadata '${info.name}'`) : decodeBits(bytes);
  }
  return out;
}
const outcome = (f: () => unknown): string => {
  try {
    const r = f();
    // Metadata as [id, hex] pairs: a Buffer and a Uint8Array of the same bytes are the same value.
    const shown = Array.isArray(r) ? (r as p4.v1.PacketMetadata.$Properties[]).map((m) => [m.metadataId, Buffer.from(m.value ?? []).toString('hex')]) : r;
    return JSON.stringify(shown, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
};

const anyValue = fc.oneof(fc.integer({ min: -2, max: 2 ** 40 }), fc.bigInt({ min: -1n, max: 1n << 70n }), fc.constantFrom('10.0.0.1', 'aa:bb:cc:dd:ee:ff', '0x10', '7', 'x', 1.5));

describe('packet metadata', () => {
  it('packet metadata — encoding by name gives what the uncompiled codec gave: same fields and bytes, or the same error', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('op', '_pad', 'slot', 'value', 'reserved', 'addr', 'slott'), anyValue as fc.Arbitrary<ValueInput>, { maxKeys: 7 }), (md) => {
        expect(outcome(() => encodePacketMetadata(header, md))).toBe(outcome(() => referenceEncode(header, md)));
      }),
      { numRuns: 1000 },
    );
  });

  it('packet metadata — every field goes out in header order, padding fields as 0', () => {
    const md = encodePacketMetadata(header, { op: 1, slot: '10.0.0.1', value: 1n << 63n, addr: 'aa:bb:cc:dd:ee:ff' });
    expect(md.map((m) => [m.metadataId, Buffer.from(m.value ?? []).toString('hex')])).toEqual([[1, '01'], [2, '00'], [3, '0a000001'], [4, '8000000000000000'], [5, '00'], [6, 'aabbccddeeff']]);
  });

  it('packet metadata — decoding by id gives what the uncompiled codec gave, unknown ids kept as #id', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ metadataId: fc.integer({ min: 0, max: 8 }), value: fc.uint8Array({ maxLength: 9 }) }), { maxLength: 8 }), (md) => {
        expect(outcome(() => decodePacketMetadata(header, md))).toBe(outcome(() => referenceDecode(header, md)).replace(/packet metadata '([^']*)':/g, `packet metadata '$1' of 'packet_out':`));
      }),
      { numRuns: 1000 },
    );
  });
});
