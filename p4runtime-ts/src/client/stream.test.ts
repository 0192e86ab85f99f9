import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

const DIGEST_ID = 385875969;

function bits(hex: string): { bitstring: Uint8Array } {
  return { bitstring: Buffer.from(hex, 'hex') };
}

describe('stream', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('stream — packet-out with metadata by name comes back as a packet-in decoded by name', async () => {
    const sw = await h.primaryWithPipeline();
    const got = firstValueFrom(sw.packetIn$);
    sw.packetOut(Buffer.from('hello'), { egress_port: 3, reason: 0x42 });
    const p = await got;
    expect(Buffer.from(p.payload).toString()).toBe('hello');
    expect(p.metadata).toEqual({ ingress_port: 3n, reason: 0x42n });
    expect(h.server.packetOuts[0]!.metadata).toEqual([
      expect.objectContaining({ metadataId: 1 }),
      expect.objectContaining({ metadataId: 2 }),
    ]);
  });

  it('stream — packet-out metadata is checked against the P4Info', async () => {
    const sw = await h.primaryWithPipeline();
    expect(() => sw.packetOut(Buffer.from('x'), { egres_port: 1 })).toThrow(/did you mean 'egress_port'/);
    expect(() => sw.packetOut(Buffer.from('x'), { egress_port: 512 })).toThrow(/bit<9>/);
  });

  it('stream — digest lists are decoded by member name and acked automatically', async () => {
    const sw = await h.primaryWithPipeline();
    const lists = firstValueFrom(sw.digests$('ct_delta').pipe(take(2), toArray()));
    const ack1 = h.server.sendDigest(DIGEST_ID, 7n, [
      { struct: { members: [bits('0a000005'), bits('0003')] } },
      { struct: { members: [bits('0a000006'), bits('ffff')] } },
    ]);
    const ack2 = h.server.sendDigest(DIGEST_ID, (1n << 64n) - 1n, [{ struct: { members: [bits('00'), bits('01')] } }]);
    const [a, b] = await lists;
    expect(a).toMatchObject({ digest: 'ct_delta', digestId: DIGEST_ID, listId: 7n, entries: [{ src_addr: 0x0a000005n, index: 3n }, { src_addr: 0x0a000006n, index: 0xffffn }] });
    expect(b).toMatchObject({ listId: (1n << 64n) - 1n, entries: [{ src_addr: 0n, index: 1n }] });
    expect(a!.timestampNs).toBeGreaterThan(0n);
    await ack1;
    await ack2;
    expect(h.server.acks).toHaveLength(2);
  });

  it('stream — with autoAckDigests false nothing is acked until ackDigest', async () => {
    const sw = await h.primaryWithPipeline({ autoAckDigests: false });
    const list = firstValueFrom(sw.digests$('ct_delta'));
    const acked = h.server.sendDigest(DIGEST_ID, 9n, [{ struct: { members: [bits('01'), bits('02')] } }]);
    const d = await list;
    await new Promise((r) => setTimeout(r, 50));
    expect(h.server.acks).toHaveLength(0);
    sw.ackDigest(d.digestId, d.listId);
    await acked;
    expect(h.server.acks).toHaveLength(1);
  });

  it('stream — a digest that does not match its P4Info layout is reported on streamErrors$ and still acked', async () => {
    const sw = await h.primaryWithPipeline();
    const err = firstValueFrom(sw.streamErrors$);
    const acked = h.server.sendDigest(DIGEST_ID, 1n, [{ struct: { members: [bits('01')] } }]);
    expect(await err).toMatchObject({ kind: 'decode', message: expect.stringMatching(/digest 'ct_delta': message has 1 values, the P4Info declares 2/) });
    await acked;
  });

  it('stream — idle-timeout notifications are decoded by name', async () => {
    const sw = await h.primaryWithPipeline();
    await sw.write([
      sw.table('acl').insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'drop', idleTimeout: '1s' }),
      sw.table('acl').insert({ match: { dst: '10.0.0.6', dport: 53 }, action: 'drop', idleTimeout: '2s' }),
    ]);
    const notice = firstValueFrom(sw.idleTimeouts$);
    expect(h.server.sendIdleTimeout(33554433)).toBe(2);
    const n = await notice;
    expect(n.timestampNs).toBeGreaterThan(0n);
    expect(n.entries.map((e) => [e.table, e.match['hdr.ipv4.dst'], e.idleTimeoutNs])).toEqual([
      ['ingress.acl', { kind: 'exact', value: 0x0a000005n }, 1_000_000_000n],
      ['ingress.acl', { kind: 'exact', value: 0x0a000006n }, 2_000_000_000n],
    ]);
  });

  it('stream — StreamErrors from the target arrive on streamErrors$', async () => {
    const sw = await h.primaryWithPipeline();
    const err = firstValueFrom(sw.streamErrors$);
    h.server.sendStreamError({ canonicalCode: 3, message: 'bad packet', space: 'test', code: 9, packetOut: { packetOut: { payload: Buffer.from('x') } } });
    expect(await err).toEqual({ kind: 'packetOut', code: 'INVALID_ARGUMENT', message: 'bad packet', space: 'test', targetCode: 9 });
  });

  it('stream — observables survive a reconnect of the stream', async () => {
    const sw = await h.primaryWithPipeline();
    const down = firstValueFrom(sw.arbitration$.pipe(filter((s) => s.kind === 'disconnected')));
    h.server.breakStreams();
    await down;
    expect(() => sw.packetOut(Buffer.from('lost'))).toThrow(/not open/);
    await sw.waitForPrimary(3000);
    const got = firstValueFrom(sw.packetIn$);
    sw.packetOut(Buffer.from('again'), { egress_port: 1, reason: 0 });
    expect(Buffer.from((await got).payload).toString()).toBe('again');
  });

  it('stream — close completes the observables', async () => {
    const sw = await h.primaryWithPipeline();
    const all = firstValueFrom(sw.packetIn$.pipe(toArray()));
    await sw.close();
    expect(await all).toEqual([]);
    expect(sw.arbitration).toMatchObject({ kind: 'disconnected', retrying: false, error: { code: 'CONNECTION_CLOSED' } });
  });
});

describe('stream — packet-out metadata completeness', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.stop();
  });
  it('stream — a missing non-padding metadata field is refused naming it, nothing is sent', async () => {
    const sw = await h.primaryWithPipeline();
    expect(() => sw.packetOut(Buffer.from('x'), { egress_port: 1 })).toThrow(/packet metadata 'reason' of 'packet_out' is missing/);
    expect(h.server.packetOuts).toHaveLength(0);
  });
});
