import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { toBigInt, toUint128 } from 'p4runtime-ts/proto';
import type { LongLike } from 'p4runtime-ts/proto';
import { PROFILE_EXPECTATIONS } from './profile-expectations.js';
import { SIM_PROFILE_NAMES } from '../profiles.js';
import { l2, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';

const ids = l2.ids;

describe.each(SIM_PROFILE_NAMES)('conformance %s — Write and Read over gRPC', (profile) => {
  const x = PROFILE_EXPECTATIONS[profile];
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it(`${profile} — Capabilities reports the profile's API version`, async () => {
    f = await startFixture({ profile });
    expect((await f.client.capabilities()).version).toBe(x.apiVersion);
  });

  it(`${profile} — a batch of [ok insert, duplicate insert, delete of a missing key] is UNKNOWN with one p4.v1.Error per update`, async () => {
    f = await startFixture({ profile });
    expect((await f.write([l2.insert(l2.macFwd(1n, 'drop'))])).code).toBe(status.OK);
    const o = await f.write([l2.insert(l2.macFwd(2n, 'drop')), l2.insert(l2.macFwd(1n, 'drop')), l2.remove(l2.macFwd(3n, 'drop'))]);
    expect(o.code).toBe(status.UNKNOWN);
    expect(o.errors.map((e) => e.code)).toEqual([status.OK, status.ALREADY_EXISTS, status.NOT_FOUND]);
    expect(o.errors[0]?.message).toBe('');
    expect(o.errors[1]?.message).toMatch(x.words.entryExists);
    expect(o.errors[2]?.message).toMatch(x.words.entryNotFound);
    const r = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_fwd } }] });
    expect(r.entities).toHaveLength(2);
  });

  it(`${profile} — a batch of 1,000 failing updates is answered with every code exact, its messages shortened to fit one HTTP/2 header field; 3,000 without the per-update errors, saying why`, async () => {
    f = await startFixture({ profile });
    const updates = [l2.insert(l2.macFwd(1n, 'drop')), ...Array.from({ length: 1_000 }, (_, i) => l2.remove(l2.macFwd(BigInt(1000 + i), 'drop')))];
    const o = await f.write(updates);
    expect(o.code).toBe(status.UNKNOWN);
    expect(o.errors.map((e) => e.code)).toEqual([status.OK, ...updates.slice(1).map(() => status.NOT_FOUND)]);
    expect(o.details).toMatch(/per-update messages shortened to fit one HTTP\/2 header/);
    expect(Math.max(...o.errors.map((e) => e.message.length))).toBeLessThanOrEqual(120);
    const huge = await f.write(Array.from({ length: 3_000 }, (_, i) => l2.remove(l2.macFwd(BigInt(5000 + i), 'drop'))));
    expect(huge.code).toBe(status.UNKNOWN);
    expect(huge.errors).toEqual([]);
    expect(huge.details).toMatch(/per-update errors omitted: 3000 do not fit one HTTP\/2 header; send at most ~1,000 updates a batch/);
    // A small batch keeps its messages whole.
    const small = await f.write([l2.remove(l2.macFwd(7n, 'drop'))]);
    expect(small.errors[0]?.message).toMatch(x.words.entryNotFound);
    expect(small.details).not.toMatch(/shortened|omitted/);
  });

  it(`${profile} — MODIFY of a missing key is a per-update NOT_FOUND`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([l2.modify({ tableEntry: l2.macFwd(9n, 'drop') })]);
    expect(o.code).toBe(status.UNKNOWN);
    expect(o.errors.map((e) => e.code)).toEqual([status.NOT_FOUND]);
  });

  it(`${profile} — padded bytestrings are ${x.paddedBytestrings}`, async () => {
    f = await startFixture({ profile });
    const padded = l2.insert({ tableId: ids.tables.mac_fwd, match: [{ fieldId: 1, exact: { value: Uint8Array.of(0, 0, 0, 0, 0, 4) } }], action: { action: { actionId: ids.actions.drop } } });
    const o = await f.write([padded]);
    if (x.paddedBytestrings === 'accepted') {
      expect(o.code).toBe(status.OK);
      const r = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_fwd } }] });
      expect([...(r.entities[0]?.tableEntry?.match?.[0]?.exact?.value ?? [])]).toEqual([4]);
    } else {
      expect(o.errors.map((e) => e.code)).toEqual([status.INVALID_ARGUMENT]);
      expect(o.errors[0]?.message).toMatch(/is not canonical; send the shortest big-endian form 0x04/);
    }
  });

  it(`${profile} — a 9-bit parameter sent as 0x7fff is INVALID_ARGUMENT in the target's words`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([l2.insert({ ...l2.macFwd(1n, 'drop'), action: { action: { actionId: ids.actions.forward, params: [{ paramId: 1, value: Uint8Array.of(0x7f, 0xff) }] } } })]);
    expect(o.code).toBe(status.UNKNOWN);
    expect(o.errors[0]?.code).toBe(status.INVALID_ARGUMENT);
    expect(o.errors[0]?.message).toMatch(x.words.doesNotFit9);
  });

  it(`${profile} — an unknown table id is INVALID_ARGUMENT in the target's words`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([l2.insert({ ...l2.macFwd(1n, 'drop'), tableId: 0x02009999 })]);
    expect(o.errors[0]?.code).toBe(status.INVALID_ARGUMENT);
    expect(o.errors[0]?.message).toMatch(x.words.invalidId);
  });

  it(`${profile} — atomic modes are ${x.atomicModes.kind}`, async () => {
    f = await startFixture({ profile });
    for (const atomicity of [1, 2]) {
      const o = await f.write([l2.insert(l2.macFwd(10n + BigInt(atomicity), 'drop')), l2.remove(l2.macFwd(99n, 'drop'))], atomicity);
      if (x.atomicModes.kind === 'honoured') {
        expect(o.code).toBe(status.UNKNOWN);
        expect(o.errors.map((e) => e.code)).toEqual([status.ABORTED, status.NOT_FOUND]);
        expect(o.errors[0]?.message).toMatch(/rolled back/);
      } else {
        expect(o.code).toBe(status.UNIMPLEMENTED);
        expect(o.details).toMatch(x.atomicModes.message);
        expect(o.errors).toEqual([]);
      }
    }
    const r = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_fwd } }] });
    expect(r.entities).toHaveLength(0);
    if (x.atomicModes.kind === 'honoured') expect((await f.write([l2.insert(l2.macFwd(20n, 'drop'))], 2)).code).toBe(status.OK);
  });

  it(`${profile} — register read: ${x.registerRead.kind}`, async () => {
    f = await startFixture({ profile });
    const r = await f.client.read({ deviceId: 1, entities: [{ registerEntry: { registerId: ids.registers.pkt_count } }] });
    if (x.registerRead.kind === 'served') {
      expect(r.outcome.code).toBe(status.OK);
      expect(r.entities).toHaveLength(512);
      const one = await f.client.read({ deviceId: 1, entities: [{ registerEntry: { registerId: ids.registers.pkt_count, index: { index: 5 } } }] });
      expect(one.entities.map((e) => toBigInt(e.registerEntry?.index?.index as LongLike))).toEqual([5n]);
    } else {
      expect(r.outcome.code).toBe(status.UNIMPLEMENTED);
      expect(r.outcome.details).toBe(x.registerRead.message);
      expect(r.responses).toHaveLength(1);
      expect(r.responses[0]?.entities).toHaveLength(0);
      for (const entity of [{ registerEntry: {} }, { registerEntry: { registerId: ids.registers.pkt_count, index: { index: 1 } } }]) {
        const again = await f.client.read({ deviceId: 1, entities: [entity] });
        expect([again.outcome.code, again.outcome.details, again.responses.length]).toEqual([status.UNIMPLEMENTED, x.registerRead.message, 1]);
      }
    }
  });

  it(`${profile} — register write: ${x.registerWrite.kind}`, async () => {
    f = await startFixture({ profile });
    const o = await f.write([{ type: 2, entity: { registerEntry: { registerId: ids.registers.pkt_count, index: { index: 3 }, data: { bitstring: l2.bytes(77) } } } }]);
    if (x.registerWrite.kind === 'served') {
      expect(o.code).toBe(status.OK);
      expect(f.sw.state.registerRead('pkt_count', 3)).toBe(77n);
      const ins = await f.write([{ type: 1, entity: { registerEntry: { registerId: ids.registers.pkt_count, index: { index: 3 }, data: { bitstring: l2.bytes(1) } } } }]);
      expect(ins.errors[0]?.code).toBe(status.INVALID_ARGUMENT);
    } else {
      expect(o.code).toBe(status.UNKNOWN);
      expect(o.errors).toEqual([{ code: status.UNIMPLEMENTED, message: x.registerWrite.message }]);
    }
  });

  it(`${profile} — counters: wildcard read returns every cell, MODIFY reads back, index beyond size fails`, async () => {
    f = await startFixture({ profile });
    const all = await f.client.read({ deviceId: 1, entities: [{ counterEntry: { counterId: ids.counters.port_counter } }] });
    expect(all.entities).toHaveLength(512);
    expect((await f.write([{ type: 2, entity: { counterEntry: { counterId: ids.counters.port_counter, index: { index: 9 }, data: { byteCount: 900, packetCount: 9 } } } }])).code).toBe(status.OK);
    const one = await f.client.read({ deviceId: 1, entities: [{ counterEntry: { counterId: ids.counters.port_counter, index: { index: 9 } } }] });
    const data = one.entities[0]?.counterEntry?.data;
    expect([toBigInt(data?.byteCount as LongLike), toBigInt(data?.packetCount as LongLike)]).toEqual([900n, 9n]);
    const beyond = await f.client.read({ deviceId: 1, entities: [{ counterEntry: { counterId: ids.counters.port_counter, index: { index: 512 } } }] });
    expect(beyond.outcome.code).toBe(x.counterBeyondSize.code);
    expect(beyond.outcome.details).toMatch(x.counterBeyondSize.message);
  });

  it(`${profile} — direct counters via counter_data and DirectCounterEntry`, async () => {
    f = await startFixture({ profile });
    await f.write([l2.insert(l2.macFwd(1n, 'drop', { counterData: { byteCount: 10, packetCount: 1 } }))]);
    await f.write([{ type: 2, entity: { directCounterEntry: { tableEntry: { tableId: ids.tables.mac_fwd, match: l2.macFwd(1n, 'drop').match }, data: { byteCount: 64, packetCount: 2 } } } }]);
    const r = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_fwd, counterData: {} } }, { directCounterEntry: { tableEntry: { tableId: ids.tables.mac_fwd } } }] });
    expect(toBigInt(r.entities[0]?.tableEntry?.counterData?.byteCount as LongLike)).toBe(64n);
    expect(toBigInt(r.entities[1]?.directCounterEntry?.data?.packetCount as LongLike)).toBe(2n);
  });

  it(`${profile} — large results ${x.streamsLargeReads ? 'stream in several ReadResponses' : 'arrive in one ReadResponse'}`, async () => {
    f = await startFixture({ profile, readChunkSize: 100 });
    const r = await f.client.read({ deviceId: 1, entities: [{ counterEntry: {} }, { tableEntry: { tableId: 0 } }] });
    expect(r.entities).toHaveLength(512);
    if (x.streamsLargeReads) expect(r.responses.length).toBeGreaterThan(1);
    else expect(r.responses).toHaveLength(1);
  });

  it(`${profile} — every table (table_id 0), one table, one key, and the default entry`, async () => {
    f = await startFixture({ profile });
    await f.write([l2.insert(l2.macFwd(1n, 'drop')), l2.insert(l2.macPrefix(0x0a0000000000n, 8, 4)), l2.insert(l2.acl({ etherType: [0x0800, 0xffff], priority: 3 }))]);
    const all = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: 0 } }] });
    expect(all.entities).toHaveLength(3);
    const key = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.acl, priority: 3, match: l2.acl({ etherType: [0x0800, 0xffff], priority: 3 }).match } }] });
    expect(key.entities).toHaveLength(1);
    const def = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_prefix, isDefaultAction: true } }] });
    expect(def.entities[0]?.tableEntry?.action?.action?.actionId).toBe(ids.actions.to_cpu);
  });

  it(`${profile} — time_since_last_hit of a 300 ms entry read at 700 ms is ${x.elapsedOf300msAt700}`, async () => {
    const { VirtualScheduler } = await import('../clock.js');
    const clock = new VirtualScheduler();
    f = await startFixture({ profile, scheduler: clock });
    await f.write([l2.insert(l2.macFwd(1n, 'drop', { idleTimeoutNs: 300_000_000 }))]);
    clock.advance(700);
    const r = await f.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: ids.tables.mac_fwd, timeSinceLastHit: {} } }] });
    expect(toBigInt(r.entities[0]?.tableEntry?.timeSinceLastHit?.elapsedNs as LongLike)).toBe(x.elapsedOf300msAt700);
  });

  it(`${profile} — a Write to an unused device id with an election id: code ${x.unknownDeviceWrite.code}`, async () => {
    f = await startFixture({ profile });
    const o = await f.client.write({ deviceId: 7, electionId: toUint128(10n), updates: [l2.insert(l2.macFwd(1n, 'drop'))] });
    expect(o.code).toBe(x.unknownDeviceWrite.code);
    expect(o.details).toMatch(x.unknownDeviceWrite.message);
  });
});
