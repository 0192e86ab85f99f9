import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p4, toLong } from 'p4runtime-ts/proto';
import { canonicalBytes } from './bytestring.js';
import { decodeWriteRequest } from './write-request-decoding.js';

type Update = p4.v1.Update.$Properties;

/** A request as plain JSON (Longs and bytes as strings, defaults spelled out): two decodings compare equal iff they mean the same. */
const plain = (req: p4.v1.WriteRequest.$Properties): unknown =>
  p4.v1.WriteRequest.toObject(p4.v1.WriteRequest.decode(p4.v1.WriteRequest.encode(req).finish()), { longs: String, bytes: String, defaults: true, enums: String });

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
    expect(() => decodeWriteRequest(Uint8Array.of(0x22, 0x05, 0x08))).toThrow(/past the end/);
    expect(() => decodeWriteRequest(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toThrow();
  });
});
