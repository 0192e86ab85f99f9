/**
 * The VM's migration control entry as the device API writes it, on the sim over real gRPC: the
 * writes that sit on the pause's critical path (freeze, staging, activation) cost one request
 * each when the migration's entry is there, and every write stays safe to repeat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlOf, readControl, restoreControl, writeControl } from '../../plugin/device-api/vm-control-entry.js';
import type { MigrationControlSpec } from '../../plugin/index.js';
import { countSwitchRequests } from '../bench/switch-request-counter.js';
import type { SwitchRequestCounter } from '../bench/switch-request-counter.js';
import { startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

describe('vm control entry', () => {
  let rig: EdgeRig;
  let c: MigrationControlSpec;
  let n: SwitchRequestCounter;
  beforeAll(async () => {
    rig = await startEdgeRig({ profile: 'bmv2' });
    c = controlOf(rig.plugin.contract.control);
    n = countSwitchRequests(rig.sw);
  }, 60_000);
  afterAll(async () => {
    n?.restore();
    await rig?.stop();
  });
  const since = (f: () => Promise<void>) => async (): Promise<{ writes: number; reads: number }> => {
    const a = n.counts();
    await f();
    const b = n.counts();
    return { writes: b.writes - a.writes, reads: b.reads - a.reads };
  };

  it('vm control entry — a write inserts when there is no entry, and modifies an existing one with a single request', async () => {
    expect(await readControl(rig.sw, c, 7)).toBeUndefined();
    expect(await since(() => writeControl(rig.sw, c, 7, { track: 1, freeze: 0, staged: 0, active: 1, tracker: 2 }))()).toEqual({ writes: 2, reads: 0 });
    expect(await readControl(rig.sw, c, 7)).toMatchObject({ track: 1n, freeze: 0n, tracker: 2n });
    expect(await since(() => writeControl(rig.sw, c, 7, { track: 1, freeze: 1, staged: 0, active: 1, tracker: 2 }))()).toEqual({ writes: 1, reads: 0 });
    expect(await readControl(rig.sw, c, 7)).toMatchObject({ track: 1n, freeze: 1n, tracker: 2n });
  });

  it('vm control entry — restoring "no entry" deletes with a single request, and a repeat finds it gone without failing', async () => {
    expect(await since(() => restoreControl(rig.sw, c, 7, undefined))()).toEqual({ writes: 1, reads: 0 });
    expect(await readControl(rig.sw, c, 7)).toBeUndefined();
    expect(await since(() => restoreControl(rig.sw, c, 7, undefined))()).toEqual({ writes: 1, reads: 1 });
    expect(await readControl(rig.sw, c, 7)).toBeUndefined();
  });

  it('vm control entry — restoring an entry found before the migration writes back exactly its parameters', async () => {
    await writeControl(rig.sw, c, 8, { track: 1, freeze: 1, staged: 0, active: 1, tracker: 1 });
    const prior = { track: 0n, freeze: 0n, staged: 1n, active: 0n, tracker: 255n };
    await restoreControl(rig.sw, c, 8, prior);
    expect(await readControl(rig.sw, c, 8)).toEqual(prior);
  });
});
