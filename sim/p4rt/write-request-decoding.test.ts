import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p4, toLong } from 'p4runtime-ts/proto';
import { canonicalBytes } from './bytestring.js';
import { agreesWith, checkEncoded, checkGarbled, ld, nestedGroups, padded } from './decoder-test-fixtures.js';
import { decodeWriteRequest } from './write-request-decoding.js';

type Update = p4.v1.Update.$Properties;

/** A request as plain JSON (Longs and bytes as strings, defaults spelled out): two decodings compare equal iff they mean the same. */
const plain = (req: p4.v1.WriteRequest.$Properties): unknown =>
  p4.v1.WriteRequest.toObject(p4.v1.WriteRequest.decode(p4.v1.WriteRequest.encode(req).finish()), { longs: String, bytes: String, defaults: true, enums: String });

/** Holds decodeWriteRequest to protobufjs on `bytes`: both throw the same error, or both mean the same request. */
const agrees = agreesWith(p4.v1.WriteRequest, decodeWriteRequest);

const cell = (registerId: number, index: number | bigint, v: bigint, type = 2): Update => ({
  type,
  entity: { registerEntry: { registerId, index: { index: toLong(BigInt(index), true) }, data: { bitstring: canonicalBytes(v) } } },
});

const update: fc.Arbitrary<Update> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })), fc.bigInt({ min: 0n, max: (1n << 100n) - 1n }), fc.integer({ min: 0, max: 5 })).map(([id, i, v, t]) => cell(id, i, v, t)),
  fc.constant<Update>({ type: 2, entity: { registerEntry: { registerId: 7, index: { index: 3 }, data: { bool: true } } } }),
  fc.constant<Update>({ type: 2, entity: { registerEntry: { registerId: 7, data: { bitstring: Uint8Array.of(1) } } } }),
  fc.constant<Update>({ type: 2, entity: { counterEntry: { counterId: 9, index: { index: 4 }, data: { packetCount: toLong(3n), byteCount: toLong(99n) } } } }),
  fc.constant<Update>({ type: 1, entity: { tableEntry: { tableId: 33, match: [{ fieldId: 1, exact: { value: Uint8Array.of(10, 0, 0, 5) } }], action: { action: { actionId: 4 } } } } }),
  fc.constant<Update>({ type: 2 }),
);

/** A register-cell update of any spelling the encoder writes: any id, an index or none, a value or none, any type. */
const cellUpdate: fc.Arbitrary<Update> = fc
  .tuple(
    fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
    fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })), { nil: undefined, freq: 8 }),
    fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(canonicalBytes) },
        fc.bigInt({ min: 0n, max: (1n << 100n) - 1n }).map(canonicalBytes),
        fc.uint8Array({ maxLength: 12 }),
        fc.uint8Array({ minLength: 128, maxLength: 200 }),
      ),
      { nil: undefined, freq: 8 },
    ),
    fc.oneof({ weight: 6, arbitrary: fc.constant(2) }, fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, 0x7fff_ffff, -0x8000_0000)),
  )
  .map(([registerId, index, bitstring, type]): Update => ({
    type,
    entity: {
      registerEntry: {
        registerId,
        ...(index === undefined ? {} : { index: { index: toLong(BigInt(index), true) } }),
        ...(bitstring === undefined ? {} : { data: { bitstring } }),
      },
    },
  }));

/** Updates of every kind: register cells (the hand path) and what the general decoder reads. */
const anyUpdate: fc.Arbitrary<Update> = fc.oneof(
  { weight: 8, arbitrary: cellUpdate },
  update,
  fc.constant<Update>({ type: 2, entity: { registerEntry: { registerId: 7, index: { index: 3 }, data: { bool: false } } } }),
  fc.constant<Update>({ type: 2, entity: { registerEntry: {} } }),
  fc.constant<Update>({ type: 2, entity: {} }),
  fc.constant<Update>({}),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((counterId): Update => ({ type: 2, entity: { counterEntry: { counterId, index: { index: 4 } } } })),
  fc.constant<Update>({ type: 3, entity: { tableEntry: {} } }),
  fc.constant<Update>({ type: 1, entity: { digestEntry: { digestId: 5, config: { maxListSize: 3 } } } }),
  fc.constant<Update>({ type: 1, entity: { packetReplicationEngineEntry: { multicastGroupEntry: { multicastGroupId: 2, replicas: [{ instance: 1 }] } } } }),
);

