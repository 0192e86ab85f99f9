import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

describe('read', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ readChunk: 7, now: () => clock });
    clock = 1_000_000;
  });
  afterEach(async () => {
    await h.stop();
  });
  let clock = 1_000_000;

  it('read — a register wildcard (index unset) returns every cell by name', async () => {
    const sw = await h.primaryWithPipeline();
    await sw.write([sw.register('ct_state').modify(0, 5n), sw.register('ct_state').modify(7, (1n << 64n) - 1n)]);
    const req = sw.register('ct_state').all();
    expect(req.entities[0]!.registerEntry!.index).toBeUndefined();
    const cells = await sw.readAll(req);
    expect(cells.map((c) => [c.index, c.value])).toEqual([[0, 5n], [1, 0n], [2, 0n], [3, 0n], [4, 0n], [5, 0n], [6, 0n], [7, (1n << 64n) - 1n]]);
    expect(cells.every((c) => c.register === 'ingress.ct_state')).toBe(true);
  });

  it('read — a counter wildcard returns every cell; one index returns one', async () => {
    const sw = await h.primaryWithPipeline();
    await sw.write(sw.counter('vm_bytes').modify(15, { bytes: 1n << 40n, packets: 3n }));
    const all = await sw.readAll(sw.counter('vm_bytes').all());
    expect(all).toHaveLength(16);
    expect(all[15]).toEqual({ kind: 'counter', counter: 'ingress.vm_bytes', index: 15, bytes: 1n << 40n, packets: 3n });
    expect(await sw.readAll(sw.counter('vm_bytes').at(2))).toEqual([{ kind: 'counter', counter: 'ingress.vm_bytes', index: 2, bytes: 0n, packets: 0n }]);
  });

  it('read — table entries decode by name, with counters and idle time on request', async () => {
    const sw = await h.primaryWithPipeline();
    await sw.write([
      sw.table('acl').insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'allow', params: { port: 1 }, idleTimeout: '300ms', counterData: { bytes: 10n, packets: 1n } }),
      sw.table('filter').insert({ match: { src: '10.0.0.0/8' }, action: 'drop', priority: 10 }),
    ]);
    clock += 700;
    const [e] = await sw.readAll(sw.table('acl').entry({ dst: '10.0.0.5', dport: 53 }, { withCounters: true, withIdleTime: true }));
    expect(e).toEqual({
      kind: 'table',
      table: 'ingress.acl',
      match: { 'hdr.ipv4.dst': { kind: 'exact', value: 0x0a000005n }, 'hdr.tcp.dport': { kind: 'exact', value: 53n } },
      action: 'ingress.allow',
      params: { port: 1n },
      priority: 0,
      isDefault: false,
      idleTimeoutNs: 300_000_000n,
      elapsedNs: 300_000_000n,
      counter: { bytes: 10n, packets: 1n },
    });
    const plain = await sw.readAll(sw.table('acl').all());
    expect(plain[0]!.counter).toBeUndefined();
    expect(plain[0]!.elapsedNs).toBeUndefined();
    const all = await sw.readAll(sw.allTables());
    expect(all.map((x) => [x.table, x.priority])).toEqual([['ingress.acl', 0], ['ingress.filter', 10]]);
    expect(all[1]!.match).toEqual({ 'hdr.ipv4.src': { kind: 'ternary', value: 0x0a000000n, mask: 0xff000000n } });
  });

  it('read — a large read arrives over many messages and is streamed entry by entry', async () => {
    const sw = await h.primaryWithPipeline({ writeBatchSize: 500 });
    const acl = sw.table('acl');
    await sw.write(Array.from({ length: 2000 }, (_, i) => acl.insert({ match: { dst: i, dport: 9 }, action: 'drop' })));
    const before = h.server.readResponses;
    let entities = 0;
    for await (const _ of sw.readRaw(acl.all().entities)) entities += 1;
    expect(entities).toBe(2000);
    expect(h.server.readResponses - before).toBe(Math.ceil(2000 / 7));
    const seen = new Set<bigint>();
    for await (const e of sw.read(acl.all())) seen.add(e.match['hdr.ipv4.dst']!.kind === 'exact' ? (e.match['hdr.ipv4.dst'] as { value: bigint }).value : -1n);
    expect(seen.size).toBe(2000);
  });

  it('read — readChunks gives one array per ReadResponse, together the same cells as read, in order', async () => {
    const sw = await h.primaryWithPipeline();
    const reg = sw.register('ct_state');
    await sw.write([reg.modify(3, 9n), reg.modify(6, 1n << 63n)]);
    const queries = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => reg.at(i));
    const before = h.server.readResponses;
    const chunks: { index: number; value: bigint }[][] = [];
    for await (const xs of sw.readChunks(queries)) chunks.push(xs.map((c) => ({ index: c.index, value: c.value })));
    // readChunk 7: eight cells come as a message of 7 and one of 1.
    expect(h.server.readResponses - before).toBe(2);
    expect(chunks.map((c) => c.length)).toEqual([7, 1]);
    const flat = chunks.flat();
    const one: { index: number; value: bigint }[] = [];
    for await (const c of sw.read(queries)) one.push({ index: c.index, value: c.value });
    expect(flat).toEqual(one);
    expect(flat.filter((c) => c.value !== 0n)).toEqual([{ index: 3, value: 9n }, { index: 6, value: 1n << 63n }]);
  });

  it('read — a prepared read is encoded once and read as often as needed: each time the current values, as the queries read them', async () => {
    const sw = await h.primaryWithPipeline();
    const reg = sw.register('ct_state');
    const queries = [reg.at(2), sw.counter('vm_bytes').at(4), reg.at(5)];
    const prepared = sw.prepareRead(queries);
    const collect = async (q: Parameters<typeof sw.readChunks>[0]): Promise<unknown[]> => {
      const out: unknown[] = [];
      for await (const xs of sw.readChunks(q)) out.push(...xs);
      return out;
    };
    await sw.write([reg.modify(2, 7n), reg.modify(5, 8n)]);
    const first = await collect(prepared);
    expect(first).toEqual(await collect(queries));
    expect(first).toEqual([
      { kind: 'register', register: 'ingress.ct_state', index: 2, value: 7n },
      { kind: 'counter', counter: 'ingress.vm_bytes', index: 4, bytes: 0n, packets: 0n },
      { kind: 'register', register: 'ingress.ct_state', index: 5, value: 8n },
    ]);
    // Not a snapshot: the same prepared read, after a write, reads the new value.
    await sw.write(reg.modify(5, 9n));
    expect((await collect(prepared))[2]).toEqual({ kind: 'register', register: 'ingress.ct_state', index: 5, value: 9n });
    expect(Object.isFrozen(prepared)).toBe(true);
  });

  it('read — a prepared read is told from queries by identity; one built by hand with the same fields still reads as one, and a single query as itself', async () => {
    const sw = await h.primaryWithPipeline();
    const reg = sw.register('ct_state');
    await sw.write([reg.modify(1, 4n), reg.modify(3, 6n)]);
    const queries = [reg.at(1), reg.at(3)];
    const prepared = sw.prepareRead(queries);
    const collect = async (q: Parameters<typeof sw.readChunks>[0]): Promise<unknown[]> => {
      const out: unknown[] = [];
      for await (const xs of sw.readChunks(q)) out.push(...xs);
      return out;
    };
    const want = [
      { kind: 'register', register: 'ingress.ct_state', index: 1, value: 4n },
      { kind: 'register', register: 'ingress.ct_state', index: 3, value: 6n },
    ];
    // A copy is not the object prepareRead made: it goes by its fields, as before.
    expect(await collect({ ...prepared })).toEqual(want);
    expect(await collect(prepared)).toEqual(want);
    expect(await collect(reg.at(3))).toEqual([want[1]]);
  });

  it('read — cells(indices) reads the same cells as one at() per index, in order, and refuses an index past the register as at() does', async () => {
    const sw = await h.primaryWithPipeline();
    const reg = sw.register('ct_state');
    await sw.write([reg.modify(2, 5n), reg.modify(7, 1n << 62n)]);
    const order = [7, 0, 2, 2, 5];
    const bulk = (await sw.readAll(reg.cells(order))).map((c) => [c.index, c.value]);
    const single = (await sw.readAll(order.map((i) => reg.at(i)))).map((c) => [c.index, c.value]);
    expect(bulk).toEqual(single);
    expect(bulk).toEqual([[7, 1n << 62n], [0, 0n], [2, 5n], [2, 5n], [5, 0n]]);
    expect(reg.cells([])).toEqual({ entities: [] });
    const size = reg.info.size;
    expect(() => reg.cells([0, size])).toThrow(/index .* is outside/);
    expect(() => reg.at(size)).toThrow(/index .* is outside/);
  });

  it('read — read$ is an Observable; taking a few unsubscribes and cancels the rest', async () => {
    const sw = await h.primaryWithPipeline();
    const acl = sw.table('acl');
    await sw.write(Array.from({ length: 50 }, (_, i) => acl.insert({ match: { dst: i, dport: 9 }, action: 'drop' })));
    const firstThree = await firstValueFrom(sw.read$(acl.all()).pipe(take(3), toArray()));
    expect(firstThree).toHaveLength(3);
    const all = await firstValueFrom(sw.read$([acl.all(), sw.counter('vm_bytes').all()]).pipe(toArray()));
    expect(all.filter((x) => x.kind === 'table')).toHaveLength(50);
    expect(all.filter((x) => x.kind === 'counter')).toHaveLength(16);
  });

  it('read — breaking out of the async iterator early leaves the switch usable', async () => {
    const sw = await h.primaryWithPipeline();
    const acl = sw.table('acl');
    await sw.write(Array.from({ length: 30 }, (_, i) => acl.insert({ match: { dst: i, dport: 9 }, action: 'drop' })));
    let n = 0;
    for await (const _ of sw.read(acl.all())) if (++n === 2) break;
    expect(n).toBe(2);
    expect((await sw.readAll(acl.all())).length).toBe(30);
  });
});

describe('read — large messages', () => {
  it('read — a single ReadResponse far above 4 MiB is accepted; with a 4 MiB limit it is refused', async () => {
    const h = await startHarness();
    try {
      const sw = await h.primaryWithPipeline({ writeBatchSize: 100 });
      const acl = sw.table('acl');
      const blob = new Uint8Array(8 * 1024).fill(0xab);
      await sw.write(Array.from({ length: 1000 }, (_, i) => acl.insert({ match: { dst: i, dport: 1 }, action: 'drop', metadata: blob })));
      const rows = await sw.readAll(acl.all());
      expect(rows).toHaveLength(1000);
      expect(Buffer.from(rows[999]!.metadata!).equals(Buffer.from(blob))).toBe(true);
      const small = await h.connect(7n, { schema: sw.schema, maxReceiveMessageBytes: 4 * 1024 * 1024 });
      const err = await small.readAll(acl.all()).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    } finally {
      await h.stop();
    }
  });
});
