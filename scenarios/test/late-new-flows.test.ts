/**
 * Flows opened just before a migration's tracking began, on the sim's `bmv2` profile over real
 * gRPC: such a flow is told of only by a new-flow digest, which BMv2 delivers 200–330 ms late
 * (a partial list), so a snapshot read through the slot index right after prepare missed it and
 * no delta carried it (field walkthrough 4: the flow's inbound traffic dropped at the
 * destination). Now the snapshot waits out `newFlowDigestDelayMs` after tracking began, and a
 * digest later still puts its slot into the next delta round.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from 'p4runtime-ts';
import { createDeviceApi } from '../../plugin/index.js';
import type { EdgeDeviceApi, EdgeDeviceApiOptions } from '../../plugin/index.js';
import { ctGeometry } from '../../sim/programs/stateful-edge/ct-geometry.js';
import { eventually, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { DST_ID, SRC_ID, engineMigration, establish, topology, vmSlots } from '../migration-fixture.js';
import type { JournalEvent } from '../migration-fixture.js';

const SMALL = ctGeometry({ hash0: 'crc32', region0: 1024, hash1: 'crc16', region1: 1024 });
const OLD = Array.from({ length: 10 }, (_, i) => 44_000 + i);
const JUST_BEFORE = Array.from({ length: 6 }, (_, i) => 44_100 + i);

describe('late new flows — a flow opened just before tracking began reaches the destination', () => {
  let src: EdgeRig | undefined;
  let dst: EdgeRig | undefined;
  const apis: EdgeDeviceApi[] = [];
  let logs: Record<string, unknown>[] = [];
  afterEach(async () => {
    for (const a of apis.splice(0)) a.stop();
    await src?.stop();
    await dst?.stop();
    src = dst = undefined;
  });

  /** Both switches (`bmv2` profile: digests as late as BMv2's), the index reconciled, OLD flows heard of. */
  async function start(srcOptions: EdgeDeviceApiOptions): Promise<{ s: EdgeRig; d: EdgeRig; srcApi: EdgeDeviceApi; dstApi: EdgeDeviceApi }> {
    logs = [];
    const logger = createLogger({ level: 'info', sink: (r) => logs.push({ ...r }) });
    const s = (src = await startEdgeRig({ profile: 'bmv2', topology: false, variant: SMALL, plugin: { logger } }));
    const d = (dst = await startEdgeRig({ profile: 'bmv2', topology: false, variant: SMALL }));
    await topology(s.sw, SRC_ID);
    await topology(d.sw, DST_ID);
    const srcApi = createDeviceApi(s.plugin, { name: 'src', deltaIntervalMs: 10, ...srcOptions });
    const dstApi = createDeviceApi(d.plugin, { name: 'dst', snapshotSource: 'index', reconcile: false });
    apis.push(srcApi, dstApi);
    await Promise.all([srcApi.ready(), dstApi.ready()]);
    expect(await eventually(() => srcApi.slotIndex().complete, 60_000)).toBe(true);
    for (const p of OLD) expect(establish(s.sim, p)).toBe(true);
    // The field's daemon: a long-running index that has heard of every flow so far.
    expect(await eventually(() => srcApi.slotIndex().size === OLD.length, 10_000)).toBe(true);
    return { s, d, srcApi, dstApi };
  }

  /** Opens JUST_BEFORE flows and at once migrates vm-7 through the engine; pre-copy runs until `until` holds of the journal. */
  async function migrate(c: { s: EdgeRig; d: EdgeRig; srcApi: EdgeDeviceApi; dstApi: EdgeDeviceApi }, migrationId: string, until: (events: readonly JournalEvent[]) => boolean): Promise<Map<number, number>> {
    // Their new-flow digests are on their way (the profile holds a partial list ≥ 200 ms) as tracking begins.
    for (const p of JUST_BEFORE) expect(establish(c.s.sim, p)).toBe(true);
    expect(c.srcApi.slotIndex().size).toBe(OLD.length);
    return engineMigration({ addresses: [c.s.sim.address, c.d.sim.address], src: c.srcApi, dst: c.dstApi, migrationId, until });
  }

  const all = OLD.length + JUST_BEFORE.length;

  it('late new flows — the snapshot waits out the digests still on their way and carries every flow (default newFlowDigestDelayMs)', async () => {
    const c = await start({});
    const rounds = await migrate(c, 'm-late-snapshot', (ev) => ev.some((e) => e.type === 'round'));
    expect(rounds.get(0)).toBe(all);
    expect(logs.filter((r) => /told of late/.test(String(r['msg'])))).toEqual([]);
    const g = c.s.plugin.group;
    expect(vmSlots(c.d.sim, g, DST_ID).size).toBe(all);
    expect(vmSlots(c.s.sim, g, SRC_ID).size).toBe(0);
  }, 120_000);

  it('late new flows — a digest later than the snapshot\'s wait puts its flow into the next delta round', async () => {
    const c = await start({ newFlowDigestDelayMs: 0 });
    // The snapshot did not wait: the flows come when their digests do, in a delta round.
    const rounds = await migrate(c, 'm-late-round', (ev) => ev.some((e) => e.type === 'round' && e.round > 0 && e.slots > 0));
    expect(rounds.get(0)).toBe(OLD.length);
    expect([...rounds.entries()].filter(([r]) => r > 0).reduce((n, [, s]) => n + s, 0)).toBe(JUST_BEFORE.length);
    // Each said once, with how late after tracking began.
    const told = logs.filter((r) => /told of late: the next round reads it/.test(String(r['msg'])));
    expect(told).toHaveLength(JUST_BEFORE.length);
    for (const r of told) expect(r).toMatchObject({ device: 'src', migrationId: 'm-late-round', msSinceTracking: expect.any(Number) as unknown });
    const g = c.s.plugin.group;
    expect(vmSlots(c.d.sim, g, DST_ID).size).toBe(all);
    expect(vmSlots(c.s.sim, g, SRC_ID).size).toBe(0);
  }, 120_000);
});
