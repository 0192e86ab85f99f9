/**
 * What a plugin keeps of the migrations it received, on two sims over real gRPC: a destination
 * keeps an activated migration's record for an abort until the commit. Nothing told it the
 * commit came, so it kept every one for good (field walkthrough 4: a daemon grew by 1.8 MB per
 * migration of a 2,500-slot VM). Now the engine tells it (DeviceApi.committed); a destination
 * that is not told (a daemon from before the call) drops the record when the VM moves on from
 * that switch, and the oldest past `activatedKept`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceApi, EdgeDeviceApi } from '../../plugin/index.js';
import { eventually } from '../edge-rig.js';
import { DST_ID, SRC_ID, engineMigration, establish, startMigrationPair, vmSlots } from '../migration-fixture.js';
import type { MigrationPair } from '../migration-fixture.js';

const PORTS = [45_000, 45_001, 45_002, 45_003];

describe('destination records — an activated migration\'s record does not outlive the VM\'s stay', () => {
  let pair: MigrationPair | undefined;
  afterEach(async () => {
    await pair?.stop();
    pair = undefined;
  });

  /** `api` without `committed`, as a daemon from before the call: it is never told of a commit. */
  const untold = (api: EdgeDeviceApi): DeviceApi => new Proxy(api, { get: (t, k) => (k === 'committed' ? undefined : (Reflect.get(t, k) as unknown)) });

  /** Migrates vm-7 from the device `from` to `to` (names 'src'/'dst' of the pair) and commits; `tell`: the destination offers `committed`. */
  async function migrate(p: MigrationPair, id: string, from: 'src' | 'dst', tell = true): Promise<void> {
    const [a, b]: [EdgeDeviceApi, EdgeDeviceApi] = from === 'src' ? [p.srcApi, p.dstApi] : [p.dstApi, p.srcApi];
    await engineMigration({ addresses: [p.src.sim.address, p.dst.sim.address], src: tell ? a : untold(a), dst: tell ? b : untold(b), migrationId: id });
  }

  it('destination records — the commit tells the destination, which forgets the migration\'s record', async () => {
    const p = (pair = await startMigrationPair('full'));
    const g = p.src.plugin.group;
    for (const port of PORTS) expect(establish(p.src.sim, port)).toBe(true);
    expect(await eventually(async () => (await p.srcApi.capabilities()).slots.free === g.slots - PORTS.length)).toBe(true);
    await migrate(p, 'm-told', 'src');
    expect(vmSlots(p.dst.sim, g, DST_ID).size).toBe(PORTS.length);
    expect(p.dstApi.held()).toEqual({ migrations: 0, activated: 0, frozen: [] });
    expect(p.srcApi.held()).toEqual({ migrations: 0, activated: 0, frozen: [] });
  }, 120_000);

  it('destination records — never told of the commit, three round trips leave one record per device at most, and none under way', async () => {
    const p = (pair = await startMigrationPair('full'));
    const g = p.src.plugin.group;
    for (const port of PORTS) expect(establish(p.src.sim, port)).toBe(true);
    expect(await eventually(async () => (await p.srcApi.capabilities()).slots.free === g.slots - PORTS.length)).toBe(true);
    for (let trip = 0; trip < 3; trip++) {
      await migrate(p, `m-out-${trip}`, 'src', false);
      expect(vmSlots(p.dst.sim, g, DST_ID).size).toBe(PORTS.length);
      expect(p.dstApi.held()).toEqual({ migrations: 0, activated: 1, frozen: [] });
      await migrate(p, `m-back-${trip}`, 'dst', false);
      expect(vmSlots(p.src.sim, g, SRC_ID).size).toBe(PORTS.length);
      // The VM left dst: its arrival there is over, and so is the record.
      expect(p.dstApi.held()).toEqual({ migrations: 0, activated: 0, frozen: [] });
      expect(p.srcApi.held()).toEqual({ migrations: 0, activated: 1, frozen: [] });
    }
  }, 120_000);

  it('destination records — never told, past activatedKept the oldest record goes', async () => {
    const p = (pair = await startMigrationPair('full', {}, { activatedKept: 0 }));
    const g = p.src.plugin.group;
    for (const port of PORTS) expect(establish(p.src.sim, port)).toBe(true);
    expect(await eventually(async () => (await p.srcApi.capabilities()).slots.free === g.slots - PORTS.length)).toBe(true);
    await migrate(p, 'm-kept-0', 'src', false);
    expect(vmSlots(p.dst.sim, g, DST_ID).size).toBe(PORTS.length);
    expect(p.dstApi.held()).toEqual({ migrations: 0, activated: 0, frozen: [] });
  }, 120_000);
});