const u64 = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));

const request: fc.Arbitrary<p4.v1.WriteRequest.$Properties> = fc
  .tuple(
    fc.array(anyUpdate, { maxLength: 30 }),
    u64,
    fc.option(fc.tuple(u64, u64), { nil: undefined }),
    fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 }), fc.constantFrom(7, -1)),
    fc.oneof(fc.constant(''), fc.string()),
    fc.option(u64, { nil: undefined, freq: 8 }),
  )
  .map(([updates, deviceId, election, atomicity, role, roleId]) => ({
    deviceId: toLong(deviceId),
    updates,
    atomicity,
    ...(election ? { electionId: { high: toLong(election[0]), low: toLong(election[1]) } } : {}),
    ...(role ? { role } : {}),
    ...(roleId === undefined ? {} : { roleId: toLong(roleId) }),
  }));

const encode = (req: p4.v1.WriteRequest.$Properties): Uint8Array => p4.v1.WriteRequest.encode(req).finish();

/** The message encoded, as numbers. */
const bytesOf = (req: p4.v1.WriteRequest.$Properties): number[] => [...encode(req)];

/** A varint of `v` in at least `bytes` bytes. */
const varint = (v: number, bytes: number): number[] => {
  let least = 1;
  for (let x = v; x >= 128; x = Math.floor(x / 128)) least++;
  return padded(v, Math.max(least, bytes));
};

/** How many bytes a tag or length prefix takes: mostly one, sometimes padded up to six. */
const spelling = fc.oneof({ weight: 30, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 6 }));

/** A length-delimited field `tag` holding `body`, its tag and length spelled in any number of bytes. */
const lenField = (tag: number, body: fc.Arbitrary<number[]>): fc.Arbitrary<number[]> => fc.tuple(spelling, spelling, body).map(([t, l, b]) => [...varint(tag, t), ...varint(b.length, l), ...b]);

/** A varint field `tag` holding one of `values`, its tag spelled in any number of bytes and the value padded up to eleven. */
const varintField = (tag: number, values: number[]): fc.Arbitrary<number[]> =>
  fc.tuple(spelling, fc.constantFrom(...values), fc.oneof({ weight: 20, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 11 }))).map(([t, v, n]) => [...varint(tag, t), ...varint(v, n)]);

/** A message of up to `most` fields from `parts`, in any order and number; most often exactly `usual`. */
const message = (usual: fc.Arbitrary<number[]>, parts: fc.Arbitrary<number[]>[], most = 4): fc.Arbitrary<number[]> =>
  fc.oneof({ weight: 8, arbitrary: usual }, fc.array(fc.oneof(...parts), { maxLength: most }).map((fields) => fields.flat()));

const concat = (...parts: fc.Arbitrary<number[]>[]): fc.Arbitrary<number[]> => fc.tuple(...parts).map((fields) => fields.flat());

