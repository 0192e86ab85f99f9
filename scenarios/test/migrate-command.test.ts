/**
 * `carryover migrate` against two simulated switches over real gRPC, as an operator runs it: an
 * inventory file, the VM's flows established at the source, the command connects (its own edge
 * plugins, election id from the inventory), migrates with the manual trigger and reports. After
 * it: the destination admits the VM's return traffic, the source no longer holds the flows, the
 * journal records the migration COMMITTED. A destination that refuses (a table too small for the
 * VM) ends in rollback: exit 1, the reason named, the source unchanged.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { P4Switch } from 'p4runtime-ts';
import { runRecoverCommand } from '../../controller/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { UPLINK, startEdgeRig } from '../edge-rig.js';
import { startSimSwitch } from '../../sim/index.js';
import { ctGeometry } from '../../sim/programs/stateful-edge/ct-geometry.js';
import { withoutTable } from '../../plugin/testing/stateful-edge-p4info.js';
import { cliSim, openFlows, runMigrateCli, twoSimSite } from '../cli-sims.js';
import { back, out } from '../migration-fixture.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { QEMU_SKIP_REASON, startQemuPair } from '../../controller/testing/qemu-pair.js';
import { QmpClient } from '../../controller/qmp/index.js';

let group: SlotGroupSpec | undefined;

/** A sim with the VM laid out as `vmId` (cli-sims.ts); its slot group kept for the counts. */
async function sim(vmId: number | undefined): Promise<SimSwitch> {
  const s = await cliSim(vmId);
  group = s.group;
  return s.sim;
}

