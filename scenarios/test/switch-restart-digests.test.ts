/**
 * The switch restarts empty under a running plugin (BMv2 restarted, the plugin kept running): the
 * plugin pushes its pipeline again and must configure every digest it relies on again — the
 * pinhole learn digest and the slot group's new-flow and delta digests, which the slot index and
 * the numbered final delta learn from. The field test found only the pinhole digest configured
 * again: flows opened after the restart were never indexed, and a migration's snapshot found
 * 0 slots and committed. Here the snapshot must carry every flow opened after the restart.
 * A stateful_edge variant of 2,048 slots keeps the whole-group scans short.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Switch } from 'p4runtime-ts';
import { createDeviceApi, createEdgePlugin } from '../../plugin/index.js';
import type { EdgeDeviceApi, EdgePlugin, SessionRestored } from '../../plugin/index.js';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { ctGeometry } from '../../sim/programs/stateful-edge/ct-geometry.js';
import { deviceConfigFor, eventually, variantSchema } from '../edge-rig.js';
import { SRC_ID, establish, topology, vmSlots } from '../migration-fixture.js';

const SMALL = ctGeometry({ hash0: 'crc32', region0: 1024, hash1: 'crc16', region1: 1024 });
const SCHEMA = variantSchema(SMALL);
const FLOWS = 10;
const PORTS = Array.from({ length: FLOWS }, (_, i) => 44_000 + i);
const ALL = ['ct_delta_t', 'ct_new_t', 'pinhole_t'];

/** The names of the digests whose DigestEntry the switch holds. */
async function configuredDigests(sw: P4Switch): Promise<string[]> {
  const names: string[] = [];
  for (const d of SCHEMA.digests) {
    for await (const e of sw.read(sw.digest(d.name).config())) names.push(e.digest);
  }
  return names.sort();
}

/** Stops `sw` and starts an empty one on the same address: a switch restart (BMv2 --no-p4 started again). */
async function restart(sw: SimSwitch): Promise<SimSwitch> {
  await sw.stop();
  await new Promise((r) => setTimeout(r, 200));
  return startSimSwitch({ profile: 'bmv2', listen: `127.0.0.1:${sw.port}` });
}

