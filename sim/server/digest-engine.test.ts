import { describe, expect, it } from 'vitest';
import { toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { DigestEngine } from './digest-engine.js';
import { VirtualScheduler } from '../clock.js';
import type { DigestConfig } from '../pipeline/forwarding-state.js';

const ms = (v: number): bigint => BigInt(Math.round(v * 1e6));

function setup(cfg: DigestConfig | undefined, timing: 'spec' | 'bmv2-coarse' = 'spec', primary = true, lose?: () => boolean) {
  const clock = new VirtualScheduler();
  const lists: { at: number; list: p4.v1.DigestList.$Properties }[] = [];
  const engine = new DigestEngine({
    scheduler: clock,
    timing,
    ...(lose ? { lose } : {}),
    configOf: () => cfg,
    send: (list) => {
      if (primary) lists.push({ at: clock.now(), list });
      return primary;
    },
  });
  const data = (n: number): p4.v1.P4Data.$Properties => ({ struct: { members: [{ bitstring: Uint8Array.of(n) }] } });
  return { clock, lists, engine, data };
}

describe('digest engine — spec timing', () => {
  it('digest engine — a full list leaves at once; a partial one at max_timeout_ns', () => {
    const t = setup({ maxTimeoutNs: ms(50), maxListSize: 3, ackTimeoutNs: 0n });
    for (let i = 0; i < 4; i++) t.engine.emit(1, t.data(i));
    expect(t.lists.map((l) => l.list.data?.length)).toEqual([3]);
    t.clock.advance(49);
    expect(t.lists).toHaveLength(1);
    t.clock.advance(1);
    expect(t.lists.map((l) => [l.at, l.list.data?.length, toBigInt(l.list.listId as LongLike)])).toEqual([[0, 3, 1n], [50, 1, 2n]]);
  });

  it('digest engine — a message the fault hook loses never reaches a list and is counted as lost', () => {
    let toLose = 1;
    const t = setup({ maxTimeoutNs: 0n, maxListSize: 100, ackTimeoutNs: 0n }, 'spec', true, () => toLose-- > 0);
    t.engine.emit(1, t.data(1));
    t.engine.emit(1, t.data(2));
    expect(t.lists.map((l) => l.list.data?.[0]?.struct?.members?.[0]?.bitstring)).toEqual([Uint8Array.of(2)]);
    expect(t.engine.stats).toMatchObject({ emitted: 1, lost: 1 });
  });

  it('digest engine — max_list_size 1 or max_timeout_ns 0 sends every digest alone', () => {
    const one = setup({ maxTimeoutNs: ms(100), maxListSize: 1, ackTimeoutNs: 0n });
    one.engine.emit(1, one.data(1));
    one.engine.emit(1, one.data(2));
    expect(one.lists).toHaveLength(2);
    const zero = setup({ maxTimeoutNs: 0n, maxListSize: 100, ackTimeoutNs: 0n });
    zero.engine.emit(1, zero.data(1));
    expect(zero.lists).toHaveLength(1);
  });

  it('digest engine — duplicates are filtered in the buffer and, until ack or ack timeout, in the cache', () => {
    const t = setup({ maxTimeoutNs: ms(10), maxListSize: 10, ackTimeoutNs: ms(100) });
    t.engine.emit(1, t.data(7));
    t.engine.emit(1, t.data(7));
    t.clock.advance(10);
    expect(t.lists).toHaveLength(1);
    expect(t.lists[0]?.list.data).toHaveLength(1);
    t.engine.emit(1, t.data(7));
    t.clock.advance(20);
    expect(t.lists).toHaveLength(1);
    t.engine.ack(1, 1n);
    t.engine.emit(1, t.data(7));
    t.clock.advance(10);
    expect(t.lists).toHaveLength(2);
    // Not acknowledged: the cache lets the same data through again only after ack_timeout_ns.
    t.engine.emit(1, t.data(7));
    t.clock.advance(50);
    expect(t.lists).toHaveLength(2);
    t.clock.advance(60);
    t.engine.emit(1, t.data(7));
    t.clock.advance(10);
    expect(t.lists).toHaveLength(3);
    expect(t.engine.stats.duplicates).toBe(3);
  });

  it('digest engine — nothing happens without a config, and lists are dropped without a primary', () => {
    const none = setup(undefined);
    none.engine.emit(1, none.data(1));
    expect(none.engine.stats.unconfigured).toBe(1);
    const noPrimary = setup({ maxTimeoutNs: 0n, maxListSize: 1, ackTimeoutNs: ms(100) }, 'spec', false);
    noPrimary.engine.emit(1, noPrimary.data(1));
    noPrimary.engine.emit(1, noPrimary.data(1));
    expect(noPrimary.engine.stats.listsDropped).toBe(2);
  });
});

describe('digest engine — bmv2 coarse timing (lab)', () => {
  it('digest engine — a lone digest waits 200–300 ms whether 1 ms or 100 ms was asked', () => {
    for (const asked of [1, 100]) {
      for (const phase of [0, 37, 99]) {
        const t = setup({ maxTimeoutNs: ms(asked), maxListSize: 100, ackTimeoutNs: 0n }, 'bmv2-coarse');
        t.clock.advance(phase);
        t.engine.emit(1, t.data(1));
        t.clock.advance(199);
        expect(t.lists).toHaveLength(0);
        t.clock.advance(101);
        expect(t.lists).toHaveLength(1);
        const waited = (t.lists[0]?.at ?? 0) - phase;
        expect(waited).toBeGreaterThanOrEqual(200);
        expect(waited).toBeLessThanOrEqual(300);
      }
    }
  });

  it('digest engine — a full list still leaves at once', () => {
    const t = setup({ maxTimeoutNs: ms(100), maxListSize: 2, ackTimeoutNs: 0n }, 'bmv2-coarse');
    t.engine.emit(1, t.data(1));
    t.engine.emit(1, t.data(2));
    expect(t.lists).toHaveLength(1);
  });

  it('digest engine — max_timeout_ns below 1 ms never delivers', () => {
    const t = setup({ maxTimeoutNs: 100_000n, maxListSize: 1, ackTimeoutNs: 0n }, 'bmv2-coarse');
    t.engine.emit(1, t.data(1));
    t.clock.advance(10_000);
    expect(t.lists).toHaveLength(0);
    expect(t.engine.stats.undeliverable).toBe(1);
  });
});
