import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p4, toLong } from 'p4runtime-ts/proto';
import { agreesWith, checkEncoded, checkGarbled, ld, nestedGroups, padded } from './decoder-test-fixtures.js';
import { decodeReadRequest } from './read-request-decoding.js';

type Entity = p4.v1.Entity.$Properties;

/** Holds decodeReadRequest to protobufjs on `bytes`: both throw the same error, or both mean the same request. */
const agrees = agreesWith(p4.v1.ReadRequest, decodeReadRequest);

const cell = (registerId: number, index?: number | bigint): Entity => ({
  registerEntry: index === undefined ? { registerId } : { registerId, index: { index: toLong(BigInt(index), true) } },
});

const entity: fc.Arbitrary<Entity> = fc.oneof(
  // Register-cell queries, the hand path: any register id (0 = every register), any index or none.
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
        fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })), { nil: undefined }),
      )
      .map(([id, i]) => cell(id, i)),
  },
  // Entities the general decoder reads.
  fc.constant<Entity>({ registerEntry: { registerId: 7, index: { index: 3 }, data: { bitstring: Uint8Array.of(1) } } }),
  fc.constant<Entity>({ registerEntry: {} }),
  fc.constant<Entity>({}),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((counterId): Entity => ({ counterEntry: { counterId, index: { index: 4 } } })),
  fc.constant<Entity>({ counterEntry: { counterId: 9 } }),
  fc.constant<Entity>({ tableEntry: { tableId: 33, match: [{ fieldId: 1, exact: { value: Uint8Array.of(10, 0, 0, 5) } }] } }),
  fc.constant<Entity>({ tableEntry: {} }),
  fc.constant<Entity>({ digestEntry: { digestId: 5 } }),
);

const request: fc.Arbitrary<p4.v1.ReadRequest.$Properties> = fc
  .tuple(fc.array(entity, { maxLength: 30 }), fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), fc.oneof(fc.constant(''), fc.string()))
  .map(([entities, deviceId, role]) => ({ deviceId: toLong(deviceId), entities, ...(role ? { role } : {}) }));

const encode = (req: p4.v1.ReadRequest.$Properties): Uint8Array => p4.v1.ReadRequest.encode(req).finish();

