/**
 * A controller that stops mid-migration (killed, its host down) and `carryover recover` after it,
 * on two simulated switches over real gRPC. The stopped controller's in-process plugins go with
 * it: the switches keep what the migration left (a frozen source, staged or activated state at
 * the destination) and its journal file is all that remains. Recovery starts fresh plugins that
 * remember nothing and finishes each migration the way its last journalled phase allows.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileJournal, runMigrateCommand, runRecoverCommand } from '../../controller/index.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { buildTcpFrame } from '../../sim/workload/index.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { QmpClient } from '../../controller/qmp/index.js';
import { QEMU_SKIP_REASON, startQemuPair } from '../../controller/testing/qemu-pair.js';
import type { QemuPair } from '../../controller/testing/qemu-pair.js';
import { UPLINK, startEdgeRig } from '../edge-rig.js';
import { controllerStoppingAt as stopAt } from '../stopping-controller.js';
import type { StopAt } from '../stopping-controller.js';

const VM = 0x0a000005;
const REMOTE = 0xc6336409;
const out = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array => buildTcpFrame({ src: VM, dst: REMOTE, srcPort: port, dstPort: 443, seq, ack, flags, window: 64240, payload });
const back = (port: number, seq: number, ack: number, flags: number, payload = 0): Uint8Array => buildTcpFrame({ src: REMOTE, dst: VM, srcPort: 443, dstPort: port, seq, ack, flags, window: 65160, payload });
const P4INFO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'p4', 'stateful_edge.p4info.txtpb');
const SRC_ID = 7;
const DST_ID = 9;
const PORTS = Array.from({ length: 12 }, (_, i) => 31_000 + i);

let group: SlotGroupSpec | undefined;

/** A sim with stateful_edge and the VM laid out as `vmId`, left without a controller. */
async function sim(vmId: number): Promise<SimSwitch> {
  const rig = await startEdgeRig({ profile: 'full', topology: false });
  await rig.sw.write([
    rig.sw.table('port_role').insert({ match: { port: UPLINK }, action: 'uplink_role' }),
    rig.sw.table('port_role').insert({ match: { port: 1 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
    rig.sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.5' }, action: 'set_vm', params: { vm_id: vmId, port: 1 } }),
  ]);
  group = rig.plugin.group;
  await rig.plugin.stop();
  return rig.sim;
}


describe('controller restart — carryover recover finishes what a stopped controller left', () => {
  let dir: string;
  let src: SimSwitch;
  let dst: SimSwitch;
  let config: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'carryover-recover-'));
    [src, dst] = await Promise.all([sim(SRC_ID), sim(DST_ID)]);
    for (const p of PORTS) {
      expect(src.dataplane.inject(1, out(p, 100, 0, 0x02)).kind).toBe('forward');
      expect(src.dataplane.inject(UPLINK, back(p, 900, 101, 0x12)).kind).toBe('forward');
      expect(src.dataplane.inject(1, out(p, 101, 901, 0x10)).kind).toBe('forward');
    }
    config = join(dir, 'site.yaml');
    await writeFile(config, `journal: ./journal
devices:
  edge-a: { address: ${src.address}, deviceId: ${src.deviceId}, electionId: 20, hosts: [host-a] }
  edge-b: { address: ${dst.address}, deviceId: ${dst.deviceId}, electionId: 20, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`);
  }, 60_000);
  afterEach(async () => {
    await Promise.all([src?.stop(), dst?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  /** A controller of our own that migrates vm-7 and stops at `at` without a word to anyone. */
  const controllerStoppingAt = (at: StopAt, id: string): Promise<void> => stopAt(config, P4INFO, at, id);

  const recover = async (...extra: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const o: string[] = [];
    const e: string[] = [];
    const code = await runRecoverCommand(['--config', config, ...extra], { stdout: (l) => o.push(l), stderr: (l) => e.push(l) });
    return { code, out: o, err: e };
  };
  const events = async (id: string): Promise<string[]> => (await readFile(join(dir, 'journal', `${id}.journal.jsonl`), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  const passesAtSource = (): boolean => PORTS.every((p) => src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind === 'forward');
  const passesAtDestination = (): boolean => PORTS.every((p) => dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind === 'forward');
  const slots = (s: SimSwitch, vmId: number): number => countVmSlots(s, group as SlotGroupSpec, vmId);

  it('recover — stopped in pre-copy: a new migration of the VM is refused until recovery rolls it back (destination clean, source unchanged); then the VM migrates', async () => {
    await controllerStoppingAt('PRECOPY', 'm-pre');
    expect(slots(dst, DST_ID)).toBe(PORTS.length); // staged there
    const refused = await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b'], { stdout: () => undefined, stderr: (l) => refusedLines.push(l) });
    expect(refused).toBe(2);
    expect(refusedLines.join('\n')).toMatch(/migration its controller left in flight: m-pre \(left in PRECOPY\).*carryover recover/);
    // --plan says so too, rather than passing a migration the run would refuse.
    expect(await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--plan'], { stdout: () => undefined, stderr: () => undefined })).toBe(2);
    const listed = await recover('--list');
    expect(listed.out.join('\n')).toMatch(/m-pre \(VM vm-7\): left in PRECOPY, edge-a → edge-b; recovery: roll-back/);

    const r = await recover('--json');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out[0] ?? '{}') as { migrations: { migrationId: string; outcome: string; counters: string | null }[] };
    expect(res.migrations).toMatchObject([{ migrationId: 'm-pre', outcome: 'rolled-back' }]);
    expect(res.migrations[0]?.counters ?? undefined).toBeUndefined(); // nothing was added before the pause
    expect(slots(dst, DST_ID)).toBe(0);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect(passesAtSource()).toBe(true);
    expect((await events('m-pre')).slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(await recover()).toMatchObject({ code: 0, out: [expect.stringMatching(/^nothing to recover/)] });

    const again = await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--pause-deadline-ms', '60000'], { stdout: () => undefined, stderr: () => undefined });
    expect(again).toBe(0);
    expect(passesAtDestination()).toBe(true);
    expect(slots(src, SRC_ID)).toBe(0);
  }, 300_000);
  const refusedLines: string[] = [];

  it('recover — a migration whose controller still runs is not left behind: recover changes nothing and --list says it runs, a second migrate is refused naming that process; once the process is gone, recover rolls it back', async () => {
    await controllerStoppingAt('PRECOPY', 'm-live');
    // The controller of m-live, still running: a carryover process holding the VM's claim.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'carryover-migrate'], { stdio: 'ignore' });
    await new Promise((res) => holder.once('spawn', res));
    try {
      await writeFile(join(dir, 'journal', 'vm-7.running'), JSON.stringify({ pid: holder.pid, host: hostname(), since: '2026-12-06T18:00:00.000Z', by: 'migrate m-live' }));
      const r = await recover();
      expect(r.code).toBe(1);
      expect(r.out[0]).toMatch(new RegExp(`FAILED — nothing was changed: VM vm-7 is being moved now by carryover migrate m-live \\(pid ${holder.pid} on `));
      expect(slots(dst, DST_ID)).toBe(PORTS.length); // still staged: not undone under its controller
      expect((await recover('--list')).out.join('\n')).toMatch(/m-live \(VM vm-7\): running now in carryover migrate m-live .*recovery: none while it runs/);
      const err: string[] = [];
      expect(await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b'], { stdout: () => undefined, stderr: (l) => err.push(l) })).toBe(2);
      expect(err.join('\n')).toMatch(/VM vm-7 is being moved now by carryover migrate m-live/);
    } finally {
      holder.kill();
      await new Promise((res) => holder.once('exit', res));
    }
    const after = await recover();
    expect(after.code).toBe(0);
    expect(after.out[0]).toMatch(/ROLLED BACK/);
    expect(slots(dst, DST_ID)).toBe(0);
  }, 300_000);

  it('recover — stopped with the source frozen: the source forwards the VM\'s traffic again, the destination holds nothing of it', async () => {
    await controllerStoppingAt('FROZEN', 'm-frz');
    expect(PORTS.some((p) => src.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind === 'forward')).toBe(false);
    const r = await recover();
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^migration m-frz \(VM vm-7, left in FROZEN\): ROLLED BACK/);
    expect(r.out.join('\n')).toMatch(/counters: .*edge-b set to zero/);
    expect(slots(dst, DST_ID)).toBe(0);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect(passesAtSource()).toBe(true);
  }, 300_000);

  it('recover — peer to peer, stopped inside the pause the source\'s plugin ran (journal still PRECOPY, the destination already activated): rolled back — the destination cleaned, not only reported so; the source unfrozen', async () => {
    await controllerStoppingAt('PEER_PAUSED', 'm-p2p');
    expect(passesAtDestination()).toBe(true); // active there, and the plugins that knew it are gone
    expect(passesAtSource()).toBe(false); // frozen
    const r = await recover();
    expect(r.code, [...r.out, ...r.err].join('\n')).toBe(0);
    expect(r.out[0]).toMatch(new RegExp(`^migration m-p2p \\(VM vm-7, left in PRECOPY\\): ROLLED BACK — the destinations \\(edge-b\\) cleaned \\(${PORTS.length} slots of the VM cleared\\)`));
    expect(slots(dst, DST_ID)).toBe(0);
    expect(passesAtDestination()).toBe(false);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect(passesAtSource()).toBe(true);
    expect((await events('m-p2p')).slice(-2)).toEqual(['abort', 'rolled-back']);
  }, 300_000);

  it('recover — stopped in pre-copy (through the controller), --vm-at destination is refused rather than ignored: no destination was activated; nothing changed', async () => {
    await controllerStoppingAt('PRECOPY', 'm-pre-vd');
    const r = await recover('--vm-at', 'destination');
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/nothing was changed: the journal says the migration stopped in PRECOPY, before its pause, so no destination was activated .*--vm-at destination cannot be honoured/);
    expect(slots(dst, DST_ID)).toBe(PORTS.length); // still staged: untouched
    expect((await events('m-pre-vd')).at(-1)).toBe('round');
    expect(await recover()).toMatchObject({ code: 0, out: [expect.stringMatching(/ROLLED BACK/)] });
  }, 300_000);

  it('recover — peer to peer, left in PRECOPY: --vm-at destination on the operator\'s word alone is refused (nothing of the pause is journalled: rolled forward, the last changes and counts could be missing — walkthrough 15), naming --trigger qemu: for QEMU\'s word; nothing changed', async () => {
    await controllerStoppingAt('PEER_PAUSED', 'm-p2p-fwd');
    const r = await recover('--vm-at', 'destination');
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/nothing was changed: the journal says the migration stopped in PRECOPY, with nothing journalled of its pause .*If QEMU completed the migration, run carryover recover --trigger qemu:/);
    expect(slots(dst, DST_ID)).toBe(PORTS.length);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect((await events('m-p2p-fwd')).at(-1)).toBe('round');
  }, 300_000);

  it('migrate — an earlier migration of the VM that was aborted without its rollback finishing (a switch did not answer) refuses a new one using that switch, --check too: that cleanup, run later, would undo the new migration\'s state (walkthrough 15)', async () => {
    const journal = new FileJournal(join(dir, 'journal'));
    const base = { atMs: Date.now() };
    await journal.append('m-old', { ...base, type: 'planned', migrationId: 'm-old', vm: 'vm-7', sources: ['edge-a'], destinations: ['edge-b'] });
    await journal.append('m-old', { ...base, type: 'prepared' });
    await journal.append('m-old', { ...base, type: 'abort', reason: 'DEVICE_UNREACHABLE', detail: 'edge-b went away' });
    await journal.close();
    const blocked = /an earlier migration of VM vm-7, m-old \(aborted\), did not finish its cleanup at edge-a, edge-b, which this migration uses: run later, that cleanup would undo this migration's state there\. Run 'carryover recover/;
    const err: string[] = [];
    expect(await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b'], { stdout: () => undefined, stderr: (l) => err.push(l) })).toBe(2);
    expect(err.join('\n')).toMatch(blocked);
    // --check: NOT READY (exit 1) with the devices' report, VM_BUSY among its problems (walkthrough 21: exit 2, one line).
    const out: string[] = [];
    expect(await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check'], { stdout: (l) => out.push(l), stderr: () => undefined })).toBe(1);
    expect(out).toContainEqual(expect.stringMatching(/^ {2}edge-a \(source, /));
    expect(out).toContainEqual(expect.stringMatching(/^NOT READY/));
    expect(out.find((l) => l.startsWith('  VM_BUSY: '))).toMatch(blocked);
    expect(slots(dst, DST_ID)).toBe(0);
    expect(await recover()).toMatchObject({ code: 0, out: [expect.stringMatching(/^migration m-old .*ROLLED BACK/)] });
    expect(await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check'], { stdout: () => undefined, stderr: () => undefined })).toBe(0);
  }, 300_000);

  it('migrate, recover — an aborted migration whose cleanup finished at one switch (journalled cleaned-at) blocks and recovers only at the other: the refusal names that one, and recovery leaves the cleaned switch alone', async () => {
    await controllerStoppingAt('PRECOPY', 'm-part');
    expect(slots(dst, DST_ID)).toBe(PORTS.length); // staged at edge-b
    // As a rollback that undid edge-b and not edge-a would leave it (here edge-b still holds its
    // staged copy, so a recovery that touched it would show).
    const journal = new FileJournal(join(dir, 'journal'));
    await journal.append('m-part', { atMs: Date.now(), type: 'abort', reason: 'DEVICE_UNREACHABLE', detail: 'edge-a went away' });
    await journal.append('m-part', { atMs: Date.now(), type: 'cleaned-at', devices: ['edge-b'] });
    await journal.close();
    const out: string[] = [];
    expect(await runMigrateCommand(['--config', config, '--vm', 'vm-7', '--from', 'host-a', '--to', 'host-b', '--check'], { stdout: (l) => out.push(l), stderr: () => undefined })).toBe(1);
    expect(out.find((l) => l.startsWith('  VM_BUSY: '))).toMatch(/m-part \(aborted\), did not finish its cleanup at edge-a, which this migration uses/);
    expect((await recover('--list')).out.join('\n')).toMatch(/m-part \(VM vm-7\): left in ABORTED, edge-a → edge-b; recovery: roll-back \(already done at edge-b\)/);
    const r = await recover();
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/ROLLED BACK — nothing left at the destinations, the sources \(edge-a\) unfrozen \(edge-b already cleaned by an earlier try, left alone\)/);
    expect(slots(dst, DST_ID)).toBe(PORTS.length); // not touched
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect(passesAtSource()).toBe(true);
    expect((await events('m-part')).slice(-3)).toEqual(['abort', 'cleaned-at', 'rolled-back']);
  }, 300_000);

  it('recover — a journal file that does not replay is named and left alone, and the other migrations are still listed and recovered (walkthrough 17 F6: one damaged file blocked every recover)', async () => {
    await controllerStoppingAt('PRECOPY', 'm-good');
    // Two aborts: what a recover beside a live process could journal.
    await writeFile(join(dir, 'journal', 'm-bad.journal.jsonl'), [
      { type: 'planned', atMs: 1, migrationId: 'm-bad', vm: 'vm-9', sources: ['edge-a'], destinations: ['edge-b'] },
      { type: 'abort', atMs: 2, reason: 'DEVICE_UNREACHABLE', detail: 'x' },
      { type: 'abort', atMs: 3, reason: 'DEVICE_UNREACHABLE', detail: 'y' },
    ].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const listed = await recover('--list');
    expect(listed.code).toBe(1);
    expect(listed.out.join('\n')).toMatch(/m-good \(VM vm-7\): left in PRECOPY/);
    expect(listed.err.join('\n')).toMatch(/the journal of migration m-bad cannot be replayed \(.*event 'abort' in phase ABORTED.*\); it is left as it is — the others are recovered/);
    const r = await recover();
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/m-good .*ROLLED BACK/);
    expect(slots(dst, DST_ID)).toBe(0);
    expect(r.err.join('\n')).toMatch(/m-bad cannot be replayed/);
  }, 300_000);

  it('recover — stopped once activated: without word of where the VM runs it changes nothing and says what it needs; told "destination", it commits and cleans the source', async () => {
    await controllerStoppingAt('ACTIVATED', 'm-act');
    const asked = await recover();
    expect(asked.code).toBe(1);
    expect(asked.out[0]).toMatch(/NEEDS OPERATOR — .*--vm-at source\|destination/);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect(slots(dst, DST_ID)).toBe(PORTS.length);
    expect((await events('m-act')).at(-1)).toBe('activated');

    const r = await recover('--vm-at', 'destination');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/COMMITTED — the VM runs at the destination; 12 slots deleted at edge-a/);
    // As migrate does after a commit: the inventory change is the operator's, and said.
    expect(r.out).toContain('  inventory: vm-7 runs on host-b now; set vms.vm-7.host to host-b before its next migration');
    expect(slots(src, SRC_ID)).toBe(0);
    expect(passesAtDestination()).toBe(true);
    expect((await events('m-act')).slice(-2)).toEqual(['committed', 'source-cleaned']);
  }, 300_000);

  it('recover — stopped after the activation reached the destination but before it was journalled (left in SYNCED): the destination, active there, is cleaned too (slots, counters), not only reported so', async () => {
    const tx = (sw: SimSwitch, id: number): bigint => sw.state.counter('vm_tx', id).packets;
    const atSource = tx(src, SRC_ID);
    await controllerStoppingAt('SYNCED', 'm-syn');
    expect((await events('m-syn')).at(-1)).toBe('synced');
    // Activated at the destination: its flows pass there, and its counters hold the source's.
    expect(passesAtDestination()).toBe(true);
    expect(tx(dst, DST_ID)).toBe(atSource);
    const r = await recover();
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/left in SYNCED\): ROLLED BACK — the destinations \(edge-b\) cleaned \(12 slots of the VM cleared\)/);
    expect(slots(dst, DST_ID)).toBe(0);
    expect(tx(dst, DST_ID)).toBe(0n);
    expect(PORTS.some((p) => dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind === 'forward')).toBe(false);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect(passesAtSource()).toBe(true);
    expect(tx(src, SRC_ID)).toBeGreaterThanOrEqual(atSource);
  }, 300_000);

  it('recover — stopped once activated, the VM still at the source: the activated destination is cleaned (its copy of the VM\'s counters too) and the source unfrozen', async () => {
    const tx = (s: SimSwitch, id: number): bigint => s.state.counter('vm_tx', id).packets;
    const atSource = tx(src, SRC_ID);
    expect(atSource).toBeGreaterThan(0n);
    await controllerStoppingAt('ACTIVATED', 'm-back');
    expect(tx(dst, DST_ID)).toBe(atSource); // added at the activation
    const r = await recover('--vm-at', 'source');
    expect(tx(dst, DST_ID)).toBe(0n);
    expect(tx(src, SRC_ID)).toBe(atSource);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/ROLLED BACK/);
    expect(slots(dst, DST_ID)).toBe(0);
    expect(PORTS.some((p) => dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind === 'forward')).toBe(false);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect(passesAtSource()).toBe(true);
    expect((await events('m-back')).slice(-2)).toEqual(['abort', 'rolled-back']);
  }, 300_000);

  it('recover — stopped after the commit, before the sources were cleaned: the source\'s copies are deleted (--vm-at source, which contradicts the journal, is refused first and changes nothing)', async () => {
    await controllerStoppingAt('COMMITTED', 'm-com');
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    const contradicted = await recover('--migration-id', 'm-com', '--vm-at', 'source');
    expect(contradicted.code).toBe(1);
    expect(contradicted.out.join('\n')).toMatch(/nothing was changed: the journal says the migration committed, so the VM ran at the destination \(edge-b\); --vm-at source contradicts it/);
    expect(slots(src, SRC_ID)).toBe(PORTS.length);
    expect((await events('m-com')).at(-1)).toBe('committed');
    const r = await recover('--migration-id', 'm-com');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/SOURCES CLEANED/);
    expect(slots(src, SRC_ID)).toBe(0);
    expect(passesAtDestination()).toBe(true);
    expect((await events('m-com')).at(-1)).toBe('source-cleaned');
  }, 300_000);

  /** A real QEMU pair migrating with pause-before-switchover (at `bandwidth` bytes/s, when given), once QEMU reports `until`. */
  async function qemuMigrating(until: 'active' | 'pre-switchover', bandwidth?: number): Promise<{ pair: QemuPair; qmp: QmpClient; sock: string; status: () => Promise<string> }> {
    // `qmp` is reassigned when a test hands the monitor to recovery and takes it back.
    const pair = await startQemuPair();
    const qmp = await QmpClient.connect({ address: pair.source.qmpAddress });
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }, { capability: 'pause-before-switchover', state: true }] });
    if (bandwidth !== undefined) await qmp.execute('migrate-set-parameters', { 'max-bandwidth': bandwidth });
    await qmp.execute('migrate', { uri: pair.incomingUri });
    const q = { pair, qmp, sock: pair.source.qmpAddress.replace(/^unix:/, ''), status: async (): Promise<string> => (await q.qmp.execute<{ status?: string }>('query-migrate')).status ?? 'none' };
    for (let i = 0; i < 600 && (await q.status()) !== until; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await q.status()).toBe(until);
    return q;
  }
  const runState = async (q: QmpClient): Promise<string> => (await q.execute<{ status: string }>('query-status')).status;

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`recover — with QEMU's monitor, stopped in pre-copy: QEMU's migration still under way is cancelled and the VM runs on at the source, the destination clean${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    // 1 MiB/s: the copy is still under way when the controller stops.
    const q = await qemuMigrating('active', 1 << 20);
    try {
      await controllerStoppingAt('PRECOPY', 'm-qpre');
      // QEMU serves one monitor client at a time: while ours is open, recovery cannot ask and changes nothing.
      const busy = await recover('--trigger', `qemu:${q.sock}`);
      expect(busy.code).toBe(1);
      expect(busy.out[0]).toMatch(/FAILED — nothing was changed: QEMU's monitor could not be used .*one monitor client at a time/);
      expect(slots(dst, DST_ID)).toBe(PORTS.length);
      await q.qmp.close();
      const r = await recover('--trigger', `qemu:${q.sock}`);
      q.qmp = await QmpClient.connect({ address: q.pair.source.qmpAddress });
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(/ROLLED BACK/);
      // Still copying, or already waiting in pre-switchover (a guest of zero pages copies fast even at 1 MiB/s): either way it is cancelled.
      expect(r.out.join('\n')).toMatch(/QEMU: QEMU's migration was '(active|pre-switchover)': cancelled, the VM resumes at the source/);
      for (let i = 0; i < 100 && (await q.status()) !== 'cancelled'; i++) await new Promise((res) => setTimeout(res, 50));
      expect(await q.status()).toBe('cancelled');
      expect(await runState(q.qmp)).toBe('running');
      expect(slots(dst, DST_ID)).toBe(0);
      expect(slots(src, SRC_ID)).toBe(PORTS.length);
      expect(passesAtSource()).toBe(true);
    } finally {
      await q.qmp.close();
      await q.pair.stop();
    }
  }, 300_000);

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`recover — with QEMU's monitor, stopped once activated while QEMU holds the VM in pre-switchover: QEMU is released, the VM runs at the destination, the migration commits and the source is cleaned${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    const q = await qemuMigrating('pre-switchover');
    const destination = await QmpClient.connect({ address: q.pair.destination.qmpAddress });
    try {
      await controllerStoppingAt('ACTIVATED', 'm-qact');
      expect(await q.status()).toBe('pre-switchover');
      await q.qmp.close();
      const r = await recover('--trigger', `qemu:${q.sock}`);
      q.qmp = await QmpClient.connect({ address: q.pair.source.qmpAddress });
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(/COMMITTED — the VM runs at the destination; 12 slots deleted at edge-a/);
      expect(r.out.join('\n')).toMatch(/QEMU: QEMU was held in pre-switchover; released, it completed/);
      expect(await q.status()).toBe('completed');
      for (let i = 0; i < 100 && (await runState(destination)) !== 'running'; i++) await new Promise((res) => setTimeout(res, 50));
      expect(await runState(destination)).toBe('running');
      expect(slots(src, SRC_ID)).toBe(0);
      expect(passesAtDestination()).toBe(true);
      expect((await events('m-qact')).slice(-2)).toEqual(['committed', 'source-cleaned']);
    } finally {
      await destination.close();
      await q.qmp.close();
      await q.pair.stop();
    }
  }, 300_000);

  it.skipIf(QEMU_SKIP_REASON !== undefined)(`recover — with QEMU's monitor, stopped in the pause (FROZEN) while QEMU went on to complete: the destination is activated with what it holds (rolled forward), not rolled back under the VM, and the source cleaned${QEMU_SKIP_REASON ? ` (skipped: ${QEMU_SKIP_REASON})` : ''}`, async () => {
    const q = await qemuMigrating('pre-switchover');
    try {
      await controllerStoppingAt('FROZEN', 'm-qfwd');
      // The deadline released QEMU before the controller stopped: the VM runs at the destination.
      await q.qmp.execute('migrate-continue', { state: 'pre-switchover' });
      for (let i = 0; i < 200 && (await q.status()) !== 'completed'; i++) await new Promise((res) => setTimeout(res, 50));
      expect(await q.status()).toBe('completed');
      await q.qmp.close();
      const r = await recover('--trigger', `qemu:${q.sock}`);
      q.qmp = await QmpClient.connect({ address: q.pair.source.qmpAddress });
      expect(r.code, r.out.join('\n')).toBe(0);
      expect(r.out[0]).toMatch(/left in FROZEN\): COMMITTED — the VM runs at the destination: edge-b activated with the state staged before the controller stopped .*; 12 slots deleted at edge-a/);
      expect(r.out.join('\n')).toMatch(/QEMU: QEMU completed the migration while the controller was stopped/);
      expect(r.out.join('\n')).toMatch(/counters: may be missing: the VM's counter cells at edge-a were set to zero, and the controller stopped before the sources' counts at the freeze were journalled/);
      expect(passesAtDestination()).toBe(true);
      expect(slots(src, SRC_ID)).toBe(0);
      expect((await events('m-qfwd')).slice(-4)).toEqual(['synced', 'activated', 'committed', 'source-cleaned']);
    } finally {
      await q.qmp.close();
      await q.pair.stop();
    }
  }, 300_000);

  it('recover — stopped in the pause (FROZEN), the operator says the VM runs at the destination: the destination is activated and the source cleaned', async () => {
    await controllerStoppingAt('FROZEN', 'm-fwd');
    expect(PORTS.some((p) => dst.dataplane.inject(UPLINK, back(p, 901, 101, 0x18, 10)).kind === 'forward')).toBe(false); // staged: dropped
    // --list says what the run with --vm-at does (walkthrough 17: it showed the roll-back without it).
    expect((await recover('--list')).out.join('\n')).toMatch(/m-fwd .*recovery: roll-back$/);
    expect((await recover('--list', '--vm-at', 'destination')).out.join('\n')).toMatch(/m-fwd .*recovery: roll-forward \(--vm-at destination: the destinations activated with what they hold, the sources cleaned\)$/);
    const r = await recover('--vm-at', 'destination');
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/COMMITTED — the VM runs at the destination: edge-b activated/);
    expect(passesAtDestination()).toBe(true);
    expect(slots(src, SRC_ID)).toBe(0);
    expect(slots(dst, DST_ID)).toBe(PORTS.length);
  }, 300_000);

  it('recover — stopped in the pause after the final batch was installed and journalled, before the activation (left in SYNCED), the VM at the destination: recovery activates it and adds the sources\' counts at the freeze there, once — a second recover adds nothing', async () => {
    const tx = (sw: SimSwitch, id: number): { packets: bigint; bytes: bigint } => sw.state.counter('vm_tx', id);
    const rx = (sw: SimSwitch, id: number): { packets: bigint; bytes: bigint } => sw.state.counter('vm_rx', id);
    const held = { tx: tx(dst, DST_ID), rx: rx(dst, DST_ID) };
    await controllerStoppingAt('SYNCED_STAGED', 'm-cnt');
    expect((await events('m-cnt')).at(-1)).toBe('synced');
    // The source is frozen: its counts are the ones at the freeze. The destination is staged: nothing added yet.
    const atFreeze = { tx: tx(src, SRC_ID), rx: rx(src, SRC_ID) };
    expect(atFreeze.tx.packets).toBeGreaterThan(0n);
    expect(tx(dst, DST_ID)).toEqual(held.tx);
    expect(passesAtDestination()).toBe(false);
    const r = await recover('--vm-at', 'destination');
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/COMMITTED — the VM runs at the destination: edge-b activated/);
    expect(r.out.join('\n')).toMatch(/counters: carried: the sources' counts at the freeze, journalled with the final batch, were handed to the activation at edge-b/);
    // Conserved: what the destination held plus the source's values at the freeze.
    expect(tx(dst, DST_ID)).toEqual({ packets: held.tx.packets + atFreeze.tx.packets, bytes: held.tx.bytes + atFreeze.tx.bytes });
    expect(rx(dst, DST_ID)).toEqual({ packets: held.rx.packets + atFreeze.rx.packets, bytes: held.rx.bytes + atFreeze.rx.bytes });
    expect(tx(src, SRC_ID)).toEqual({ packets: 0n, bytes: 0n });
    expect(passesAtDestination()).toBe(true);
    // Run again: nothing left to do, nothing added twice.
    const again = await recover('--migration-id', 'm-cnt', '--vm-at', 'destination');
    expect(again.code, again.out.join('\n')).toBe(0);
    expect(tx(dst, DST_ID)).toEqual({ packets: held.tx.packets + atFreeze.tx.packets, bytes: held.tx.bytes + atFreeze.tx.bytes });
  }, 300_000);

  it('recover — stopped after the activation (with the counters) reached the destination but before it was journalled (left in SYNCED), the VM at the destination: the journalled counts are not added a second time', async () => {
    const tx = (sw: SimSwitch, id: number): bigint => sw.state.counter('vm_tx', id).packets;
    const atSource = tx(src, SRC_ID);
    await controllerStoppingAt('SYNCED', 'm-syn2');
    expect(tx(dst, DST_ID)).toBe(atSource);
    const r = await recover('--vm-at', 'destination');
    expect(r.code, r.out.join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/COMMITTED/);
    expect(tx(dst, DST_ID)).toBe(atSource);
    expect(tx(src, SRC_ID)).toBe(0n);
  }, 300_000);

  it('recover — bad requests change nothing: an unknown migration id, a bad --vm-at, a missing inventory', async () => {
    expect((await recover('--migration-id', 'nope')).code).toBe(2);
    expect((await recover('--vm-at', 'sideways')).err[0]).toMatch(/--vm-at sideways: expected source or destination/);
    const missing = await runRecoverCommand(['--config', join(dir, 'absent.yaml')], { stdout: () => undefined, stderr: () => undefined });
    expect(missing).toBe(2);
  });
});
