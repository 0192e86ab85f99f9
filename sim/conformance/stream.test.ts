import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { PROFILE_EXPECTATIONS } from './profile-expectations.js';
import { SIM_PROFILE_NAMES } from '../profiles.js';
import { VirtualScheduler } from '../clock.js';
import { bytesToBigInt } from '../p4rt/bytestring.js';
import { L2_ECHO_LEARN_ETHER_TYPE } from '../programs/l2-echo/l2-echo-p4info.js';
import { l2, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';
import type { EgressPacket } from '../server/dataplane.js';

const ids = l2.ids;
const SRC = 0x020000000001n;
const packetOut = (payload: Uint8Array, egressPort = 0): p4.v1.StreamMessageRequest.$Properties => ({
  packet: { payload, metadata: [{ metadataId: 1, value: l2.bytes(egressPort) }, { metadataId: 2, value: l2.bytes(0) }] },
});
const meta = (m: p4.v1.PacketIn.$Properties | null | undefined, id: number): bigint => bytesToBigInt(m?.metadata?.find((x) => x.metadataId === id)?.value ?? new Uint8Array());
/** Lets in-flight gRPC messages land (virtual time does not move real sockets). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));
/** Waits (real time, up to 5 s) until `cond` holds: a positive outcome is awaited, not guessed. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe.each(SIM_PROFILE_NAMES)('conformance %s — stream: packet I/O, digests, idle timeouts', (profile) => {
  const x = PROFILE_EXPECTATIONS[profile];
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it(`${profile} — PacketOut with an egress port leaves on that port; without one the pipeline echoes it as a PacketIn`, async () => {
    f = await startFixture({ profile });
    const egress: EgressPacket[] = [];
    f.sw.dataplane.onEgress((p) => egress.push(p));
    const frame = l2.frame(0x99n, SRC, 0x0800, 'ping');
    f.stream.send(packetOut(frame, 7));
    f.stream.send(packetOut(frame));
    const pin = (await f.stream.next((m) => m.update === 'packet')).packet;
    expect(Buffer.from(pin?.payload ?? []).equals(Buffer.from(frame))).toBe(true);
    expect(meta(pin, 1)).toBe(BigInt(f.sw.cpuPort));
    expect(egress).toHaveLength(1);
    expect(egress[0]?.port).toBe(7);
  });

  it(`${profile} — a packet on a data port is forwarded by the tables or echoed to the primary only`, async () => {
    f = await startFixture({ profile });
    const backup = f.client.stream();
    backup.arbitrate({ deviceId: 1, electionId: 3n });
    await backup.nextArbitration();
    await f.write([l2.insert(l2.macFwd(0x0a0000000002n, { forward: 4 })), l2.insert(l2.acl({ ports: [9, 9], priority: 1, deny: true }))]);
    expect(f.sw.dataplane.inject(2, l2.frame(0x0a0000000002n, SRC, 0x0800))).toMatchObject({ kind: 'forward', port: 4 });
    expect(f.sw.dataplane.inject(9, l2.frame(0x0a0000000002n, SRC, 0x0800))).toMatchObject({ kind: 'drop', reason: 'acl deny' });
    expect(f.sw.dataplane.inject(2, l2.frame(0x77n, SRC, 0x0800)).kind).toBe('to-cpu');
    const pin = (await f.stream.next((m) => m.update === 'packet')).packet;
    expect(meta(pin, 1)).toBe(2n);
    await settle();
    expect(backup.received.filter((m) => m.update === 'packet')).toHaveLength(0);
    expect(f.sw.state.counter('port_counter', 2).packets).toBe(2n);
    expect(f.sw.state.registerRead('pkt_count', 9)).toBe(1n);
    expect(f.sw.state.tableEntries('mac_fwd')[0]?.counter?.packets).toBe(1n);
    backup.cancel();
  });

  it(`${profile} — a PacketOut from a backup is dropped${profile === 'bmv2' ? ' silently' : ' with a PERMISSION_DENIED StreamError'}`, async () => {
    f = await startFixture({ profile });
    const backup = f.client.stream();
    backup.arbitrate({ deviceId: 1, electionId: 3n });
    await backup.nextArbitration();
    backup.send(packetOut(l2.frame(0x99n, SRC, 0x0800), 5));
    await settle();
    if (profile !== 'bmv2') await until(() => backup.received.some((m) => m.update === 'error'));
    expect(f.sw.dataplane.stats()?.packetOuts).toBe(0);
    const errors = backup.received.filter((m) => m.update === 'error');
    if (profile === 'bmv2') expect(errors).toHaveLength(0);
    else expect(errors[0]?.error?.canonicalCode).toBe(status.PERMISSION_DENIED);
    backup.cancel();
  });

  it(`${profile} — digests: lists arrive, duplicates wait for the ack, timing is ${x.digestTiming}`, async () => {
    const clock = new VirtualScheduler();
    f = await startFixture({ profile, scheduler: clock });
    const learn = (src: bigint, port: number): void => void f?.sw.dataplane.inject(port, l2.frame(0x99n, src, L2_ECHO_LEARN_ETHER_TYPE));
    expect((await f.write([{ type: 1, entity: { digestEntry: { digestId: ids.digests.learn_t, config: { maxTimeoutNs: 1_000_000, maxListSize: 100, ackTimeoutNs: 10_000_000_000 } } } }])).code).toBe(status.OK);
    learn(SRC, 3);
    learn(SRC, 3);
    learn(SRC + 1n, 4);
    clock.advance(1);
    await settle();
    if (x.digestTiming === 'spec') await until(() => f?.stream.queued('digest').length === 1);
    const early = f.stream.queued('digest');
    if (x.digestTiming === 'spec') {
      expect(early).toHaveLength(1);
    } else {
      expect(early).toHaveLength(0);
      clock.advance(198);
      await settle();
      expect(f.stream.queued('digest')).toHaveLength(0);
      clock.advance(101);
    }
    const list = (await f.stream.next((m) => m.update === 'digest')).digest;
    expect(list?.digestId).toBe(ids.digests.learn_t);
    const members = (list?.data ?? []).map((d) => (d.struct?.members ?? []).map((mm) => bytesToBigInt(mm.bitstring ?? new Uint8Array())));
    expect(members).toEqual([[SRC, 3n], [SRC + 1n, 4n]]);
    // Same data again before the ack: suppressed. After the ack it is sent again.
    learn(SRC, 3);
    clock.advance(400);
    await settle();
    expect(f.stream.queued('digest')).toHaveLength(0);
    f.stream.send({ digestAck: { digestId: ids.digests.learn_t, listId: list?.listId ?? 0 } });
    await settle();
    learn(SRC, 3);
    clock.advance(400);
    const again = (await f.stream.next((m) => m.update === 'digest')).digest;
    expect(toBigInt(again?.listId as LongLike)).toBe(2n);
  });

  it(`${profile} — idle-timeout notifications: ${x.idleNotifications ? 'sent for NOTIFY_CONTROL entries, repeated until deleted' : 'never sent'}`, async () => {
    const clock = new VirtualScheduler();
    f = await startFixture({ profile, scheduler: clock });
    await f.write([l2.insert(l2.macFwd(1n, 'drop', { idleTimeoutNs: 300_000_000, metadata: Uint8Array.of(9) })), l2.insert(l2.macFwd(2n, 'drop'))]);
    clock.advance(profile === 'bmv2' ? 1000 : 300);
    await settle();
    if (!x.idleNotifications) {
      clock.advance(10_000);
      await settle();
      expect(f.stream.received.filter((m) => m.update === 'idleTimeoutNotification')).toHaveLength(0);
      return;
    }
    const n = (await f.stream.next((m) => m.update === 'idleTimeoutNotification')).idleTimeoutNotification;
    expect(n?.tableEntry).toHaveLength(1);
    expect(n?.tableEntry?.[0]?.tableId).toBe(ids.tables.mac_fwd);
    expect(toBigInt(n?.tableEntry?.[0]?.idleTimeoutNs as LongLike)).toBe(300_000_000n);
    expect([...(n?.tableEntry?.[0]?.metadata ?? [])]).toEqual([9]);
    expect(toBigInt(n?.timestamp as LongLike)).toBeGreaterThan(0n);
    clock.advance(profile === 'bmv2' ? 1000 : 300);
    await f.stream.next((m) => m.update === 'idleTimeoutNotification');
    await f.write([l2.remove(l2.macFwd(1n, 'drop'))]);
    clock.advance(5000);
    await settle();
    expect(f.stream.queued('idleTimeoutNotification')).toHaveLength(0);
  });
});
