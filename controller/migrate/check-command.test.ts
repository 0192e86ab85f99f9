/**
 * The check's report (runCheck) over in-process fake devices and a FAKE peer domain's answer (the
 * federation call itself is tested against a real server in scenarios/test/two-domains.test.ts):
 * across domains the peer's destinations are checked as it answered; a refusal names its reason
 * under NOT READY.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceApi, DeviceCapabilities } from '../../plugin/index.js';
import type { Inventory } from '../inventory/inventory.js';
import { fakeCapabilities, fakeInventoryDevice } from '../testing/check-fakes.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import type { PeerDomainCheck } from '../federation/peer-domain-check.js';
import { runCheck } from './check-command.js';

const device = fakeInventoryDevice;
const caps = (name: string): DeviceCapabilities => fakeCapabilities(name, 90, 'f1', 100);
const plan = (o: Partial<MigrationPlan> = {}): MigrationPlan => ({
  vm: { name: 'vm-7', address: '10.0.0.5', host: 'host-a' }, fromHost: 'host-a', toHost: 'host-b', sources: [device('a')], destinations: [device('b')],
  topology: '1:1', placement: undefined, edgeDestinations: [device('b')], counterparts: new Map(), ...o,
});

async function check(p: MigrationPlan, vmAt: Record<string, number | undefined>, peer?: PeerDomainCheck, json = false): Promise<{ code: number; lines: string[]; asked: string[] }> {
  const lines: string[] = [];
  const asked: string[] = [];
  const code = await runCheck({
    plan: p, inventory: {} as Inventory, defaultP4info: '', json, stdout: (l) => lines.push(l),
    ...(peer ? { peerCheck: async () => peer } : {}),
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
  const toPeer = (): MigrationPlan => plan({ toDomain: 'dc-b', destinations: [device('dc-b')], edgeDestinations: [device('dc-b')] });
  const at = 'domain dc-b (federation 127.0.0.1:9)';
  const b1 = (o: Partial<{ vmId: number; free: number; fingerprint: string }> = {}) => ({
    name: 'b1', via: 'plugin daemon 10.1.0.1:50051', capabilities: fakeCapabilities('b1', o.free ?? 90, o.fingerprint ?? 'f1', 100),
    footprint: { device: 'b1', ...(o.vmId !== undefined ? { vmId: o.vmId } : {}), runsHere: false, controlled: true, slots: 0, indexComplete: true, migrations: [] },
  });

  it('check report — across domains the sources are asked here and the destinations as the peer domain answered (federation Check)', async () => {
    const r = await check(toPeer(), { a: 7 }, { kind: 'answered', peer: 'dc-b', address: '127.0.0.1:9', destinations: [b1({ vmId: 9 })] });
    expect(r.asked).toEqual(['a']);
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      'check: VM vm-7 from host-a to host-b in domain dc-b (1:1), reading only',
      '  a (source, P4Runtime 127.0.0.1:1 (in process)): VM id 7, runs here, 10 slots; 90 of 100 slots free, registers over p4runtime',
      `  b1 (destination, ${at}, plugin daemon 10.1.0.1:50051): VM id 9, 0 slots; 90 of 100 slots free, registers over p4runtime`,
      "  destinations: planned by domain dc-b's controller (federation 127.0.0.1:9), which asked them for this check",
      '  schemas: identical',
      '  room at b1: needs 10, 90 free',
      'READY: a migration started now would pass these checks (nothing was prepared, staged or frozen)',
    ]);
  });

  it('check report — across domains a peer destination without the VM, too small, or of another schema is NOT READY with each reason', async () => {
    const unmapped = await check(toPeer(), { a: 7 }, { kind: 'answered', peer: 'dc-b', address: '127.0.0.1:9', destinations: [b1()] });
    expect(unmapped.code).toBe(1);
    expect(unmapped.lines).toContainEqual(expect.stringMatching(/^ {2}PEER_REJECTED: b1: VM vm-7 \(10\.0\.0\.5\) is not in the switch's VM map/));
    const small = await check(toPeer(), { a: 7 }, { kind: 'answered', peer: 'dc-b', address: '127.0.0.1:9', destinations: [b1({ vmId: 9, free: 4 })] });
    expect(small.lines).toContain("  CAPACITY_EXCEEDED: b1 has 4 free slots; the VM's flows need 10 there");
    const other = await check(toPeer(), { a: 7 }, { kind: 'answered', peer: 'dc-b', address: '127.0.0.1:9', destinations: [b1({ vmId: 9, fingerprint: 'f2' })] });
    expect(other.code).toBe(1);
    expect(other.lines).toContainEqual(expect.stringMatching(/^ {2}SCHEMA_MISMATCH: the pipelines cannot hold the same state/));
  });

  it('check report — a peer destination its domain could not ask is that device\'s failure, with the peer\'s reason', async () => {
    const r = await check(toPeer(), { a: 7 }, { kind: 'answered', peer: 'dc-b', address: '127.0.0.1:9', destinations: [{ name: 'b1', via: 'P4Runtime 10.1.0.1:9559', failure: { reason: 'DEVICE_UNREACHABLE', detail: 'connect ECONNREFUSED 10.1.0.1:9559' } }] });
    expect(r.code).toBe(1);
    expect(r.lines).toContain(`  b1 (destination, ${at}, P4Runtime 10.1.0.1:9559): DEVICE_UNREACHABLE`);
    expect(r.lines).toContain(`  DEVICE_UNREACHABLE: b1 (${at}, P4Runtime 10.1.0.1:9559): dc-b could not ask it: connect ECONNREFUSED 10.1.0.1:9559`);
  });

  it('check report — a peer domain that cannot be reached or is refused is NOT READY, its reason and detail under the peer\'s name', async () => {
    const r = await check(toPeer(), { a: 7 }, { kind: 'failed', peer: 'dc-b', address: '127.0.0.1:9', reason: 'PEER_REJECTED', detail: "peer domain dc-b: refused the server at 127.0.0.1:9: its certificate names 'x'" });
    expect(r.asked).toEqual(['a']);
    expect(r.code).toBe(1);
    expect(r.lines).toContain(`  dc-b (destination, ${at}): PEER_REJECTED`);
    expect(r.lines).toContain(`  PEER_REJECTED: dc-b (${at}): peer domain dc-b: refused the server at 127.0.0.1:9: its certificate names 'x'`);
    const json = JSON.parse((await check(toPeer(), { a: 7 }, { kind: 'failed', peer: 'dc-b', address: '127.0.0.1:9', reason: 'DEVICE_UNREACHABLE', detail: 'down' }, true)).lines[0] as string) as Record<string, unknown>;
    expect(json['outcome']).toBe('not-ready');
    expect(json['peerDomain']).toEqual({ name: 'dc-b', address: '127.0.0.1:9', answered: false });
  });

  it('check report — a peer controller that predates the check: the sources only, and a note that the peer checks its own at the proposal', async () => {
    const r = await check(toPeer(), { a: 7 }, { kind: 'predates', peer: 'dc-b', address: '127.0.0.1:9' });
    expect(r.asked).toEqual(['a']);
    expect(r.code).toBe(0);
    expect(r.lines).toContain('  destinations: in domain dc-b; its controller (federation 127.0.0.1:9) predates the check and checks them when this one proposes the migration');
    expect(r.lines).toContainEqual(expect.stringMatching(/^ {2}note: dc-b's controller predates the check \(federation Check\): it answered over mutual TLS/));
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
