import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { decodeBits, isCanonical } from 'p4runtime-ts';
import { p4 } from 'p4runtime-ts/proto';
import { SimError } from '../p4rt/status.js';
import { L2_ECHO_P4INFO_OBJECT } from '../programs/l2-echo/l2-echo-p4info.js';
import { applyUpdate } from './entity-writer.js';
import type { WriteContext } from './entity-writer.js';
import type { ForwardingState } from './forwarding-state.js';
import { l2EchoContexts } from '../testing/contexts.js';

// Registers of the widths a cell write can take without bigint arithmetic (up to 64 bits), their
// edges, and one wider, added to l2_echo's P4Info.
const WIDTHS = [1, 8, 31, 32, 33, 40, 48, 63, 64, 72];
const SIZE = 4;
const idOf = (w: number): number => 0x16000100 + w;

function contexts(canonicalOnly: boolean): { state: ForwardingState; ctx: WriteContext } {
  const registers = WIDTHS.map((w) => ({ preamble: { id: idOf(w), name: `T.r${w}`, alias: `r${w}` }, typeSpec: { bitstring: { bit: { bitwidth: w } } }, size: SIZE }));
  const c = l2EchoContexts('full', canonicalOnly, p4.config.v1.P4Info.fromObject({ ...L2_ECHO_P4INFO_OBJECT, registers: [...L2_ECHO_P4INFO_OBJECT.registers, ...registers] }));
  return { state: c.state, ctx: c.write() };
}

const cellWrite = (w: number, index: unknown, bitstring: Uint8Array): p4.v1.Update.$Properties =>
  ({ type: 2, entity: { registerEntry: { registerId: idOf(w), index: { index }, data: { bitstring } } } }) as p4.v1.Update.$Properties;

/** Big-endian bytes of `v`, `pad` zero bytes in front. */
function bytesOf(v: bigint, pad = 0): Uint8Array {
  const hex = v.toString(16);
  const digits = hex.length % 2 === 1 ? `0${hex}` : hex;
  return Uint8Array.from([...Array<number>(pad).fill(0), ...(digits.match(/../g) ?? []).map((h) => parseInt(h, 16))]);
}

/** Values around every width's edges and the 32-bit halves' boundary. */
function samples(): bigint[] {
  const out = new Set<bigint>([0n, 1n, 0xffn, 0x100n, 0xffff_ffffn, 1n << 32n, (1n << 32n) + 1n, 0x1234_5678_9abcn, 0xfedc_ba98_7654_3210n, 1n << 64n]);
  for (const w of WIDTHS) for (const d of [-1n, 0n, 1n]) out.add((1n << BigInt(w)) + d);
  return [...out].filter((v) => v >= 0n);
}

/** What the spec asks of a cell write with `bytes` into a `w`-bit register: the cell's new value, or the failure. */
function expected(w: number, bytes: Uint8Array, canonicalOnly: boolean): bigint | RegExp {
  const v = decodeBits(bytes);
  if (v >= 1n << BigInt(w)) return /does not fit|fit within/;
  if (canonicalOnly && !isCanonical(bytes)) return /not canonical/;
  return v;
}

describe('entity writer — register cells of 1 to 72 bits', () => {
  for (const canonicalOnly of [false, true]) {
    it(`entity writer — every width, value and padding lands as the bytestring reads, or is refused with INVALID_ARGUMENT${canonicalOnly ? ' (canonical bytestrings only)' : ''}`, () => {
      const { state, ctx } = contexts(canonicalOnly);
      let written = 0;
      let refused = 0;
      for (const w of WIDTHS) {
        const arr = state.registers.get(idOf(w));
        for (const v of samples()) {
          for (const pad of [0, 1, 3]) {
            const bytes = bytesOf(v, pad);
            const want = expected(w, bytes, canonicalOnly);
            const before = arr?.get(2);
            const what = `bit<${w}> ← ${v} with ${pad} padding bytes`;
            if (typeof want === 'bigint') {
              const undo = applyUpdate(ctx, cellWrite(w, 2, bytes));
              expect(arr?.get(2), what).toBe(want);
              undo();
              expect(arr?.get(2), `${what}, undone`).toBe(before);
              applyUpdate(ctx, cellWrite(w, 2, bytes));
              written++;
            } else {
              let err: unknown;
              try {
                applyUpdate(ctx, cellWrite(w, 2, bytes));
              } catch (e) {
                err = e;
              }
              expect(err, what).toBeInstanceOf(SimError);
              expect((err as SimError).code, what).toBe(status.INVALID_ARGUMENT);
              expect((err as SimError).message, what).toMatch(want);
              expect(arr?.get(2), `${what}: nothing written`).toBe(before);
              refused++;
            }
          }
        }
      }
      // Both outcomes were exercised at every setting.
      expect(written).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(50);
    });
  }

  it('entity writer — a cell index out of range is OUT_OF_RANGE, a negative one INVALID_ARGUMENT, none writes every cell, an empty value is refused', () => {
    const { state, ctx } = contexts(false);
    const arr = state.registers.get(idOf(64));
    expect(() => applyUpdate(ctx, cellWrite(64, SIZE, bytesOf(5n)))).toThrow(/index 4 is out of range \(size 4/);
    expect(() => applyUpdate(ctx, cellWrite(64, -1, bytesOf(5n)))).toThrow(/index -1 is negative/);
    applyUpdate(ctx, { type: 2, entity: { registerEntry: { registerId: idOf(64), data: { bitstring: bytesOf(9n) } } } });
    expect([0, 1, 2, 3].map((i) => arr?.get(i))).toEqual([9n, 9n, 9n, 9n]);
    expect(() => applyUpdate(ctx, cellWrite(64, 0, new Uint8Array()))).toThrow(/empty bytestring/);
  });
});
