/**
 * The check's report (runCheck) over in-process fake devices: across domains only this domain's
 * sources are asked and the text says who checks the rest; a refusal names its reason under NOT READY.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceApi, DeviceCapabilities } from '../../plugin/index.js';
import type { Inventory } from '../inventory/inventory.js';
import { fakeCapabilities, fakeInventoryDevice } from '../testing/check-fakes.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { runCheck } from './check-command.js';

const device = fakeInventoryDevice;
const caps = (name: string): DeviceCapabilities => fakeCapabilities(name, 90, 'f1', 100);
const plan = (o: Partial<MigrationPlan> = {}): MigrationPlan => ({
  vm: { name: 'vm-7', address: '10.0.0.5', host: 'host-a' }, fromHost: 'host-a', toHost: 'host-b', sources: [device('a')], destinations: [device('b')],
  topology: '1:1', placement: undefined, edgeDestinations: [device('b')], counterparts: new Map(), ...o,
});

async function check(p: MigrationPlan, vmAt: Record<string, number | undefined>): Promise<{ code: number; lines: string[]; asked: string[] }> {
  const lines: string[] = [];
  const asked: string[] = [];
  const code = await runCheck({
    plan: p, inventory: {} as Inventory, defaultP4info: '', json: false, stdout: (l) => lines.push(l),
    connect: async (d) => {
      asked.push(d.name);
      const vmId = vmAt[d.name];
      const api = { capabilities: async () => caps(d.name), footprint: async () => ({ device: d.name, ...(vmId !== undefined ? { vmId } : {}), runsHere: vmId !== undefined, controlled: false, slots: 10, indexComplete: true, migrations: [] }) } as unknown as DeviceApi;
      return { api, stop: async () => undefined };
    },
  });
  return { code, lines, asked };
}

describe('migrate --check — the report', () => {
  it('check report — across domains only the sources are asked, and the text says the peer checks its own', async () => {
    const r = await check(plan({ toDomain: 'dc-b' }), { a: 7 });
    expect(r.asked).toEqual(['a']);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      'check: VM vm-7 from host-a to host-b in domain dc-b (1:1), reading only',
      '  a (source, P4Runtime 127.0.0.1:1 (in process)): VM id 7, runs here, 10 slots; 90 of 100 slots free, registers over p4runtime',
      '  destinations: in domain dc-b; its controller checks them when this one proposes the migration',
      '  schemas: identical',
      'READY: a migration started now would pass these checks (nothing was prepared, staged or frozen)',
    ]);
  });

  it('check report — a destination without the VM: NOT READY with the reason, exit 1', async () => {
    const r = await check(plan(), { a: 7, b: undefined });
    expect(r.code).toBe(1);
    expect(r.lines.slice(-2)).toEqual([
      'NOT READY: a migration started now would be refused (1 problem; nothing was prepared, staged or frozen):',
      expect.stringMatching(/^ {2}PEER_REJECTED: b: VM vm-7 \(10\.0\.0\.5\) is not in the switch's VM map/) as string,
    ]);
    expect(r.lines).toContain('  room at b: needs 10, 90 free');
  });
});
