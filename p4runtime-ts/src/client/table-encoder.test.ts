import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p4 } from '../proto/index.js';
import type { MatchInput, ValueInput } from '../codec/index.js';
import { concatWriteRequest } from './encoded-update.js';
import type { EncodedUpdate } from './encoded-update.js';
import { encodeTableEntry } from './entity-codec.js';
import type { TableEntrySpec } from './entity-codec.js';
import { TableHandle } from './handles.js';
import { tableEncoder } from './table-encoder.js';
import { codecSchema } from './testing/codec-p4info.js';


const schema = codecSchema();
const flows = schema.table('flows');
const mixed = schema.table('mixed');
const T = p4.v1.Update.Type;

/** The general path's bytes for the same update (or its error). */
function general(table: typeof flows, type: p4.v1.Update.Type, spec: TableEntrySpec, forDelete: boolean): Uint8Array {
  return p4.v1.Update.encode({ type, entity: { tableEntry: encodeTableEntry(table, spec, forDelete) } }).finish();
}

const outcome = (f: () => Uint8Array): string => {
  try {
    return `ok ${Buffer.from(f()).toString('hex')}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
};

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const mac = fc.array(fc.nat(255), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
const bits = (w: number): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n });
/** Valid values of a bit<W> field in every form callers use. */
const valueOf = (w: number): fc.Arbitrary<ValueInput> =>
  fc.oneof(
    bits(w),
    bits(Math.min(w, 53)).map(Number),
    bits(w).map((v) => v.toString()),
    bits(w).map((v) => `0x${v.toString(16)}`),
    ...(w === 32 ? [ipv4] : w === 48 ? [mac] : []),
  );
/** Anything at all, valid or not. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -5n, max: 1n << 130n }),
  fc.constantFrom('10.0.0.1', '010.0.0.1', ' 10.0.0.1', '10.0.0.256', '1.2.3', 'aa:bb:cc:dd:ee:ff', 'aa-bb-cc-dd-ee-ff', 'aa:bb-cc:dd:ee:ff', '0x1ff', '-1', '', '*', 'x', '::1'),
  fc.constant(null),
  fc.constant(undefined),
  fc.record({ value: fc.nat(300) }),
);

describe('table encoder', () => {
  it('table encoder — valid entries encode to the same bytes as the general codec, for INSERT, MODIFY and DELETE', () => {
    fc.assert(
      fc.property(
        fc.record({ dst: valueOf(32), eth: valueOf(48), port: valueOf(9), v6: valueOf(128), cookie: valueOf(64) }),
        fc.record({ port: valueOf(9), mac: valueOf(48), tag: valueOf(72) }),
        fc.boolean(),
        fc.option(fc.oneof(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.constantFrom('30s', '1.5ms', '0s', 0n))),
        fc.constantFrom(T.INSERT, T.MODIFY, T.DELETE),
        (k, params, drop, idle, type) => {
          const spec: TableEntrySpec = {
            match: { 'hdr.ipv4.dst': k.dst, 'eth.dst': k.eth, port: k.port, 'hdr.ipv6.dst': k.v6, cookie: k.cookie },
            action: drop ? 'drop' : 'ingress.set',
            ...(drop ? {} : { params }),
            ...(idle === null ? {} : { idleTimeout: idle }),
          };
          const forDelete = type === T.DELETE;
          const fast = tableEncoder(flows).encode(type, spec, forDelete);
          expect(fast, 'the compiled path handles every valid form').toBeDefined();
          expect(Buffer.from(fast?.bytes ?? []).toString('hex')).toBe(Buffer.from(general(flows, type, spec, forDelete)).toString('hex'));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('table encoder — tables with LPM, range, ternary and optional keys encode as the general codec does', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<MatchInput>('10.0.0.0/8', '0.0.0.0/0', { value: '192.168.1.0', prefixLen: 24 }, '10.1.2.3'),
        fc.constantFrom<MatchInput>('80..443', { low: 0, high: 65535 }, 22),
        fc.constantFrom<MatchInput>('6 &&& 0xff', null, { value: 17, mask: 0xff }),
        fc.constantFrom<MatchInput>(7, '*', null),
        valueOf(8),
        fc.integer({ min: 1, max: 0x7fffffff }),
        (lpm, range, ternary, optional, vrf, priority) => {
          const spec: TableEntrySpec = { match: { src: lpm, dport: range, proto: ternary, vlan: optional, vrf }, action: 'drop', priority };
          const h = new TableHandle(mixed);
          expect(Buffer.from((h.insert(spec) as EncodedUpdate).bytes).toString('hex')).toBe(Buffer.from(general(mixed, T.INSERT, spec, false)).toString('hex'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('table encoder — any input gives what the general codec gives: the same bytes or the same error', () => {
    const h = new TableHandle(flows);
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('dst', 'eth.dst', 'port', 'v6', 'ipv6.dst', 'cookie', 'hdr.ipv4.dst', 'bogus'), anyValue, { maxKeys: 7 }),
        fc.dictionary(fc.constantFrom('port', 'mac', 'tag', 'prot'), anyValue, { maxKeys: 4 }),
        fc.constantFrom('set', 'drop', 'ingress.set', 'sett', undefined),
        fc.option(fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant(2 ** 31))),
        (match, params, action, priority) => {
          const spec = { match, params, action, ...(priority === null ? {} : { priority }) } as unknown as TableEntrySpec;
          expect(outcome(() => (h.insert(spec) as EncodedUpdate).bytes)).toBe(outcome(() => general(flows, T.INSERT, spec, false)));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('table encoder — updates of two tables, taken in any order, concatenate into the WriteRequest protobufjs encodes', () => {
    const hf = new TableHandle(flows);
    const hm = new TableHandle(mixed);
    const head = p4.v1.WriteRequest.encode({ deviceId: 3, atomicity: p4.v1.WriteRequest.Atomicity.CONTINUE_ON_ERROR }).finish();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 1000 })), { minLength: 1, maxLength: 60 }), fc.integer(), (rows, seed) => {
        const built = rows.map(([isFlows, v, priority]) => {
          const spec: TableEntrySpec = isFlows
            ? { match: { 'ipv4.dst': v, 'eth.dst': v * 3, port: v % 512, 'ipv6.dst': BigInt(v) << 90n, cookie: BigInt(v) }, action: 'drop' }
            : { match: { src: `10.${v >> 8}.${v & 255}.0/24`, dport: '80..443', vrf: v & 255 }, action: 'drop', priority };
          const table = isFlows ? flows : mixed;
          return { u: (isFlows ? hf : hm).insert(spec) as EncodedUpdate, plain: { type: T.INSERT, entity: { tableEntry: encodeTableEntry(table, spec, false) } } };
        });
        // A fixed shuffle: runs of neighbours in one slab, broken where the order or the table changes.
        const order = built.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13) || a - b);
        const ours = p4.v1.WriteRequest.decode(concatWriteRequest(head, order.map((i) => (built[i] as { u: EncodedUpdate }).u)));
        const theirs = p4.v1.WriteRequest.decode(p4.v1.WriteRequest.encode({ deviceId: 3, updates: order.map((i) => (built[i] as { plain: p4.v1.Update.$Properties }).plain) }).finish());
        expect(p4.v1.WriteRequest.toObject(ours)).toEqual(p4.v1.WriteRequest.toObject(theirs));
      }),
      { numRuns: 150 },
    );
  });

  it('table encoder — messages longer than 127 bytes get multi-byte lengths that protobufjs decodes', () => {
    const spec: TableEntrySpec = {
      match: { 'ipv4.dst': '10.0.0.1', 'eth.dst': 'aa:bb:cc:dd:ee:ff', port: 511, 'ipv6.dst': (1n << 128n) - 1n, cookie: (1n << 64n) - 1n },
      action: 'set',
      params: { port: 1, mac: 2, tag: (1n << 72n) - 1n },
      idleTimeout: (1n << 62n) + 5n,
    };
    const u = new TableHandle(flows).insert(spec) as EncodedUpdate;
    const decoded = p4.v1.Update.decode(u.bytes);
    expect(decoded.entity?.tableEntry?.match?.map((m) => m.fieldId)).toEqual([1, 2, 3, 4, 5]);
    expect(Buffer.from(decoded.entity?.tableEntry?.match?.[3]?.exact?.value ?? []).toString('hex')).toBe('ff'.repeat(16));
    expect(decoded.entity?.tableEntry?.idleTimeoutNs?.toString()).toBe(((1n << 62n) + 5n).toString());
    expect(Buffer.from(u.bytes).toString('hex')).toBe(Buffer.from(general(flows, T.INSERT, spec, false)).toString('hex'));
  });

  it('table encoder — counter data (counts past 2^53 included) and metadata are encoded as the general codec does, or refused with its error', () => {
    const h = new TableHandle(flows);
    const count = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.constantFrom(0n, 1n << 53n, (1n << 63n) - 1n, 1n << 63n, -1n, 5, undefined));
    fc.assert(
      fc.property(
        fc.option(fc.record({ bytes: count, packets: count }, { requiredKeys: [] })),
        fc.option(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 40 }), fc.constant(''))),
        fc.option(fc.constantFrom('30s', 0n, 12n)),
        fc.constantFrom(T.INSERT, T.MODIFY, T.DELETE),
        (counterData, metadata, idle, type) => {
          const spec = {
            match: { 'ipv4.dst': '10.0.0.1', 'eth.dst': 2, port: 3, 'ipv6.dst': 4, cookie: (1n << 64n) - 1n },
            action: 'drop',
            ...(counterData === null ? {} : { counterData }),
            ...(metadata === null ? {} : { metadata }),
            ...(idle === null ? {} : { idleTimeout: idle }),
          } as TableEntrySpec;
          const forDelete = type === T.DELETE;
          const built = type === T.DELETE ? () => (h.delete(spec) as EncodedUpdate).bytes : type === T.MODIFY ? () => (h.modify(spec) as EncodedUpdate).bytes : () => (h.insert(spec) as EncodedUpdate).bytes;
          const expected = outcome(() => general(flows, type, spec, forDelete));
          expect(outcome(built)).toBe(expected);
          // Valid counts and metadata take the compiled path, not the general one.
          if (expected.startsWith('ok')) expect(tableEncoder(flows).encode(type, spec, forDelete)).toBeDefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('table encoder — LPM, ternary, range and optional keys in every form, valid or not, and any priority: the general codec\'s bytes or its error', () => {
    const h = new TableHandle(mixed);
    const v32 = bits(32);
    const prefix = fc.integer({ min: -1, max: 33 });
    const lpm = fc.oneof(
      fc.tuple(v32, prefix, fc.boolean()).map(([v, l, masked]) => {
        const keep = masked && l >= 0 && l <= 32 ? v & (((1n << BigInt(l)) - 1n) << BigInt(32 - l)) : v;
        return `${[24, 16, 8, 0].map((s) => Number((keep >> BigInt(s)) & 255n)).join('.')}/${l}`;
      }),
      fc.tuple(v32, prefix).map(([value, prefixLen]): MatchInput => ({ value, prefixLen })),
      v32,
      fc.constant(null),
    );
    const v8 = bits(8);
    const ternary = fc.oneof(
      fc.tuple(v8, v8, fc.boolean()).map(([v, m, masked]) => `0x${(masked ? v & m : v).toString(16)} &&& 0x${m.toString(16)}`),
      fc.tuple(v8, v8).map(([value, mask]): MatchInput => ({ value, mask })),
      fc.constantFrom<MatchInput>('*', null, 5, '1.2.3.4/8'),
    );
    const v16 = fc.oneof(bits(16), fc.constantFrom(0n, 65535n, 65536n));
    const range = fc.oneof(
      fc.tuple(v16, v16).map(([lo, hi]) => `${lo}..${hi}`),
      fc.tuple(v16, v16).map(([low, high]): MatchInput => ({ low, high })),
      fc.constantFrom<MatchInput>('0..65535', 80, null, '1..2..3'),
    );
    const optional = fc.oneof(bits(12), fc.constantFrom<MatchInput>(4096, null, '*', { value: 7 }));
    const priority = fc.oneof(fc.integer({ min: 1, max: 0x7fffffff }), fc.constantFrom(0, -1, 2 ** 31, 1.5, undefined));
    fc.assert(
      fc.property(lpm, ternary, range, optional, valueOf(8), priority, fc.constantFrom(T.INSERT, T.MODIFY, T.DELETE), (src, proto, dport, vlan, vrf, prio, type) => {
        const spec = { match: { src, dport, proto, vlan, vrf }, action: 'drop', ...(prio === undefined ? {} : { priority: prio }) } as TableEntrySpec;
        const forDelete = type === T.DELETE;
        const built = type === T.DELETE ? () => (h.delete(spec) as EncodedUpdate).bytes : type === T.MODIFY ? () => (h.modify(spec) as EncodedUpdate).bytes : () => (h.insert(spec) as EncodedUpdate).bytes;
        const expected = outcome(() => general(mixed, type, spec, forDelete));
        expect(outcome(built)).toBe(expected);
        if (expected.startsWith('ok')) expect(tableEncoder(mixed).encode(type, spec, forDelete)).toBeDefined();
      }),
      { numRuns: 800 },
    );
  });

  it('table encoder — values one past the field width, negative or not integers get the general codec\'s VALUE_RANGE error, for keys and parameters up to 128 bits', () => {
    const h = new TableHandle(flows);
    const widths: Record<string, number> = { 'ipv4.dst': 32, 'eth.dst': 48, port: 9, 'ipv6.dst': 128, cookie: 64 };
    const params: Record<string, number> = { port: 9, mac: 48, tag: 72 };
    const tooBig = (w: number): fc.Arbitrary<ValueInput> =>
      fc.oneof(
        fc.bigInt({ min: 1n << BigInt(w), max: 1n << BigInt(w + 8) }),
        fc.constantFrom<ValueInput>(-1, -1n, 0.5, 2 ** 60, `0x1${'0'.repeat(Math.ceil(w / 4))}`, (1n << BigInt(w)).toString()),
      );
    const ok = { 'ipv4.dst': 1, 'eth.dst': 2, port: 3, 'ipv6.dst': 4, cookie: 5 } as Record<string, ValueInput>;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(widths), ...Object.keys(params).map((p) => `param:${p}`)), fc.integer({ min: 0, max: 200 }), (which, seed) => {
        const isParam = which.startsWith('param:');
        const name = isParam ? which.slice(6) : which;
        const bad = fc.sample(tooBig(isParam ? (params[name] as number) : (widths[name] as number)), { seed, numRuns: 1 })[0] as ValueInput;
        const spec: TableEntrySpec = {
          match: isParam ? ok : { ...ok, [name]: bad },
          action: 'set',
          params: { port: 1, mac: 2, tag: 3, ...(isParam ? { [name]: bad } : {}) },
        };
        const got = outcome(() => (h.insert(spec) as EncodedUpdate).bytes);
        expect(got).toMatch(/^error /);
        expect(got).toBe(outcome(() => general(flows, T.INSERT, spec, false)));
      }),
      { numRuns: 300 },
    );
  });

  it('table encoder — thousands of updates in a row, and one larger than a slab, each keep their own bytes', () => {
    const h = new TableHandle(flows);
    const specs: TableEntrySpec[] = Array.from({ length: 3_000 }, (_, i) => ({
      match: { 'ipv4.dst': i, 'eth.dst': i * 7, port: i % 512, 'ipv6.dst': (1n << 100n) + BigInt(i), cookie: BigInt(i) << 40n },
      action: 'set',
      params: { port: i % 512, mac: i, tag: (1n << 70n) + BigInt(i) },
      ...(i % 1000 === 999 ? { metadata: 'x'.repeat(70_000 + i) } : {}),
    }));
    const built = specs.map((s) => h.insert(s) as EncodedUpdate);
    built.forEach((u, i) => {
      expect(Buffer.from(u.bytes).equals(Buffer.from(general(flows, T.INSERT, specs[i] as TableEntrySpec, false))), `update ${i}`).toBe(true);
    });
    expect(Buffer.from(p4.v1.Update.decode((built[999] as EncodedUpdate).bytes).entity?.tableEntry?.metadata ?? []).length).toBe(70_999);
  });
});
