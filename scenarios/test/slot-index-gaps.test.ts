/**
 * The slot index and the digests it did not get, on the sim over real gRPC: digests reach only
 * the primary client, so while the plugin's session is backup (another controller took primary,
 * as on BMv2 where roles are ignored) or its stream is broken, new flows are not indexed. The
 * index then has a gap: the next snapshot scans instead of trusting it (snapshotSource auto and
 * index alike) and carries every flow; with no gap a snapshot reads the indexed slots only.
 * A stateful_edge variant of 2,048 slots keeps the whole-group scans short.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Switch, createLogger } from 'p4runtime-ts';
import { createDeviceApi } from '../../plugin/index.js';
import type { EdgeDeviceApi, EdgeDeviceApiOptions } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { ctGeometry } from '../../sim/programs/stateful-edge/ct-geometry.js';
import { UPLINK, eventually, injectViaPacketOut, startEdgeRig, variantSchema } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { DST_ID, SRC_ID, back, engineMigration, establish, out, topology, vmSlots } from '../migration-fixture.js';

const SMALL = ctGeometry({ hash0: 'crc32', region0: 1024, hash1: 'crc16', region1: 1024 });
const FLOWS = 20;
const PORTS = Array.from({ length: FLOWS }, (_, i) => 43_000 + i);

describe('slot index gaps — digests the plugin did not get make the next snapshot scan', () => {
  let src: EdgeRig | undefined;
  let dst: EdgeRig | undefined;
  let other: P4Switch | undefined;
  const apis: EdgeDeviceApi[] = [];
  let logs: Record<string, unknown>[] = [];
  afterEach(async () => {
    await other?.close();
    other = undefined;
    for (const a of apis.splice(0)) a.stop();
    await src?.stop();
    await dst?.stop();
    src = dst = undefined;
    logs = [];
  });

  /** Both switches on the small variant, the destination's VM map laid out; the source's device API as `srcOptions` say. */
  async function start(profile: SimProfileName, srcOptions: EdgeDeviceApiOptions): Promise<{ src: EdgeRig; dst: EdgeRig; srcApi: EdgeDeviceApi; dstApi: EdgeDeviceApi }> {
    const logger = createLogger({ level: 'info', sink: (r) => logs.push({ ...r }) });
    const s = (src = await startEdgeRig({ profile, topology: false, variant: SMALL, plugin: { logger } }));
    const d = (dst = await startEdgeRig({ profile, topology: false, variant: SMALL }));
    await topology(d.sw, DST_ID);
    const srcApi = createDeviceApi(s.plugin, { name: 'src', deltaIntervalMs: 10, ...srcOptions });
    const dstApi = createDeviceApi(d.plugin, { name: 'dst', snapshotSource: 'index', reconcile: false });
    apis.push(srcApi, dstApi);
    await Promise.all([srcApi.ready(), dstApi.ready()]);
    return { src: s, dst: d, srcApi, dstApi };
  }

  /** Migrates vm-7 from src to dst through the engine once pre-copy journalled a round; returns the slots of each round (round 0: the snapshot). */
  function migrate(s: EdgeRig, d: EdgeRig, srcApi: EdgeDeviceApi, dstApi: EdgeDeviceApi, migrationId: string): Promise<Map<number, number>> {
    return engineMigration({ addresses: [s.sim.address, d.sim.address], src: srcApi, dst: dstApi, migrationId, intervalMs: 30, until: (ev) => ev.some((e) => e.type === 'round') });
  }

  it('slot index gaps — another controller takes primary (BMv2: one primary per device), opens the VM\'s flows by PacketOut and leaves: the snapshot carries every flow', async () => {
    const { src: s, dst: d, srcApi, dstApi } = await start('bmv2', {});
    const g = s.plugin.group;
    // The field's daemon: snapshotSource auto, its startup scan done, so the index is trusted.
    expect(await eventually(() => srcApi.slotIndex().complete, 60_000)).toBe(true);

    // The operator's controller bids above the plugin (election id 20 > 10) and becomes primary.
    const o = (other = await P4Switch.connect({ address: s.sim.address, deviceId: s.sim.deviceId, electionId: 20n, schema: variantSchema(SMALL) }));
    await o.waitForPrimary(10_000);
    expect(await eventually(() => !s.plugin.session.isPrimary)).toBe(true);
    const newFlow = g.newFlow?.digest ?? '';
    let told = 0;
    o.digests$(newFlow).subscribe((l) => (told += l.entries.length));
    await topology(o, SRC_ID);
    for (const p of PORTS) {
      injectViaPacketOut(o, 1, out(p, 1000, 0, 0x02));
      injectViaPacketOut(o, UPLINK, back(p, 9000, 1001, 0x12));
      injectViaPacketOut(o, 1, out(p, 1001, 9001, 0x10));
    }
    expect(await eventually(() => vmSlots(s.sim, g, SRC_ID).size === FLOWS)).toBe(true);
    // Every new-flow digest went to the operator's controller, none to the plugin.
    expect(await eventually(() => told === FLOWS)).toBe(true);
    await o.close();
    other = undefined;
    expect(await eventually(() => s.plugin.session.isPrimary)).toBe(true);
    expect(logs.some((r) => r['level'] === 'warn' && /slot index may miss flows/.test(String(r['msg'])) && /backup/.test(String(r['gap'])))).toBe(true);

    const rounds = await migrate(s, d, srcApi, dstApi, 'm-gap-primary');
    expect(rounds.get(0)).toBe(FLOWS);
    expect(vmSlots(d.sim, g, DST_ID).size).toBe(FLOWS);
    expect(vmSlots(s.sim, g, SRC_ID).size).toBe(0);
  }, 180_000);

  it('slot index gaps — the plugin\'s stream breaks and reconnects while the VM opens flows: snapshotSource index scans once, warning of the gap, and carries every flow', async () => {
    const { src: s, dst: d, srcApi, dstApi } = await start('full', { snapshotSource: 'index', reconcile: false });
    const g = s.plugin.group;
    await topology(s.sw, SRC_ID);
    expect(srcApi.slotIndex().gap).toBeUndefined();
    // The switch closes every stream; the flows open before the plugin is back (it waits 100 ms
    // to reconnect), and their digest lists, due 1 ms later, find no client to go to.
    expect(s.sim.faults.closeAllStreams()).toBeGreaterThan(0);
    for (const p of PORTS) expect(establish(s.sim, p)).toBe(true);
    expect(await eventually(() => s.plugin.session.isPrimary === false)).toBe(true);
    expect(await eventually(() => s.plugin.session.isPrimary)).toBe(true);
    expect(srcApi.slotIndex().gap).toMatch(/stream broke/);
    expect(logs.some((r) => r['level'] === 'warn' && /slot index may miss flows/.test(String(r['msg'])) && /stream broke/.test(String(r['gap'])))).toBe(true);

    const rounds = await migrate(s, d, srcApi, dstApi, 'm-gap-stream');
    expect(rounds.get(0)).toBe(FLOWS);
    expect(vmSlots(d.sim, g, DST_ID).size).toBe(FLOWS);
    // The scan closed the gap: the index is whole again.
    expect(srcApi.slotIndex()).toMatchObject({ gap: undefined, complete: true });
  }, 180_000);

  it('slot index gaps — with no gap the snapshot reads the indexed slots only, never the whole group', async () => {
    const { src: s, srcApi, dstApi } = await start('full', {});
    const g = s.plugin.group;
    await topology(s.sw, SRC_ID);
    expect(await eventually(() => srcApi.slotIndex().complete, 60_000)).toBe(true);
    for (const p of PORTS) expect(establish(s.sim, p)).toBe(true);
    expect(await eventually(() => srcApi.slotIndex().size === FLOWS)).toBe(true);
    const m = { migrationId: 'm-no-gap', vm: '10.0.0.5' };
    await srcApi.prepare(m);
    await dstApi.prepare(m);
    const access = s.plugin.registerAccess;
    const before = access.stats().targetOps;
    const snapshot = await srcApi.exportSnapshot(m);
    const ops = access.stats().targetOps - before;
    expect(snapshot.slots).toHaveLength(FLOWS);
    // The VM's slots (a cell per word) and the clock: far below one read per slot of the group.
    expect(ops).toBeLessThanOrEqual(FLOWS * g.words.length + 4);
    expect(logs.some((r) => /slot index (has a gap|may miss flows)/.test(String(r['msg'])))).toBe(false);
    await srcApi.abort(m);
    await dstApi.abort(m);
  }, 120_000);
});
