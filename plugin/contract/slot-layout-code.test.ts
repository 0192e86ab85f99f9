import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldRef, SlotGroupSpec } from './slot-group.js';
import { slotLayoutCode } from './slot-layout-code.js';

/** A group with just the words the codec reads (the rest of a SlotGroupSpec is not consulted). */
function layout(words: readonly (readonly [name: string, lsb: number, bits: number])[][], key?: readonly string[]): SlotGroupSpec {
  const ws = words.map((fs, index) => ({ index, register: `r${index}`, registerId: index + 1, bits: 64, fields: fs.map(([name, lsb, bits]): FieldRef => ({ name, word: index, register: `r${index}`, lsb, bits })) }));
  const all = ws.flatMap((w) => w.fields);
  const keyRefs = (key ?? all.slice(0, 1).map((f) => f.name)).map((n) => all.find((f) => f.name === n) ?? ({ name: n } as FieldRef));
  return { words: ws, key: keyRefs } as unknown as SlotGroupSpec;
}

/** The reference: each field extracted on its own. */
const reference = (g: SlotGroupSpec, ws: readonly bigint[]): Record<string, bigint> =>
  Object.fromEntries(g.words.flatMap((w) => w.fields.map((f) => [f.name, ((ws[f.word] ?? 0n) >> BigInt(f.lsb)) & ((1n << BigInt(f.bits)) - 1n)])));

describe('slot layout code', () => {
  it('slot layout code — names that are not identifiers stay property names, nothing of them runs', () => {
    const odd = ['a"b', "c'd", 'e\\f', 'g"]; globalThis.hacked = 1; //', '${x}', 'h\u2028i'];
    const g = layout([odd.slice(0, 3).map((n, i): [string, number, number] => [n, i * 8, 8]), odd.slice(3).map((n, i): [string, number, number] => [n, i * 16, 16])]);
    const code = slotLayoutCode(g);
    expect(code).toBeDefined();
    const ws = [0x030201n, 0x0006_0005_0004n];
    const got = code?.decode(ws);
    expect(got).toEqual(reference(g, ws));
    expect(Object.keys(got ?? {})).toEqual(odd);
    expect((globalThis as Record<string, unknown>).hacked).toBeUndefined();
    expect(code?.encode(got ?? {})).toEqual(ws);
  });

  it('slot layout code — a layout it cannot write as a literal falls back (undefined): __proto__, duplicates, odd positions', () => {
    expect(slotLayoutCode(layout([[['__proto__', 0, 8]]]))).toBeUndefined();
    expect(slotLayoutCode(layout([[['a', 0, 8]], [['a', 0, 8]]]))).toBeUndefined();
    expect(slotLayoutCode(layout([[['a', 1.5, 8]]]))).toBeUndefined();
    expect(slotLayoutCode(layout([[['a', 0, 0]]]))).toBeUndefined();
    // A key naming no field of the layout, an empty key, a key field listed twice.
    expect(slotLayoutCode(layout([[['a', 0, 8]]], ['b']))).toBeUndefined();
    expect(slotLayoutCode(layout([[['a', 0, 8]]], []))).toBeUndefined();
    expect(slotLayoutCode(layout([[['a', 0, 8]]], ['a', 'a']))).toBeUndefined();
    // Compiled once per group: the same object on every call.
    const g = layout([[['a', 0, 8]]]);
    expect(slotLayoutCode(g)).toBe(slotLayoutCode(g));
  });

  it('slot layout code — decode and encode agree with field-by-field extraction for any words and any in-range record', () => {
    const g = layout([
      [['hi', 32, 32], ['lo', 0, 32]],
      [['state', 44, 4], ['flags', 40, 4], ['win', 0, 16]],
      [['wide', 0, 64]],
      [],
    ]);
    const code = slotLayoutCode(g);
    fc.assert(fc.property(fc.array(fc.bigInt({ min: 0n, max: (1n << 70n) - 1n }), { minLength: 0, maxLength: 4 }), (ws) => {
      expect(code?.decode(ws)).toEqual(reference(g, ws));
    }), { numRuns: 300 });
    const all = g.words.flatMap((w) => w.fields);
    const record = fc.record(Object.fromEntries(all.map((f) => [f.name, fc.bigInt({ min: 0n, max: (1n << BigInt(f.bits)) - 1n })])), { requiredKeys: [] });
    fc.assert(fc.property(record, (fields) => {
      const words = code?.encode(fields as Record<string, bigint>) ?? [];
      expect(words).toHaveLength(4);
      expect(words[3]).toBe(0n);
      for (const f of all) expect(reference(g, words)[f.name], f.name).toBe((fields as Record<string, bigint>)[f.name] ?? 0n);
    }), { numRuns: 300 });
  });

  it('slot layout code — the key: joined as the generic key functions do, absent fields as 0', () => {
    const g = layout([[['addr', 32, 32], ['port', 16, 16], ['proto', 0, 8]], [['count', 0, 64]]], ['proto', 'addr', 'port']);
    const code = slotLayoutCode(g);
    const flow = fc.record({ addr: fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }), port: fc.bigInt({ min: 0n, max: 65535n }), proto: fc.bigInt({ min: 0n, max: 255n }), count: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }, { requiredKeys: ['addr'] });
    fc.assert(fc.property(flow, (a) => {
      const fa = a as Record<string, bigint>;
      const keyOf = (f: Record<string, bigint>): bigint[] => ['proto', 'addr', 'port'].map((n) => f[n] ?? 0n);
      expect(code?.keyString(fa)).toBe(keyOf(fa).map(String).join('/'));
    }), { numRuns: 300 });
  });

  it('slot layout code — a process that forbids code from strings gets no compiled codec, and no error', () => {
    const here = fileURLToPath(new URL('./slot-layout-code.ts', import.meta.url));
    const script = `const { slotLayoutCode } = await import(${JSON.stringify(here)});
const a = { name: 'a', word: 0, lsb: 0, bits: 8 };
const g = { words: [{ fields: [a] }], key: [a] };
process.stdout.write(String(slotLayoutCode(g)));`;
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out).toBe('undefined');
  });
});
