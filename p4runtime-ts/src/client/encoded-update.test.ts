import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p4, toLong } from '../proto/index.js';
import { EncodedUpdate, concatWriteRequest } from './encoded-update.js';

const update = (table: number, key: Uint8Array, port: Uint8Array): p4.v1.Update.$Properties => ({
  type: p4.v1.Update.Type.INSERT,
  entity: { tableEntry: { tableId: table, match: [{ fieldId: 1, exact: { value: key } }], action: { action: { actionId: 7, params: [{ paramId: 1, value: port }] } } } },
});

describe('encoded update', () => {
  it('encoded update — a concatenated WriteRequest decodes to the same request protobufjs would encode', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 31 }), fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ minLength: 1, maxLength: 2 })), { maxLength: 40 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (rows, device) => {
        const updates = rows.map(([t, k, v]) => update(t, k, v));
        const head = p4.v1.WriteRequest.encode({ deviceId: toLong(device), electionId: { high: toLong(0n), low: toLong(9n) } }).finish();
        const ours = p4.v1.WriteRequest.decode(concatWriteRequest(head, updates.map((u) => EncodedUpdate.of(u))));
        const theirs = p4.v1.WriteRequest.decode(p4.v1.WriteRequest.encode({ deviceId: toLong(device), electionId: { high: toLong(0n), low: toLong(9n) }, updates }).finish());
        expect(p4.v1.WriteRequest.toObject(ours)).toEqual(p4.v1.WriteRequest.toObject(theirs));
      }),
      { numRuns: 200 },
    );
  });

  it('encoded update — its entity decodes back to what was encoded', () => {
    const u = EncodedUpdate.of(update(5, Uint8Array.of(1, 2), Uint8Array.of(3)));
    expect(u.type).toBe(p4.v1.Update.Type.INSERT);
    expect(u.entity?.tableEntry?.tableId).toBe(5);
    expect(Array.from(u.entity?.tableEntry?.match?.[0]?.exact?.value ?? [])).toEqual([1, 2]);
  });
});
