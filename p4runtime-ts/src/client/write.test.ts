import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { p4, toBigInt } from '../proto/index.js';
import type { LongLike } from '../proto/index.js';
import { EncodedUpdate } from './encoded-update.js';
import type { P4Update } from './handles.js';
import { silentLogger } from '../logger.js';
import { startHarness } from './testing/harness.js';
import type { P4RuntimeTransport } from './transport.js';
import { writeUpdates } from './write.js';
import type { WriteContext } from './write.js';
import type { Harness } from './testing/harness.js';

function ip(i: number): string {
  return `10.0.${(i >> 8) & 0xff}.${i & 0xff}`;
}

describe('write', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('write — entries built by name are encoded with P4Info ids and canonical bytes', async () => {
    const sw = await h.primaryWithPipeline();
    await sw.write(sw.table('acl').insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'allow', params: { port: 1 }, idleTimeout: '30s' }));
    const req = h.server.writes.at(-1)!;
    expect(toBigInt(req.deviceId as LongLike)).toBe(1n);
    expect(req.electionId).toBeTruthy();
    const te = req.updates[0]!.entity!.tableEntry!;
    expect(te.tableId).toBe(33554433);
    expect(te.match!.map((m) => [m.fieldId, Buffer.from(m.exact!.value!).toString('hex')])).toEqual([[1, '0a000005'], [2, '35']]);
    expect(te.action!.action!.actionId).toBe(16777217);
    expect(Buffer.from(te.action!.action!.params![0]!.value!).toString('hex')).toBe('01');
    expect(toBigInt(te.idleTimeoutNs as LongLike, true)).toBe(30_000_000_000n);
  });

  it('write — encodeWrite gives the bytes write sends for one batch, atomicity included, and sends nothing', async () => {
    const sw = await h.primaryWithPipeline();
    const reg = sw.register('ct_state');
    const updates = [reg.modify(2, 7n), sw.table('acl').insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'allow', params: { port: 1 } }), reg.modify(5, 1n << 40n)];
    const before = h.server.writes.length;
    const bytes = sw.encodeWrite(updates);
    const atomic = p4.v1.WriteRequest.decode(sw.encodeWrite(updates[0]!, { atomicity: 'DATAPLANE_ATOMIC' }));
    expect(h.server.writes.length).toBe(before);
    await sw.write(updates);
    const sent = h.server.writes.at(-1)!;
    const plain = (r: p4.v1.WriteRequest): unknown => p4.v1.WriteRequest.toObject(r, { longs: String, bytes: String });
    expect(plain(p4.v1.WriteRequest.decode(bytes))).toEqual(plain(sent));
    expect(atomic.atomicity).toBe(p4.v1.WriteRequest.Atomicity.DATAPLANE_ATOMIC);
    expect(atomic.updates).toHaveLength(1);
  });

  it('write — per-update errors of a mixed batch become one WRITE_FAILED naming index, code, table and key', async () => {
    const sw = await h.primaryWithPipeline();
    const acl = sw.table('acl');
    await sw.write(acl.insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'allow', params: { port: 1 } }));
    const err = (await sw
      .write([
        acl.insert({ match: { dst: '10.0.0.6', dport: 53 }, action: 'drop' }),
        acl.insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'allow', params: { port: 2 } }),
        acl.delete({ match: { dst: '10.9.9.9', dport: 80 } }),
      ])
      .catch((e: unknown) => e)) as P4RuntimeError;
    expect(err).toBeInstanceOf(P4RuntimeError);
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.grpcCode).toBe(2); // UNKNOWN, as BMv2 answers a partly failed batch
    expect(err.updates).toEqual([
      expect.objectContaining({
        index: 1,
        code: 'ALREADY_EXISTS',
        message: 'Match entry exists, use MODIFY if you wish to change action',
        entity: 'INSERT table ingress.acl {hdr.ipv4.dst=10.0.0.5, hdr.tcp.dport=53} → allow(port=2)',
      }),
      expect.objectContaining({ index: 2, code: 'NOT_FOUND', entity: 'DELETE table ingress.acl {hdr.ipv4.dst=10.9.9.9, hdr.tcp.dport=80}' }),
    ]);
    expect(err.message).toMatch(/^2 of 3 updates failed: #1 ALREADY_EXISTS INSERT table ingress\.acl \{hdr\.ipv4\.dst=10\.0\.0\.5, hdr\.tcp\.dport=53\} → allow\(port=2\): Match entry exists/);
    expect(err.message).toContain('#2 NOT_FOUND DELETE table ingress.acl');
    // The OK update of the failed batch was applied.
    const rows = await sw.readAll(acl.all());
    expect(rows.map((r) => r.match['hdr.ipv4.dst'])).toEqual(expect.arrayContaining([{ kind: 'exact', value: 0x0a000006n }]));
  });

  it('write — a large write is split into writeBatchSize requests and error indexes refer to the caller list', async () => {
    const sw = await h.primaryWithPipeline({ writeBatchSize: 100 });
    const acl = sw.table('acl');
    await sw.write([acl.insert({ match: { dst: ip(5), dport: 1 }, action: 'drop' }), acl.insert({ match: { dst: ip(210), dport: 1 }, action: 'drop' })]);
    const before = h.server.writes.length;
    const updates = Array.from({ length: 250 }, (_, i) => acl.insert({ match: { dst: ip(i), dport: 1 }, action: 'drop' }));
    const err = (await sw.write(updates).catch((e: unknown) => e)) as P4RuntimeError;
    expect(h.server.writes.length - before).toBe(3);
    expect(h.server.writes.slice(before).map((w) => w.updates.length)).toEqual([100, 100, 50]);
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.updates.map((u) => [u.index, u.code])).toEqual([[5, 'ALREADY_EXISTS'], [210, 'ALREADY_EXISTS']]);
    expect(err.message).toMatch(/^2 of 250 updates failed: #5 ALREADY_EXISTS INSERT table ingress\.acl \{hdr\.ipv4\.dst=10\.0\.0\.5/);
    expect((await sw.readAll(acl.all())).length).toBe(250);
  });

  it('write — batches may be pipelined (several in flight) without losing updates', async () => {
    const sw = await h.primaryWithPipeline({ writeBatchSize: 10, writeConcurrency: 4 });
    const acl = sw.table('acl');
    await sw.write(Array.from({ length: 95 }, (_, i) => acl.insert({ match: { dst: ip(i), dport: 2 }, action: 'drop' })));
    expect(h.server.writes.filter((w) => w.updates.length > 0).slice(-10).map((w) => w.updates.length).sort((a, b) => a - b)).toEqual([5, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    expect((await sw.readAll(acl.all())).length).toBe(95);
  });

  it('write — a generator is drawn one batch at a time, the next batch built while the previous is on the wire', async () => {
    const sw = await h.primaryWithPipeline({ writeBatchSize: 10 });
    const acl = sw.table('acl');
    const before = h.server.writes.length;
    const writesSeenAt: number[] = [];
    function* updates(): Generator<ReturnType<typeof acl.insert>> {
      for (let i = 0; i < 35; i++) {
        writesSeenAt.push(h.server.writes.length - before);
        yield acl.insert({ match: { dst: ip(i), dport: 5 }, action: 'drop' });
      }
    }
    await sw.write(updates());
    // Batch 3 is drawn only after batch 1 has answered: nothing was built up front.
    expect(writesSeenAt[0]).toBe(0);
    expect(writesSeenAt[20]).toBeGreaterThanOrEqual(1);
    expect(h.server.writes.slice(before).map((w) => w.updates.length)).toEqual([10, 10, 10, 5]);
    expect((await sw.readAll(acl.all())).length).toBe(35);
  });

  it('write — an update that fails to build ends a generator write: earlier batches are written, the builder\'s error is thrown', async () => {
    const sw = await h.primaryWithPipeline({ writeBatchSize: 10 });
    const acl = sw.table('acl');
    function* updates(): Generator<ReturnType<typeof acl.insert>> {
      for (let i = 0; i < 25; i++) yield acl.insert({ match: { dst: ip(i), dport: 6 }, action: 'drop' });
      yield acl.insert({ match: { dst: ip(99), dport: 70_000 }, action: 'drop' });
    }
    const err = (await sw.write(updates()).catch((e: unknown) => e)) as P4RuntimeError;
    expect(err).toBeInstanceOf(P4RuntimeError);
    expect(err.code).toBe('VALUE_RANGE');
    expect(err.message).toMatch(/dport.*70000.*does not fit bit<16>/);
    expect((await sw.readAll(acl.all())).length).toBe(20);
  });

  it('write — atomic writes are sent whole, and the target refusing them is a plain error', async () => {
    const sw = await h.primaryWithPipeline({ writeBatchSize: 2 });
    const acl = sw.table('acl');
    const before = h.server.writes.length;
    const err = (await sw
      .write(Array.from({ length: 5 }, (_, i) => acl.insert({ match: { dst: ip(i), dport: 3 }, action: 'drop' })), { atomicity: 'ROLLBACK_ON_ERROR' })
      .catch((e: unknown) => e)) as P4RuntimeError;
    expect(h.server.writes.length - before).toBe(1);
    expect(h.server.writes.at(-1)!.updates).toHaveLength(5);
    expect(err.code).toBe('UNIMPLEMENTED');
    expect(err.message).toContain('atomic write modes');
  });

  it('write — from a backup fails as a whole with PERMISSION_DENIED and stops at that batch', async () => {
    const primary = await h.primaryWithPipeline();
    const backup = await h.connect(5n, { schema: primary.schema, writeBatchSize: 1 });
    const acl = backup.table('acl');
    const before = h.server.writes.length;
    const err = (await backup
      .write([acl.insert({ match: { dst: ip(1), dport: 4 }, action: 'drop' }), acl.insert({ match: { dst: ip(2), dport: 4 }, action: 'drop' })])
      .catch((e: unknown) => e)) as P4RuntimeError;
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toMatch(/batch 1 of 2, updates #0\.\.#0; later batches not sent.*Not primary/);
    expect(h.server.writes.length - before).toBe(1);
  });

  it('write — registers, counters, direct counters, default action and digest config by name', async () => {
    const sw = await h.primaryWithPipeline();
    await sw.write([
      sw.table('acl').insert({ match: { dst: '10.0.0.1', dport: 7 }, action: 'drop' }),
      sw.register('ct_state').modify(3, 0xdead_beef_cafe_f00dn),
      sw.counter('vm_bytes').modify(7, { bytes: 1_234n, packets: 10n }),
      sw.directCounter('acl').modify({ dst: '10.0.0.1', dport: 7 }, { bytes: 99n, packets: 1n }),
      sw.table('acl').setDefault('drop'),
      sw.digest('ct_delta').configure({ maxTimeoutNs: '1ms', maxListSize: 100, ackTimeoutNs: '1s' }),
    ]);
    expect(h.server.digestConfigs.get(385875969)).toMatchObject({ maxListSize: 100 });
    expect(await sw.readAll(sw.digest('ct_delta').config())).toEqual([{ kind: 'digest', digest: 'ct_delta', maxTimeoutNs: 1_000_000n, maxListSize: 100, ackTimeoutNs: 1_000_000_000n }]);
    expect(await sw.readAll(sw.table('acl').defaultEntry())).toEqual([
      { kind: 'table', table: 'ingress.acl', match: {}, action: 'ingress.drop', params: {}, priority: 0, isDefault: true, idleTimeoutNs: 0n },
    ]);
    const [cell] = await sw.readAll(sw.register('ct_state').at(3));
    expect(cell).toEqual({ kind: 'register', register: 'ingress.ct_state', index: 3, value: 0xdead_beef_cafe_f00dn });
    const [c] = await sw.readAll(sw.counter('vm_bytes').at(7));
    expect(c).toEqual({ kind: 'counter', counter: 'ingress.vm_bytes', index: 7, bytes: 1_234n, packets: 10n });
    const dc = await sw.readAll(sw.directCounter('acl').all());
    expect(dc).toEqual([{ kind: 'directCounter', table: 'ingress.acl', match: { 'hdr.ipv4.dst': { kind: 'exact', value: 0x0a000001n }, 'hdr.tcp.dport': { kind: 'exact', value: 7n } }, priority: 0, bytes: 99n, packets: 1n }]);
  });

  it('write — a mixed batch (encoded register cells among plain counter updates) decodes none of its encoded updates and reaches the switch whole', async () => {
    const sw = await h.primaryWithPipeline();
    const cells = Array.from({ length: 8 }, (_, i) => sw.register('ct_state').modify(i, 1_000n + BigInt(i)));
    expect(cells.every((u) => u instanceof EncodedUpdate)).toBe(true);
    const decoded = vi.spyOn(EncodedUpdate.prototype, 'entity', 'get');
    await sw.write([sw.counter('vm_bytes').modify(7, { bytes: 5n, packets: 1n }), ...cells], { atomicity: 'CONTINUE_ON_ERROR' });
    expect(decoded).not.toHaveBeenCalled();
    decoded.mockRestore();
    expect(h.server.writes.at(-1)?.updates).toHaveLength(9);
    const read = await sw.readAll(Array.from({ length: 8 }, (_, i) => sw.register('ct_state').at(i)));
    expect(read.map((c) => (c.kind === 'register' ? c.value : -1n))).toEqual(Array.from({ length: 8 }, (_, i) => 1_000n + BigInt(i)));
  });

  it('write — bad input is refused before sending, naming the field, width and fix', async () => {
    const sw = await h.primaryWithPipeline();
    const acl = sw.table('acl');
    expect(() => acl.insert({ match: { dst: '10.0.0.1', dport: 70000 }, action: 'drop' })).toThrow(/hdr\.tcp\.dport.*bit<16>/);
    expect(() => acl.insert({ match: { dst: '10.0.0.1' }, action: 'drop' })).toThrow(/exact match field 'hdr\.tcp\.dport' is missing; give match\.dport/);
    expect(() => acl.insert({ match: { dst: '10.0.0.1', dport: 1 }, action: 'allow' })).toThrow(/parameter 'port' of action 'ingress\.allow'.*missing/);
    expect(() => acl.insert({ match: { dst: '10.0.0.1', dport: 1 }, action: 'alow', params: { port: 1 } })).toThrow(/did you mean/);
    expect(() => acl.insert({ match: { dst: '10.0.0.1', dport: 1 }, action: 'allow', params: { prt: 1 } })).toThrow(/did you mean 'port'/);
    expect(() => acl.insert({ match: { dst: '10.0.0.1', dport: 1 }, action: 'drop', params: { port: 1 } })).toThrow(/no parameter 'port'/);
    expect(() => acl.insert({ match: { dts: '10.0.0.1', dport: 1 }, action: 'drop' })).toThrow(/did you mean 'hdr\.ipv4\.dst'/);
    expect(() => acl.insert({ match: { dst: '10.0.0.1', dport: 1 }, action: 'drop', idleTimeout: '30 parsecs' })).toThrow(/'30s', '250ms'/);
    expect(() => sw.table('filter').insert({ match: { src: '10.0.0.0/8' }, action: 'drop' })).toThrow(/need priority/);
    expect(() => sw.register('ct_state').modify(8, 1n)).toThrow(/index 8 is outside 0\.\.7/);
    expect(() => sw.table('acll')).toThrow(/did you mean 'ingress.acl'|did you mean 'acl'/);
  });
});

describe('write — the request around the updates', () => {
  /** A transport that keeps what it is asked to send; `encoded` says whether it takes encoded requests. */
  function capture(encoded: boolean): { transport: P4RuntimeTransport; sent: p4.v1.WriteRequest[] } {
    const sent: p4.v1.WriteRequest[] = [];
    const unused = (): never => {
      throw new Error('not used by write');
    };
    const transport: P4RuntimeTransport = {
      write: (req) => {
        sent.push(p4.v1.WriteRequest.decode(p4.v1.WriteRequest.encode(req).finish()));
        return Promise.resolve();
      },
      ...(encoded ? { writeEncoded: (bytes: Uint8Array) => (sent.push(p4.v1.WriteRequest.decode(bytes)), Promise.resolve()) } : {}),
      capabilities: unused, read: unused, setPipeline: unused, getPipeline: unused, openStream: unused, close: unused,
    };
    return { transport, sent };
  }

  it.each([true, false])('write — device id, election id, role and atomicity are the same in every batch, whether the transport takes encoded requests (%s) or objects', async (encoded) => {
    const { transport, sent } = capture(encoded);
    const ctx: WriteContext = { transport, deviceId: 7n, electionId: () => (5n << 64n) | 3n, role: 'edge', schema: () => undefined, batchSize: 2, concurrency: 1, logger: silentLogger };
    const cell = (i: number): P4Update => ({ type: p4.v1.Update.Type.MODIFY, entity: { registerEntry: { registerId: 9, index: { index: i }, data: { bitstring: new Uint8Array([i]) } } } });
    const cells = [cell(1), EncodedUpdate.of(cell(2)), cell(3)];
    // Split in batches of two; then the same updates whole, as an atomic write is sent.
    await writeUpdates(ctx, cells);
    await writeUpdates(ctx, cells, { atomicity: 'ROLLBACK_ON_ERROR' });
    expect(sent.map((r) => r.updates.length)).toEqual([2, 1, 3]);
    for (const r of sent) {
      expect(toBigInt(r.deviceId as LongLike)).toBe(7n);
      expect(toBigInt(r.electionId?.high as LongLike)).toBe(5n);
      expect(toBigInt(r.electionId?.low as LongLike)).toBe(3n);
      expect(r.role).toBe('edge');
    }
    expect(sent.map((r) => r.atomicity)).toEqual([0, 0, p4.v1.WriteRequest.Atomicity.ROLLBACK_ON_ERROR]);
    expect(sent.flatMap((r) => r.updates.map((u) => toBigInt(u.entity?.registerEntry?.index?.index as LongLike)))).toEqual([1n, 2n, 3n, 1n, 2n, 3n]);
  });
});