describe('switch restart — every digest the plugin relies on is configured again', () => {
  const sims: SimSwitch[] = [];
  let plugin: EdgePlugin | undefined;
  let api: EdgeDeviceApi | undefined;
  afterEach(async () => {
    api?.stop();
    await plugin?.stop();
    for (const s of sims.splice(0)) await s.stop();
    api = plugin = undefined;
  });

  /** A plugin on `s` with a device API as the daemon opens it (snapshotSource auto, reconciled in the background), its index whole. */
  async function startPlugin(s: SimSwitch, extra: { readonly pipelineRecheckMs?: number; readonly pipelineWatchMs?: number; readonly role?: string; readonly profile?: 'bmv2' | 'full' } = {}): Promise<{ plugin: EdgePlugin; api: EdgeDeviceApi }> {
    const { profile = 'bmv2', ...options } = extra;
    const p = (plugin = createEdgePlugin({ address: s.address, deviceId: s.deviceId, electionId: 10n, p4info: SCHEMA, deviceConfig: deviceConfigFor(profile), connectTimeoutMs: 5_000, inband: { timeoutMs: 1_000 }, ...options }));
    await p.start();
    const a = (api = createDeviceApi(p, { name: 'src' }));
    await a.ready();
    expect(await configuredDigests(p.session)).toEqual(ALL);
    expect(await eventually(() => a.slotIndex().complete, 60_000)).toBe(true);
    return { plugin: p, api: a };
  }

  /** Opens FLOWS flows of the VM on `s` (laid out again first) and snapshots them through `a`: every one must come. */
  async function snapshotCarriesEveryFlow(s: SimSwitch, p: EdgePlugin, a: EdgeDeviceApi, migrationId: string): Promise<void> {
    await topology(p.session, SRC_ID);
    for (const port of PORTS) expect(establish(s, port)).toBe(true);
    expect(vmSlots(s, p.group, SRC_ID).size).toBe(FLOWS);
    // Digests are delivered within a few ms; the index learns them (or scans: either carries all).
    await eventually(() => a.slotIndex().size === FLOWS, 5_000);
    const m = { migrationId, vm: '10.0.0.5' };
    await a.prepare(m);
    const snapshot = await a.exportSnapshot(m);
    expect(snapshot.slots).toHaveLength(FLOWS);
    await a.abort(m);
  }

  it('switch restart — the plugin pushes its pipeline again with all its digests configured, and a snapshot of flows opened afterwards carries every flow', async () => {
    const s = await startSimSwitch({ profile: 'bmv2' });
    sims.push(s);
    const { plugin: p, api: a } = await startPlugin(s);
    const events: SessionRestored[] = [];
    p.sessionRestored$.subscribe((e) => events.push(e));
    const s2 = await restart(s);
    sims.push(s2);
    expect(await eventually(() => events.length > 0, 20_000, 50)).toBe(true);
    expect(events[0]).toMatchObject({ switchRestarted: true, serving: true });
    expect(p.health()).toMatchObject({ state: 'running', errors: 0 });
    expect(await configuredDigests(p.session)).toEqual(ALL);
    // As in the field, the flows open a while later: the index has scanned the empty switch by then.
    expect(await eventually(() => a.slotIndex().complete, 60_000)).toBe(true);
    await snapshotCarriesEveryFlow(s2, p, a, 'm-after-restart');
  }, 120_000);

  it('switch restart — a digest that cannot be configured again keeps the plugin degraded naming it, the slot index untrusted; once it can, running and every flow carried', async () => {
    const s = await startSimSwitch({ profile: 'bmv2' });
    sims.push(s);
    const { plugin: p, api: a } = await startPlugin(s, { pipelineRecheckMs: 200 });
    // Every Write fails while the switch comes back: the pipeline is pushed (not a Write), no digest configured.
    s.faults.failNext('Write', { code: 13, message: 'injected: digest configuration refused', count: 1_000_000 });
    await s.faults.restart();
    const degraded = (): boolean => p.health().state === 'degraded' && /digest '\w+'.*injected: digest configuration refused/.test(String(p.health().reason));
    expect(await eventually(degraded, 20_000, 20), JSON.stringify(p.health().reason)).toBe(true);
    expect(p.health().lastError?.message).toMatch(/configuring digest/);
    expect(a.slotIndex().complete).toBe(false);
    expect(a.slotIndex().gap).toMatch(/switch restarted/);
    s.faults.clear();
    expect(await eventually(() => p.health().state === 'running', 20_000, 20)).toBe(true);
    expect(await configuredDigests(p.session)).toEqual(ALL);
    await snapshotCarriesEveryFlow(s, p, a, 'm-after-refusal');
  }, 120_000);

  it('pipeline pushed by another client in its own role — the plugin, primary in role carryover all along, sees the new cookie (or, for the same build, its digests cleared), configures every digest again and rebuilds its slot index: a snapshot of flows opened afterwards carries every flow', async () => {
    // The full profile honours roles: your controller (default role) and the plugin (its own) are both primary.
    const s = await startSimSwitch({ profile: 'full' });
    sims.push(s);
    const { plugin: p, api: a } = await startPlugin(s, { profile: 'full', role: 'carryover', pipelineWatchMs: 200 });
    const events: SessionRestored[] = [];
    p.sessionRestored$.subscribe((e) => events.push(e));
    const yours = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 50n });
    try {
      await yours.waitForPrimary();
      // Another build of the same program (another cookie): the push clears the switch, digests included.
      await yours.ensurePipeline({ schema: SCHEMA, deviceConfig: new TextEncoder().encode('stateful_edge, rebuilt') });
      expect(p.session.isPrimary).toBe(true);
      expect(await eventually(() => events.length > 0, 10_000, 20)).toBe(true);
      expect(events[0]).toMatchObject({ after: 'pipeline', switchRestarted: true, serving: true });
      expect(p.health()).toMatchObject({ state: 'running' });
      expect(await configuredDigests(p.session)).toEqual(ALL);
      expect(await eventually(() => a.slotIndex().complete, 60_000)).toBe(true);
      await snapshotCarriesEveryFlow(s, p, a, 'm-after-push');
      // The very same build pushed again keeps its cookie; the digests it cleared tell the push apart.
      const cookie = (await yours.currentPipeline('COOKIE_ONLY'))?.cookie;
      await yours.setPipeline('VERIFY_AND_COMMIT', SCHEMA.p4info, new TextEncoder().encode('stateful_edge, rebuilt'), cookie);
      expect((await yours.currentPipeline('COOKIE_ONLY'))?.cookie).toBe(cookie);
      expect(await eventually(() => events.length > 1, 10_000, 20)).toBe(true);
      expect(events[1]).toMatchObject({ after: 'pipeline', switchRestarted: true, serving: true });
      expect(await configuredDigests(p.session)).toEqual(ALL);
      expect(await eventually(() => a.slotIndex().complete, 60_000)).toBe(true);
      await snapshotCarriesEveryFlow(s, p, a, 'm-after-same-push');
    } finally {
      await yours.close();
    }
  }, 120_000);

  it('pipeline pushed while another client was primary (the same build, the same cookie) — found by the digest configuration it cleared: the switch counts as restarted, and a migration prepared before refuses its next step', async () => {
    // PI's arbitration (the bmv2 profile): the plugin is primary again once your controller leaves.
    const s = await startSimSwitch({ profile: 'bmv2' });
    sims.push(s);
    const { plugin: p, api: a } = await startPlugin(s);
    const events: SessionRestored[] = [];
    p.sessionRestored$.subscribe((e) => events.push(e));
    await topology(p.session, SRC_ID);
    const m = { migrationId: 'm-before-push', vm: '10.0.0.5' };
    await a.prepare(m);
    // Your controller takes primacy (roles are one on BMv2), pushes the same build again, and leaves.
    const yours = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 50n });
    await yours.waitForPrimary();
    const cookie = (await yours.currentPipeline('COOKIE_ONLY'))?.cookie;
    await yours.setPipeline('VERIFY_AND_COMMIT', SCHEMA.p4info, deviceConfigFor('bmv2'), cookie);
    await yours.close();
    expect(await eventually(() => events.length > 0, 10_000, 20)).toBe(true);
    expect(events[0]).toMatchObject({ after: 'backup', switchRestarted: true, serving: true });
    await expect(a.exportSnapshot(m)).rejects.toThrow(/migration m-before-push: the switch lost its registers and entries after prepare .*abort it and migrate again/);
    await a.abort(m);
    expect(await configuredDigests(p.session)).toEqual(ALL);
  }, 120_000);

  it('stream broken, then the same build pushed by another client while the plugin was backup — back to running, the plugin says the switch was cleared and its digests configured again, not that it pushed the pipeline (walkthrough 21)', async () => {
    const s = await startSimSwitch({ profile: 'bmv2' });
    sims.push(s);
    const { plugin: p } = await startPlugin(s);
    const yours = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 50n });
    try {
      await yours.waitForPrimary();
      // Every stream breaks: the plugin is degraded until it is primary again and has checked the switch.
      s.faults.closeAllStreams({ code: 14, message: 'injected: stream broken' });
      expect(await eventually(() => p.health().state === 'degraded', 10_000, 20)).toBe(true);
      await yours.waitForPrimary();
      const cookie = (await yours.currentPipeline('COOKIE_ONLY'))?.cookie;
      await yours.setPipeline('VERIFY_AND_COMMIT', SCHEMA.p4info, deviceConfigFor('bmv2'), cookie);
    } finally {
      await yours.close();
    }
    expect(await eventually(() => p.health().state === 'running', 20_000, 20)).toBe(true);
    const back = p.health().history.filter((c) => c.to === 'running').map((c) => c.reason ?? '').at(-1);
    expect(back).toMatch(/the switch had been cleared \(restarted, or its pipeline pushed by another client\): digests configured again/);
    expect(back).not.toMatch(/pipeline pushed again/);
    expect(await configuredDigests(p.session)).toEqual(ALL);
  }, 120_000);
});