/** Odd spellings of register-cell updates: padded tags, lengths and varints, wide ids and types, repeated, unknown and mistyped fields, groups. */
const oddIndex = message(varintField(0x08, [5]), [varintField(0x08, [0, 5, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64]), fc.constant([0x10, 0x01]), fc.constant([0x0a, 0x00]), fc.constant([0x0b, 0x0c])]);
const bitstring = lenField(0x0a, fc.uint8Array({ maxLength: 9 }).map((b) => [...b]));
const oddData = message(bitstring, [bitstring, fc.constant([0x18, 0x01]), fc.constant([0x08, 0x01]), fc.constant([0x50, 0x00])]);
const registerId = varintField(0x08, [0, 1, 0x0500_0001, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 35 - 1]);
const oddEntry = message(concat(registerId, lenField(0x12, oddIndex), lenField(0x1a, oddData)), [
  registerId,
  lenField(0x12, oddIndex),
  lenField(0x1a, oddData),
  fc.constant([0x20, 0x01]),
  fc.constant([0x0a, 0x00]),
  fc.constant([0x0d, 1, 2, 3, 4]),
  fc.constant([0x13, 0x14]),
]);
const oddEntity = message(lenField(0x5a, oddEntry), [lenField(0x5a, oddEntry), fc.constant([0x3a, 0x00]), fc.constant([0x68, 0x01]), fc.constant([0x6b, 0x6c])], 3);
const updateType = varintField(0x08, [0, 1, 2, 3, 4, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 2, 2 ** 64]);
const oddUpdate = message(concat(updateType, lenField(0x12, oddEntity)), [updateType, lenField(0x12, oddEntity), fc.constant([0x18, 0x01]), fc.constant([0x0a, 0x00]), fc.constant([0x1b, 0x1c])], 3);
const oddRequest = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: lenField(0x22, oddUpdate) },
      varintField(0x08, [0, 7]),
      lenField(0x1a, fc.constant([0x10, 0x02])),
      lenField(0x32, fc.constant([0x61])),
      varintField(0x28, [1]),
      fc.constant([0x3b, 0x08, 0x01, 0x3c]),
      fc.constant([0x20, 0x01]),
    ),
    { maxLength: 4 },
  )
  .map((fields) => Uint8Array.from(fields.flat()));

