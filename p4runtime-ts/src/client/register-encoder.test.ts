import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p4 } from '../proto/index.js';
import { P4Schema } from '../schema/index.js';
import { EncodedUpdate } from './encoded-update.js';
import { encodeRegisterEntry } from './entity-codec.js';
import { RegisterHandle } from './handles.js';
import { encodeRegisterModify } from './register-encoder.js';

const reg = (id: number, name: string, spec: string, size: number): string =>
  `registers {\n  preamble { id: ${id} name: "ingress.${name}" alias: "${name}" }\n  type_spec { bitstring { ${spec} } }\n  size: ${size}\n}\n`;
const schema = P4Schema.fromText(
  `pkg_info { arch: "v1model" }\n` +
    reg(369098753, 'flag', 'bit { bitwidth: 1 }', 16) +
    reg(369098754, 'port', 'bit { bitwidth: 16 }', 1024) +
    reg(369098755, 'seen', 'bit { bitwidth: 48 }', 327680) +
    reg(369098756, 'key', 'bit { bitwidth: 64 }', 327680) +
    reg(369098757, 'wide', 'bit { bitwidth: 100 }', 4) +
    reg(369098758, 'delta', 'int { bitwidth: 16 }', 4),
  'register-encoder',
);
const names = ['flag', 'port', 'seen', 'key', 'wide', 'delta'] as const;

/** The Update as plain JSON (Longs and bytes as strings), defaults spelled out: two encodings compare equal iff they decode alike. */
const plain = (bytes: Uint8Array): unknown => p4.v1.Update.toObject(p4.v1.Update.decode(bytes), { longs: String, bytes: String, defaults: true, enums: String });
const general = (name: string, index: number | bigint, value: number | bigint): Uint8Array =>
  p4.v1.Update.encode({ type: p4.v1.Update.Type.MODIFY, entity: { registerEntry: encodeRegisterEntry(schema.register(name), index, value) } }).finish();

describe('register encoder', () => {
  it('register encoder — a MODIFY decodes to the update the general codec builds, for widths 1..100 and indices up to the size', () => {
    const arb = fc.constantFrom(...names.filter((n) => n !== 'delta')).chain((name) => {
      const r = schema.register(name);
      return fc.record({
        name: fc.constant(name),
        index: fc.oneof(fc.integer({ min: 0, max: r.size - 1 }), fc.bigInt({ min: 0n, max: BigInt(r.size - 1) })),
        value: fc.oneof(fc.bigInt({ min: 0n, max: (1n << BigInt(r.bitwidth)) - 1n }), fc.constant(0n), fc.integer({ min: 0, max: Math.min(2 ** r.bitwidth - 1, Number.MAX_SAFE_INTEGER) })),
      });
    });
    fc.assert(
      fc.property(arb, ({ name, index, value }) => {
        const fast = encodeRegisterModify(schema.register(name), index, value);
        expect(fast).toBeInstanceOf(EncodedUpdate);
        expect(plain((fast as EncodedUpdate).bytes)).toEqual(plain(general(name, index, value)));
      }),
      { numRuns: 500 },
    );
  });

  it('register encoder — leaves signed cells, out-of-range indices and values, and other value forms to the general codec', () => {
    expect(encodeRegisterModify(schema.register('delta'), 0, 5)).toBeUndefined();
    expect(encodeRegisterModify(schema.register('port'), 1024, 5)).toBeUndefined();
    expect(encodeRegisterModify(schema.register('port'), -1, 5)).toBeUndefined();
    expect(encodeRegisterModify(schema.register('port'), 3, 65_536)).toBeUndefined();
    expect(encodeRegisterModify(schema.register('key'), 3, 1n << 64n)).toBeUndefined();
    expect(encodeRegisterModify(schema.register('port'), 3, '0x10')).toBeUndefined();
    expect(encodeRegisterModify(schema.register('port'), 1.5, 1)).toBeUndefined();
  });

  it('register encoder — the handle still reports what the fast path leaves: an out-of-range value fails naming the register', () => {
    const h = new RegisterHandle(schema.register('port'));
    expect(h.modify(3, 7)).toBeInstanceOf(EncodedUpdate);
    expect(() => h.modify(3, 65_536)).toThrow(/register 'ingress.port'/);
    expect(() => h.modify(1024, 1)).toThrow(/register 'ingress.port'/);
    // A string value takes the general codec and means the same.
    expect(plain(p4.v1.Update.encode(h.modify(3, '0x10') as p4.v1.Update.$Properties).finish())).toEqual(plain((h.modify(3, 16) as EncodedUpdate).bytes));
  });
});
