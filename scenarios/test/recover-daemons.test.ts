/**
 * `carryover recover` when the devices are behind plugin daemons: the controller stops (killed)
 * mid-migration, the daemons live on and remember the migration, and their tickets carry roles.
 * From the freeze on, recovery cleans each destination as a source is cleaned after a commit (it
 * may be active); the daemon admits that call only when the ticket names the destination a source
 * too. And a rollback whose source daemon died with the switch frozen: the controller retries
 * the undo until the restarted daemon answers, so no recover is needed. Two sims, a daemon each
 * (mutual TLS, tickets required), real gRPC.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { FileJournal, MigrationEngine, MigrationMachine, connectPlanDevices, loadInventory, planMigration, runRecoverCommand } from '../../controller/index.js';
import { DeviceApiFailure } from '../../plugin/index.js';
import type { DeviceApi, SlotGroupSpec } from '../../plugin/index.js';
import type { MigrationState } from '../../controller/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import type { SimSwitch } from '../../sim/index.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { controllerYaml, makeDomainFiles, writeDaemonConfig } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH, UPLINK } from '../edge-rig.js';
import { establish, returnSegment } from '../migration-fixture.js';
import { startDaemonInProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import { controllerStoppingAt as stopAt } from '../stopping-controller.js';
import type { RunningDaemon } from '../plugin-daemons.js';

const PORTS = Array.from({ length: 10 }, (_, i) => 34_000 + i);

describe.skipIf(!opensslAvailable())('carryover recover — devices behind plugin daemons (needs openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-recover-daemons-'));
  const pki = new TestPki();
  let files: DomainFiles;
  let src: SimSwitch;
  let dst: SimSwitch;
  let group: SlotGroupSpec;
  let daemons: RunningDaemon[] = [];
  let config: string;
  let sourceDaemon: RunningDaemon;
  let restartSource: () => Promise<RunningDaemon>;
  let destinationDaemon: RunningDaemon;
  let restartDestination: () => Promise<RunningDaemon>;

  beforeAll(() => {
    files = makeDomainFiles(pki, dir, 'dc-a');
  });
  afterEach(async () => {
    for (const d of daemons) await d.stop();
    daemons = [];
    await Promise.all([src?.stop(), dst?.stop()]);
  });
  afterAll(() => {
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Fresh switches with the VM's flows at the source, a daemon beside each, and the inventory naming the daemons. */
  async function setUp(name: string, extra: { readonly healthIntervalMs?: number; readonly frozenWarnMs?: number; readonly logs?: Record<string, unknown>[] } = {}): Promise<void> {
    [{ sim: src, group }, { sim: dst }] = await Promise.all([startSwitchForDaemon(7), startSwitchForDaemon(9)]);
    for (const p of PORTS) expect(establish(src, p)).toBe(true);
    const daemon = async (sw: SimSwitch, device: string): Promise<RunningDaemon> => {
      const d = await startDaemonInProcess(writeDaemonConfig({ switchAddress: sw.address, deviceId: sw.deviceId, electionId: 20, p4info: P4INFO_PATH, device, files, requiredSigners: ['dc-a'], deltaIntervalMs: 10, ...(extra.healthIntervalMs ? { healthIntervalMs: extra.healthIntervalMs, logLevel: 'info' as const } : {}), ...(extra.frozenWarnMs ? { frozenWarnMs: extra.frozenWarnMs } : {}) }), 120_000, extra.logs);
      daemons.push(d);
      return d;
    };
    const [a, b] = [await daemon(src, 'edge-a'), await daemon(dst, 'edge-b')];
    // The source's daemon again, on the same address (a supervisor restarting it).
    restartSource = async () => {
      const d = await startDaemonInProcess(writeDaemonConfig({ switchAddress: src.address, deviceId: src.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-a', files, requiredSigners: ['dc-a'], deltaIntervalMs: 10, listen: a.address }));
      daemons.push(d);
      return d;
    };
    restartDestination = async () => {
      const d = await startDaemonInProcess(writeDaemonConfig({ switchAddress: dst.address, deviceId: dst.deviceId, electionId: 20, p4info: P4INFO_PATH, device: 'edge-b', files, requiredSigners: ['dc-a'], deltaIntervalMs: 10, listen: b.address }));
      daemons.push(d);
      return d;
    };
    sourceDaemon = a;
    destinationDaemon = b;
    config = join(dir, `${name}.yaml`);
    writeFileSync(config, `
domain: dc-a
journal: ./journal-${name}
${controllerYaml(files)}
devices:
  edge-a: { plugin: { address: ${a.address}, serverName: edge-a }, hosts: [host-a] }
  edge-b: { plugin: { address: ${b.address}, serverName: edge-b }, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`);
  }

  /** A controller that migrates vm-7 over the daemons and stops at `at` without a word to anyone (the daemons stay up). */
  const controllerStoppingAt = (at: 'FROZEN' | 'ACTIVATED', id: string): Promise<void> => stopAt(config, P4INFO_PATH, at, id);

  const recover = async (...extra: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runRecoverCommand(['--config', config, ...extra], { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  };
  const events = (name: string, id: string): string[] => readFileSync(join(dir, `journal-${name}`, `${id}.journal.jsonl`), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  const passesAt = (sw: SimSwitch, n: number): boolean => PORTS.every((p) => sw.dataplane.inject(UPLINK, returnSegment(p, n)).kind === 'forward');
  const noneAt = (sw: SimSwitch, n: number): boolean => PORTS.every((p) => sw.dataplane.inject(UPLINK, returnSegment(p, n)).kind === 'drop');

  it('recover over daemons — stopped with the source frozen: the staged destination is cleaned through its daemon, the source unfrozen', async () => {
    await setUp('frozen');
    await controllerStoppingAt('FROZEN', 'm-d-frz');
    expect(countVmSlots(dst, group, 9)).toBe(PORTS.length); // staged there
    const r = await recover();
    expect(r.code, [...r.out, ...r.err].join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/^migration m-d-frz \(VM vm-7, left in FROZEN\): ROLLED BACK — the destinations \(edge-b\) cleaned \(10 slots of the VM cleared\)/);
    expect(events('frozen', 'm-d-frz').slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(passesAt(src, 0)).toBe(true);
    expect(await recover()).toMatchObject({ code: 0, out: [expect.stringMatching(/^nothing to recover/)] });
  }, 300_000);

  it('daemon health — a source left frozen by a controller that stopped is warned of at every health report past frozenWarnMs, naming the migration and carryover recover; after recover, no more', async () => {
    const logs: Record<string, unknown>[] = [];
    await setUp('warn', { healthIntervalMs: 100, frozenWarnMs: 300, logs });
    await controllerStoppingAt('FROZEN', 'm-d-warn');
    const warned = (): Record<string, unknown>[] => logs.filter((r) => r['level'] === 'warn' && String(r['msg']).startsWith('a migration has held the VM frozen here'));
    for (let i = 0; i < 100 && warned().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(warned().length).toBeGreaterThanOrEqual(2);
    expect(warned()[0]).toMatchObject({ migrationId: 'm-d-warn', vmId: 7, msg: expect.stringMatching(/the VM's traffic is dropped at this switch; if that controller stopped, run carryover recover/) as unknown });
    expect(Number(warned()[0]?.['frozenForS'])).toBeGreaterThanOrEqual(0);
    expect((await recover()).code).toBe(0);
    const after = warned().length;
    await new Promise((r) => setTimeout(r, 500)); // five more health reports
    expect(warned().length).toBe(after);
  }, 300_000);

  it('recover over daemons — a destination whose daemon is down: the recovery fails there and says what it did meanwhile (the source unfrozen, its traffic passing)', async () => {
    await setUp('partial');
    await controllerStoppingAt('FROZEN', 'm-d-part');
    await daemons[1]?.stop(); // edge-b's
    const r = await recover();
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/^migration m-d-part \(VM vm-7, left in FROZEN\): FAILED — the sources edge-a unfrozen \(the VM's traffic passes there\); rolling back failed at edge-b: .* — run carryover recover again once it answers/);
    expect(passesAt(src, 0)).toBe(true);
    expect(countVmSlots(dst, group, 9)).toBe(PORTS.length); // still staged: recover names it
  }, 300_000);

  /**
   * Migrates vm-7 over the daemons with the engine; `device`'s `calls` do their work, then its
   * daemon is stopped before it answers (`whenGone` checks the switch then) and restarted after
   * `delayMs` (awaited at once when 0), as a supervisor would. The pause fails; the rollback is returned.
   */
  async function pauseLosing(id: string, device: 'edge-a' | 'edge-b', calls: readonly ('freeze' | 'freezeFinal' | 'activate' | 'importActivate')[], delayMs: number, whenGone: () => void): Promise<{ undo: Awaited<ReturnType<MigrationEngine['abort']>>; state: MigrationState; restarted: boolean }> {
    const inv = loadInventory(config);
    const plan = planMigration(inv, 'vm-7', 'host-a', 'host-b');
    const scope = { sources: ['edge-a'], destinations: ['edge-b'] };
    const connected = await connectPlanDevices([...plan.sources, ...plan.destinations], { defaultP4info: P4INFO_PATH, domain: inv.domain, controller: inv.controller, scope });
    const journal = new FileJournal(inv.journal);
    let restarted: Promise<RunningDaemon> | undefined;
    const real = connected.apis.get(device) as DeviceApi;
    const dies = (name: (typeof calls)[number]) => async (...args: unknown[]): Promise<unknown> => {
      await (real[name] as (...a: unknown[]) => Promise<unknown>).apply(real, args);
      await (device === 'edge-a' ? sourceDaemon : destinationDaemon).stop();
      whenGone();
      restarted = new Promise((r) => setTimeout(r, delayMs)).then(() => (device === 'edge-a' ? restartSource() : restartDestination()));
      if (delayMs === 0) await restarted;
      throw new DeviceApiFailure('DEVICE_UNREACHABLE', `${device}: the daemon went away`);
    };
    const devices = new Map(connected.apis);
    devices.set(device, Object.assign(Object.create(real) as DeviceApi, Object.fromEntries(calls.map((c) => [c, dies(c)]))));
    try {
      const machine = await MigrationMachine.plan({ migrationId: id, vm: 'vm-7', ...scope }, { journal, now: () => Date.now() });
      const engine = new MigrationEngine({ plan, machine, devices, pauseDeadlineMs: 60_000, precopy: { intervalMs: 20 }, graceMs: 0, undoRetryMs: 60_000 });
      await engine.prepare();
      const paused$ = new Subject<void>();
      const rounds = engine.precopy(paused$);
      setTimeout(() => paused$.next(), 50);
      await rounds;
      await expect(engine.pauseSync()).rejects.toMatchObject({ code: 'DEVICE_UNREACHABLE' });
      const undo = await engine.abort('DEVICE_UNREACHABLE', `the daemon of ${device} went away`);
      const was = restarted !== undefined;
      await restarted;
      return { undo, state: machine.state, restarted: was };
    } finally {
      await connected.stop();
      await journal.close();
    }
  }

  it('rollback over daemons — the source\'s daemon dies with the source frozen and is restarted while the rollback retries: the source is unfrozen and the destination cleaned without carryover recover', async () => {
    await setUp('retry');
    // The source freezes, then its daemon is gone before it answers (the switch stays frozen); its
    // supervisor brings it back a second later, while the rollback retries.
    const r = await pauseLosing('m-d-retry', 'edge-a', ['freeze', 'freezeFinal'], 1_000, () => expect(passesAt(src, 0)).toBe(false));
    expect(r.restarted).toBe(true);
    expect(r.undo).toMatchObject({ failed: [] });
    expect(r.undo.undone.sort()).toEqual(['edge-a', 'edge-b']);
    expect(r.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
    expect(events('retry', 'm-d-retry').slice(-2)).toEqual(['abort', 'rolled-back']);
    expect(passesAt(src, 1)).toBe(true);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    expect(await recover('--list')).toMatchObject({ code: 0, out: [expect.stringMatching(/^no unfinished migration/)] });
  }, 300_000);

  it.each([
    ['before the rollback\'s first undo reaches it (the window README left open)', 0],
    ['while the rollback retries', 1_000],
  ])('rollback over daemons — the destination\'s daemon dies just after activating the VM and is back %s: its undo, told the destination may be active, cleans it (slots, entries, counters) although the restarted plugin remembers nothing; the source unfrozen, no recover needed', async (_when, delayMs) => {
    await setUp(`dst-${delayMs}`);
    // The destination activates, then its daemon is gone before it answers (the switch keeps the VM active).
    const r = await pauseLosing(`m-d-act-${delayMs}`, 'edge-b', ['activate', 'importActivate'], delayMs, () => expect(passesAt(dst, 0)).toBe(true));
    expect(r.restarted).toBe(true);
    expect(r.undo).toMatchObject({ failed: [] });
    expect(r.undo.undone.sort()).toEqual(['edge-a', 'edge-b']);
    expect(r.state).toMatchObject({ phase: 'ABORTED', rolledBack: true });
    expect(countVmSlots(dst, group, 9)).toBe(0);
    expect(noneAt(dst, 2)).toBe(true);
    expect(dst.state.counter('vm_tx', 9).packets).toBe(0n);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(passesAt(src, 3)).toBe(true);
    expect(await recover('--list')).toMatchObject({ code: 0, out: [expect.stringMatching(/^no unfinished migration/)] });
  }, 300_000);

  it('recover over daemons — stopped once activated, the VM still at the source: the activated destination is cleaned through its daemon and the source unfrozen', async () => {
    await setUp('activated');
    await controllerStoppingAt('ACTIVATED', 'm-d-act');
    expect(passesAt(dst, 1)).toBe(true); // active there
    const r = await recover('--vm-at', 'source');
    expect(r.code, [...r.out, ...r.err].join('\n')).toBe(0);
    expect(r.out[0]).toMatch(/ROLLED BACK — the destinations \(edge-b\) cleaned \(10 slots of the VM cleared\)/);
    expect(countVmSlots(dst, group, 9)).toBe(0);
    expect(noneAt(dst, 2)).toBe(true);
    expect(countVmSlots(src, group, 7)).toBe(PORTS.length);
    expect(passesAt(src, 1)).toBe(true);
  }, 300_000);
});
