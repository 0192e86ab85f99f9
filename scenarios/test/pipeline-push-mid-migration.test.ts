/**
 * Another client pushes a pipeline in its own role while a migration is under way, and the
 * migration's next step comes before the plugin's pipeline watch has read the switch again
 * (pipelineWatchMs: 60 s here). The push cleared every table and register: a source's tracked
 * changes, a destination's staged flows. The steps that would carry on without them — the
 * source's freeze, the destination's activation — find the migration's control entry gone and
 * refuse (DEVICE_UNREACHABLE, "abort it and migrate again"); the abort then works. Without that
 * the freeze wrote the entry anew and the final delta found nothing missing.
 * Simulated switches (`full` profile: roles are honoured, as on Stratum), real gRPC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Switch } from 'p4runtime-ts';
import { createDeviceApi, createEdgePlugin } from '../../plugin/index.js';
import type { EdgeDeviceApi, EdgePlugin } from '../../plugin/index.js';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { ctGeometry } from '../../sim/programs/stateful-edge/ct-geometry.js';
import { deviceConfigFor, eventually, variantSchema } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, topology } from '../migration-fixture.js';

const SMALL = ctGeometry({ hash0: 'crc32', region0: 1024, hash1: 'crc16', region1: 1024 });
const SCHEMA = variantSchema(SMALL);
const PORTS = Array.from({ length: 10 }, (_, i) => 45_000 + i);
const LOST = /the switch lost its registers and entries since \(it restarted, or another client pushed a pipeline\); what it staged or tracked here may be gone .*abort it and migrate again/;

describe('a pipeline pushed mid-migration, before the pipeline watch reads it', () => {
  const running: { sim: SimSwitch; plugin: EdgePlugin; api: EdgeDeviceApi }[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.api.stop();
      await r.plugin.stop();
      await r.sim.stop();
    }
  });

  /** A `full` sim with the plugin primary in role carryover (its watch every 60 s), the VM laid out as `vmId`. */
  async function edge(name: string, vmId: number): Promise<{ sim: SimSwitch; plugin: EdgePlugin; api: EdgeDeviceApi }> {
    const sim = await startSimSwitch({ profile: 'full' });
    const plugin = createEdgePlugin({ address: sim.address, deviceId: sim.deviceId, electionId: 10n, p4info: SCHEMA, deviceConfig: deviceConfigFor('full'), connectTimeoutMs: 5_000, inband: { timeoutMs: 1_000 }, role: 'carryover', pipelineWatchMs: 60_000 });
    await plugin.start();
    const api = createDeviceApi(plugin, { name });
    const r = { sim, plugin, api };
    running.push(r);
    await api.ready();
    expect(await eventually(() => api.slotIndex().complete, 60_000)).toBe(true);
    await topology(plugin.session, vmId);
    return r;
  }

  /** Your controller, primary in its own (default) role, pushes the same build again: its cookie kept, everything cleared. */
  async function pushSameBuild(sim: SimSwitch): Promise<void> {
    const yours = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 50n });
    try {
      await yours.waitForPrimary();
      const cookie = (await yours.currentPipeline('COOKIE_ONLY'))?.cookie;
      await yours.setPipeline('VERIFY_AND_COMMIT', SCHEMA.p4info, deviceConfigFor('full'), cookie);
    } finally {
      await yours.close();
    }
  }

  it('pipeline push at the source — the freeze finds the control entry gone and refuses, the final delta too; the migration aborts', async () => {
    const src = await edge('src', SRC_ID);
    for (const p of PORTS) expect(establish(src.sim, p)).toBe(true);
    expect(await eventually(() => src.api.slotIndex().size === PORTS.length, 5_000)).toBe(true);
    const m = { migrationId: 'm-push-src', vm: '10.0.0.5' };
    await src.api.prepare(m);
    const snap = await src.api.exportSnapshot(m);
    expect(snap.slots).toHaveLength(PORTS.length);
    await pushSameBuild(src.sim);
    await expect(src.api.freeze(m)).rejects.toMatchObject({ reason: 'DEVICE_UNREACHABLE', message: expect.stringMatching(LOST) as unknown });
    await expect(src.api.finalDelta(m, snap.coversSeq.to)).rejects.toMatchObject({ reason: 'DEVICE_UNREACHABLE' });
    await src.api.abort(m);
    expect(src.sim.state.tableEntries('vm_migration')).toEqual([]);
  }, 120_000);

  it('pipeline push at the destination — the activation finds the staged entry gone and refuses rather than activate without the staged flows; the abort leaves no entry', async () => {
    const [src, dst] = [await edge('src', SRC_ID), await edge('dst', DST_ID)];
    for (const p of PORTS) expect(establish(src.sim, p)).toBe(true);
    expect(await eventually(() => src.api.slotIndex().size === PORTS.length, 5_000)).toBe(true);
    const m = { migrationId: 'm-push-dst', vm: '10.0.0.5' };
    await Promise.all([src.api.prepare(m), dst.api.prepare(m)]);
    const snap = await src.api.exportSnapshot(m);
    await dst.api.importStaged(m, snap);
    expect(dst.sim.state.tableEntries('vm_migration')).toHaveLength(1);
    await pushSameBuild(dst.sim);
    await src.api.freeze(m);
    await dst.api.importStaged(m, await src.api.finalDelta(m, snap.coversSeq.to));
    await expect(dst.api.activate(m)).rejects.toMatchObject({ reason: 'DEVICE_UNREACHABLE', message: expect.stringMatching(LOST) as unknown });
    await dst.api.abort(m);
    await src.api.abort(m);
    expect(dst.sim.state.tableEntries('vm_migration')).toEqual([]);
  }, 120_000);
});
