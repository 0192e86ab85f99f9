import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { p4, toLong } from '../proto/index.js';
import { decodeEntity } from './entity-codec.js';
import { ReadDecoder } from './read-decoder.js';
import { codecSchema } from './testing/codec-p4info.js';

const schema = codecSchema();
const decoder = new ReadDecoder(schema);

/** What the general path makes of one ReadResponse: each entity decoded, or the first error. */
function general(res: Uint8Array): string {
  try {
    return JSON.stringify(p4.v1.ReadResponse.decode(res).entities.map((e) => decodeEntity(schema, e)), show);
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}
function fast(res: Uint8Array): string {
  try {
    return JSON.stringify([...decoder.response(res)], show);
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}
const show = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : v);
const encode = (entities: p4.v1.Entity.$Properties[]): Uint8Array => p4.v1.ReadResponse.encode({ entities }).finish();

const bytes = fc.uint8Array({ minLength: 0, maxLength: 18 });
const fieldMatch: fc.Arbitrary<p4.v1.FieldMatch.$Properties> = fc.oneof(
  fc.record({ fieldId: fc.integer({ min: 0, max: 5 }), exact: fc.record({ value: bytes }) }),
  fc.record({ fieldId: fc.integer({ min: 0, max: 5 }), lpm: fc.record({ value: bytes, prefixLen: fc.integer({ min: -1, max: 40 }) }) }),
  fc.record({ fieldId: fc.integer({ min: 0, max: 5 }), ternary: fc.record({ value: bytes, mask: bytes }, { requiredKeys: ['value'] }) }),
  fc.record({ fieldId: fc.integer({ min: 0, max: 5 }), range: fc.record({ low: bytes, high: bytes }) }),
  fc.record({ fieldId: fc.integer({ min: 0, max: 5 }), optional: fc.record({ value: bytes }) }),
);
const tableEntry: fc.Arbitrary<p4.v1.TableEntry.$Properties> = fc.record(
  {
    tableId: fc.constantFrom(33554433, 33554434, 33554435, 0),
    match: fc.array(fieldMatch, { maxLength: 4 }),
    action: fc.oneof(
      fc.record({ action: fc.record({ actionId: fc.constantFrom(16777217, 16777218, 5), params: fc.array(fc.record({ paramId: fc.integer({ min: 0, max: 3 }), value: bytes }), { maxLength: 3 }) }) }),
      fc.record({ actionProfileMemberId: fc.nat() }),
    ),
    priority: fc.integer({ min: -2, max: 0x7fffffff }),
    isDefaultAction: fc.boolean(),
    idleTimeoutNs: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((v) => toLong(v, true)),
    timeSinceLastHit: fc.record({ elapsedNs: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map((v) => toLong(v, true)) }),
    counterData: fc.record({ byteCount: fc.bigInt({ min: 0n, max: 1n << 40n }).map((v) => toLong(v, true)), packetCount: fc.nat().map((v) => toLong(BigInt(v), true)) }),
    metadata: bytes,
    const: fc.boolean(),
  },
  { requiredKeys: ['tableId'] },
);

describe('read decoder', () => {
  afterEach(() => vi.restoreAllMocks());

  it('read decoder — any table entries decode as the general path decodes them: same values or the same error', () => {
    fc.assert(
      fc.property(fc.array(tableEntry, { minLength: 1, maxLength: 3 }), (entries) => {
        const res = encode(entries.map((tableEntry) => ({ tableEntry })));
        expect(fast(res)).toBe(general(res));
      }),
      { numRuns: 1500 },
    );
  });

  it('read decoder — well-formed entries of every match kind decode without protobuf objects', () => {
    const te = vi.spyOn(p4.v1.TableEntry, 'decode');
    const entity = vi.spyOn(p4.v1.Entity, 'decode');
    const res = encode([
      { tableEntry: { tableId: 33554433, match: [{ fieldId: 3, exact: { value: Uint8Array.of(10, 0, 0, 5) } }, { fieldId: 4, exact: { value: new Uint8Array(16).fill(0xff) } }, { fieldId: 2, exact: { value: Uint8Array.of(0, 7) } }], action: { action: { actionId: 16777217, params: [{ paramId: 1, value: Uint8Array.of(1, 0xff) }, { paramId: 3, value: new Uint8Array(9).fill(1) }] } }, counterData: { byteCount: toLong(5n, true) }, timeSinceLastHit: {}, metadata: Uint8Array.of(9) } },
      { tableEntry: { tableId: 33554434, match: [{ fieldId: 1, lpm: { value: Uint8Array.of(10, 0, 0, 0), prefixLen: 8 } }, { fieldId: 2, range: { low: Uint8Array.of(80), high: Uint8Array.of(1, 187) } }, { fieldId: 3, ternary: { value: Uint8Array.of(6), mask: Uint8Array.of(0xff) } }, { fieldId: 4, optional: { value: Uint8Array.of(7) } }], action: { action: { actionId: 16777217, params: [{ paramId: 1, value: Uint8Array.of(3) }] } }, priority: 10 } },
    ]);
    const out = [...decoder.response(res)];
    expect(te).not.toHaveBeenCalled();
    expect(entity).not.toHaveBeenCalled();
    expect(out[0]).toEqual({
      kind: 'table', table: 'ingress.flows', action: 'ingress.set', priority: 0, isDefault: false, idleTimeoutNs: 0n, elapsedNs: 0n,
      match: { 'hdr.ipv4.dst': { kind: 'exact', value: 0x0a000005n }, 'hdr.ipv6.dst': { kind: 'exact', value: (1n << 128n) - 1n }, 'meta.port': { kind: 'exact', value: 7n } },
      params: { port: 511n, tag: BigInt(`0x${'01'.repeat(9)}`) }, counter: { bytes: 5n, packets: 0n }, metadata: Buffer.of(9),
    });
    expect(out[1]).toMatchObject({
      table: 'ingress.mixed', priority: 10,
      match: { 'hdr.ipv4.src': { kind: 'lpm', value: 0x0a000000n, prefixLen: 8 }, 'hdr.tcp.dport': { kind: 'range', low: 80n, high: 443n }, 'hdr.ipv4.proto': { kind: 'ternary', value: 6n, mask: 255n }, 'meta.vlan': { kind: 'optional', value: 7n } },
    });
    expect(fast(res)).toBe(general(res));
  });

  it('read decoder — any register cells decode as the general path decodes them: same values or the same error', () => {
    const registerEntry: fc.Arbitrary<p4.v1.RegisterEntry.$Properties> = fc.record(
      {
        registerId: fc.constantFrom(369098753, 369098754, 369098755, 0),
        index: fc.record({ index: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map((v) => toLong(v, true)) }),
        data: fc.oneof(fc.record({ bitstring: bytes }), fc.record({ bool: fc.boolean() }), fc.constant({})),
      },
      { requiredKeys: ['registerId'] },
    );
    fc.assert(
      fc.property(fc.array(registerEntry, { maxLength: 5 }), (cells) => {
        const res = encode(cells.map((registerEntry) => ({ registerEntry })));
        expect(fast(res)).toBe(general(res));
      }),
      { numRuns: 400 },
    );
  });

  it('read decoder — 64-bit cells of every length up to 8 bytes, padded or not, decode to their value; 9 significant bytes are refused as the general path refuses them', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 3 }), (v, pad) => {
        const hex = v.toString(16);
        const body = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
        const bitstring = Uint8Array.from([...new Array<number>(pad).fill(0), ...body]);
        const res = encode([{ registerEntry: { registerId: 369098755, index: { index: toLong(5n, true) }, data: { bitstring } } }]);
        expect([...decoder.response(res)]).toEqual([{ kind: 'register', register: 'ingress.wide', index: 5, value: v }]);
      }),
      { numRuns: 500 },
    );
    const tooWide = encode([{ registerEntry: { registerId: 369098755, index: { index: toLong(5n, true) }, data: { bitstring: Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0) } } }]);
    expect(fast(tooWide)).toBe(general(tooWide));
    expect(fast(tooWide)).toMatch(/^error /);
  });

  it('read decoder — register cells of an unsigned register take the wire path: no protobuf objects', () => {
    const spy = vi.spyOn(p4.v1.Entity, 'decode');
    const res = encode([0, 1, 7].map((i) => ({ registerEntry: { registerId: 369098753, index: { index: toLong(BigInt(i), true) }, data: { bitstring: Uint8Array.of(i, 1) } } })));
    expect([...decoder.response(res)]).toEqual([0, 1, 7].map((i) => ({ kind: 'register', register: 'ingress.r', index: i, value: BigInt(i * 256 + 1) })));
    expect(spy).not.toHaveBeenCalled();
  });

  it('read decoder — other entity kinds and malformed bytes go through the general path with its results and errors', () => {
    const res = encode([{ registerEntry: { registerId: 369098753, index: { index: toLong(3n, true) }, data: { bitstring: Uint8Array.of(1, 2) } } }, { tableEntry: { tableId: 33554433 } }]);
    expect(fast(res)).toBe(general(res));
    expect(JSON.parse(fast(res), (_k, v: unknown) => v)[0]).toMatchObject({ kind: 'register', register: 'ingress.r', index: 3, value: '258n' });
    const truncated = res.subarray(0, res.length - 3);
    expect(fast(truncated)).toMatch(/^error /);
    expect(fast(truncated)).toBe(general(truncated));
  });
});
