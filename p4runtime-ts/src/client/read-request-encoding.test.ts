import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p4, toLong } from '../proto/index.js';
import { encodeReadRequest } from './read-request-encoding.js';

/** The decoded message as plain JSON (Longs as strings), for comparing two encodings. */
const plain = (b: Uint8Array): unknown => p4.v1.ReadRequest.toObject(p4.v1.ReadRequest.decode(b), { longs: String, bytes: String, defaults: true });
const reference = (deviceId: bigint, role: string, entities: p4.v1.Entity.$Properties[]): Uint8Array =>
  p4.v1.ReadRequest.encode({ deviceId: toLong(deviceId), entities, ...(role === '' ? {} : { role }) }).finish();

const index = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }));
const cell: fc.Arbitrary<p4.v1.Entity.$Properties> = fc.record({
  registerEntry: fc.record(
    {
      registerId: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      // Longs, and plain numbers as the entity builders now store them (negative and unsafe ones included).
      index: fc.option(fc.oneof(index.map((i) => ({ index: toLong(BigInt(i), true) })), fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.constantFrom(0, 2 ** 53 - 1, 2 ** 53 + 2, -1)).map((i) => ({ index: i }))), { nil: undefined }),
    },
    { requiredKeys: ['registerId'] },
  ),
});
const other: fc.Arbitrary<p4.v1.Entity.$Properties> = fc.oneof(
  fc.record({ counterEntry: fc.record({ counterId: fc.integer({ min: 0, max: 1000 }), index: fc.record({ index: fc.integer({ min: 0, max: 5000 }).map((i) => toLong(BigInt(i), true)) }) }) }),
  fc.record({ tableEntry: fc.record({ tableId: fc.integer({ min: 1, max: 2 ** 31 }) }) }),
  // A register write's entity (with data) is not a plain cell query: it takes the general path.
  fc.record({ registerEntry: fc.record({ registerId: fc.integer({ min: 1, max: 99 }), index: fc.constant({ index: toLong(3n, true) }), data: fc.constant({ bitstring: new Uint8Array([1, 2]) }) }) }),
);

describe('read request encoding', () => {
  it('read request encoding — decodes to the message protobufjs writes, for register cells, other entities, device ids and roles', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.oneof(fc.constant(''), fc.string()), fc.array(fc.oneof(cell, cell, other), { maxLength: 40 }), (deviceId, role, entities) => {
        expect(plain(encodeReadRequest(deviceId, role, entities))).toEqual(plain(reference(deviceId, role, entities)));
      }),
      { numRuns: 300 },
    );
  });

  it('read request encoding — a read of 900 cells is one message whose entities name each register and index in order', () => {
    const entities = Array.from({ length: 900 }, (_, k) => ({ registerEntry: { registerId: 385_000_000 + (k % 9), index: { index: toLong(BigInt(Math.floor(k / 9) * 1000), true) } } }));
    const req = p4.v1.ReadRequest.decode(encodeReadRequest(7n, 'edge', entities));
    expect(req.entities).toHaveLength(900);
    expect(String(req.deviceId)).toBe('7');
    expect(req.role).toBe('edge');
    expect(req.entities[899]?.registerEntry?.registerId).toBe(385_000_008);
    expect(String(req.entities[899]?.registerEntry?.index?.index)).toBe('99000');
  });

  it('read request encoding — messages written one after another stay intact (each is its own view)', () => {
    const a = encodeReadRequest(1n, '', [{ registerEntry: { registerId: 5, index: { index: toLong(1n, true) } } }]);
    const copy = Uint8Array.from(a);
    encodeReadRequest(2n, 'x', [{ registerEntry: { registerId: 6, index: { index: toLong(2n, true) } } }]);
    expect(a).toEqual(copy);
  });
});
