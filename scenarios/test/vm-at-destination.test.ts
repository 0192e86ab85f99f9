/**
 * A stale inventory the other way round — the VM already runs at the switch it is to move *to* —
 * on simulated switches over real gRPC, through `carryover migrate`: refused before anything is
 * staged (staging would drop the VM's live traffic there), both switches as they were; migrated
 * when the operator says those flows are leftovers (--ignore-destination-flows). `--check` says
 * the same before anything runs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlotGroupSpec } from '../../plugin/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { cliSim, openFlows, runMigrateCli, twoSimSite } from '../cli-sims.js';
import { back, out } from '../migration-fixture.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { UPLINK } from '../edge-rig.js';

describe('carryover migrate — the VM already at the destination', () => {
  let dir: string;
  let a: SimSwitch;
  let b: SimSwitch;
  let group: SlotGroupSpec;
  const PORTS = Array.from({ length: 10 }, (_, i) => 32_000 + i);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-at-dst-'));
    const [x, y] = await Promise.all([cliSim(7), cliSim(9)]);
    [a, b, group] = [x.sim, y.sim, x.group];
    // The VM runs at B (its flows there), while the inventory still says host-a, where it has none.
    expect(openFlows(b, PORTS)).toBe(true);
    await writeFile(join(dir, 'site.yaml'), twoSimSite(a, b));
  }, 60_000);
  afterEach(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const migrate = (...more: string[]): ReturnType<typeof runMigrateCli> =>
    runMigrateCli(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--pause-deadline-ms', '60000', ...more]);

  it('migrate — refused PEER_REJECTED naming the destination and its flows, before anything is staged: no control entry left at either switch, the VM\'s flows at B intact and passing; --check refuses the same', async () => {
    const r = await migrate('--migration-id', 'm-stale-to', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out.join('\n')) as { outcome: string; reason: string; detail: string; rounds?: unknown };
    expect(report.reason).toBe('PEER_REJECTED');
    expect(report.detail).toMatch(new RegExp(`VM vm-7 \\(10\\.0\\.0\\.5\\) seems to run at the destination already: the sources hold no flow of it, edge-b holds ${PORTS.length} of its flows[^]*Correct --from[^]*--ignore-destination-flows`));
    for (const sw of [a, b]) expect(sw.state.tableEntries('vm_migration')).toEqual([]);
    expect(countVmSlots(b, group, 9)).toBe(PORTS.length);
    expect(countVmSlots(a, group, 7)).toBe(0);
    for (const p of PORTS) expect(b.dataplane.inject(UPLINK, back(p, 901, 101, 0x10)).kind).toBe('forward');
    for (const p of PORTS) expect(b.dataplane.inject(1, out(p, 101, 901, 0x18, 10)).kind).toBe('forward');
    // The read-only check says the same once it may wait for the in-process plugins' scans (--scan)…
    const c = await migrate('--check', '--scan', '--json');
    expect(c.code).toBe(1);
    const check = JSON.parse(c.out.join('\n')) as { outcome: string; problems: { reason: string; detail: string }[]; notes: { reason: string }[] };
    expect(check.problems).toEqual([{ reason: 'PEER_REJECTED', detail: report.detail }]);
    // …and with --ignore-destination-flows only notes it.
    const noted = await migrate('--check', '--scan', '--ignore-destination-flows', '--json');
    expect(noted.code).toBe(0);
    expect((JSON.parse(noted.out.join('\n')) as { notes: { reason: string }[] }).notes.map((n) => n.reason)).toEqual(['VM_AT_DESTINATION']);
    for (const sw of [a, b]) expect(sw.state.tableEntries('vm_migration')).toEqual([]);
  }, 120_000);

  it('migrate --ignore-destination-flows — the operator says those flows are leftovers: the migration runs (nothing to move) and commits; B keeps its flows, A is marked left', async () => {
    const r = await migrate('--migration-id', 'm-ignore', '--ignore-destination-flows', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out.join('\n')) as { outcome: string; snapshotSlots: number };
    expect(report.outcome).toBe('committed');
    expect(countVmSlots(b, group, 9)).toBe(PORTS.length);
    for (const p of PORTS) expect(b.dataplane.inject(UPLINK, back(p, 901, 101, 0x10)).kind).toBe('forward');
    // A, the switch the VM "left", now marks it not here: a move from it again is refused.
    expect(a.state.tableEntries('vm_migration').length).toBe(1);
  }, 120_000);
});
