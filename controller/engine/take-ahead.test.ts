// The pause's changes taken ahead of the freeze's answer (MigrationEngineOptions.takeAhead,
// DeviceApi.pauseDelta), against FAKE in-memory devices (controller/testing/fake-device-api.ts):
// the order of the steps, the proof, and rollback when the batch taken ahead or the freeze fails.
// End to end on the sim: scenarios/test/numbered-final-delta.test.ts and the engine's scenarios.
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { planMigration } from '../plan/plan-migration.js';
import { FakeDeviceApi } from '../testing/fake-device-api.js';
import { engineTestFlow as flow, engineTestInventory, precopyFor } from '../testing/engine-site.js';
import { MigrationEngine } from './migration-engine.js';
import type { MigrationEngineOptions } from './migration-engine.js';

/** An engine from host-a to host-b over fakes whose source takes changes ahead; 20 flows, pre-copy run and stopped, then `changed` flows change. */
async function paused(changed: number, over: Partial<MigrationEngineOptions> = {}): Promise<{ engine: MigrationEngine; src: FakeDeviceApi; dst: FakeDeviceApi }> {
  const plan = planMigration(engineTestInventory(), 'vm-7', 'host-a', 'host-b');
  const machine = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
  const src = new FakeDeviceApi('src', { takesAhead: true });
  const dst = new FakeDeviceApi('dst');
  for (let i = 0; i < 20; i++) src.change(flow(i));
  const engine = new MigrationEngine({ plan, machine, devices: new Map([['src', src], ['dst', dst]]), pauseDeadlineMs: 200, precopy: { intervalMs: 5, policy: { maxRounds: 1000, convergedAtSlots: -1 } }, graceMs: 0, ...over });
  await engine.prepare();
  await precopyFor(engine);
  for (let i = 0; i < changed; i++) src.change(flow(i, BigInt(100 + i)));
  return { engine, src, dst };
}

describe('migration engine — changes taken ahead in the pause', () => {
  it('take ahead — the changes already known are staged while the freeze is on its way; the final delta brings none again, and the destination holds the source at the freeze', async () => {
    const { engine, src, dst } = await paused(5);
    const atFreeze = new Map(src.active);
    const before = src.calls.length;
    const sync = await engine.pauseSync();
    expect(sync.lost).toBeUndefined();
    expect(sync.aheadSlots).toBe(5);
    expect(sync.slots).toBe(5);
    expect(src.calls.slice(before)).toEqual(['freeze', 'pauseDelta', 'finalDelta']);
    // Staged ahead (one import), then the final batch (another), then activated.
    expect(dst.calls.filter((c) => c === 'importStaged').length).toBeGreaterThanOrEqual(3);
    expect(dst.active).toEqual(atFreeze);
    expect(sync.proofs).toEqual({});
  });

  it('take ahead — starts only after a turn of the event loop, so the freeze sent just before leaves first', async () => {
    const { engine, src } = await paused(5);
    // Node's HTTP/2 writes a request to the socket in the loop's check phase (setImmediate); the
    // freeze's request is "on the wire" once an immediate queued with it has run.
    let sent = false;
    let sentWhenTaken: boolean | undefined;
    const freeze = src.freeze.bind(src);
    src.freeze = (m) => {
      setImmediate(() => (sent = true));
      return freeze(m);
    };
    const take = src.pauseDelta?.bind(src);
    if (!take) throw new Error('the fake takes ahead');
    Object.defineProperty(src, 'pauseDelta', {
      value: (m: Parameters<typeof take>[0], since: bigint) => {
        sentWhenTaken = sent;
        return take(m, since);
      },
    });
    const sync = await engine.pauseSync();
    expect(sync.aheadSlots).toBe(5);
    expect(sentWhenTaken).toBe(true);
  });

  it('take ahead — nothing changed since the last round: an empty batch taken, nothing imported for it', async () => {
    const { engine, dst } = await paused(0);
    const imports = dst.calls.filter((c) => c === 'importStaged').length;
    const sync = await engine.pauseSync();
    expect(sync.aheadSlots).toBe(0);
    expect(sync.slots).toBe(0);
    // The final batch alone.
    expect(dst.calls.filter((c) => c === 'importStaged').length).toBe(imports + 1);
  });

  it('take ahead — turned off (takeAhead: false): the source is never asked, the final delta carries every change', async () => {
    const { engine, src, dst } = await paused(5, { takeAhead: false });
    const atFreeze = new Map(src.active);
    const sync = await engine.pauseSync();
    expect(src.calls).not.toContain('pauseDelta');
    expect(sync.aheadSlots).toBe(0);
    expect(sync.slots).toBe(5);
    expect(dst.active).toEqual(atFreeze);
  });

  it('take ahead — a source that fails it fails the pause with its reason; the rollback leaves the destination clean and the source authoritative', async () => {
    const { engine, src, dst } = await paused(5);
    const atFreeze = new Map(src.active);
    src.failNext('pauseDelta', 'DEVICE_UNREACHABLE');
    await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    expect(src.calls).not.toContain('finalDelta');
    expect(dst.calls).not.toContain('activate');
    await engine.abort('DEVICE_UNREACHABLE', 'test');
    expect(dst.staged.size).toBe(0);
    expect(dst.active.size).toBe(0);
    expect(src.frozen).toBe(false);
    expect(src.active).toEqual(atFreeze);
  });

  it('take ahead — a failed freeze waits for the import taken ahead to settle before failing, so the rollback finds everything it staged', async () => {
    const { engine, src, dst } = await paused(5);
    src.failNext('freeze', 'DEVICE_UNREACHABLE');
    dst.stall('importStaged');
    let settled = false;
    const sync = engine.pauseSync().finally(() => (settled = true));
    sync.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    // The freeze failed long ago; the pause still waits for the import it started.
    expect(settled).toBe(false);
    dst.unstall('importStaged');
    await expect(sync).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
    await engine.abort('DEVICE_UNREACHABLE', 'test');
    expect(dst.staged.size).toBe(0);
    expect(dst.active.size).toBe(0);
    expect(src.frozen).toBe(false);
  });
});
