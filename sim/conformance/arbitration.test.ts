import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { fromUint128, toUint128 } from 'p4runtime-ts/proto';
import { PROFILE_EXPECTATIONS } from './profile-expectations.js';
import { SIM_PROFILE_NAMES } from '../profiles.js';
import { l2, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';

describe.each(SIM_PROFILE_NAMES)('conformance %s — arbitration', (profile) => {
  const x = PROFILE_EXPECTATIONS[profile];
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });
  let nextKey = 1n;
  const writeAs = (fx: SimFixture, electionId: bigint, role?: string) =>
    fx.client.write({ deviceId: 1, electionId: toUint128(electionId), ...(role ? { role } : {}), updates: [l2.insert(l2.macFwd(nextKey++, 'drop'))] });

  it(`${profile} — the primary gets OK; the same id again is INVALID_ARGUMENT; a lower id is told ALREADY_EXISTS "Is backup"`, async () => {
    f = await startFixture({ profile });
    expect(f.stream.received[0]?.arbitration?.status?.code).toBe(status.OK);
    const dup = f.client.stream();
    dup.arbitrate({ deviceId: 1, electionId: 10n });
    const ended = await dup.ended();
    expect(ended.code).toBe(status.INVALID_ARGUMENT);
    expect(ended.details).toMatch(x.words.electionIdExists);
    const backup = f.client.stream();
    backup.arbitrate({ deviceId: 1, electionId: 5n });
    const a = await backup.nextArbitration();
    expect(a.status?.code).toBe(status.ALREADY_EXISTS);
    expect(a.status?.message).toMatch(x.words.isBackup);
    expect(fromUint128(a.electionId)).toBe(10n);
    const w = await writeAs(f, 5n);
    expect(w.code).toBe(status.PERMISSION_DENIED);
    expect(w.details).toMatch(x.words.notPrimary);
    expect((await writeAs(f, 10n)).code).toBe(status.OK);
    backup.cancel();
  });

  it(`${profile} — when the primary leaves, ${x.primaryIsHighestConnected ? 'the highest connected id becomes primary' : 'there is no primary until an id >= the highest ever seen arrives'}`, async () => {
    f = await startFixture({ profile });
    const backup = f.client.stream();
    backup.arbitrate({ deviceId: 1, electionId: 5n });
    await backup.nextArbitration();
    f.stream.cancel();
    const update = await backup.nextArbitration();
    if (x.primaryIsHighestConnected) {
      expect(update.status?.code).toBe(status.OK);
      expect((await writeAs(f, 5n)).code).toBe(status.OK);
    } else {
      expect(update.status?.code).toBe(status.NOT_FOUND);
      expect(fromUint128(update.electionId)).toBe(10n);
      expect((await writeAs(f, 5n)).code).toBe(status.PERMISSION_DENIED);
      backup.arbitrate({ deviceId: 1, electionId: 10n });
      expect((await backup.nextArbitration()).status?.code).toBe(status.OK);
      expect((await writeAs(f, 10n)).code).toBe(status.OK);
    }
    backup.cancel();
  });

  it(`${profile} — a new higher id takes over and every controller is told`, async () => {
    f = await startFixture({ profile });
    const hi = f.client.stream();
    hi.arbitrate({ deviceId: 1, electionId: 20n });
    expect((await hi.nextArbitration()).status?.code).toBe(status.OK);
    const old = await f.stream.nextArbitration();
    expect(old.status?.code).toBe(status.ALREADY_EXISTS);
    expect(fromUint128(old.electionId)).toBe(20n);
    expect((await writeAs(f, 10n)).code).toBe(status.PERMISSION_DENIED);
    expect((await writeAs(f, 20n)).code).toBe(status.OK);
    hi.cancel();
  });

  it(`${profile} — roles are ${x.rolesHonoured ? 'honoured: each role has its own primary' : 'ignored: one primary for all'}`, async () => {
    f = await startFixture({ profile });
    const other = f.client.stream();
    other.arbitrate({ deviceId: 1, electionId: 5n, role: 'carryover' });
    const a = await other.nextArbitration();
    if (x.rolesHonoured) {
      expect(a.status?.code).toBe(status.OK);
      expect(a.role?.name).toBe('carryover');
      expect((await writeAs(f, 5n, 'carryover')).code).toBe(status.OK);
      expect((await writeAs(f, 5n)).code).toBe(status.PERMISSION_DENIED);
      const unknownRole = await writeAs(f, 5n, 'nobody');
      expect(unknownRole.code).toBe(status.NOT_FOUND);
      expect(unknownRole.details).toMatch(/role 'nobody' is unknown/);
    } else {
      expect(a.status?.code).toBe(status.ALREADY_EXISTS);
      expect((await writeAs(f, 5n, 'carryover')).code).toBe(status.PERMISSION_DENIED);
      expect((await writeAs(f, 10n, 'anything')).code).toBe(status.OK);
    }
    other.cancel();
  });

  it(`${profile} — arbitration for another device id: ${profile === 'bmv2' ? 'accepted (PI creates the device)' : 'NOT_FOUND ends the stream'}`, async () => {
    f = await startFixture({ profile });
    const s = f.client.stream();
    s.arbitrate({ deviceId: 7, electionId: 1n });
    if (profile === 'bmv2') {
      expect((await s.nextArbitration()).status?.code).toBe(status.OK);
      const w = await f.client.write({ deviceId: 7, electionId: toUint128(1n), updates: [l2.insert(l2.macFwd(1n, 'drop'))] });
      expect(w.code).toBe(status.FAILED_PRECONDITION);
      s.cancel();
    } else {
      const ended = await s.ended();
      expect(ended.code).toBe(status.NOT_FOUND);
      expect(ended.details).toMatch(/device id 7 is not known/);
    }
    // The stream's device may not change later.
    f.stream.arbitrate({ deviceId: 2, electionId: 10n });
    expect((await f.stream.ended()).code).toBe(status.FAILED_PRECONDITION);
  });

  it(`${profile} — SetForwardingPipelineConfig from a backup is PERMISSION_DENIED`, async () => {
    f = await startFixture({ profile });
    const o = await f.client.setPipeline({ deviceId: 1, electionId: toUint128(3n), action: 3, config: {} });
    expect(o.code).toBe(status.PERMISSION_DENIED);
  });
});