describe('write request decoding — register cells by hand, the rest by protobufjs', () => {
  it('write request decoding — means what protobufjs decodes: register cells of any index and width mixed with other updates, ids, roles and atomicity', () => {
    fc.assert(
      fc.property(fc.array(update, { maxLength: 30 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.oneof(fc.constant(''), fc.string()), fc.integer({ min: 0, max: 2 }), (updates, deviceId, election, role, atomicity) => {
        const req: p4.v1.WriteRequest.$Properties = { deviceId: toLong(deviceId), electionId: { high: toLong(0n), low: toLong(election) }, updates, atomicity, ...(role ? { role } : {}) };
        const bytes = p4.v1.WriteRequest.encode(req).finish();
        expect(plain(decodeWriteRequest(bytes))).toEqual(plain(p4.v1.WriteRequest.decode(bytes)));
      }),
      { numRuns: 300 },
    );
  });

  it('write request decoding — a register cell arrives as a plain update the sim applies: number index, bitstring view', () => {
    const bytes = p4.v1.WriteRequest.encode({ updates: [cell(0x0500_0001, 327_679, (1n << 64n) - 1n)] }).finish();
    const u = decodeWriteRequest(bytes).updates[0];
    expect(u?.type).toBe(2);
    expect(u?.entity?.registerEntry?.index?.index).toBe(327_679);
    expect(Buffer.from(u?.entity?.registerEntry?.data?.bitstring ?? []).toString('hex')).toBe('ffffffffffffffff');
  });

  it('write request decoding — a truncated or malformed message throws, as protobufjs does', () => {
    const bytes = p4.v1.WriteRequest.encode({ updates: [cell(1, 2, 3n), cell(1, 3, 4n)] }).finish();
    for (const cut of [1, 3, bytes.length - 1]) expect(() => decodeWriteRequest(bytes.subarray(0, cut))).toThrow();
    expect(() => decodeWriteRequest(Uint8Array.of(0x22, 0x05, 0x08))).toThrow(/index out of range/);
    expect(() => decodeWriteRequest(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toThrow();
  });

  it('write request decoding — register-cell updates re-encode as protobufjs’ decoding does, mixed with other updates, device and election ids, roles and atomicity', () => {
    checkEncoded<p4.v1.WriteRequest.$Properties>(p4.v1.WriteRequest, decodeWriteRequest, request, 500);
  });

  it('write request decoding — truncated, corrupted, spliced and random requests throw protobufjs’ error exactly when it throws, and otherwise mean the same', () => {
    checkGarbled<p4.v1.WriteRequest.$Properties>(p4.v1.WriteRequest, decodeWriteRequest, request, 3000);
    // Random bytes inside a well-framed register-cell update: the hand path's own fields, garbled.
    const framed = fc.uint8Array({ maxLength: 24 }).map((body) => Uint8Array.from(ld(0x22, [0x08, 0x02, ...ld(0x12, ld(0x5a, [...body]))])));
    fc.assert(fc.property(framed, agrees), { numRuns: 2000 });
  });

  it('write request decoding — register cells spelled every odd way (padded tags, lengths and varints, wide ids and types, repeated, unknown and mistyped fields, groups) decode or throw as protobufjs does', () => {
    fc.assert(fc.property(oddRequest, agrees), { numRuns: 4000 });
  });

  it('write request decoding — every prefix of a request decodes or throws as protobufjs does', () => {
    const bytes = encode({
      deviceId: toLong(3n),
      electionId: { high: toLong(0n), low: toLong(9n) },
      role: 'r',
      atomicity: 1,
      updates: [cell(1, 2, 0x1234n), cell(0x0500_0001, 0, (1n << 64n) - 1n), { type: 2, entity: { counterEntry: { counterId: 9, index: { index: 1 } } } }, cell(3, 2 ** 40, 1n << 70n), { type: 2, entity: { registerEntry: { registerId: 4, data: { bitstring: new Uint8Array(130).fill(7) } } } }],
    });
    for (let n = 0; n <= bytes.length; n++) agrees(bytes.subarray(0, n));
  });

  it('write request decoding — encodings protobufjs reads its own way: over-long tags and lengths, wide ids and types, repeated fields, unknown fields and groups', () => {
    const upd = (body: number[], lenBytes = 1, tagBytes = 1): number[] => ld(0x22, body, lenBytes, tagBytes);
    const ent = (body: number[], lenBytes = 1): number[] => upd([0x08, 0x02, ...ld(0x12, body, lenBytes)]);
    const reg = (body: number[], lenBytes = 1): number[] => ent(ld(0x5a, body, lenBytes));
    const idx = [0x12, 0x02, 0x08, 0x05]; // index 5
    const val = ld(0x1a, ld(0x0a, [0xab, 0xcd])); // bitstring abcd
    const cases: number[][] = [
      // Register-cell updates spelled unusually: the RegisterEntry.
      reg([0x08, 0x01, ...idx, ...val]), // plain
      reg([0x08, 0x01, 0x12, 0x00, ...val]), // empty Index: cell 0
      reg([0x08, 0x01, ...val]), // no index: every cell
      reg([0x08, 0x01, ...idx]), // no data
      reg([...val, ...idx, 0x08, 0x01]), // fields out of order
      reg([0x08, 0x01, ...idx, 0x12, 0x00, ...val]), // two indices: protobufjs merges them
      reg([0x08, 0x01, ...idx, ...ld(0x12, [0x08, 0x06]), ...val]),
      reg([0x08, 0x01, ...idx, ...val, ...ld(0x1a, ld(0x0a, [0x01]))]), // two data: merged, the last bitstring wins
      reg([0x08, 0x01, ...idx, ...val, ...ld(0x1a, [0x18, 0x01])]), // ... the second a bool
      reg([0x08, 0x01, 0x08, 0x00, ...idx, ...val]), // register_id twice, last 0
      reg([0x08, ...padded(1, 5), ...idx, ...val]), // register_id in five bytes
      reg([0x08, 0x80, 0x80, 0x80, 0x80, 0x10, ...idx, ...val]), // register_id 2^32: protobufjs keeps the low 32 bits
      reg([0x08, 0x81, 0x80, 0x80, 0x80, 0x10, ...idx, ...val]), // register_id 2^32 + 1
      reg([0x08, 0xff, 0xff, 0xff, 0xff, 0x0f, ...idx, ...val]), // register_id 2^32 - 1
      reg([0x08, 0xff, 0xff, 0xff, 0xff, 0x7f, ...idx, ...val]), // register_id 2^35 - 1
      reg([0x08, ...padded(1, 8), ...idx, ...val]), // register_id in eight bytes
      reg([0x08, ...padded(1, 10), ...idx, ...val]), // ... in ten
      reg([0x08, ...padded(1, 11), ...idx, ...val]), // ... in eleven
      reg([...padded(0x08, 2), 0x01, ...idx, ...val]), // register_id tag in two bytes
      reg([...padded(0x08, 5), 0x01, ...idx, ...val]), // ... in five
      reg([...padded(0x08, 6), 0x01, ...idx, ...val]), // ... in six
      reg([0x08, 0x01, ...padded(0x12, 2), 0x02, 0x08, 0x05, ...val]), // index tag in two bytes
      reg([0x08, 0x01, ...padded(0x12, 6), 0x02, 0x08, 0x05, ...val]), // ... in six
      reg([0x08, 0x01, ...ld(0x12, [...padded(0x08, 5), 0x03]), ...val]), // Index.index tag in five bytes
      reg([0x08, 0x01, ...ld(0x12, [...padded(0x08, 6), 0x03]), ...val]), // ... in six
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x03], 2), ...val]), // Index length in two bytes
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x03], 5), ...val]), // ... in five
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x03], 6), ...val]), // ... in six
      reg([0x08, 0x01, ...idx, ...padded(0x1a, 2), 0x04, 0x0a, 0x02, 0xab, 0xcd]), // data tag in two bytes
      reg([0x08, 0x01, ...idx, ...padded(0x1a, 6), 0x04, 0x0a, 0x02, 0xab, 0xcd]), // ... in six
      reg([0x08, 0x01, ...idx, ...ld(0x1a, ld(0x0a, [0xab]), 5)]), // data length in five bytes
      reg([0x08, 0x01, ...idx, ...ld(0x1a, ld(0x0a, [0xab]), 6)]), // ... in six
      reg([0x08, 0x01, ...idx, ...ld(0x1a, ld(0x0a, [0xab], 1, 2))]), // bitstring tag in two bytes
      reg([0x08, 0x01, ...idx, ...ld(0x1a, ld(0x0a, [0xab], 1, 6))]), // ... in six
      reg([0x08, 0x01, ...idx, ...ld(0x1a, ld(0x0a, [0xab], 5))]), // bitstring length in five bytes
      reg([0x08, 0x01, ...idx, ...ld(0x1a, ld(0x0a, [0xab], 6))]), // ... in six
      reg([0x08, 0x01, ...idx, ...ld(0x1a, [...ld(0x0a, [0x01]), ...ld(0x0a, [0x02])])]), // bitstring twice
      reg([0x08, 0x01, ...idx, ...ld(0x1a, [...ld(0x0a, [0x01]), 0x18, 0x01])]), // bitstring, then bool
      reg([0x08, 0x01, ...idx, ...ld(0x1a, [0x18, 0x01])]), // bool
      reg([0x08, 0x01, ...idx, ...ld(0x1a, [0x0a, 0x00])]), // empty bitstring
      reg([0x08, 0x01, ...idx, 0x1a, 0x00]), // empty P4Data
      reg([0x08, 0x01, ...idx, ...ld(0x1a, ld(0x0a, Array<number>(200).fill(0x5a)))]), // 200-byte bitstring
      reg([0x08, 0x01, ...idx, ...ld(0x1a, [...ld(0x0a, [0x01]), 0x50, 0x01])]), // unknown field in P4Data
      reg([0x08, 0x01, ...idx, ...val, 0x20, 0x01]), // unknown field in RegisterEntry
      reg([0x08, 0x01, 0x0a, 0x00, ...idx, ...val]), // register_id with the LEN wire type, after a real one
      reg([0x08, 0x01, ...idx, ...val, 0x15, 1, 2, 3, 4]), // index with the fixed32 wire type, after a real one
      reg([0x08, 0x01, ...ld(0x12, [0x10, 0x01]), ...val]), // unknown field in Index
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x05, 0x0a, 0x00]), ...val]), // Index.index with the LEN wire type, after a real one
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x02, 0x08, 0x03]), ...val]), // Index.index twice
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x00]), ...val]), // index 0 spelled out
      reg([0x08, 0x01, ...ld(0x12, [0x08, ...padded(3, 10)]), ...val]), // index in ten bytes
      reg([0x08, 0x01, ...ld(0x12, [0x08, ...padded(3, 11)]), ...val]), // ... in eleven
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), ...val]), // index 2^53 - 1
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]), ...val]), // index 2^53
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), ...val]), // index -1
      reg([0x08, 0x01, ...ld(0x12, [0x08, 0xff]), ...val]), // index truncated inside its Index
      reg([0x08, 0x01, 0x12, 0x03, 0x08, 0x01]), // Index longer than its RegisterEntry
      reg([0x08, 0x01, ...idx, 0x1a, 0x04, 0x0a, 0x01]), // P4Data longer than its RegisterEntry
      reg([0x08, 0x01, ...idx, ...ld(0x1a, [0x0a, 0x03, 0x01])]), // bitstring longer than its P4Data
      reg([]), // empty RegisterEntry
      // ... the Entity.
      ent([...padded(0x5a, 2), 0x02, 0x08, 0x01]), // register_entry tag in two bytes
      ent([...padded(0x5a, 6), 0x02, 0x08, 0x01]), // ... in six
      ent(ld(0x5a, [0x08, 0x01, ...idx, ...val], 5)), // RegisterEntry length in five bytes
      ent(ld(0x5a, [0x08, 0x01, ...idx, ...val], 6)), // ... in six
      ent([...ld(0x5a, [0x08, 0x01, ...idx]), ...ld(0x5a, val)]), // register_entry twice: merged
      ent([...ld(0x5a, [0x08, 0x01, ...idx, ...val]), 0x3a, 0x00]), // then a counter_entry
      ent([...ld(0x5a, [0x08, 0x01, ...idx, ...val]), 0x68, 0x01]), // then an unknown field
      upd([0x08, 0x02, 0x12, 0x07, 0x5a, 0x05, 0x08, 0x01, 0x12, 0x01, 0x00]), // RegisterEntry longer than its Entity
      upd([0x08, 0x02, 0x12, 0x01, 0x5a]), // RegisterEntry without a length
      ent([]), // empty Entity
      // ... the Update.
      upd([0x08, 0x02]), // no entity
      upd([]), // empty update
      upd([...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // no type: UNSPECIFIED
      upd([0x08, 0x00, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type 0 spelled out
      upd([...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val])), 0x08, 0x02]), // type after the entity
      upd([0x08, 0x01, 0x08, 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type twice
      upd([0x08, 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx])), ...ld(0x12, ld(0x5a, val))]), // entity twice: merged
      upd([0x08, 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val])), 0x18, 0x01]), // unknown field in the Update
      upd([0x08, 0x04, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type 4: no such type
      upd([0x08, ...padded(2, 10), ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type in ten bytes
      upd([0x08, ...padded(2, 11), ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // ... in eleven
      upd([0x08, 0xff, 0xff, 0xff, 0xff, 0x07, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type 2^31 - 1
      upd([0x08, 0x80, 0x80, 0x80, 0x80, 0x08, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type 2^31: int32 -2^31
      upd([0x08, 0x82, 0x80, 0x80, 0x80, 0x10, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type 2^32 + 2: int32 2
      upd([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type -1
      upd([0x0a, 0x00, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type with the LEN wire type
      upd([0x08, 0x02, 0x0a, 0x00, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // ... after a real one
      upd([0x08, 0x02, 0x10, 0x04, 0x5a, 0x02, 0x08, 0x01]), // entity with the varint wire type: an unknown field, then another
      upd([...padded(0x08, 2), 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))]), // type tag in two bytes
      upd([0x08, 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]), 1, 2)]), // entity tag in two bytes
      upd([0x08, 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]), 1, 6)]), // ... in six
      ent(ld(0x5a, [0x08, 0x01, ...idx, ...val]), 5), // entity length in five bytes
      ent(ld(0x5a, [0x08, 0x01, ...idx, ...val]), 6), // ... in six
      upd([0x08, 0x02, 0x12, 0x05, 0x5a, 0x03, 0x08, 0x01]), // Entity longer than its Update
      // The request's own framing.
      upd([0x08, 0x02], 1, 5), // update tag in five bytes
      upd([0x08, 0x02], 1, 6), // ... in six (protobufjs: invalid tag encoding)
      upd([0x08, 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))], 5), // update length in five bytes
      upd([0x08, 0x02, ...ld(0x12, ld(0x5a, [0x08, 0x01, ...idx, ...val]))], 6), // ... in six
      [0x20, 0x01, ...upd([0x08, 0x02])], // updates with the varint wire type: an unknown field
      [0x23, 0x08, 0x01, 0x24], // updates as a group
      [0x0a, 0x00, ...upd([0x08, 0x02])], // device_id with the LEN wire type
      [0x08, ...padded(7, 10), ...upd([0x08, 0x02])], // device_id in ten bytes
      [0x08, ...padded(7, 11), ...upd([0x08, 0x02])], // ... in eleven
      [0x08, 0x07, 0x08, 0x00], // device_id twice, last 0
      [...ld(0x1a, [0x08, 0x01]), ...upd([0x08, 0x02]), ...ld(0x1a, [0x10, 0x02])], // election_id twice, around an update: merged
      [...ld(0x1a, [0x08, 0x01, 0x13, 0x14]), ...upd([0x08, 0x02])], // a group inside election_id
      [0x10, 0x05, ...upd([0x08, 0x02])], // role_id
      [0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // atomicity -1
      [0x28, 0x01, 0x28, 0x00], // atomicity twice, last 0
      [0x32, 0x02, 0xc3, 0x28, ...upd([])], // role not UTF-8
      [0x32, 0x01, 0x61, 0x32, 0x00], // role twice, last empty
      [0x00, ...upd([0x08, 0x02])], // field 0
      [0x3b, 0x08, 0x01, 0x3c, ...upd([0x08, 0x02])], // unknown group (protobufjs skips it)
      [0x3b, 0x08, 0x01, 0x4c, ...upd([0x08, 0x02])], // unknown group ended by another field's end tag
      [0x3b, 0x43, 0x44, 0x3c], // unknown groups nested
      [0x3b, 0x08, 0x01], // unknown group never ended
      [0x3c, ...upd([0x08, 0x02])], // an end tag with no group
      [0x38, ...padded(1, 12), ...upd([0x08, 0x02])], // unknown varint in twelve bytes
      [0x39, 1, 2, 3, 4, 5, 6, 7, 8, 0x3d, 1, 2, 3, 4], // unknown fixed64 and fixed32
      [0x39, 1, 2, 3], // ... truncated
      [0x3f, ...upd([])], // wire type 7
      [0x3e, ...upd([])], // wire type 6
      upd([0x08, 0x02, 0x1b, 0x1c]), // group inside an Update
      ent([0x6b, 0x6c]), // group inside an Entity
      reg([0x08, 0x01, 0x23, 0x24]), // group inside a RegisterEntry
      reg([0x08, 0x01, ...ld(0x1a, [0x5b, 0x5c])]), // group inside a P4Data
    ];
    for (const c of cases) agrees(Uint8Array.from(c));
    // The same cases placed after a plain register-cell update, and followed by one.
    const plainCell = bytesOf({ updates: [cell(1, 5, 0xabcdn)] });
    for (const c of cases) {
      agrees(Uint8Array.from([...plainCell, ...c]));
      agrees(Uint8Array.from([...c, ...plainCell]));
    }
  });

  it('write request decoding — the two encodings the old hand decoder got wrong: a six-byte update tag is rejected, a top-level unknown group is skipped', () => {
    const overlong = Uint8Array.from([0xa2, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00]);
    expect(() => p4.v1.WriteRequest.decode(overlong)).toThrow('invalid tag encoding');
    expect(() => decodeWriteRequest(overlong)).toThrow('invalid tag encoding');
    const group = Uint8Array.from([0x3b, 0x08, 0x01, 0x3c, ...bytesOf({ updates: [cell(1, 5, 0xabcdn)] })]);
    const req = decodeWriteRequest(group);
    expect(req.updates).toHaveLength(1);
    // The hand walk stops at the group and protobufjs decodes the whole request (a Long index).
    expect(String(req.updates[0]?.entity?.registerEntry?.index?.index)).toBe('5');
    agrees(group);
  });

  it('write request decoding — an update nested to protobufjs’ recursion limit fails as it does inside the whole request', () => {
    // Groups nested in an unknown field: each level is one step of protobufjs' depth count.
    const after = bytesOf({ updates: [cell(1, 5, 0xabcdn)] });
    for (const depth of [97, 98, 99, 100, 101, 102]) {
      const inUpdate = nestedGroups(3, depth); // an unknown Update field
      const inEntity = ld(0x12, nestedGroups(13, depth)); // an unknown Entity field
      for (const body of [inUpdate, [0x08, 0x02, ...inEntity]]) {
        const u = [0x22, ...padded(body.length, 2), ...body];
        agrees(Uint8Array.from(u));
        agrees(Uint8Array.from([...u, ...after]));
        agrees(Uint8Array.from([...after, ...u]));
      }
      agrees(Uint8Array.from([...nestedGroups(7, depth), ...after])); // an unknown WriteRequest field
    }
  });

  it('write request decoding — a register cell arrives as the plain update the sim’s writer reads; other updates and the request’s fields as protobufjs gives them', () => {
    const req = decodeWriteRequest(
      encode({
        deviceId: toLong(1n),
        role: 'migrate',
        atomicity: 1,
        electionId: { high: toLong(0n), low: toLong(5n) },
        updates: [
          cell(0x0500_0001, 327_679, 0x0102_0304_0506_0708n),
          { type: 2, entity: { registerEntry: { registerId: 0x0500_0002, data: { bitstring: Uint8Array.of(9) } } } },
          cell(0x0500_0003, 0, 0n, 0),
          { type: 2, entity: { counterEntry: { counterId: 9, index: { index: 1 } } } },
        ],
      }),
    );
    const [a, every, zero, counter] = req.updates;
    const bitstring = a?.entity?.registerEntry?.data?.bitstring;
    expect(bitstring).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(bitstring ?? []).toString('hex')).toBe('0102030405060708');
    expect(a).toEqual({ type: 2, entity: { entity: 'registerEntry', registerEntry: { registerId: 0x0500_0001, index: { index: 327_679 }, data: { bitstring } } } });
    expect((a?.entity as { entity?: string } | undefined)?.entity).toBe('registerEntry');
    expect(every?.entity?.registerEntry?.index == null).toBe(true);
    expect(zero?.type ?? 0).toBe(0);
    expect(zero?.entity?.registerEntry?.index).toEqual({ index: 0 });
    expect(Buffer.from(zero?.entity?.registerEntry?.data?.bitstring ?? Uint8Array.of(1)).toString('hex')).toBe('00');
    expect(counter).toBeInstanceOf(p4.v1.Update);
    expect((counter?.entity as p4.v1.Entity).entity).toBe('counterEntry');
    expect(req).toBeInstanceOf(p4.v1.WriteRequest);
    expect(req.role).toBe('migrate');
    expect(req.atomicity).toBe(1);
    expect(String(req.deviceId)).toBe('1');
    expect(String(req.electionId?.low)).toBe('5');
    expect(decodeWriteRequest(encode({ deviceId: toLong(1n) })).updates).toEqual([]);
  });

  it('write request decoding — a malformed request throws protobufjs’ own error', () => {
    for (const bytes of [Uint8Array.from([0x22, 0x07, 0x08, 0x02, 0x12, 0x03, 0x5a, 0x01, 0x08]), Uint8Array.from([0x22, 0x05, 0x08]), Uint8Array.from([0x08, ...padded(1, 11)])]) {
      let expected = '';
      try {
        p4.v1.WriteRequest.decode(bytes);
      } catch (e) {
        expected = (e as Error).message;
      }
      expect(expected).not.toBe('');
      expect(() => decodeWriteRequest(bytes)).toThrow(expected);
    }
  });
});
