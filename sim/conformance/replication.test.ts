// PacketReplicationEngineEntry (P4Runtime 1.4 §9.5): an operator's script that configures
// multicast groups and clone sessions must work on every profile, as it does on real BMv2.
import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { p4 } from 'p4runtime-ts/proto';
import { SIM_PROFILE_NAMES } from '../profiles.js';
import type { EgressPacket } from '../server/dataplane.js';
import { l2, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';

const ids = l2.ids;
const group = (id: number, replicas: p4.v1.Replica.$Properties[]): p4.v1.Entity.$Properties => ({ packetReplicationEngineEntry: { multicastGroupEntry: { multicastGroupId: id, replicas } } });
const session = (id: number, replicas: p4.v1.Replica.$Properties[], packetLengthBytes = 0): p4.v1.Entity.$Properties => ({
  packetReplicationEngineEntry: { cloneSessionEntry: { sessionId: id, replicas, classOfService: 2, packetLengthBytes } },
});
const upd = (type: number, entity: p4.v1.Entity.$Properties): p4.v1.Update.$Properties => ({ type, entity });
const INSERT = 1;
const MODIFY = 2;
const DELETE = 3;
const DST = 0x0a00000000aan;

describe.each(SIM_PROFILE_NAMES)('conformance %s — packet replication engine', (profile) => {
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it(`${profile} — multicast groups and clone sessions are inserted, read back (by id and all), modified and deleted`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([
      upd(INSERT, group(7, [{ port: l2.bytes(3), instance: 1 }, { port: Uint8Array.of(0, 0, 0, 4), instance: 1 }])),
      upd(INSERT, group(9, [{ egressPort: 5, instance: 0 }])),
      upd(INSERT, session(100, [{ egressPort: 255, instance: 0 }], 128)),
    ]);
    expect(o.code, o.details).toBe(status.OK);
    const all = await f.client.read({ deviceId: 1, entities: [group(0, []), session(0, [])] });
    expect(all.outcome.code).toBe(status.OK);
    const groups = all.entities.map((e) => e.packetReplicationEngineEntry?.multicastGroupEntry).filter((g) => g != null);
    expect(groups.map((g) => g.multicastGroupId)).toEqual([7, 9]);
    expect(groups[0]?.replicas?.map((r) => [[...(r.port ?? [])], r.instance])).toEqual([[[3], 1], [[4], 1]]);
    expect(groups[1]?.replicas?.map((r) => [r.egressPort, r.instance])).toEqual([[5, 0]]);
    const s = all.entities.map((e) => e.packetReplicationEngineEntry?.cloneSessionEntry).find((x) => x != null);
    expect(s).toMatchObject({ sessionId: 100, classOfService: 2, packetLengthBytes: 128 });

    expect((await f.write([upd(MODIFY, group(7, [{ egressPort: 6, instance: 2 }]))])).code).toBe(status.OK);
    const one = await f.client.read({ deviceId: 1, entities: [group(7, [])] });
    expect(one.entities.map((e) => e.packetReplicationEngineEntry?.multicastGroupEntry?.replicas?.map((r) => r.egressPort))).toEqual([[6]]);
    expect((await f.write([upd(DELETE, group(7, [])), upd(DELETE, session(100, []))])).code).toBe(status.OK);
    const left = await f.client.read({ deviceId: 1, entities: [group(0, []), session(0, [])] });
    expect(left.entities.map((e) => e.packetReplicationEngineEntry?.multicastGroupEntry?.multicastGroupId)).toEqual([9]);
  });

  it(`${profile} — bad PRE updates get the spec's codes and change nothing`, async () => {
    f = await startFixture({ profile });
    expect((await f.write([upd(INSERT, group(7, [{ egressPort: 3 }]))])).code).toBe(status.OK);
    const o = await f.write([
      upd(INSERT, group(7, [{ egressPort: 4 }])),
      upd(MODIFY, group(8, [{ egressPort: 4 }])),
      upd(DELETE, session(5, [])),
      upd(INSERT, group(0, [{ egressPort: 4 }])),
      upd(INSERT, group(10, [{ egressPort: 4, instance: 1 }, { port: l2.bytes(4), instance: 1 }])),
      upd(INSERT, session(6, [{ egressPort: 4 }], -1)),
    ]);
    expect(o.errors.map((e) => e.code)).toEqual([status.ALREADY_EXISTS, status.NOT_FOUND, status.NOT_FOUND, status.INVALID_ARGUMENT, status.INVALID_ARGUMENT, status.INVALID_ARGUMENT]);
    expect(o.errors[3]?.message).toMatch(/multicast group id 0 is reserved/);
    expect(o.errors[4]?.message).toMatch(/replica \(port 4, instance 1\) is given twice/);
    expect(o.errors[5]?.message).toMatch(/packet_length_bytes -1 is negative/);
    expect(f.sw.state.forwardingState()?.replication.sizes).toEqual({ multicastGroups: 1, cloneSessions: 0 });
    const r = await f.client.read({ deviceId: 1, entities: [group(8, [])] });
    expect(r.outcome.code).not.toBe(status.OK);
  });

  it(`${profile} — a packet sent to a multicast group leaves once per replica; a deleted group drops it`, async () => {
    f = await startFixture({ profile });
    const egress: EgressPacket[] = [];
    f.sw.dataplane.onEgress((p) => egress.push(p));
    const entry: p4.v1.TableEntry.$Properties = {
      tableId: ids.tables.mac_fwd,
      match: [{ fieldId: 1, exact: { value: l2.bytes(DST) } }],
      action: { action: { actionId: ids.actions.multicast, params: [{ paramId: 1, value: l2.bytes(7) }] } },
    };
    expect((await f.write([l2.insert(entry), upd(INSERT, group(7, [{ egressPort: 3, instance: 1 }, { egressPort: 4, instance: 2 }]))])).code).toBe(status.OK);
    expect(f.sw.dataplane.inject(1, l2.frame(DST, 0x020000000001n, 0x0800)).kind).toBe('multicast');
    expect(egress.map((p) => [p.port, p.instance])).toEqual([[3, 1], [4, 2]]);
    expect((await f.write([upd(DELETE, group(7, []))])).code).toBe(status.OK);
    const dropped = f.sw.dataplane.stats()?.dropped ?? -1;
    f.sw.dataplane.inject(1, l2.frame(DST, 0x020000000001n, 0x0800));
    expect(egress).toHaveLength(2);
    expect(f.sw.dataplane.stats()?.dropped).toBe(dropped + 1);
  });
});
