/**
 * Fixtures shared by the tests that hold the sim's hand decoders (read-request-decoding.ts,
 * write-request-decoding.ts) to protobufjs: how two decodings are compared, wire encodings
 * spelled by hand, and requests garbled every way a property test can reach. Both decoders make
 * the same promise (protobufjs' result, or its error, for every buffer), so their tests check it
 * with the same tools.
 */
import fc from 'fast-check';
import { expect } from 'vitest';

/** A generated request class as the fixtures use it: decode, and encode to re-encode a decoding. */
export interface RequestCodec<R> {
  decode(reader: Uint8Array): R;
  encode(message: R): { finish(): Uint8Array };
}

/**
 * What decoding `bytes` means, as protobufjs re-encodes it (hex), or the error it threw (its
 * message included: a malformed request must fail in protobufjs' own words). Re-encoding holds
 * both kinds of result to one standard: fields in field order, proto3 defaults left out whether
 * or not they are own properties (protobufjs deletes a decoded register_id 0, the hand decoders
 * keep `registerId: 0`), a Long and a number written alike; what a reader sees is kept (item order
 * and kind, whether an index is present at all, a value's bytes). toObject with defaults: false
 * would tell `registerId: 0` from an absent one, a difference no reader sees; the shapes the sim
 * relies on are pinned by each decoder's own tests.
 */
function outcome<R>(codec: RequestCodec<R>, decode: (bytes: Uint8Array) => R, bytes: Uint8Array): string {
  let req: R;
  try {
    req = decode(bytes);
  } catch (e) {
    return `throws: ${(e as Error).message}`;
  }
  return Buffer.from(codec.encode(req).finish()).toString('hex');
}

/** A check holding `decode` to protobufjs' `codec.decode` on a buffer: both throw the same error, or both mean the same request. */
export function agreesWith<R>(codec: RequestCodec<R>, decode: (bytes: Uint8Array) => R): (bytes: Uint8Array) => void {
  return (bytes) => {
    expect(outcome(codec, decode, bytes), Buffer.from(bytes).toString('hex')).toBe(outcome(codec, (b) => codec.decode(b), bytes));
  };
}

/** A varint of `v` padded to `bytes` bytes (an over-long encoding protobufjs may or may not accept). */
export function padded(v: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++, v = Math.floor(v / 128)) out.push((v % 128) | (i < bytes - 1 ? 0x80 : 0));
  return out;
}

/** A length-delimited field: its tag (padded to `tagBytes`), the length of `body` (padded to `lenBytes`) and `body`. */
export function ld(tag: number, body: number[], lenBytes = 1, tagBytes = 1): number[] {
  return [...padded(tag, tagBytes), ...padded(body.length, Math.max(lenBytes, body.length < 128 ? 1 : 2)), ...body];
}

/** `depth` groups of field `field` nested in each other: each level one step of protobufjs' recursion count. */
export function nestedGroups(field: number, depth: number): number[] {
  return [...Array<number>(depth).fill((field << 3) | 3), ...Array<number>(depth).fill((field << 3) | 4)];
}

/** Requests from `requests`, encoded, then truncated, corrupted and spliced: up to four byte edits and a cut of up to three bytes. */
function garbled<R>(requests: fc.Arbitrary<R>, encode: (req: R) => Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(requests, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 4 }), fc.nat())
    .map(([req, edits, cut]) => {
      const b = [...encode(req)];
      for (const [at, byte, kind] of edits) {
        const i = b.length === 0 ? 0 : at % b.length;
        if (kind === 0) b[i] = byte;
        else if (kind === 1) b.splice(i, 0, byte);
        else if (kind === 2) b.splice(i, 1);
        else b[i] = (b[i] ?? 0) ^ (1 << (byte % 8));
      }
      return Uint8Array.from(b.slice(0, b.length === 0 ? 0 : b.length - (cut % Math.min(b.length, 4))));
    });
}

/** Holds `decode` to protobufjs on `numRuns` requests from `requests`, encoded: it decodes each without throwing, to the same request. */
export function checkEncoded<R>(codec: RequestCodec<R>, decode: (bytes: Uint8Array) => R, requests: fc.Arbitrary<R>, numRuns: number): void {
  const agrees = agreesWith(codec, decode);
  fc.assert(
    fc.property(requests, (req) => {
      const bytes = codec.encode(req).finish();
      expect(outcome(codec, decode, bytes)).not.toMatch(/^throws/);
      agrees(bytes);
    }),
    { numRuns },
  );
}

/** Holds `decode` to protobufjs on `numRuns` garbled requests from `requests` and on 2000 buffers of random bytes. */
export function checkGarbled<R>(codec: RequestCodec<R>, decode: (bytes: Uint8Array) => R, requests: fc.Arbitrary<R>, numRuns: number): void {
  const agrees = agreesWith(codec, decode);
  fc.assert(fc.property(garbled(requests, (req) => codec.encode(req).finish()), agrees), { numRuns });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), agrees), { numRuns: 2000 });
}
