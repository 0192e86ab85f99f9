/**
 * A prepare that fails at a device (its VM map lacks the VM) must not hold anything there once
 * the migration is aborted: a plugin daemon serves many migrations, and a session left open by
 * each failed prepare used to hold the VM and a place under the concurrency limit for good —
 * after as many failures as the switch has trackers, every migration was refused.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeviceApi } from '../../plugin/index.js';
import type { EdgeDeviceApi } from '../../plugin/index.js';
import { startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { SRC_ID, topology } from '../migration-fixture.js';

describe('device API — a failed prepare, then its abort, leaves nothing held', () => {
  let rig: EdgeRig;
  let api: EdgeDeviceApi;
  beforeEach(async () => {
    rig = await startEdgeRig({ profile: 'full', topology: false });
    await topology(rig.sw, SRC_ID);
    api = createDeviceApi(rig.plugin, { name: 'edge', reconcile: false });
    await api.ready();
  }, 60_000);
  afterEach(async () => {
    api?.stop();
    await rig?.stop();
  });

  it('prepare — more failed prepares than trackers, each aborted: the same VM can be retried and a known VM still prepares', async () => {
    const trackers = rig.plugin.registerAccess.capabilities().trackers;
    for (let i = 0; i <= trackers; i++) {
      const m = { migrationId: `m-bad-${i}`, vm: '10.0.9.9' };
      await expect(api.prepare(m)).rejects.toThrow(/not in table 'vm_table'/);
      await api.abort(m);
    }
    // The same unknown VM again: refused for what it is, not as "already migrating".
    await expect(api.prepare({ migrationId: 'm-bad-again', vm: '10.0.9.9' })).rejects.toThrow(/not in table 'vm_table'/);
    await api.abort({ migrationId: 'm-bad-again', vm: '10.0.9.9' });
    const ok = { migrationId: 'm-good', vm: '10.0.0.5' };
    await api.prepare(ok);
    await api.abort(ok);
  }, 60_000);

  it('prepare — a tracker another process\'s migration uses (a VM tracked on this switch under tracker 0) is not taken: the next free one is', async () => {
    const control = rig.plugin.contract.control;
    if (!control?.tracker) throw new Error('stateful_edge has a change-log tracker parameter');
    const entry = (vm: number, flags: Record<string, number>): Parameters<typeof rig.sw.write>[0] => rig.sw.table(control.table).insert({ match: { [control.keyField]: vm }, action: control.action, params: flags });
    await rig.sw.write(entry(3, { track: 1, freeze: 0, staged: 0, active: 1, tracker: 0 }));
    const m = { migrationId: 'm-second', vm: '10.0.0.5' };
    await api.prepare(m);
    const mine = (await rig.sw.readAll(rig.sw.table(control.table).all())).find((e) => { const k = e.match[control.keyField]; return k !== undefined && 'value' in k && k.value === BigInt(SRC_ID); });
    expect(mine?.params?.[control.tracker.param]).toBe(1n);
    await api.abort(m);
  }, 60_000);
});
