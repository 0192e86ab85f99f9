/**
 * `carryover migrate --check` against simulated switches over real gRPC: it asks every device of
 * the plan as the migration would reach it and says whether a migration started now would pass —
 * and it changes nothing the migration depends on: no control entry, no frozen flow, no journal.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlotGroupSpec } from '../../plugin/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { cliSim, openFlows, runMigrateCli, twoSimSite } from '../cli-sims.js';
import { back } from '../migration-fixture.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { UPLINK } from '../edge-rig.js';
import { QEMU_SKIP_REASON, startQemuPair } from '../../controller/testing/qemu-pair.js';

interface CheckJson {
  outcome: string;
  devices: { name: string; role: string; reachable: boolean; vm?: { id: number | null; runsHere: boolean; slots: number | null; migrations: string[] }; failure?: { reason: string } }[];
  schema: { reasons: string[]; translations: string[] } | null;
  room: { device: string; needs?: number; free: number }[];
  problems: { reason: string; detail: string }[];
  notes: { reason: string; detail: string }[];
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('carryover migrate --check — on simulated switches', () => {
  let dir: string;
  let src: SimSwitch;
  let dst: SimSwitch;
  let group: SlotGroupSpec;
  const PORTS = Array.from({ length: 12 }, (_, i) => 31_000 + i);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-check-'));
    const [a, b] = await Promise.all([cliSim(7), cliSim(9)]);
    [src, dst, group] = [a.sim, b.sim, a.group];
    expect(openFlows(src, PORTS)).toBe(true);
  }, 60_000);
  afterEach(async () => {
    await Promise.all([src?.stop(), dst?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const site = (dstAddress = dst.address): string => twoSimSite(src, dst, dstAddress);
  const run = runMigrateCli;
  const check = (from: string, to: string, json = true): Promise<{ code: number; out: string[]; err: string[] }> =>
    run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', from, '--to', to, '--check', ...(json ? ['--json'] : [])]);

  it('migrate --check — ready: each device\'s VM id, free slots as an upper bound while an in-process plugin\'s index is incomplete; nothing changed (no control entry, flows pass, no journal); after the VM moved, a check from its old host says it left', async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    const r = await check('host-a', 'host-b');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0] ?? '{}') as CheckJson;
    expect(j.outcome).toBe('ready');
    expect(j.problems).toEqual([]);
    expect(j.devices.map((d) => [d.name, d.role, d.reachable, d.vm?.id, d.vm?.runsHere])).toEqual([['edge-a', 'source', true, 7, true], ['edge-b', 'destination', true, 9, true]]);
    // A plugin in this process has only begun its whole-group scan: it does not guess a count,
    // and says its free slots are an upper bound (through daemons the counts are exact: migrate-daemons.test.ts).
    expect(j.devices[0]?.vm?.slots).toBeNull();
    expect(j.notes.map((n) => n.reason)).toEqual(['SLOTS_UNKNOWN', 'FREE_UPPER_BOUND']);
    expect(j.schema).toEqual({ translations: [], reasons: [] });
    expect(j.room).toEqual([{ device: 'edge-b', free: expect.any(Number) as number, exact: false }]);
    // Read only: no control entry on either switch, the VM's flows pass at the source, no journal.
    for (const sw of [src, dst]) expect(sw.state.tableEntries('vm_migration')).toEqual([]);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
    expect(countVmSlots(dst, group, 9)).toBe(0);
    expect(await readdir(join(dir, 'journal')).catch(() => [])).toEqual([]);
    // The text form says the same.
    const text = await check('host-a', 'host-b', false);
    expect(text.code).toBe(0);
    expect(text.out.join('\n')).toMatch(/edge-a \(source, P4Runtime .* \(in process\)\): VM id 7, runs here, slots not counted \(index incomplete\);/);
    expect(text.out.at(-1)).toMatch(/^READY: a migration started now would pass these checks/);
    // The VM moves; the stale direction is then refused by the check, before any prepare.
    const m = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-1', '--pause-deadline-ms', '60000']);
    expect(m.code).toBe(0);
    const stale = await check('host-a', 'host-b');
    expect(stale.code).toBe(1);
    const s = JSON.parse(stale.out[0] ?? '{}') as CheckJson;
    expect(s.outcome).toBe('not-ready');
    expect(s.problems).toEqual([{ reason: 'PEER_REJECTED', detail: expect.stringMatching(/^edge-a: VM vm-7 \(10\.0\.0\.5\) \(id 7 here\) does not run on this switch.*Correct --from/) as string }]);
    expect(s.devices[0]?.vm).toMatchObject({ id: 7, runsHere: false });
    // With the inventory brought up to date, the way back is ready.
    await writeFile(join(dir, 'site.yaml'), site().replace('vm-7: { address: 10.0.0.5, host: host-a }', 'vm-7: { address: 10.0.0.5, host: host-b }'));
    const home = await check('host-b', 'host-a');
    expect(JSON.parse(home.out[0] ?? '{}')).toMatchObject({ outcome: 'ready', devices: [{ name: 'edge-b', vm: { id: 9, runsHere: true } }, { name: 'edge-a', vm: { id: 7 } }] });
  }, 300_000);

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`migrate --check --trigger qemu: — QEMU asked too (two real QEMU processes): ready with the source running and the destination waiting; the source's monitor given as the destination is ABORTED_BY_TRIGGER${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    const pair = await startQemuPair();
    try {
      const path = (a: string): string => a.replace(/^unix:/, '');
      const argv = (dest: string): string[] => ['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check', '--json',
        '--trigger', `qemu:${path(pair.source.qmpAddress)}`, '--qemu-destination', dest, '--migrate-uri', pair.incomingUri];
      const ok = await runMigrateCli(argv(path(pair.destination.qmpAddress)));
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out[0] ?? '{}')).toMatchObject({ outcome: 'ready', qemu: { sourceStatus: 'running', migration: 'none', destinationStatus: 'inmigrate' }, problems: [] });
      // The first check's sessions close as it ends; on a loaded machine the sims may still hold its
      // election id a moment later (NOT_PRIMARY, "another client holds election id 20"): asked again then.
      let swapped = await runMigrateCli(argv(path(pair.source.qmpAddress)));
      for (let i = 0; i < 10 && /another client holds election id/.test(swapped.out.join('\n')); i++) {
        await new Promise((r) => setTimeout(r, 500));
        swapped = await runMigrateCli(argv(path(pair.source.qmpAddress)));
      }
      expect(swapped.code).toBe(1);
      expect(JSON.parse(swapped.out[0] ?? '{}')).toMatchObject({ outcome: 'not-ready', problems: [{ reason: 'ABORTED_BY_TRIGGER', detail: expect.stringMatching(/^destination QEMU .* is 'running', not waiting for an incoming migration/) as string }] });
      // Nothing started: the destination still waits, no journal.
      expect(await readdir(join(dir, 'journal')).catch(() => [])).toEqual([]);
    } finally {
      await pair.stop();
    }
  }, 120_000);

  it('migrate --check — not ready: a destination whose VM map lacks the VM, and one that does not answer, are each named with the fix; the source still answers; nothing changed', async () => {
    const bare = await cliSim(undefined);
    try {
      await writeFile(join(dir, 'site.yaml'), site(bare.sim.address));
      const r = await check('host-a', 'host-b');
      expect(r.code).toBe(1);
      const j = JSON.parse(r.out[0] ?? '{}') as CheckJson;
      expect(j.outcome).toBe('not-ready');
      expect(j.problems).toEqual([{ reason: 'PEER_REJECTED', detail: expect.stringMatching(/^edge-b: VM vm-7 \(10\.0\.0\.5\) is not in the switch's VM map \(vm_table\); your controller lays the VM out there/) as string }]);
      expect(j.devices[1]?.vm).toEqual({ id: null, runsHere: false, slots: null, migrations: [] });
      expect(bare.sim.state.tableEntries('vm_migration')).toEqual([]);
    } finally {
      await bare.sim.stop();
    }
    await writeFile(join(dir, 'site.yaml'), site(`127.0.0.1:${await closedPort()}`));
    const r = await check('host-a', 'host-b', false);
    expect(r.code).toBe(1);
    const said = r.out.join('\n');
    expect(said).toMatch(/edge-a \(source, .*\): VM id 7, runs here, slots not counted/);
    expect(said).toMatch(/edge-b \(destination, .*\): DEVICE_UNREACHABLE/);
    expect(said).toMatch(/NOT READY: a migration started now would be refused \(1 problem; nothing was prepared, staged or frozen\):\n {2}DEVICE_UNREACHABLE: edge-b \(P4Runtime 127\.0\.0\.1:\d+ \(in process\)\): .*check the address, device id and credentials in the inventory/);
    expect(src.state.tableEntries('vm_migration')).toEqual([]);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
  }, 300_000);
});
