import { describe, expect, it } from 'vitest';
import type { P4Switch } from 'p4runtime-ts';
import { countSwitchRequests, requestsBetween, sumRequests, totalRequests } from './switch-request-counter.js';
import type { CountableSwitch } from './switch-request-counter.js';

/** A stand-in session recording what reached it. */
function fakeSwitch(): CountableSwitch & { seen: string[] } {
  const seen: string[] = [];
  const sw = {
    seen,
    write(updates: unknown): Promise<void> {
      const xs = Symbol.iterator in Object(updates) ? [...(updates as Iterable<unknown>)] : [updates];
      seen.push(`write:${xs.length}`);
      return Promise.resolve();
    },
    read(): AsyncIterable<never> {
      seen.push('read');
      return (async function* () {})();
    },
    readChunks(): AsyncIterable<never> {
      seen.push('readChunks');
      return (async function* () {})();
    },
    read$(): never {
      seen.push('read$');
      return undefined as never;
    },
    readRaw(): AsyncIterable<never> {
      seen.push('readRaw');
      return (async function* () {})();
    },
    packetOut(): void {
      seen.push('packetOut');
    },
  };
  return sw as unknown as CountableSwitch & { seen: string[] };
}

describe('switch request counter', () => {
  it('switch request counter — counts writes with their updates (arrays, single updates, generators), reads and packet-outs, and passes every call through', async () => {
    const sw = fakeSwitch();
    const c = countSwitchRequests(sw);
    const u = {} as Parameters<P4Switch['write']>[0];
    await sw.write([u, u, u] as never);
    await sw.write(u);
    await sw.write((function* () {
      yield u;
      yield u;
    })() as never);
    for await (const _ of sw.read([] as never)) void _;
    for await (const _ of sw.readChunks([] as never)) void _;
    sw.read$([] as never);
    for await (const _ of sw.readRaw([])) void _;
    sw.packetOut(new Uint8Array(0));
    sw.packetOut(new Uint8Array(0));
    expect(c.counts()).toEqual({ writes: 3, updates: 6, reads: 4, packetOuts: 2 });
    expect(totalRequests(c.counts())).toBe(9);
    expect(sw.seen).toEqual(['write:3', 'write:1', 'write:2', 'read', 'readChunks', 'read$', 'readRaw', 'packetOut', 'packetOut']);
    c.restore();
    sw.packetOut(new Uint8Array(0));
    expect(c.counts().packetOuts).toBe(2);
    expect(sw.seen.length).toBe(10);
  });

  it('switch request counter — differences and sums of readings', () => {
    const a = { writes: 1, updates: 2, reads: 3, packetOuts: 4 };
    const b = { writes: 2, updates: 5, reads: 3, packetOuts: 10 };
    expect(requestsBetween(a, b)).toEqual({ writes: 1, updates: 3, reads: 0, packetOuts: 6 });
    expect(sumRequests([a, b])).toEqual({ writes: 3, updates: 7, reads: 6, packetOuts: 14 });
    expect(sumRequests([])).toEqual({ writes: 0, updates: 0, reads: 0, packetOuts: 0 });
  });
});
