/**
 * Issue 13: the pause deadline respected when the sync is made slow by fault injection in the sim.
 * Two real QEMU processes migrate on loopback; the VM's flows sit on a simulated source switch
 * whose P4Runtime Writes are held 3 s from the moment QEMU pauses the VM (so the freeze cannot
 * happen in time). QEMU is released at the deadline, the migration completes, and the engine's
 * policy (continue without the missing changes) reports exactly what was left behind.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryJournal, MigrationEngine, MigrationMachine, QemuTrigger, engineAsPhaseHandler, executeMigration, migrateReportLines } from '../../controller/index.js';
import type { DeadlinePolicy, MigrationOutcome, MigrationPhaseHandler } from '../../controller/index.js';
import { QmpClient } from '../../controller/qmp/index.js';
import { QEMU_SKIP_REASON, startQemuPair } from '../../controller/testing/qemu-pair.js';
import type { QemuPair } from '../../controller/testing/qemu-pair.js';
import type { DeviceApi } from '../../plugin/index.js';
import { UPLINK } from '../edge-rig.js';
import { DEMO_VM, startDemoSite } from '../demo/demo-site.js';
import type { DemoSite, DemoSwitch } from '../demo/demo-site.js';
import { countVmSlots } from '../demo/demo-observer.js';
import { buildTcpFrame } from '../../sim/workload/index.js';

const REMOTE = 0xc6336409;
const VM = DEMO_VM.addrNum;
const PORTS = Array.from({ length: 12 }, (_, i) => 41_000 + i);
const tcp = (port: number, dir: 'out' | 'in', seq: number, ack: number, flags: number, payload = 0): Uint8Array =>
  dir === 'out'
    ? buildTcpFrame({ src: VM, dst: REMOTE, srcPort: port, dstPort: 443, seq, ack, flags, window: 64240, payload })
    : buildTcpFrame({ src: REMOTE, dst: VM, srcPort: 443, dstPort: port, seq, ack, flags, window: 65160, payload });

let pair: QemuPair | undefined;
let site: DemoSite | undefined;
const clients: QmpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await pair?.stop();
  await site?.stop();
  pair = undefined;
  site = undefined;
});

describe.skipIf(QEMU_SKIP_REASON !== undefined)(`QEMU with a slow sync ${QEMU_SKIP_REASON ? `(skipped: ${QEMU_SKIP_REASON})` : ''}`, () => {
  it('qemu deadline — the source switch stalls its writes in the pause (sim fault): QEMU is released at the deadline, the migration completes, the report names what was left behind', async () => {
    site = await startDemoSite('1:1', 'full');
    const src = site.sources[0]!;
    const dst = site.destinations[0]!;
    for (const p of PORTS) {
      expect(src.rig.sim.dataplane.inject(DEMO_VM.port, tcp(p, 'out', 100, 0, 0x02)).kind).toBe('forward');
      expect(src.rig.sim.dataplane.inject(UPLINK, tcp(p, 'in', 900, 101, 0x12)).kind).toBe('forward');
      expect(src.rig.sim.dataplane.inject(DEMO_VM.port, tcp(p, 'out', 101, 901, 0x10)).kind).toBe('forward');
    }
    const machine = await MigrationMachine.plan({ migrationId: 'q-deadline', vm: DEMO_VM.name, sources: [src.name], destinations: [dst.name] }, { journal: new MemoryJournal(), now: () => Date.now() });
    const DEADLINE_MS = 400;
    const engine = new MigrationEngine({
      plan: site.plan, machine, devices: new Map<string, DeviceApi>([[src.name, src.api], [dst.name, dst.api]]),
      pauseDeadlineMs: DEADLINE_MS, onDeadline: 'continue', precopy: { intervalMs: 20, policy: { maxRounds: 1_000, convergedAtSlots: -1 } }, graceMs: 0,
    });
    pair = await startQemuPair();
    await engine.prepare();
    const h = engineAsPhaseHandler(engine);
    const handler: MigrationPhaseHandler = {
      ...h.handler,
      onPause: (w) => {
        // The switch stalls from here: the freeze (a Write) cannot land before the deadline.
        src.rig.sim.faults.delayNext('Write', { delayMs: 3_000, count: 1 });
        return h.handler.onPause(w);
      },
    };
    const trigger = await QemuTrigger.attach({ source: pair.source.qmpAddress, destination: pair.destination.qmpAddress, handler, pauseDeadlineMs: DEADLINE_MS, destinationTimeoutMs: 60_000 });
    try {
      await trigger.startMigration(pair.incomingUri);
      const report = await trigger.finished;
      const run = await h.done;
      // QEMU was not held past the deadline: it was released by the trigger, not by the slow sync.
      expect(report.outcome).toBe('completed');
      expect(report.destinationStatus).toBe('running');
      expect(report.pause).toMatchObject({ outcome: 'late', sent: 'migrate-continue', budgetMs: DEADLINE_MS });
      expect(report.pause?.detail).toMatch(new RegExp(`did not finish within ${DEADLINE_MS} ms; QEMU released (on time|\\d+ ms after the deadline \\(this process was not scheduled in time)`));
      // The engine's policy: activated without the final changes, and says so.
      expect(run.aborted).toBeUndefined();
      expect(run.sync?.lost?.detail).toMatch(new RegExp(`not installed within ${DEADLINE_MS} ms; activated without waiting for them`));
      expect(machine.state.phase).toBe('COMMITTED');
      // What pre-copy had staged is there: the established flows pass the destination.
      expect(countVmSlots(dst.rig.sim, dst.rig.plugin.group, DEMO_VM.destinationId)).toBe(PORTS.length);
      for (const p of PORTS) expect(dst.rig.sim.dataplane.inject(UPLINK, tcp(p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
    } finally {
      await trigger.close();
    }
  }, 180_000);

  /** The VM's flows established at the source (handshake done both ways). */
  function establish(src: DemoSwitch): void {
    for (const p of PORTS) {
      expect(src.rig.sim.dataplane.inject(DEMO_VM.port, tcp(p, 'out', 100, 0, 0x02)).kind).toBe('forward');
      expect(src.rig.sim.dataplane.inject(UPLINK, tcp(p, 'in', 900, 101, 0x12)).kind).toBe('forward');
      expect(src.rig.sim.dataplane.inject(DEMO_VM.port, tcp(p, 'out', 101, 901, 0x10)).kind).toBe('forward');
    }
  }

  /**
   * A demo site with the VM's flows at the source, two QEMUs, and `carryover migrate --trigger
   * qemu:` as the CLI runs it (executeMigration, its report lines) on them, with the source
   * switch stalling its Writes for 3 s from the freeze on (sim fault): the sync cannot finish
   * within the deadline.
   */
  async function migrateWithSlowFreeze(policy: DeadlinePolicy, deadlineMs: number): Promise<{ src: DemoSwitch; dst: DemoSwitch; qemu: QemuPair; outcome: MigrationOutcome; lines: string[]; journal: MemoryJournal }> {
    const s = (site = await startDemoSite('1:1', 'full'));
    const src = s.sources[0]!;
    const dst = s.destinations[0]!;
    establish(src);
    const q = (pair = await startQemuPair());
    const stalling = new Proxy(src.api, {
      get(t, k) {
        if (k === 'freeze') return (...a: Parameters<DeviceApi['freeze']>) => {
          src.rig.sim.faults.delayNext('Write', { delayMs: 3_000, count: 1 });
          return t.freeze(...a);
        };
        const v: unknown = Reflect.get(t, k, t);
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
      },
    });
    const journal = new MemoryJournal();
    const outcome = await executeMigration({
      plan: s.plan,
      trigger: { kind: 'qemu', source: q.source.qmpAddress, destination: q.destination.qmpAddress, migrateUri: q.incomingUri },
      migrationId: `q-${policy}`,
      journal,
      journalDir: '/nonexistent',
      defaultP4info: '',
      connect: () => Promise.resolve({ apis: new Map<string, DeviceApi>([[src.name, stalling], [dst.name, dst.api]]), stop: () => Promise.resolve() }),
      pauseDeadlineMs: deadlineMs,
      onDeadline: policy,
      progress: () => undefined,
    });
    return { src, dst, qemu: q, outcome, lines: migrateReportLines(outcome, s.plan), journal };
  }

  const monitor = async (address: string): Promise<QmpClient> => {
    const c = await QmpClient.connect({ address, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
    clients.push(c);
    return c;
  };
  const runState = async (c: QmpClient): Promise<string> => (await c.execute<{ status: string }>('query-status')).status;

  it('qemu deadline — missed with --on-deadline abort: QEMU\'s migration is cancelled (the VM runs at the source again), the destination switch is clean, the source in normal operation, and the report says only that', async () => {
    const { src, dst, qemu, outcome, lines, journal } = await migrateWithSlowFreeze('abort', 100);
    // QEMU: the VM resumed at the source; the destination never ran it.
    const source = await monitor(qemu.source.qmpAddress);
    expect(await runState(source)).toBe('running');
    expect((await source.execute<{ status: string }>('query-migrate')).status).toBe('cancelled');
    if (!qemu.destination.hasExited()) expect(await runState(await monitor(qemu.destination.qmpAddress))).not.toBe('running');
    // The switches: nothing of the VM at the destination, the source back to normal operation.
    expect(await dst.rig.sw.readAll(dst.rig.sw.table('vm_migration').all())).toEqual([]);
    expect(countVmSlots(dst.rig.sim, dst.rig.plugin.group, DEMO_VM.destinationId)).toBe(0);
    expect(await src.rig.sw.readAll(src.rig.sw.table('vm_migration').all())).toEqual([]);
    for (const p of PORTS) expect(src.rig.sim.dataplane.inject(UPLINK, tcp(p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
    expect((await journal.load('q-abort')).map((e) => e.type).slice(-2)).toEqual(['abort', 'rolled-back']);
    // The report says that and nothing that contradicts it.
    const text = lines.join('\n');
    expect(outcome.run.aborted?.reason).toBe('PAUSE_DEADLINE_MISSED');
    expect(outcome.qemu?.outcome).toBe('cancelled');
    expect(text).toMatch(/ABORTED \(PAUSE_DEADLINE_MISSED\) — rolled back: every device as before the migration, the VM's state where it was/);
    expect(text).toMatch(/QEMU: migration cancelled — the VM runs at the source/);
    // A cancelled migration has no downtime of QEMU's to report: said so, not "? ms".
    expect(text).toMatch(/QEMU downtime: none reported \(QEMU's migration cancelled; the VM ran on at the source/);
    expect(text).not.toMatch(/\? ms/);
    expect(text).not.toMatch(/running at the destination|runs at the destination/);
  }, 180_000);

  it('qemu deadline — missed with --on-deadline continue: QEMU is released on time, the VM runs at the destination, the destination switch is activated with what arrived and the report says what was lost', async () => {
    const { dst, qemu, outcome, lines, journal } = await migrateWithSlowFreeze('continue', 100);
    const text = lines.join('\n');
    expect(outcome.run.aborted).toBeUndefined();
    expect(outcome.qemu?.outcome).toBe('completed');
    expect(text).toMatch(/COMMITTED/);
    expect(text).toMatch(/LOST: the final changes were not installed within 100 ms; activated without waiting for them/);
    expect(text).not.toMatch(/source stays authoritative/);
    expect(await runState(await monitor(qemu.destination.qmpAddress))).toBe('running');
    expect(await runState(await monitor(qemu.source.qmpAddress))).toBe('postmigrate');
    // Activated at the destination: the established flows pass there.
    for (const p of PORTS) expect(dst.rig.sim.dataplane.inject(UPLINK, tcp(p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
    expect((await journal.load('q-continue')).map((e) => e.type)).toContain('activated');
  }, 180_000);

  /**
   * `--migrate-uri`: carryover starts QEMU's migration only once the snapshot is staged at the
   * destination. On a real switch the snapshot (a full scan of the slot group) takes tens of
   * seconds while a small VM's memory is copied in a second or two: started first, QEMU reached
   * its pause with nothing staged. Here the snapshot's install is held 2 s (a slow destination)
   * and the destination QEMU asked meanwhile: no incoming migration yet.
   */
  it('qemu start — with --migrate-uri, QEMU is asked to migrate only after the snapshot is staged at the destination (its install held 2 s: the destination QEMU sees no incoming migration meanwhile), then the migration commits', async () => {
    const s = (site = await startDemoSite('1:1', 'full'));
    const src = s.sources[0]!;
    const dst = s.destinations[0]!;
    establish(src);
    const q = (pair = await startQemuPair());
    // The destination QEMU's monitor is the test's: carryover is not given it.
    const incoming = await QmpClient.connect({ address: q.destination.qmpAddress, commandTimeoutMs: 30_000, connectTimeoutMs: 30_000 });
    clients.push(incoming);
    const seenWhileStaging: string[] = [];
    let imports = 0;
    // The snapshot's install at the destination is slow (as a full scan is on a real switch).
    const slow = new Proxy(dst.api, {
      get(t, k) {
        if (k === 'importStaged') return async (...a: Parameters<DeviceApi['importStaged']>) => {
          if (imports++ === 0) {
            await new Promise((r) => setTimeout(r, 2_000));
            seenWhileStaging.push((await incoming.execute<{ status?: string }>('query-migrate')).status ?? 'none');
          }
          return t.importStaged(...a);
        };
        const v: unknown = Reflect.get(t, k, t);
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
      },
    });
    const progress: string[] = [];
    const journal = new MemoryJournal();
    const outcome = await executeMigration({
      plan: s.plan,
      trigger: { kind: 'qemu', source: q.source.qmpAddress, migrateUri: q.incomingUri },
      migrationId: 'q-start',
      journal,
      journalDir: '/nonexistent',
      defaultP4info: '',
      connect: () => Promise.resolve({ apis: new Map<string, DeviceApi>([[src.name, src.api], [dst.name, slow]]), stop: () => Promise.resolve() }),
      pauseDeadlineMs: 60_000,
      onDeadline: 'abort',
      progress: (l) => progress.push(l),
    });
    expect(seenWhileStaging).toEqual(['none']);
    expect(outcome.run.aborted, JSON.stringify(outcome.run.aborted)).toBeUndefined();
    expect(outcome.qemu?.outcome).toBe('completed');
    const staging = progress.findIndex((l) => l.startsWith("pre-copy: staging the snapshot before starting QEMU's migration"));
    const starting = progress.findIndex((l) => l === `pre-copy: snapshot staged, ${PORTS.length} slots; starting QEMU's migration to ${q.incomingUri}`);
    expect(staging, progress.join('\n')).toBeGreaterThanOrEqual(0);
    expect(starting, progress.join('\n')).toBeGreaterThan(staging);
    expect((await journal.load('q-start')).map((e) => e.type)).toContain('committed');
    expect((await incoming.execute<{ status: string }>('query-status')).status).toBe('running');
    expect(countVmSlots(dst.rig.sim, dst.rig.plugin.group, DEMO_VM.destinationId)).toBe(PORTS.length);
    for (const p of PORTS) expect(dst.rig.sim.dataplane.inject(UPLINK, tcp(p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
  }, 180_000);
});
