import { afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { p4, toBigInt, toUint128 } from 'p4runtime-ts/proto';
import type { LongLike } from 'p4runtime-ts/proto';
import { PROFILE_EXPECTATIONS } from './profile-expectations.js';
import { SIM_PROFILE_NAMES } from '../profiles.js';
import { minimalBmv2Json } from '../pipeline/bmv2-json.js';
import { L2_ECHO_P4INFO_OBJECT, l2EchoP4Info } from '../programs/l2-echo/l2-echo-p4info.js';
import { l2, l2EchoDeviceConfig, startFixture } from '../testing/fixture.js';
import type { SimFixture } from '../testing/fixture.js';

const ids = l2.ids;
const VERIFY = 1;
const VERIFY_AND_SAVE = 2;
const VERIFY_AND_COMMIT = 3;
const COMMIT = 4;
const RECONCILE_AND_COMMIT = 5;

describe.each(SIM_PROFILE_NAMES)('conformance %s — pipeline config', (profile) => {
  const x = PROFILE_EXPECTATIONS[profile];
  let f: SimFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });
  const set = (fx: SimFixture, action: number, config?: p4.v1.ForwardingPipelineConfig.$Properties) =>
    fx.client.setPipeline({ deviceId: 1, electionId: toUint128(fx.electionId), action, ...(config ? { config } : {}) });
  const config = (cookie?: number): p4.v1.ForwardingPipelineConfig.$Properties => ({
    p4info: l2EchoP4Info(),
    p4DeviceConfig: l2EchoDeviceConfig(profile),
    ...(cookie !== undefined ? { cookie: { cookie } } : {}),
  });
  const count = async (fx: SimFixture): Promise<number> => (await fx.client.read({ deviceId: 1, entities: [{ tableEntry: { tableId: 0 } }] })).entities.length;

  it(`${profile} — before any pipeline: Write is FAILED_PRECONDITION, Get is ${x.getWithoutPipeline}`, async () => {
    f = await startFixture({ profile, push: false });
    const w = await f.write([l2.insert(l2.macFwd(1n, 'drop'))]);
    expect(w.code).toBe(status.FAILED_PRECONDITION);
    expect(w.details).toMatch(x.words.noPipeline);
    const g = await f.client.getPipeline({ deviceId: 1 });
    if (x.getWithoutPipeline === 'empty') {
      expect(g.outcome.code).toBe(status.OK);
      expect(g.response?.config).toBeNull();
    } else {
      expect(g.outcome.code).toBe(status.FAILED_PRECONDITION);
      expect(g.outcome.details).toMatch(x.words.noPipeline);
    }
  });

  it(`${profile} — a push of the same pipeline (the same cookie) clears a digest's configuration; reading it then is ${x.unconfiguredDigestRead}`, async () => {
    f = await startFixture({ profile, push: false });
    expect((await set(f, VERIFY_AND_COMMIT, config(0xc0ffee))).code).toBe(status.OK);
    const digest = { digestId: ids.digests.learn_t };
    expect((await f.write([{ type: 1, entity: { digestEntry: { ...digest, config: { maxTimeoutNs: 1_000_000, maxListSize: 100, ackTimeoutNs: 1_000_000 } } } }])).code).toBe(status.OK);
    const read = () => f?.client.read({ deviceId: 1, entities: [{ digestEntry: digest }] });
    expect((await read())?.entities).toHaveLength(1);
    expect((await set(f, VERIFY_AND_COMMIT, config(0xc0ffee))).code).toBe(status.OK);
    if (x.unconfiguredDigestRead === 'empty') {
      expect((await read())?.entities).toEqual([]);
    } else {
      const r = await read();
      expect(r?.outcome.code).toBe(status.NOT_FOUND);
      expect(r?.outcome.details).toBe(`Digest ${ids.digests.learn_t} not configured`);
    }
  });

  it(`${profile} — Get answers each response type; the cookie round-trips`, async () => {
    f = await startFixture({ profile, push: false });
    expect((await set(f, VERIFY_AND_COMMIT, config(0xc0ffee))).code).toBe(status.OK);
    const all = await f.client.getPipeline({ deviceId: 1, responseType: 0 });
    expect(toBigInt(all.response?.config?.cookie?.cookie as LongLike)).toBe(0xc0ffeen);
    expect(all.response?.config?.p4info?.tables).toHaveLength(3);
    expect(all.response?.config?.p4DeviceConfig?.length).toBeGreaterThan(0);
    const cookieOnly = await f.client.getPipeline({ deviceId: 1, responseType: 1 });
    expect(cookieOnly.response?.config?.p4info).toBeNull();
    expect(cookieOnly.response?.config?.p4DeviceConfig?.length ?? 0).toBe(0);
    expect(toBigInt(cookieOnly.response?.config?.cookie?.cookie as LongLike)).toBe(0xc0ffeen);
    const p4infoAndCookie = await f.client.getPipeline({ deviceId: 1, responseType: 2 });
    expect(p4infoAndCookie.response?.config?.p4info?.pkgInfo?.name).toBe('l2_echo');
    expect(p4infoAndCookie.response?.config?.p4DeviceConfig?.length ?? 0).toBe(0);
    const dc = await f.client.getPipeline({ deviceId: 1, responseType: 3 });
    expect(dc.response?.config?.p4info).toBeNull();
    expect(Buffer.from(dc.response?.config?.p4DeviceConfig ?? []).equals(Buffer.from(l2EchoDeviceConfig(profile)))).toBe(true);
  });

  it(`${profile} — VERIFY changes nothing; VERIFY_AND_COMMIT clears forwarding state`, async () => {
    f = await startFixture({ profile });
    await f.write([l2.insert(l2.macFwd(1n, 'drop'))]);
    expect((await set(f, VERIFY, config(7))).code).toBe(status.OK);
    expect(await count(f)).toBe(1);
    expect(f.sw.state.pipeline()?.cookie).toBeNull();
    expect((await set(f, VERIFY_AND_COMMIT, config(7))).code).toBe(status.OK);
    expect(await count(f)).toBe(0);
    expect(f.sw.state.pipeline()?.cookie).toBe(7n);
  });

  it(`${profile} — VERIFY_AND_SAVE then writes then COMMIT realizes the saved config with those writes`, async () => {
    f = await startFixture({ profile });
    await f.write([l2.insert(l2.macFwd(1n, 'drop'))]);
    expect((await set(f, COMMIT)).code).toBe(status.NOT_FOUND);
    expect((await set(f, VERIFY_AND_SAVE, config(9))).code).toBe(status.OK);
    expect(await count(f)).toBe(0);
    expect(f.sw.state.tableEntries('mac_fwd')).toHaveLength(1);
    await f.write([l2.insert(l2.macFwd(2n, 'drop'))]);
    expect((await set(f, COMMIT, config())).code).toBe(status.INVALID_ARGUMENT);
    expect((await set(f, COMMIT)).code).toBe(status.OK);
    expect(f.sw.state.pipeline()?.cookie).toBe(9n);
    expect(f.sw.state.tableEntries('mac_fwd').map((e) => e.match[0]?.value)).toEqual([2n]);
  });

  it(`${profile} — RECONCILE_AND_COMMIT keeps compatible state; refuses what it cannot keep`, async () => {
    f = await startFixture({ profile });
    await f.write([
      l2.insert(l2.macFwd(1n, { forward: 3 }, { counterData: { byteCount: 5, packetCount: 1 } })),
      { type: 2, entity: { counterEntry: { counterId: ids.counters.port_counter, index: { index: 1 }, data: { byteCount: 3, packetCount: 3 } } } },
    ]);
    expect((await set(f, RECONCILE_AND_COMMIT, config(11))).code).toBe(status.OK);
    expect(f.sw.state.tableEntries('mac_fwd')).toMatchObject([{ action: 'forward', params: { port: 3n }, counter: { bytes: 5n, packets: 1n } }]);
    expect(f.sw.state.counter('port_counter', 1)).toEqual({ bytes: 3n, packets: 3n });
    const narrowed = JSON.parse(JSON.stringify(L2_ECHO_P4INFO_OBJECT)) as { actions: { params?: { bitwidth: number }[] }[] };
    const fwd = narrowed.actions[1]?.params?.[0];
    if (fwd) fwd.bitwidth = 4;
    const o = await set(f, RECONCILE_AND_COMMIT, { p4info: p4.config.v1.P4Info.fromObject(narrowed), p4DeviceConfig: l2EchoDeviceConfig(profile) });
    expect(o.code).toBe(status.INVALID_ARGUMENT);
    expect(o.details).toMatch(/cannot preserve table 'EchoIngress.mac_fwd': action 'EchoIngress.forward' parameter 'port' narrows from 9 to 4 bits/);
    expect(f.sw.state.pipeline()?.cookie).toBe(11n);
  });

  it(`${profile} — a broken P4Info is INVALID_ARGUMENT naming the problem, and nothing changes`, async () => {
    f = await startFixture({ profile });
    await f.write([l2.insert(l2.macFwd(1n, 'drop'))]);
    const broken = JSON.parse(JSON.stringify(L2_ECHO_P4INFO_OBJECT)) as { tables: { actionRefs: { id: number }[] }[] };
    broken.tables[0]?.actionRefs.push({ id: 0x0100dead });
    const o = await set(f, VERIFY_AND_COMMIT, { p4info: p4.config.v1.P4Info.fromObject(broken), p4DeviceConfig: l2EchoDeviceConfig(profile) });
    expect(o.code).toBe(status.INVALID_ARGUMENT);
    expect(o.details).toMatch(/P4Info rejected: table 'EchoIngress.mac_fwd' action_refs names 0x0100dead, which is not an action/);
    expect(await count(f)).toBe(1);
    expect((await set(f, VERIFY_AND_COMMIT, { p4DeviceConfig: l2EchoDeviceConfig(profile) })).details).toMatch(/config.p4info is unset/);
    expect((await set(f, 0, config())).code).toBe(status.INVALID_ARGUMENT);
  });

  it(`${profile} — p4_device_config ${x.deviceConfigIsBmv2Json ? 'must be a BMv2 JSON whose program name selects the model' : 'is opaque'}`, async () => {
    f = await startFixture({ profile, push: false });
    const renamed = l2EchoP4Info();
    if (renamed.pkgInfo) renamed.pkgInfo.name = 'not_registered';
    const opaque = await set(f, VERIFY_AND_COMMIT, { p4info: renamed, p4DeviceConfig: new TextEncoder().encode('opaque blob') });
    if (x.deviceConfigIsBmv2Json) {
      expect(opaque.code).toBe(status.INVALID_ARGUMENT);
      expect(opaque.details).toMatch(/not a BMv2 JSON/);
      expect((await set(f, VERIFY_AND_COMMIT, { p4info: renamed })).details).toMatch(/p4_device_config is empty; BMv2 needs the JSON written by p4c-bm2-ss/);
      const mismatched = await set(f, VERIFY_AND_COMMIT, { p4info: renamed, p4DeviceConfig: minimalBmv2Json('l2_echo', ['Other.table']) });
      expect(mismatched.details).toMatch(/the P4Info and the BMv2 JSON disagree: table\(s\) EchoIngress.mac_fwd/);
      expect((await set(f, VERIFY_AND_COMMIT, { p4info: renamed, p4DeviceConfig: minimalBmv2Json('l2_echo') })).code).toBe(status.OK);
      expect(f.sw.state.pipeline()?.program).toBe('l2_echo');
    } else {
      expect(opaque.code).toBe(status.OK);
      expect(f.sw.state.pipeline()?.program).toBe('(none)');
    }
  });
});

describe('conformance — program selection', () => {
  it('program selection — --program overrides what the pipeline names', async () => {
    const f = await startFixture({ profile: 'full', program: 'l2_echo', push: false });
    try {
      const info = l2EchoP4Info();
      if (info.pkgInfo) info.pkgInfo.name = 'something_else';
      expect((await f.client.setPipeline({ deviceId: 1, electionId: toUint128(f.electionId), action: VERIFY_AND_COMMIT, config: { p4info: info } })).code).toBe(status.OK);
      expect(f.sw.state.pipeline()?.program).toBe('l2_echo');
    } finally {
      await f.close();
    }
  });
});
