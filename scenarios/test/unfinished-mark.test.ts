/**
 * A source frozen by a migration whose plugin then restarted (walkthrough 12: a daemon killed in
 * the pause left its switch dropping the VM's traffic, and `--check` said READY): the restarted
 * plugin remembers no migration, so its footprint of the VM says what the control entry still
 * marks — `frozen` — and travels so over the migration protocol's codec. Simulated switch, real gRPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P4Switch, createLogger } from 'p4runtime-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeviceApi, createEdgePlugin, decodeWire, encodeWire, footprintFromWire, footprintToWire } from '../../plugin/index.js';
import type { EdgeDeviceApi, EdgePlugin } from '../../plugin/index.js';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { ctGeometry } from '../../sim/programs/stateful-edge/ct-geometry.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { makeDomainFiles, writeDaemonConfig } from '../domain-files.js';
import { P4INFO_PATH, SCHEMA as FULL_SCHEMA, deviceConfigFor, eventually, variantSchema } from '../edge-rig.js';
import { startDaemonInProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import { cliSim, openFlows, runMigrateCli, twoSimSite } from '../cli-sims.js';
import { writeFile } from 'node:fs/promises';
import { SRC_ID, establish, topology } from '../migration-fixture.js';

const SCHEMA = variantSchema(ctGeometry({ hash0: 'crc32', region0: 1024, hash1: 'crc16', region1: 1024 }));

describe('a migration that did not finish, as a restarted plugin sees it', () => {
  let sim: SimSwitch | undefined;
  let plugin: EdgePlugin | undefined;
  const apis: EdgeDeviceApi[] = [];
  afterEach(async () => {
    for (const a of apis.splice(0)) a.stop();
    await plugin?.stop();
    await sim?.stop();
  });

  it('unfinished mark — frozen by a migration the plugin no longer remembers: the footprint says `frozen` (over the wire too); once recovered (aborted without a record), nothing', async () => {
    sim = await startSimSwitch({ profile: 'bmv2' });
    plugin = createEdgePlugin({ address: sim.address, deviceId: sim.deviceId, electionId: 10n, p4info: SCHEMA, deviceConfig: deviceConfigFor('bmv2'), connectTimeoutMs: 5_000, inband: { timeoutMs: 1_000 } });
    await plugin.start();
    const before = createDeviceApi(plugin, { name: 'src' });
    apis.push(before);
    await before.ready();
    await topology(plugin.session, SRC_ID);
    for (let i = 0; i < 4; i++) expect(establish(sim, 46_000 + i)).toBe(true);
    const m = { migrationId: 'm-left-frozen', vm: '10.0.0.5' };
    await before.prepare(m);
    expect((await before.footprint(m.vm)).unfinished).toBeUndefined(); // under way here: not unfinished
    await before.freeze(m);
    // The daemon restarts: a new device API on the switch, with no record of the migration.
    before.stop();
    const after = createDeviceApi(plugin, { name: 'src' });
    apis.push(after);
    await after.ready();
    expect(await eventually(() => after.slotIndex().complete, 30_000)).toBe(true);
    const f = await after.footprint(m.vm);
    expect(f).toMatchObject({ vmId: SRC_ID, migrations: [], unfinished: 'frozen' });
    expect(footprintFromWire(decodeWire('VmFootprint', encodeWire('VmFootprint', footprintToWire(f))))).toEqual(f);
    // carryover recover aborts it without a record (unremembered-undo.ts): the mark is gone.
    await after.abort(m);
    expect((await after.footprint(m.vm)).unfinished).toBeUndefined();
  }, 60_000);

  it('unfinished mark — a destination prepared on a switch the VM had left: the VM stays not here while tracked there (its traffic dropped, not admitted and counted), and a restarted plugin\'s undo puts the mark back rather than deleting it (walkthrough 18: the VM ran on both switches)', async () => {
    sim = await startSimSwitch({ profile: 'full' });
    plugin = createEdgePlugin({ address: sim.address, deviceId: sim.deviceId, electionId: 10n, p4info: FULL_SCHEMA, deviceConfig: deviceConfigFor('full'), connectTimeoutMs: 5_000, inband: { timeoutMs: 1_000 } });
    await plugin.start();
    await topology(plugin.session, SRC_ID);
    // What a migration away left here: the VM marked not here.
    await plugin.session.write(plugin.session.table('vm_migration').insert({ match: { vm_id: SRC_ID }, action: 'set_migration', params: { track: 0, freeze: 0, staged: 0, active: 0, tracker: 0 } }));
    const sw = plugin.session;
    const entry = async (): Promise<Readonly<Record<string, bigint>> | undefined> => (await sw.readAll(sw.table('vm_migration').all()))[0]?.params;
    expect(establish(sim, 46_200)).toBe(false);
    const before = createDeviceApi(plugin, { name: 'dst' });
    apis.push(before);
    await before.ready();
    const m = { migrationId: 'm-back', vm: '10.0.0.5' };
    await before.prepare(m);
    expect(await entry()).toMatchObject({ track: 1n, active: 0n });
    expect(establish(sim, 46_201)).toBe(false);
    // The daemon restarts before the first import: a plugin with no record undoes it.
    before.stop();
    const after = createDeviceApi(plugin, { name: 'dst' });
    apis.push(after);
    await after.ready();
    await after.abort(m);
    expect(await entry()).toMatchObject({ track: 0n, freeze: 0n, staged: 0n, active: 0n });
    expect(establish(sim, 46_202)).toBe(false);
  }, 60_000);
});

describe('a delete of a migration a plugin does not remember', () => {
  let sim: SimSwitch | undefined;
  let plugin: EdgePlugin | undefined;
  afterEach(async () => {
    await plugin?.stop();
    await sim?.stop();
  });

  it('unremembered delete — the VM\'s live state is cleared and logged as what it was (`vm-state`), not as a source: recover cleans a possibly active destination this way (walkthrough 15)', async () => {
    sim = await startSimSwitch({ profile: 'full' });
    const logs: Record<string, unknown>[] = [];
    plugin = createEdgePlugin({ address: sim.address, deviceId: sim.deviceId, electionId: 10n, p4info: FULL_SCHEMA, deviceConfig: deviceConfigFor('full'), connectTimeoutMs: 5_000, inband: { timeoutMs: 1_000 }, logger: createLogger({ level: 'warn', sink: (r) => logs.push({ ...r }) }) });
    await plugin.start();
    const api = createDeviceApi(plugin, { name: 'edge-b' });
    try {
      await api.ready();
      await topology(plugin.session, SRC_ID);
      for (let i = 0; i < 3; i++) expect(establish(sim, 46_100 + i)).toBe(true);
      const r = await api.deleteAtSource({ migrationId: 'm-forgotten', vm: '10.0.0.5' }, 0);
      expect(r.deleted).toBe(3);
      expect(logs.filter((l) => String(l['msg']).startsWith('deleted a VM\'s state for a migration'))).toEqual([expect.objectContaining({ device: 'edge-b', migrationId: 'm-forgotten', found: 'vm-state', slotsCleared: 3 })]);
    } finally {
      api.stop();
    }
  }, 60_000);
});

describe.skipIf(!opensslAvailable())('a plugin daemon starting beside a switch a migration left marked (needs openssl)', () => {
  it('unfinished mark — the daemon warns at start, naming the VM, the mark and carryover recover; a clean switch gets no such warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carryover-unfinished-'));
    const pki = new TestPki();
    const { sim: s } = await startSwitchForDaemon(SRC_ID, 'full');
    try {
      const files = makeDomainFiles(pki, dir, 'dc-a');
      const start = async (electionId: number): Promise<Record<string, unknown>[]> => {
        const logs: Record<string, unknown>[] = [];
        const d = await startDaemonInProcess(writeDaemonConfig({ switchAddress: s.address, deviceId: s.deviceId, electionId, p4info: P4INFO_PATH, device: 'edge-a', files, snapshotSource: 'index' }), 120_000, logs);
        await d.stop();
        return logs.filter((l) => l['level'] === 'warn' && String(l['msg']).startsWith('a migration that did not finish'));
      };
      expect(await start(20)).toEqual([]);
      // What a daemon killed in the pause leaves: the VM's entry frozen (tracking on, still active).
      const sw = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 60n });
      try {
        await sw.waitForPrimary();
        await sw.fetchSchema();
        await sw.write(sw.table('vm_migration').insert({ match: { vm_id: SRC_ID }, action: 'set_migration', params: { track: 1, freeze: 1, staged: 0, active: 1, tracker: 0 } }));
      } finally {
        await sw.close();
      }
      // Above the writer's election id: primary at once, whenever the switch sees the writer leave.
      expect(await start(70)).toEqual([expect.objectContaining({ device: 'edge-a', vmId: SRC_ID, mark: 'frozen', effect: expect.stringMatching(/dropped here/) as unknown, msg: expect.stringMatching(/run carryover recover/) as unknown })]);
    } finally {
      await s.stop();
      pki.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('carryover migrate — a VM left frozen at its source by a migration that did not finish', () => {
  it('unfinished mark — refused PEER_REJECTED before anything is prepared, naming the switch, the mark and carryover recover: the source left as it was, nothing at the destination', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carryover-left-frozen-'));
    const [a, b] = [await cliSim(7), await cliSim(9)];
    try {
      expect(openFlows(a.sim, [47_000, 47_001, 47_002])).toBe(true);
      // A plugin freezes the VM in a migration, then goes away without undoing it (a daemon killed in the pause).
      const p = createEdgePlugin({ address: a.sim.address, deviceId: a.sim.deviceId, electionId: 10n, p4info: FULL_SCHEMA, deviceConfig: deviceConfigFor('full'), connectTimeoutMs: 5_000, inband: { timeoutMs: 1_000 } });
      await p.start();
      const api = createDeviceApi(p, { name: 'edge-a' });
      await api.ready();
      const m = { migrationId: 'm-killed', vm: '10.0.0.5' };
      await api.prepare(m);
      await api.freeze(m);
      api.stop();
      await p.stop();
      const frozen = a.sim.state.tableEntries('vm_migration');
      expect(frozen).toHaveLength(1);
      await writeFile(join(dir, 'site.yaml'), twoSimSite(a.sim, b.sim));
      const r = await runMigrateCli(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-after', '--json']);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.out.join('\n')) as { reason: string; detail: string };
      expect(report).toMatchObject({ reason: 'PEER_REJECTED', detail: expect.stringMatching(/^edge-a: VM vm-7 \(10\.0\.0\.5\)'s control entry still marks a migration \(frozen: .*run carryover recover.*; nothing was prepared$/) as unknown });
      expect(a.sim.state.tableEntries('vm_migration')).toEqual(frozen);
      expect(b.sim.state.tableEntries('vm_migration')).toEqual([]);
    } finally {
      await Promise.all([a.sim.stop(), b.sim.stop()]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
