/**
 * The engine driven by real QEMU processes (two per test, on loopback) through the QEMU trigger;
 * the switches are FAKE in-memory devices (controller/testing/fake-device-api.ts): the controller
 * area cannot start sims. With simulated switches: scenarios/test/qemu-deadline.test.ts and the
 * demo's `--vm qemu` test. Skipped, with the reason, without QEMU.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryJournal } from '../journal/journal.js';
import { parseInventory } from '../inventory/load-inventory.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import { planMigration } from '../plan/plan-migration.js';
import { QmpClient } from '../qmp/index.js';
import { FakeDeviceApi } from '../testing/fake-device-api.js';
import { QEMU_SKIP_REASON, startQemuPair } from '../testing/qemu-pair.js';
import type { QemuPair } from '../testing/qemu-pair.js';
import { QemuTrigger } from '../trigger/index.js';
import { engineAsPhaseHandler } from './engine-phase-handler.js';
import { MigrationEngine } from './migration-engine.js';

const SLOW = 120_000;
let pair: QemuPair | undefined;
const clients: QmpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await pair?.stop();
  pair = undefined;
});

const SITE = `
devices:
  src: { address: 127.0.0.1:1, deviceId: 1, hosts: [host-a] }
  dst: { address: 127.0.0.1:2, deviceId: 1, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;
const flow = (i: number): Record<string, bigint> => ({ vm_addr: 0x0a000005n, remote_addr: 0xc6336400n + BigInt(i), vm_port: 40000n + BigInt(i), remote_port: 443n, protocol: 6n, state: 3n });

async function engineWithFakes(): Promise<{ engine: MigrationEngine; machine: MigrationMachine; src: FakeDeviceApi; dst: FakeDeviceApi }> {
  const plan = planMigration(parseInventory(SITE, 'site.yaml'), 'vm-7', 'host-a', 'host-b');
  const machine = await MigrationMachine.plan({ migrationId: 'q1', vm: 'vm-7', sources: ['src'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
  const src = new FakeDeviceApi('src');
  const dst = new FakeDeviceApi('dst');
  for (let i = 0; i < 50; i++) src.change(flow(i));
  const engine = new MigrationEngine({ plan, machine, devices: new Map([['src', src], ['dst', dst]]), pauseDeadlineMs: 5_000, precopy: { intervalMs: 20, policy: { maxRounds: 1000, convergedAtSlots: -1 } }, graceMs: 0 });
  await engine.prepare();
  return { engine, machine, src, dst };
}

describe.skipIf(QEMU_SKIP_REASON !== undefined)(`engine with the QEMU trigger ${QEMU_SKIP_REASON ? `(skipped: ${QEMU_SKIP_REASON})` : ''}`, () => {
  it('engine + qemu — the sync runs while QEMU holds the VM in pre-switchover; then the destination VM runs and the migration commits', async () => {
    pair = await startQemuPair();
    const source = await QmpClient.connect({ address: pair.source.qmpAddress, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
    clients.push(source);
    const { engine, machine, src, dst } = await engineWithFakes();
    const during: string[] = [];
    const h = engineAsPhaseHandler(engine);
    const onPause = h.handler.onPause;
    h.handler.onPause = async (w) => {
      during.push((await source.execute<{ status: string }>('query-migrate')).status);
      return onPause(w);
    };
    const trigger = await QemuTrigger.attach({ source, destination: pair.destination.qmpAddress, handler: h.handler, pauseDeadlineMs: 30_000, destinationTimeoutMs: 30_000 });
    await trigger.startMigration(pair.incomingUri);
    const report = await trigger.finished;
    const run = await h.done;
    expect(during).toEqual(['pre-switchover']);
    expect(report).toMatchObject({ outcome: 'completed', destinationStatus: 'running', pause: { outcome: 'synced', sent: 'migrate-continue' } });
    expect(run.aborted).toBeUndefined();
    expect(run.committed?.deleted).toBe(50);
    expect(dst.active.size).toBe(50);
    expect(src.active.size).toBe(0);
    expect(machine.state.phase).toBe('COMMITTED');
    await trigger.close();
  }, SLOW);

  it('engine + qemu — the destination QEMU dies mid-migration: QEMU reports failed and the engine rolls back (source authoritative, destination clean)', async () => {
    pair = await startQemuPair();
    const source = await QmpClient.connect({ address: pair.source.qmpAddress, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
    clients.push(source);
    await source.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 });
    const { engine, machine, src, dst } = await engineWithFakes();
    const h = engineAsPhaseHandler(engine);
    const onPrecopy = h.handler.onPrecopy;
    const p = pair;
    h.handler.onPrecopy = async (info) => {
      await onPrecopy(info);
      await p.destination.kill();
    };
    const trigger = await QemuTrigger.attach({ source, handler: h.handler });
    await trigger.startMigration(pair.incomingUri);
    expect((await trigger.finished).outcome).toBe('failed');
    const run = await h.done;
    expect(run.aborted?.reason).toBe('ABORTED_BY_TRIGGER');
    expect(machine.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
    expect(src.active.size).toBe(50);
    expect(src.frozen).toBe(false);
    expect(dst.active.size + dst.staged.size).toBe(0);
    expect((await source.execute<{ status: string }>('query-status')).status).toBe('running');
    await trigger.close();
  }, SLOW);
});