describe('carryover migrate — on two simulated switches', () => {
  let dir: string;
  let src: SimSwitch;
  let dst: SimSwitch;
  const PORTS = Array.from({ length: 20 }, (_, i) => 30_000 + i);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-migrate-sim-'));
    [src, dst] = await Promise.all([sim(7), sim(9)]);
    expect(openFlows(src, PORTS)).toBe(true);
  }, 60_000);
  afterEach(async () => {
    await Promise.all([src?.stop(), dst?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const site = (): string => twoSimSite(src, dst);
  const run = runMigrateCli;

  it('migrate — moves the VM: exit 0, the destination admits its flows, the source is cleaned, the journal says COMMITTED', async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('drop');
    const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-cli', '--pause-deadline-ms', '60000', '--json']);
    expect(r.err.join('\n')).toMatch(/phase COMMITTED/);
    // The snapshot's read may be the longest quiet stretch: the progress says why before it.
    expect(r.err.join('\n')).toMatch(/phase PREPARED\nmigrate: pre-copy: reading the snapshot at the sources \(quick where their plugins have indexed their switches; a plugin that has not scanned its switch yet reads the whole slot group first/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out[0] ?? '{}') as Record<string, unknown>;
    expect(report).toMatchObject({ migrationId: 'm-cli', outcome: 'committed', reason: null, snapshotSlots: PORTS.length, sourceDeleted: PORTS.length });
    expect(typeof report['pauseSyncMs']).toBe('number');
    expect(Object.values(report['finalDeltaProofs'] as Record<string, string>)).toEqual([expect.stringMatching(/^change-(numbers|log)$/)]);
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
    expect(countVmSlots(dst, group as SlotGroupSpec, 9)).toBe(PORTS.length);
    expect(countVmSlots(src, group as SlotGroupSpec, 7)).toBe(0);
    const files = await readdir(join(dir, 'journal'));
    expect(files).toEqual(['m-cli.journal.jsonl']);
    const events = (await readFile(join(dir, 'journal', 'm-cli.journal.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(events[0]).toBe('planned');
    expect(events).toContain('activated');
    expect(events.at(-1)).toBe('source-cleaned');
    // A fresh in-process plugin scans the whole slot group once (327,680 slots): slow on a loaded machine.
  }, 300_000);

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`migrate — --trigger qemu: starts a real QEMU migration, syncs while QEMU holds the VM in pre-switchover, commits once the VM runs at the destination, and reports QEMU's downtime, the hold and the VM's own downtime${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    const pair = await startQemuPair();
    try {
      const addr = (a: string): string => a.replace(/^unix:/, '');
      const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-qemu', '--pause-deadline-ms', '60000',
        '--trigger', `qemu:${addr(pair.source.qmpAddress)}`, '--qemu-destination', addr(pair.destination.qmpAddress), '--migrate-uri', pair.incomingUri, '--json']);
      expect(r.err.join('\n')).toMatch(/phase COMMITTED/);
      expect(r.code).toBe(0);
      // The snapshot is staged before QEMU is asked to migrate, and the progress says so.
      expect(r.err.join('\n')).toMatch(/pre-copy: snapshot staged, 20 slots; starting QEMU's migration to tcp:127\.0\.0\.1:\d+/);
      const report = JSON.parse(r.out[0] ?? '{}') as { outcome: string; qemu: { downtimeMs: number; heldMs: number; guestDowntimeMs: number } | null };
      expect(report.outcome).toBe('committed');
      // QEMU's downtime holds carryover's hold; the VM's own (its STOP at the source to its
      // RESUME at the destination) holds it too.
      expect(report.qemu?.heldMs).toBeGreaterThan(0);
      expect(report.qemu?.downtimeMs).toBeGreaterThanOrEqual(Math.floor(report.qemu?.heldMs ?? Infinity) - 1);
      expect(report.qemu?.guestDowntimeMs).toBeGreaterThanOrEqual(Math.floor(report.qemu?.heldMs ?? Infinity) - 1);
      for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
      expect(countVmSlots(src, group as SlotGroupSpec, 7)).toBe(0);
    } finally {
      await pair.stop();
    }
  }, 300_000);

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`migrate — --trigger qemu: a QEMU that refuses 'migrate' (its VM already migrated away): exit 1, not INTERNAL, QEMU's refusal and the fix named, both switches rolled back and the journal ended${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    const pair = await startQemuPair();
    try {
      // The VM leaves this QEMU first (no carryover): its source is 'postmigrate' and refuses another migrate.
      const qmp = await QmpClient.connect({ address: pair.source.qmpAddress, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
      try {
        await qmp.execute('migrate', { uri: pair.incomingUri });
        for (let i = 0; i < 600 && (await qmp.execute<{ status?: string }>('query-migrate')).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
        expect((await qmp.execute<{ status: string }>('query-status')).status).toBe('postmigrate');
      } finally {
        await qmp.close();
      }
      const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-refused', '--pause-deadline-ms', '60000',
        '--trigger', `qemu:${pair.source.qmpAddress.replace(/^unix:/, '')}`, '--migrate-uri', 'tcp:127.0.0.1:1']);
      expect(r.code).toBe(1);
      const said = [...r.err, ...r.out].join('\n');
      expect(said).not.toMatch(/INTERNAL|nothing was changed on any device/);
      expect(r.out.join('\n')).toMatch(/ABORTED \(ABORTED_BY_TRIGGER\) — rolled back/);
      expect(r.out.join('\n')).toMatch(/QEMU refused 'migrate'.*: the VM's QEMU behind .* is not in a state to migrate/);
      const events = (await readFile(join(dir, 'journal', 'm-refused.journal.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
      expect(events.slice(-2)).toEqual(['abort', 'rolled-back']);
      // Neither switch keeps the migration's control entry; the source passes the VM's flows as before.
      for (const sw of [src, dst]) expect(sw.state.tableEntries('vm_migration')).toEqual([]);
      for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
    } finally {
      await pair.stop();
    }
  }, 300_000);

  it('migrate — --trigger qemu: with a socket path that is not there, refused before anything (exit 2, for --plan too); with a socket that is no QEMU monitor: exit 1 naming it, the prepared devices rolled back, the journal ended, the next migration not blocked', async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    for (const extra of [[], ['--plan']]) {
      const absent = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--trigger', `qemu:${join(dir, 'absent.sock')}`, ...extra]);
      expect(absent.code).toBe(2);
      expect(absent.err.join('\n')).toMatch(/--trigger qemu:.*absent\.sock: no such socket; give the path QEMU listens on/);
    }
    // A Unix socket that hangs up on whoever connects: the QMP handshake fails after prepare.
    const notQemu = createServer((c) => c.destroy());
    await new Promise<void>((res) => notQemu.listen(join(dir, 'hangup.sock'), res));
    const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-nosock', '--trigger', `qemu:${join(dir, 'hangup.sock')}`]);
    await new Promise<void>((res) => notQemu.close(() => res()));
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/ABORTED \(ABORTED_BY_TRIGGER\).*\n(.*\n)*.*hangup\.sock/);
    const events = (await readFile(join(dir, 'journal', 'm-nosock.journal.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(events.slice(-2)).toEqual(['abort', 'rolled-back']);
    // Unfrozen and untracked at the source: the flows pass as before.
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
    const again = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-after', '--pause-deadline-ms', '60000']);
    expect(again.code).toBe(0);
  }, 300_000);

  it('migrate — a round trip A→B→A: the VM\'s counters count each packet once (a cleaned source\'s cells are zeroed, not added again on the way back); a move from the switch it left (stale inventory) is refused', async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    const cell = (s: SimSwitch, c: string, id: number): bigint => s.state.counter(c, id).packets;
    // At A: a SYN and an ACK out, a SYN-ACK in, per flow.
    expect([cell(src, 'vm_tx', 7), cell(src, 'vm_rx', 7)]).toEqual([2n * BigInt(PORTS.length), BigInt(PORTS.length)]);
    const there = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-there', '--pause-deadline-ms', '60000']);
    expect(there.code).toBe(0);
    expect(there.out.join('\n')).toMatch(/inventory: vm-7 runs on host-b now; set vms\.vm-7\.host to host-b/);
    // The report counts slots and says what they are; delta rounds list their sizes only when there were some.
    expect(there.out.join('\n')).toMatch(new RegExp(`pre-copy: snapshot ${PORTS.length} slots \\(one per flow\\), (0 delta rounds|[1-9]\\d* delta rounds \\(slots each: \\d+(, \\d+)*\\)); (converged|not converged: stopped at the 30-round limit .*)$`, 'm'));
    expect([cell(src, 'vm_tx', 7), cell(src, 'vm_rx', 7)]).toEqual([0n, 0n]);
    expect([cell(dst, 'vm_tx', 9), cell(dst, 'vm_rx', 9)]).toEqual([2n * BigInt(PORTS.length), BigInt(PORTS.length)]);
    // The inventory not yet updated: a second move "from A" is refused, nothing changes at B.
    const stale = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-stale', '--pause-deadline-ms', '60000']);
    expect(stale.code).toBe(1);
    expect(stale.out.join('\n')).toMatch(/PEER_REJECTED[^]*VM 10\.0\.0\.5 \(id 7 here\) does not run on this switch[^]*Correct --from/);
    expect(countVmSlots(dst, group as SlotGroupSpec, 9)).toBe(PORTS.length);
    expect([cell(dst, 'vm_tx', 9), cell(dst, 'vm_rx', 9)]).toEqual([2n * BigInt(PORTS.length), BigInt(PORTS.length)]);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('drop');
    for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x10)).kind).toBe('forward');
    // One data segment out of the VM per flow at B.
    for (const p of PORTS) expect(dst.dataplane.inject(1, out(p, 101, 901, 0x18, 10)).kind).toBe('forward');
    await writeFile(join(dir, 'site.yaml'), site().replace('host: host-a', 'host: host-b'));
    const back_ = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-b', '--to', 'host-a', '--migration-id', 'm-back', '--pause-deadline-ms', '60000']);
    expect(back_.code).toBe(0);
    // Every packet the VM sent or got, on either switch, counted once at A.
    expect([cell(src, 'vm_tx', 7), cell(src, 'vm_rx', 7)]).toEqual([3n * BigInt(PORTS.length), 2n * BigInt(PORTS.length)]);
    expect([cell(dst, 'vm_tx', 9), cell(dst, 'vm_rx', 9)]).toEqual([0n, 0n]);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 111, 0x10)).kind).toBe('forward');
  }, 300_000);

  it('migrate — an inventory p4info and deviceConfig of another program than a switch runs are refused, the switch\'s pipeline and state untouched (a push would clear them)', async () => {
    await writeFile(join(dir, 'other.json'), '{"not": "the program the switch runs"}');
    // Another version of the program (one table smaller): not what the switch runs.
    const committed = await readFile(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'p4', 'stateful_edge.p4info.txtpb'), 'utf8');
    await writeFile(join(dir, 'other.p4info.txtpb'), committed.replace('version: "1.0.0"', 'version: "2.0.0"').replace('size: 512\n', 'size: 256\n'));
    await writeFile(join(dir, 'site.yaml'), site().replace(`hosts: [host-b] }`, `hosts: [host-b], p4info: other.p4info.txtpb, deviceConfig: other.json }`));
    const before = dst.state.pipeline()?.cookie;
    const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-pipe']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/SCHEMA_MISMATCH: device 'edge-b' .*runs 'stateful_edge' 1\.0\.0 \(cookie 0x[0-9a-f]+\), not the inventory's 'stateful_edge' 2\.0\.0 .*nothing pushed \(a push clears every table entry, register and counter\).*remove deviceConfig/);
    expect(dst.state.pipeline()?.cookie).toBe(before);
    expect(dst.state.pipeline()?.program).toBe('stateful_edge');
    expect(dst.state.tableEntries('vm_table').length).toBe(1);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
    expect(countVmSlots(src, group as SlotGroupSpec, 7)).toBe(PORTS.length);
  }, 120_000);

  it('migrate --check — reads only: a destination switch with no pipeline is NOT READY naming it, and still has none afterwards (walkthrough 22: the check pushed the inventory\'s deviceConfig)', async () => {
    const empty = await startSimSwitch({ profile: 'full', program: 'stateful_edge' });
    try {
      const json = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'p4', 'stateful_edge.json');
      await writeFile(join(dir, 'site.yaml'), twoSimSite(src, empty).replace('hosts: [host-b] }', `hosts: [host-b], deviceConfig: ${JSON.stringify(json)} }`));
      expect(empty.state.pipeline() ?? undefined).toBeUndefined();
      const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check']);
      expect(r.code).toBe(1);
      expect(r.out.join('\n')).toMatch(/PEER_REJECTED: edge-b .*runs no pipeline: a migration would push its deviceConfig \(.*stateful_edge\.json\) first — an empty switch, where your controller has not laid out the VM \(vm_table\) yet; the check pushed nothing/);
      expect(empty.state.pipeline() ?? undefined).toBeUndefined();
    } finally {
      await empty.stop();
    }
  }, 120_000);

  it('migrate — an in-process device whose P4Info lacks the migration control table is refused before its switch is touched, naming what is missing (walkthrough 22 A3: only prepare refused); with the full BMv2 JSON beside it, the pair is refused as two builds', async () => {
    const p4dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'p4');
    await writeFile(join(dir, 'no-control.p4info.txtpb'), withoutTable(await readFile(join(p4dir, 'stateful_edge.p4info.txtpb'), 'utf8'), 'vm_migration'));
    const before = dst.state.pipeline()?.cookie;
    await writeFile(join(dir, 'site.yaml'), site().replace('hosts: [host-b] }', 'hosts: [host-b], p4info: no-control.p4info.txtpb }'));
    const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-nocontrol']);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/device 'edge-b': p4info .*no-control\.p4info\.txtpb: a migration needs .*which this P4Info lacks; nothing was pushed or changed/);
    await writeFile(join(dir, 'site.yaml'), site().replace('hosts: [host-b] }', `hosts: [host-b], p4info: no-control.p4info.txtpb, deviceConfig: ${JSON.stringify(join(p4dir, 'stateful_edge.json'))} }`));
    const pair = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-nocontrol2']);
    expect(pair.err.join('\n')).toMatch(/table '[A-Za-z_.]*vm_migration' is in the JSON but not in the P4Info/);
    expect(dst.state.pipeline()?.cookie).toBe(before);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
  }, 120_000);

  it('migrate — a device without p4info in the inventory whose switch runs a variant of the embedded program is refused SCHEMA_MISMATCH naming what differs and to set its p4info (walkthrough 21: migrated as if identical)', async () => {
    const variant = await startEdgeRig({ profile: 'full', topology: false, variant: ctGeometry({ hash0: 'crc32', region0: 1024, hash1: 'crc16', region1: 1024 }) });
    await variant.plugin.stop();
    try {
      await writeFile(join(dir, 'site.yaml'), twoSimSite(src, variant.sim));
      const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check']);
      expect(r.code).toBe(1);
      expect(r.out.join('\n')).toMatch(/SCHEMA_MISMATCH: edge-b .*runs 'stateful_edge' 1\.0\.0 .*not this plugin's 'stateful_edge' 1\.0\.0 .*\(they differ: register '[A-Za-z_.]+': 327680 × bit<\d+> here, 2048 × bit<\d+> on the switch.*; nothing pushed: set its p4info in the inventory to the P4Info of the program the switch runs/);
    } finally {
      await variant.sim.stop();
    }
  }, 120_000);

  it('migrate — beside your controller, primary on both switches with a higher election id: without a role of its own carryover is refused (NOT_PRIMARY naming that id); with p4runtimeRole it migrates, and your controller stays primary and writes', async () => {
    const yours = await Promise.all([src, dst].map((s) => P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 100n })));
    try {
      await Promise.all(yours.map(async (c) => {
        await c.waitForPrimary();
        await c.fetchSchema();
      }));
      await writeFile(join(dir, 'site.yaml'), site());
      const refused = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-norole']);
      expect(refused.code).toBe(1);
      expect(refused.err.join('\n')).toMatch(/NOT_PRIMARY|not primary/);
      expect(refused.err.join('\n')).toMatch(/another client is primary with election id 100 \(ours: 20\)/);
      await writeFile(join(dir, 'site.yaml'), site().replace(/electionId: 20,/g, 'electionId: 20, p4runtimeRole: carryover,'));
      const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-role', '--pause-deadline-ms', '60000']);
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(countVmSlots(dst, group as SlotGroupSpec, 9)).toBe(PORTS.length);
      for (const p of PORTS) expect(dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
      // Your controller was primary throughout and still writes its layout.
      for (const c of yours) expect(c.isPrimary).toBe(true);
      const [, dstCtl] = yours as [P4Switch, P4Switch];
      await dstCtl.write(dstCtl.table('vm_table').insert({ match: { vm_addr: '10.0.0.6' }, action: 'set_vm', params: { vm_id: 10, port: 1 } }));
      expect(dst.state.tableEntries('vm_table').length).toBe(2);
    } finally {
      await Promise.all(yours.map((c) => c.close()));
    }
  }, 300_000);

  it('migrate — a switch another carryover process holds with the same election id: NOT_PRIMARY saying to run one at a time, not an unreachable device', async () => {
    const other = await P4Switch.connect({ address: dst.address, deviceId: dst.deviceId, electionId: 20n });
    try {
      await other.waitForPrimary();
      await writeFile(join(dir, 'site.yaml'), site());
      const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-busy', '--json']);
      expect(r.code).toBe(1);
      // --json: one object on stdout even for a migration that never started.
      expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ migrationId: 'm-busy', outcome: 'not-started', reason: 'NOT_PRIMARY' });
      expect(r.err.join('\n')).toMatch(/NOT_PRIMARY: device 'edge-b' .*another client holds election id 20 there — most likely another carryover migrate or recover on this switch\. Run one at a time/);
      expect(r.err.join('\n')).not.toMatch(/check the address/);
    } finally {
      await other.close();
    }
  }, 120_000);

  it('migrate — Ctrl-C during pre-copy (the built CLI, a process of its own): exit 130 naming carryover recover, with --json one object saying so (walkthrough 23: nothing on stdout); recover then rolls the migration back (needs the build)', async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'carryover.mjs');
    const child = spawn(process.execPath, [bin, 'migrate', '--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-int', '--pause-deadline-ms', '60000', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    let err = '';
    let sent = false;
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('phase PRECOPY') && !sent) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code, err).toBe(130);
    expect(err).toMatch(/interrupted; the switches keep what the migration did so far .*run 'carryover recover --config .*site\.yaml'/);
    expect(JSON.parse(stdout.trim())).toMatchObject({ migrationId: 'm-int', outcome: 'interrupted', signal: 'SIGINT', next: expect.stringMatching(/run 'carryover recover --config .*site\.yaml'/) });
    const out: string[] = [];
    expect(await runRecoverCommand(['--config', join(dir, 'site.yaml')], { stdout: (l) => out.push(l), stderr: () => undefined })).toBe(0);
    expect(out[0]).toMatch(/migration m-int \(VM vm-7, left in PRECOPY\): ROLLED BACK/);
    expect(countVmSlots(dst, group as SlotGroupSpec, 9)).toBe(0);
    for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
  }, 300_000);

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`migrate — Ctrl-C during QEMU's pre-copy (--trigger qemu: --migrate-uri, the built CLI): QEMU's migration is cancelled before the exit, the VM keeps running at the source, exit 130 saying so; recover --trigger then rolls the switches back (needs the build)${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    await writeFile(join(dir, 'site.yaml'), site());
    const pair = await startQemuPair();
    try {
      const sock = pair.source.qmpAddress.replace(/^unix:/, '');
      // A slow memory copy (8 KiB/s): QEMU stays in pre-copy for seconds after it starts.
      const pre = await QmpClient.connect({ address: pair.source.qmpAddress });
      await pre.execute('migrate-set-parameters', { 'max-bandwidth': 8192 });
      await pre.close();
      const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'carryover.mjs');
      const child = spawn(process.execPath, [bin, 'migrate', '--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-qint', '--pause-deadline-ms', '60000',
        '--trigger', `qemu:${sock}`, '--migrate-uri', pair.incomingUri], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      let sent = false;
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes("slots; starting QEMU's migration") && !sent) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 500);
        }
      });
      const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
      expect(code, err).toBe(130);
      expect(err).toMatch(/interrupted; QEMU's migration was cancelled: the VM keeps running at the source; the switches keep what the migration did so far .*run 'carryover recover --config .*site\.yaml --trigger qemu:.*'/);
      const qmp = await QmpClient.connect({ address: pair.source.qmpAddress });
      try {
        expect((await qmp.execute<{ status: string }>('query-migrate')).status).toBe('cancelled');
        expect((await qmp.execute<{ status: string }>('query-status')).status).toBe('running');
      } finally {
        await qmp.close();
      }
      const out: string[] = [];
      expect(await runRecoverCommand(['--config', join(dir, 'site.yaml'), '--trigger', `qemu:${sock}`], { stdout: (l) => out.push(l), stderr: () => undefined })).toBe(0);
      expect(out[0]).toMatch(/migration m-qint \(VM vm-7, left in (PRECOPY|ABORTED)[^)]*\): ROLLED BACK/);
      expect(countVmSlots(dst, group as SlotGroupSpec, 9)).toBe(0);
      for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
    } finally {
      await pair.stop();
    }
  }, 300_000);

  it.skipIf(!opensslAvailable())('migrate — --transfer peer-to-peer over a mix of daemons and in-process devices is refused by --plan as by the run (exit 2), naming both sides (needs openssl)', async () => {
    const pki = new TestPki();
    const ca = pki.ca('dc-a CA');
    const ctl = pki.issue(ca, { cn: 'controller-a', usage: 'client' });
    pki.dispose();
    const files = { 'ca.pem': ca.certPem, 'ctl.pem': ctl.certPem, 'ctl.key': ctl.keyPem, 'dc-a.key': generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    await writeFile(join(dir, 'mixed.yaml'), `domain: dc-a
