/**
 * A switch that already carries a layout under the fixture's keys (ports 1 and 2 in port_role, the
 * migration VM's port at the peer) is refused before any check, naming the table, the key, the
 * entry present and the fixture option that moves hw-test elsewhere; with that option it passes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import type { SimSwitch } from '../sim/index.js';
import { runHwTestCommand } from './cli.js';
import { HwTestError } from './errors.js';
import { DEFAULT_FIXTURE } from './fixture-spec.js';
import { outcomes } from './report/types.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { snapshotSim } from './testing/sim-snapshot.js';
import { P4INFO_PATH, startEdgeSim, statefulEdgeDeviceConfig } from './testing/sim-target.js';

const schema = P4Schema.fromFile(P4INFO_PATH);
const dir = mkdtempSync(join(tmpdir(), 'hw-test-conflicts-'));
const sims: SimSwitch[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A bmv2 sim running stateful_edge with an operator's layout: a VM behind `vmPort`, the uplink on `uplinkPort`. */
async function withLayout(vmPort: number, uplinkPort: number): Promise<SimSwitch> {
  const sim = await startEdgeSim('bmv2');
  sims.push(sim);
  const sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 2n });
  try {
    await sw.ensurePipeline({ schema, deviceConfig: statefulEdgeDeviceConfig() });
    await sw.write([
      sw.table('port_role').insert({ match: { port: vmPort }, action: 'vm_port_role', params: { uplink_port: uplinkPort } }),
      sw.table('port_role').insert({ match: { port: uplinkPort }, action: 'uplink_role' }),
      sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.5' }, action: 'set_vm', params: { vm_id: 5, port: vmPort } }),
    ]);
  } finally {
    await sw.close();
  }
  return sim;
}

const otherPorts = { ...DEFAULT_FIXTURE, vms: [{ addr: '10.250.0.5', port: 11, vmId: 1001 }, { addr: '10.250.0.6', port: 12, vmId: 1002 }] };

describe('hw-test — a switch with a layout under the fixture\'s keys', () => {
  it('port_role already holds ports 1 and 2: refused before any check (REFUSED), naming each entry, its key, what it holds and the fixture option; nothing written', async () => {
    const sim = await withLayout(1, 2);
    const before = snapshotSim(sim);
    const checks: string[] = [];
    const err = await runAgainstSim(sim, 'bmv2', { pushPipeline: false, onProgress: (e) => e.kind === 'check' && checks.push(e.id) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HwTestError);
    expect((err as HwTestError).code).toBe('REFUSED');
    const m = (err as HwTestError).message;
    expect(m).toMatch(/^refusing to run: the target 127\.0\.0\.1:\d+ \(device 0\) already has 2 entries under keys hw-test's fixture inserts/);
    expect(m).toContain("port_role port=1 holds vm_port_role(uplink_port=2) (hw-test's key from fixture.vms[0].port)");
    expect(m).toContain("port_role port=2 holds uplink_role() (hw-test's key from fixture.vms[1].port)");
    expect(m).toMatch(/--fixture FILE .* or run against a switch without that layout/);
    expect(checks).toEqual([]);
    expect(snapshotSim(sim)).toBe(before);
  });

  it('the same switch with the fixture on other ports: every check passes and the layout stays', async () => {
    const sim = await withLayout(1, 2);
    // Tables and counters (BMv2 keeps the digest configuration a run made, and change logs only move forward).
    const layout = (): unknown => {
      const j = JSON.parse(snapshotSim(sim)) as { tables: unknown; counters: unknown };
      return { tables: j.tables, counters: j.counters };
    };
    const before = layout();
    const r = await runAgainstSim(sim, 'bmv2', { pushPipeline: false, fixture: otherPorts });
    expect(Object.entries(outcomes(r)).filter(([, v]) => v === 'FAIL')).toEqual([]);
    expect(layout()).toEqual(before);
  });

  it('with --peer, the migration VM\'s port in use at the peer: refused naming the peer and fixture.migrationVm.port, before the target is written', async () => {
    const target = await withLayout(31, 32);
    const peer = await withLayout(DEFAULT_FIXTURE.migrationVm.port, 7);
    const before = snapshotSim(target);
    const err = await runAgainstSim(target, 'bmv2', { pushPipeline: false, peer: peer.address, peerDeviceId: peer.deviceId }).catch((e: unknown) => e);
    expect((err as HwTestError).code).toBe('REFUSED');
    expect((err as HwTestError).message).toMatch(/^refusing to run: the peer 127\.0\.0\.1:\d+ \(device 0\) already has 1 entry .*port_role port=6 holds vm_port_role\(uplink_port=7\) \(hw-test's key from fixture\.migrationVm\.port\)/);
    expect(snapshotSim(target)).toBe(before);
  });

  it('command line: a refusal exits 2 with the message; --fixture FILE moves the fixture; a --fixture that is no JSON object is a bad flag', async () => {
    const sim = await withLayout(1, 2);
    const run = async (extra: string[]): Promise<{ code: number; err: string }> => {
      const err: string[] = [];
      const code = await runHwTestCommand(['--target', sim.address, '--profile', 'bmv2', '--p4info', P4INFO_PATH, '--flows', '30', '--groups', 'differential', ...extra], { stdout: () => undefined, stderr: (l) => err.push(l) });
      return { code, err: err.join('\n') };
    };
    const refused = await run([]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("port_role port=1 holds vm_port_role(uplink_port=2) (hw-test's key from fixture.vms[0].port)");
    const file = join(dir, 'fixture.json');
    writeFileSync(file, JSON.stringify({ vms: otherPorts.vms }));
    const moved = await run(['--fixture', file]);
    expect(moved.code, moved.err).toBe(0);
    writeFileSync(file, '[1, 2]');
    const bad = await run(['--fixture', file]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--fixture: '.*fixture\.json' holds an array; expected a JSON object over the default fixture/);
  });
});
