/**
 * p4runtime-ts driving the sim — a spec-conformant P4Runtime server over real gRPC on loopback —
 * through everything issue 2 names: arbitration, pipeline set/get with cookie, table write/read,
 * registers incl. wildcard, counters, direct counters, packet I/O, digests, idle timeouts, and
 * per-update errors decoded by name.
 */
import { firstValueFrom, filter, take, timeout, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P4RuntimeError, P4Switch } from 'p4runtime-ts';
import { L2_ECHO_LEARN_ETHER_TYPE, l2EchoDeviceConfig, l2EchoP4Info, startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';

const frame = (dst: bigint, src: bigint, etherType: number): Uint8Array => {
  const b = new Uint8Array(60);
  for (let i = 0; i < 6; i++) {
    b[i] = Number((dst >> BigInt(8 * (5 - i))) & 0xffn);
    b[6 + i] = Number((src >> BigInt(8 * (5 - i))) & 0xffn);
  }
  b[12] = etherType >> 8;
  b[13] = etherType & 0xff;
  return b;
};

describe('p4runtime-ts on the sim (profile full)', () => {
  let sim: SimSwitch;
  let sw: P4Switch;

  beforeAll(async () => {
    sim = await startSimSwitch({ profile: 'full', idleScanIntervalMs: 50 });
    sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 100n });
    await sw.waitForPrimary();
  });
  afterAll(async () => {
    await sw?.close();
    await sim?.stop();
  });

  it('pipeline — pushes once, then the cookie matches and nothing is re-pushed', async () => {
    const spec = { p4info: l2EchoP4Info(), deviceConfig: l2EchoDeviceConfig('full') };
    const first = await sw.ensurePipeline(spec);
    const second = await sw.ensurePipeline(spec);
    expect(first.pushed).toBe(true);
    expect(second.pushed).toBe(false);
    expect(second.cookie).toBe(first.cookie);
    const got = await sw.getPipeline('P4INFO_AND_COOKIE');
    expect(got.cookie).toBe(first.cookie);
    expect(sim.state.pipeline()?.program).toBe('l2_echo');
  });

  it('arbitration — a second controller with a lower election id is backup and cannot write', async () => {
    const backup = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 50n });
    try {
      expect(backup.isPrimary).toBe(false);
      expect(sw.isPrimary).toBe(true);
      backup.bindSchema(l2EchoP4Info());
      const err = await backup.write(backup.table('mac_fwd').insert({ match: { dst_addr: 0x0a0000000001n }, action: 'drop' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(P4RuntimeError);
      expect((err as P4RuntimeError).code).toBe('PERMISSION_DENIED');
      // Waiting to become primary gives up naming the primary's election id and the fix.
      const wait = await backup.waitForPrimary(200).catch((e: unknown) => e);
      expect((wait as P4RuntimeError).code).toBe('NOT_PRIMARY');
      expect((wait as Error).message).toMatch(new RegExp(`another client is primary with election id ${String(sw.electionId)} \\(ours: 50\\); give this one a higher election id`));
    } finally {
      await backup.close();
    }
  });

  it('arbitration — after a client with a higher election id left, no client is primary on a spec target: waiting says so and names the id it keeps, not "another client is primary" (walkthrough 21)', async () => {
    const high = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 900n, role: 'spec-rule' });
    await high.waitForPrimary(2_000);
    await high.close();
    const low = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 20n, role: 'spec-rule' });
    try {
      const wait = await low.waitForPrimary(300).catch((e: unknown) => e);
      expect((wait as P4RuntimeError).code).toBe('NOT_PRIMARY');
      expect((wait as Error).message).toMatch(/no client is primary, but the switch keeps the highest election id it has seen \(900\) from a client gone since, above ours \(20\); give this one an election id at least that high/);
    } finally {
      await low.close();
    }
  });

  it('arbitration — a client in a role of its own is primary beside the default role\'s primary (a lower election id), and both write', async () => {
    const other = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 5n, role: 'carryover' });
    try {
      await other.waitForPrimary(2_000);
      expect([sw.isPrimary, other.isPrimary]).toEqual([true, true]);
      other.bindSchema(l2EchoP4Info());
      const entry = { match: { dst_addr: 0x0a0000000077n }, action: 'drop' };
      await other.write(other.table('mac_fwd').insert(entry));
      await sw.write(sw.table('mac_fwd').delete({ match: entry.match }));
    } finally {
      await other.close();
    }
  });

  it('tables — write by name, read back decoded by name, per-update errors name table and key', async () => {
    const t = sw.table('mac_fwd');
    await sw.write([
      t.insert({ match: { dst_addr: '02:00:00:00:00:01' }, action: 'forward', params: { port: 7 } }),
      t.insert({ match: { dst_addr: '02:00:00:00:00:02' }, action: 'drop' }),
      sw.table('acl').insert({ match: { ether_type: { value: 0x0800n, mask: 0xffffn }, ingress_port: { low: 1n, high: 4n } }, action: 'deny', priority: 10 }),
    ]);
    const rows = await sw.readAll(t.all());
    const byDst = new Map(rows.map((r) => [(r.match['hdr.ethernet.dst_addr'] as { kind: 'exact'; value: bigint }).value, r]));
    expect(byDst.get(0x020000000001n)).toMatchObject({ action: 'EchoIngress.forward', params: { port: 7n } });
    expect(byDst.get(0x020000000002n)).toMatchObject({ action: 'EchoIngress.drop', params: {} });
    expect(rows).toHaveLength(2);
    const [acl] = await sw.readAll(sw.table('acl').all());
    expect(acl?.match['hdr.ethernet.ether_type']).toEqual({ kind: 'ternary', value: 0x0800n, mask: 0xffffn });
    expect(acl?.match['standard_metadata.ingress_port']).toEqual({ kind: 'range', low: 1n, high: 4n });
    expect(acl?.priority).toBe(10);
    const err = (await sw
      .write([
        t.insert({ match: { dst_addr: '02:00:00:00:00:03' }, action: 'to_cpu' }),
        t.insert({ match: { dst_addr: '02:00:00:00:00:01' }, action: 'drop' }),
        t.delete({ match: { dst_addr: '02:00:00:00:00:99' } }),
      ])
      .catch((e: unknown) => e)) as P4RuntimeError;
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.updates.map((u) => [u.index, u.code])).toEqual([
      [1, 'ALREADY_EXISTS'],
      [2, 'NOT_FOUND'],
    ]);
    expect(err.updates[0]?.entity).toContain('mac_fwd');
    expect(err.updates[0]?.entity).toContain('02:00:00:00:00:01');
    expect((await sw.readAll(t.all())).length).toBe(3);
  });

  it('registers — write cells, read one and the whole array by wildcard, wide values as bigint', async () => {
    const wide = (1n << 71n) | 0x1234n;
    await sw.write([sw.register('pkt_count').modify(3, 42n), sw.register('wide_reg').modify(15, wide)]);
    const cell = await sw.readAll(sw.register('pkt_count').at(3));
    expect(cell.map((c) => c.value)).toEqual([42n]);
    const all = await sw.readAll(sw.register('wide_reg').all());
    expect(all).toHaveLength(16);
    expect(all.find((c) => c.index === 15)?.value).toBe(wide);
    // Too wide for bit<72>: refused while building, before anything is sent.
    expect(() => sw.register('wide_reg').modify(0, 1n << 72n)).toThrow(/does not fit bit<72>/);
    expect(sim.state.registerRead('wide_reg', 0)).toBe(0n);
  });

  it('counters and direct counters — modify, count packets, read back', async () => {
    await sw.write(sw.counter('port_counter').modify(9, { bytes: 1_000_000_000_000n, packets: 5n }));
    const [c] = await sw.readAll(sw.counter('port_counter').at(9));
    expect(c).toMatchObject({ index: 9, bytes: 1_000_000_000_000n, packets: 5n });
    const before = (await sw.readAll(sw.directCounter('mac_fwd').all())).find((d) => d.match['hdr.ethernet.dst_addr']?.kind === 'exact');
    expect(before).toBeDefined();
    // A packet to 02:..:01 hits the forward entry: its direct counter counts it.
    sw.packetOut(frame(0x020000000001n, 0x020000000abcn, 0x0800), { egress_port: 0n });
    await new Promise((r) => setTimeout(r, 100));
    const hit = (await sw.readAll(sw.directCounter('mac_fwd').all())).find((d) => d.match['hdr.ethernet.dst_addr']?.kind === 'exact' && (d.match['hdr.ethernet.dst_addr'] as { value: bigint }).value === 0x020000000001n);
    expect(hit?.packets).toBe(1n);
    expect(hit?.bytes).toBe(60n);
  });

  it('packet I/O — a packet-out to an unknown destination comes back as a packet-in, metadata by name', async () => {
    const got = firstValueFrom(sw.packetIn$.pipe(take(1), timeout(5000)));
    const payload = frame(0x0e0000000042n, 0x020000000abcn, 0x0800);
    sw.packetOut(payload, { egress_port: 0n });
    const pin = await got;
    expect(Array.from(pin.payload)).toEqual(Array.from(payload));
    expect(pin.metadata['ingress_port']).toBe(BigInt(sim.cpuPort));
  });

  it('digests — configured by name, decoded by member name, acked (so the same data may be sent again)', async () => {
    // A 10 s ack timeout: without our ack the switch would suppress the repeat below.
    await sw.write(sw.digest('learn_t').configure({ maxTimeoutNs: 0n, maxListSize: 1, ackTimeoutNs: 10_000_000_000n }));
    const first = firstValueFrom(sw.digests$('learn_t').pipe(take(2), toArray(), timeout(5000)));
    sw.packetOut(frame(0x0e0000000001n, 0x02000000beefn, L2_ECHO_LEARN_ETHER_TYPE), { egress_port: 0n });
    sw.packetOut(frame(0x0e0000000001n, 0x02000000cafen, L2_ECHO_LEARN_ETHER_TYPE), { egress_port: 0n });
    const got = await first;
    expect(got.flatMap((l) => l.entries.map((e) => e['src_addr'])).sort()).toEqual([0x02000000beefn, 0x02000000cafen]);
    expect(got[0]?.entries[0]?.['ingress_port']).toBe(BigInt(sim.cpuPort));
    await new Promise((r) => setTimeout(r, 100));
    const again = firstValueFrom(sw.digests$('learn_t').pipe(take(1), timeout(5000)));
    sw.packetOut(frame(0x0e0000000001n, 0x02000000beefn, L2_ECHO_LEARN_ETHER_TYPE), { egress_port: 0n });
    expect((await again).entries[0]?.['src_addr']).toBe(0x02000000beefn);
    expect(sim.state.digestStats().duplicates).toBe(0);
  });

  it('idle timeouts — an idle entry is reported, decoded by name', async () => {
    const t = sw.table('mac_fwd');
    const notice = firstValueFrom(
      sw.idleTimeouts$.pipe(
        filter((n) => n.entries.some((e) => (e.match['hdr.ethernet.dst_addr'] as { value: bigint } | undefined)?.value === 0x020000000077n)),
        take(1),
        timeout(5000),
      ),
    );
    await sw.write(t.insert({ match: { dst_addr: '02:00:00:00:00:77' }, action: 'drop', idleTimeout: '100ms' }));
    const n = await notice;
    expect(n.entries[0]?.table).toBe('EchoIngress.mac_fwd');
    expect(n.entries[0]?.idleTimeoutNs).toBe(100_000_000n);
  });
});

describe('p4runtime-ts on the sim — read errors per entity', () => {
  it('read — a missing key comes back as NOT_FOUND naming the table and key, not the call\'s UNKNOWN', async () => {
    const sim = await startSimSwitch({ profile: 'full' });
    const sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 7n });
    try {
      await sw.ensurePipeline({ p4info: l2EchoP4Info(), deviceConfig: l2EchoDeviceConfig('full') });
      const err = (await sw.readAll(sw.table('mac_fwd').entry({ dst_addr: '02:00:00:00:00:99' })).catch((e: unknown) => e)) as P4RuntimeError;
      expect(err).toBeInstanceOf(P4RuntimeError);
      expect(err.code).toBe('NOT_FOUND');
      expect(err.grpcCode).toBe(2);
      expect(err.updates).toHaveLength(1);
      expect(err.updates[0]?.entity).toMatch(/^READ table EchoIngress\.mac_fwd .*02:00:00:00:00:99/);
    } finally {
      await sw.close();
      await sim.stop();
    }
  });
});