controller: { tls: { ca: ca.pem, cert: ctl.pem, key: ctl.key }, signingKey: dc-a.key }
devices:
  edge-a: { address: ${src.address}, deviceId: ${src.deviceId}, hosts: [host-a] }
  edge-b: { plugin: { address: 127.0.0.1:1 }, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`);
    const r = await run(['--config', join(dir, 'mixed.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--transfer', 'peer-to-peer', '--plan']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--transfer peer-to-peer needs every device reached the same way: edge-b through plugin daemons, edge-a in process/);
  });

  it('migrate — a destination whose VM map lacks the VM refuses at prepare: exit 1, the reason named, the source unchanged and unfrozen', async () => {
    const bare = await sim(undefined);
    try {
      await writeFile(join(dir, 'site.yaml'), site().replace(dst.address, bare.address));
      const r = await run(['--config', join(dir, 'site.yaml'), '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--migration-id', 'm-bad']);
      expect(r.code).toBe(1);
      expect(r.out[0]).toMatch(/^migration m-bad: ABORTED \([A-Z_]+\) — rolled back: every device as before the migration, the VM's state where it was/);
      expect(r.out.join('\n')).toMatch(/reason: [A-Z_]+: .*edge-b.*10\.0\.0\.5/);
      expect(countVmSlots(src, group as SlotGroupSpec, 7)).toBe(PORTS.length);
      // Unfrozen and still tracking: the next segment of each flow passes the source.
      for (const p of PORTS) expect(src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind).toBe('forward');
      expect(countVmSlots(bare, group as SlotGroupSpec, 9)).toBe(0);
    } finally {
      await bare.stop();
    }
  }, 120_000);
});
