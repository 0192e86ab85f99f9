/**
 * The plugin's lifecycle against real P4Runtime servers (the sim): the states it passes, the
 * pipeline pushed only when the cookie differs, a second plugin taking over as primary, and a
 * start that fails — each reported by health().
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Switch } from 'p4runtime-ts';
import { createEdgePlugin } from '../../plugin/index.js';
import type { EdgePlugin } from '../../plugin/index.js';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { ctGeometry } from '../../sim/programs/stateful-edge/ct-geometry.js';
import { SCHEMA, deviceConfigFor, eventually, variantSchema } from '../edge-rig.js';

describe('edge plugin lifecycle on the sim', () => {
  const plugins: EdgePlugin[] = [];
  const sims: SimSwitch[] = [];
  const sim = async (profile: 'full' | 'bmv2' | 'stratum-tofino'): Promise<SimSwitch> => {
    const s = await startSimSwitch({ profile, program: 'stateful_edge' });
    sims.push(s);
    return s;
  };
  const plugin = (s: SimSwitch, extra: Record<string, unknown> = {}): EdgePlugin => {
    const p = createEdgePlugin({ address: s.address, deviceId: s.deviceId, p4info: SCHEMA, deviceConfig: deviceConfigFor(s.profile.name), connectTimeoutMs: 5_000, ...extra });
    plugins.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of plugins.splice(0)) await p.stop();
    for (const s of sims.splice(0)) await s.stop();
  });

  it('starts through every state, pushes the pipeline once, and hands over to a plugin with a higher election id', async () => {
    const s = await sim('full');
    const first = plugin(s, { electionId: 10n });
    await first.start();
    expect(first.health()).toMatchObject({ state: 'running', primary: true, pipeline: { pushed: true }, registerAccess: { backend: 'p4runtime' }, errors: 0 });
    expect(first.health().history.map((c) => c.to)).toEqual(['connecting', 'arbitrating', 'pipeline', 'probing', 'running']);

    const second = plugin(s, { electionId: 20n });
    await second.start();
    expect(second.health()).toMatchObject({ state: 'running', primary: true, pipeline: { pushed: false } });
    expect(second.health().pipeline).toMatchObject({ cookie: (first.health().pipeline as { cookie: string }).cookie });
    expect(await eventually(() => !first.health().primary, 5_000)).toBe(true);

    await second.stop();
    expect(second.health().state).toBe('stopped');
    await expect(second.readVmState(7)).rejects.toMatchObject({ code: 'NOT_RUNNING' });
    await second.stop(); // idempotent
  });

  it('runs on a lent primary session: no connection of its own, the lender stays primary, and stop() hands the session back open', async () => {
    const s = await sim('bmv2');
    const lender = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 50n });
    try {
      const p = createEdgePlugin({ session: lender, p4info: SCHEMA, deviceConfig: deviceConfigFor('bmv2'), connectTimeoutMs: 5_000 });
      plugins.push(p);
      await p.start();
      expect(p.session).toBe(lender);
      expect(p.health()).toMatchObject({ state: 'running', primary: true, address: s.address, registerAccess: { backend: 'inband' } });
      expect(await p.readVmState(7)).toMatchObject({ vmId: 7, slots: [] });
      await p.stop();
      // Still the lender's, still primary, still writing.
      expect(lender.isPrimary).toBe(true);
      await lender.write(lender.table('port_role').insert({ match: { port: 9 }, action: 'uplink_role' }));
      expect(await lender.readAll(lender.table('port_role').all())).toHaveLength(1);
    } finally {
      await lender.close();
    }
    // readVmState on bmv2 reads the whole slot group in-band (12–19 s here, 74 s on a loaded
    // machine): not a timing check, so the timeout leaves room.
  }, 300_000);

  it('refuses a lent session that is not primary (NOT_PRIMARY, the fix named), and connection options beside a lent session', async () => {
    const s = await sim('full');
    const primary = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 90n });
    const backup = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 40n });
    try {
      const p = createEdgePlugin({ session: backup, p4info: SCHEMA });
      plugins.push(p);
      await expect(p.start()).rejects.toThrow(/NOT_PRIMARY: the session lent to the plugin \(EdgePluginOptions\.session\) is not primary .*lend a primary session, or let the plugin connect/);
      expect(p.health().state).toBe('failed');
      expect(backup.arbitration.kind).toBe('backup'); // not closed by the failed start
      expect(() => createEdgePlugin({ session: primary, electionId: 5n, p4info: SCHEMA })).toThrow(/^EdgePluginOptions\.electionId: got 5n; expected nothing beside a lent session/);
      expect(() => createEdgePlugin({ session: primary, address: '127.0.0.1:1', p4info: SCHEMA })).toThrow(/^EdgePluginOptions\.session: .*expected a session with the address and device id given/);
    } finally {
      await backup.close();
      await primary.close();
    }
  });

  it('runs over either gRPC client: the own http2 one by default, grpc-js when asked, each a working primary', async () => {
    const s = await sim('full');
    const byDefault = plugin(s, { electionId: 10n });
    await byDefault.start();
    expect(byDefault.session.options.grpcClient).toBe('http2');
    await byDefault.stop();
    const grpcJs = plugin(s, { electionId: 20n, grpcClient: 'grpc-js' });
    await grpcJs.start();
    expect(grpcJs.session.options.grpcClient).toBe('grpc-js');
    expect(grpcJs.health()).toMatchObject({ state: 'running', primary: true, errors: 0 });
    expect(await grpcJs.readVmState(7)).toBeDefined();
  });

  it('without a deviceConfig, a switch running another build of the same program name and version is refused at start, naming what differs (walkthrough 21: used under the stock P4Info, its schema never compared); the same P4Info is used as it is', async () => {
    const small = ctGeometry({ hash0: 'crc32', region0: 1024, hash1: 'crc16', region1: 1024 });
    const s = await sim('full');
    const owner = plugin(s, { electionId: 10n, p4info: variantSchema(small) });
    await owner.start();
    await owner.stop();
    const stock = plugin(s, { electionId: 20n, deviceConfig: undefined });
    await expect(stock.start()).rejects.toMatchObject({
      code: 'PIPELINE_MISMATCH',
      message: expect.stringMatching(/runs 'stateful_edge' 1\.0\.0 \(cookie 0x[0-9a-f]+\), not this plugin's 'stateful_edge' 1\.0\.0 \(.*\) \(they differ: register '[A-Za-z_.]+': 327680 × bit<\d+> here, 2048 × bit<\d+> on the switch; .*\); nothing pushed: point p4info at the P4Info of the program the switch runs/) as unknown,
    });
    expect(s.state.pipeline()?.cookie).toBeDefined();
    const same = plugin(s, { electionId: 30n, p4info: variantSchema(small), deviceConfig: undefined });
    await same.start();
    expect(same.health()).toMatchObject({ state: 'running', pipeline: { pushed: false, skipped: 'no deviceConfig given: the switch runs this P4Info, used as it is' } });
  });

  it('ends in failed, with the reason, when the device is not there', async () => {
    const s = await sim('full');
    const p = plugin(s, { deviceId: 99 });
    await expect(p.start()).rejects.toMatchObject({ code: 'SWITCH' });
    const h = p.health();
    expect(h.state).toBe('failed');
    expect(h.lastError).toMatchObject({ code: 'SWITCH', message: expect.stringMatching(/start\(\)/) });
    expect(h.history.map((c) => c.to)).toEqual(['connecting', 'failed']);
    await p.stop();
    expect(p.health().state).toBe('stopped');
  });

  it('when forced onto P4Runtime registers on BMv2, reads fail with the target\'s UNIMPLEMENTED', async () => {
    const s = await sim('bmv2');
    const p = plugin(s, { registerAccess: 'p4runtime' });
    await p.start();
    expect(p.health().registerAccess).toMatchObject({ backend: 'p4runtime', reason: 'configured: registerAccess = p4runtime' });
    const err = await p.registerAccess.readSlots({ indices: [0] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SWITCH', switchCode: 'UNIMPLEMENTED', message: /reading register 'ct_\w+'/ });
  });

  it('on Stratum/Tofino picks RegisterEntry access, writing with MODIFY and reading back 64-bit words', async () => {
    const s = await sim('stratum-tofino');
    const p = plugin(s);
    await p.start();
    expect(p.health().registerAccess).toMatchObject({ backend: 'p4runtime' });
    const words = p.group.words.map((w) => (1n << BigInt(w.bits)) - 1n);
    await p.registerAccess.writeSlots([{ index: 12_345, words }]);
    expect(await p.registerAccess.readSlots({ indices: [12_345] })).toEqual([{ index: 12_345, words }]);
    expect(p.group.words.map((w) => s.state.registerRead(w.register, 12_345))).toEqual(words);
  });
});