describe('read request decoding — register-cell queries by hand, the rest by protobufjs', () => {
  it('read request decoding — register-cell queries decode as protobufjs does, mixed with other entities, device ids and roles', () => {
    checkEncoded<p4.v1.ReadRequest.$Properties>(p4.v1.ReadRequest, decodeReadRequest, request, 500);
  });

  it('read request decoding — truncated, corrupted and spliced requests throw exactly when protobufjs throws, and otherwise mean the same', () => {
    checkGarbled<p4.v1.ReadRequest.$Properties>(p4.v1.ReadRequest, decodeReadRequest, request, 2000);
  });

  it('read request decoding — every prefix of a request decodes or throws as protobufjs does', () => {
    const bytes = encode({ deviceId: toLong(3n), role: 'r', entities: [cell(1, 2), cell(0x0500_0001), cell(2, 0), { counterEntry: { counterId: 9, index: { index: 1 } } }, cell(3, 2 ** 40)] });
    for (let n = 0; n <= bytes.length; n++) agrees(bytes.subarray(0, n));
  });

  it('read request decoding — encodings protobufjs reads its own way: over-long tags and lengths, wide ids, repeated fields, unknown fields and groups', () => {
    const ent = (body: number[], lenBytes = 1): number[] => ld(0x12, body, lenBytes);
    const reg = (body: number[], lenBytes = 1): number[] => ent(ld(0x5a, body, lenBytes));
    const cases: number[][] = [
      // Register-cell queries spelled unusually.
      reg([0x08, 0x01, 0x12, 0x00]), // empty Index: cell 0
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x05]), 0x12, 0x00]), // two indices: protobufjs merges them
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x05]), ...ld(0x12, [0x08, 0x06])]),
      reg([0x08, 0x01, 0x08, 0x00, 0x12, 0x00]), // register_id twice, last 0
      reg([0x08, ...padded(1, 5), 0x12, 0x00]), // register_id in five bytes
      reg([0x08, 0x80, 0x80, 0x80, 0x80, 0x10, 0x12, 0x00]), // register_id 2^32: protobufjs keeps the low 32 bits
      reg([0x08, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x12, 0x00]), // register_id 2^35 - 1
      reg([0x08, ...padded(1, 8), 0x12, 0x00]), // register_id in eight bytes
      reg([0x08, ...padded(1, 10), 0x12, 0x00]), // ... in ten
      reg([0x08, ...padded(1, 11), 0x12, 0x00]), // ... in eleven
      reg([...padded(0x08, 2), 0x01, 0x12, 0x00]), // register_id tag in two bytes
      reg([...padded(0x08, 5), 0x01, 0x12, 0x00]), // ... in five
      reg([...padded(0x08, 6), 0x01, 0x12, 0x00]), // ... in six
      reg([0x08, 0x01, ...padded(0x12, 5), 0x00]), // index tag in five bytes
      reg([0x08, 0x01, ...padded(0x12, 6), 0x00]), // ... in six
      reg([0x08, 0x01, ...ld(0x12, [...padded(0x08, 5), 0x03])]), // Index.index tag in five bytes
      reg([0x08, 0x01, ...ld(0x12, [...padded(0x08, 6), 0x03])]), // ... in six
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x03], 5)]), // Index length in five bytes
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x03], 6)]), // ... in six
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x03])], 5), // RegisterEntry length in five bytes
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x03])], 6), // ... in six
      ent([...padded(0x5a, 2), 0x02, 0x08, 0x01]), // register_entry tag in two bytes
      ent([...padded(0x5a, 6), 0x02, 0x08, 0x01]), // ... in six
      reg([0x08, 0x01, 0x1a, 0x00]), // data present
      reg([0x08, 0x01, 0x20, 0x01]), // unknown field in RegisterEntry
      ent([...ld(0x5a, [0x08, 0x01, 0x12, 0x00]), 0x5a, 0x00]), // register_entry twice
      ent([...ld(0x5a, [0x08, 0x01, 0x12, 0x00]), 0x3a, 0x00]), // then a counter_entry
      reg([0x08, 0x01, ...ld(0x12, [0x10, 0x01])]), // unknown field in Index
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x02, 0x08, 0x03])]), // Index.index twice
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x00])]), // index 0 spelled out
      reg([0x08, 0x01, ...ld(0x12, [0x08, ...padded(3, 10)])]), // index in ten bytes
      reg([0x08, 0x01, ...ld(0x12, [0x08, ...padded(3, 11)])]), // ... in eleven
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])]), // index 2^53 - 1
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10])]), // index 2^53
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), // index -1
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0xff])]), // index truncated inside its Index
      reg([0x08, 0x01, 0x12, 0x03, 0x08, 0x01]), // Index longer than its RegisterEntry
      [0x12, 0x07, 0x5a, 0x05, 0x08, 0x01, 0x12, 0x01, 0x00], // RegisterEntry longer than its Entity
      reg([]), // empty RegisterEntry
      [0x12, 0x01, 0x5a], // RegisterEntry without a length
      [0x12, 0x00], // empty Entity
      // The request's own framing.
      ld(0x12, [0x5a, 0x00], 1, 5), // entity tag in five bytes
      ld(0x12, [0x5a, 0x00], 1, 6), // ... in six
      ent([0x5a, 0x00], 5), // entity length in five bytes
      ent([0x5a, 0x00], 6), // ... in six
      [0x10, 0x01, ...ent([0x5a, 0x00])], // entities with the varint wire type: an unknown field
      [0x0a, 0x00, ...ent([0x5a, 0x00])], // device_id with the LEN wire type
      [0x08, ...padded(7, 10), ...ent([0x5a, 0x00])], // device_id in ten bytes
      [0x08, ...padded(7, 11), ...ent([0x5a, 0x00])], // ... in eleven
      [0x08, 0x07, 0x08, 0x00], // device_id twice, last 0
      [0x1a, 0x02, 0xc3, 0x28, ...ent([])], // role not UTF-8
      [0x1a, 0x01, 0x61, 0x1a, 0x00], // role twice, last empty
      [0x00, ...ent([0x5a, 0x00])], // field 0
      [0x23, 0x08, 0x01, 0x24, ...ent([0x5a, 0x00])], // unknown group
      [0x23, 0x08, 0x01, 0x2c, ...ent([0x5a, 0x00])], // unknown group ended by another field's end tag
      [0x28, ...padded(1, 12), ...ent([0x5a, 0x00])], // unknown varint in twelve bytes
      [0x29, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4], // unknown fixed64 and fixed32
      [0x29, 1, 2, 3], // ... truncated
      [0x2f, ...ent([])], // wire type 7
      ent([0x23, 0x24]), // group inside an Entity
    ];
    for (const c of cases) agrees(Uint8Array.from(c));
    // The same cases placed after a plain cell query, and followed by one.
    for (const c of cases) {
      agrees(Uint8Array.from([0x12, 0x06, 0x5a, 0x04, 0x08, 0x01, 0x12, 0x00, ...c]));
      agrees(Uint8Array.from([...c, 0x12, 0x06, 0x5a, 0x04, 0x08, 0x01, 0x12, 0x00]));
    }
  });

  it('read request decoding — an entity nested to protobufjs’ recursion limit fails as it does inside the whole request', () => {
    // Groups nested in an unknown Entity field: each level is one step of protobufjs' depth count.
    for (const depth of [98, 99, 100, 101, 102]) {
      const group = nestedGroups(13, depth);
      const len = padded(group.length, 2);
      agrees(Uint8Array.from([0x12, ...len, ...group]));
      agrees(Uint8Array.from([0x12, ...len, ...group, 0x12, 0x06, 0x5a, 0x04, 0x08, 0x01, 0x12, 0x00]));
    }
  });

  it('read request decoding — a register-cell query arrives as a plain entity the reader answers: number index, no index for every cell, register id 0 spelled out', () => {
    const req = decodeReadRequest(encode({ deviceId: toLong(1n), role: 'migrate', entities: [cell(0x0500_0001, 327_679), cell(0x0500_0001), cell(0x0500_0002, 0), cell(0), { counterEntry: { counterId: 9 } }] }));
    const [a, all, zero, every, counter] = req.entities;
    expect(a).toEqual({ entity: 'registerEntry', registerEntry: { registerId: 0x0500_0001, index: { index: 327_679 } } });
    expect(all?.registerEntry?.index).toBeUndefined();
    expect(all?.registerEntry?.index == null).toBe(true);
    expect(zero?.registerEntry?.index).toEqual({ index: 0 });
    expect(every).toEqual({ entity: 'registerEntry', registerEntry: { registerId: 0 } });
    expect(every?.registerEntry?.data == null).toBe(true);
    expect(counter).toBeInstanceOf(p4.v1.Entity);
    expect((counter as p4.v1.Entity).entity).toBe('counterEntry');
    expect(req.role).toBe('migrate');
    expect(req).toBeInstanceOf(p4.v1.ReadRequest);
  });

  it('read request decoding — a malformed request throws protobufjs’ own error', () => {
    const bytes = Uint8Array.from([0x12, 0x05, 0x5a, 0x03, 0x08]);
    expect(() => p4.v1.ReadRequest.decode(bytes)).toThrow();
    let expected = '';
    try {
      p4.v1.ReadRequest.decode(bytes);
    } catch (e) {
      expected = (e as Error).message;
    }
    expect(() => decodeReadRequest(bytes)).toThrow(expected);
  });
});
