/**
 * The two switches of `carryover bench migrate` and what drives them: a source and a destination
 * sim, each in its own process (migrate-sim-worker.ts), each with an edge plugin and the plugin's
 * device API in this process (the controller's), requests counted per session, the bench VM's
 * flows established at the source, and the checks that a migration moved exactly what the source
 * held at its freeze (flows field by field, counters conserved) — the bench fails loudly otherwise.
 */
import { performance } from 'node:perf_hooks';
import type { P4Switch } from 'p4runtime-ts';
import { MemoryJournal, MigrationEngine, MigrationMachine, parseInventory, planMigration } from '../../controller/index.js';
import { createDeviceApi, createEdgePlugin } from '../../plugin/index.js';
import type { DeviceApi, EdgeDeviceApi, EdgePlugin, SlotGroupSpec } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { SCHEMA, deviceConfigFor, eventually } from '../edge-rig.js';
import { BENCH_UPLINK, BENCH_VM, median } from './migrate-flows.js';
import type { SlotFingerprint } from './migrate-flows.js';
import { startMigrateSimWorker } from './migrate-sim-worker.js';
import type { MigrateSimWorker } from './migrate-sim-worker.js';
import { countSwitchRequests, sumRequests } from './switch-request-counter.js';
import type { SwitchRequestCounter, SwitchRequestCounts } from './switch-request-counter.js';

/** A migration of the bench did not do its work: the figures of the run are not to be trusted. */
export class MigrateBenchFailure extends Error {
  override readonly name = 'MigrateBenchFailure';
}

/** One switch of the pair. */
export interface BenchSwitch {
  readonly worker: MigrateSimWorker;
  readonly plugin: EdgePlugin;
  readonly api: EdgeDeviceApi;
  readonly requests: SwitchRequestCounter;
  /** The VM's id on this switch. */
  readonly vmId: number;
}

/** Requests and register operations of both switches at one moment. */
export interface RequestReading {
  readonly requests: SwitchRequestCounts;
  /** Register-access target operations (in-band requests, or register cells over P4Runtime). */
  readonly targetOps: number;
  /** In-band requests sent again after a timeout (counted in packetOuts and targetOps too). */
  readonly retries: number;
}

/** Knobs of the pair. */
export interface MigrateRigOptions {
  readonly profile: SimProfileName;
  /** In-band requests in flight (the lab's safe value on BMv2 is ~64). */
  readonly inbandWindow: number;
  /** Pause between the source's delta pulls during pre-copy, ms. */
  readonly deltaIntervalMs: number;
}

/** The VM's port role, the uplink, and the VM map entry giving it `vmId`. */
async function topology(sw: P4Switch, vmId: number): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: BENCH_UPLINK }, action: 'uplink_role' }),
    sw.table('port_role').insert({ match: { port: BENCH_VM.port }, action: 'vm_port_role', params: { uplink_port: BENCH_UPLINK } }),
    sw.table('vm_table').insert({ match: { vm_addr: BENCH_VM.addr }, action: 'set_vm', params: { vm_id: vmId, port: BENCH_VM.port } }),
  ]);
}

async function startSwitch(o: MigrateRigOptions, name: string, vmId: number, deltaIntervalMs?: number): Promise<BenchSwitch> {
  const worker = await startMigrateSimWorker(o.profile);
  const plugin = createEdgePlugin({ address: worker.address, deviceId: 1, electionId: 10n, p4info: SCHEMA, deviceConfig: deviceConfigFor(o.profile), inband: { window: o.inbandWindow } });
  try {
    await plugin.start();
    await topology(plugin.session, vmId);
  } catch (e) {
    await plugin.stop();
    await worker.stop();
    throw e;
  }
  // The index learns the VM's slots from digests: it listens from before the first flow.
  const api = createDeviceApi(plugin, { name, snapshotSource: 'index', reconcile: false, ...(deltaIntervalMs !== undefined ? { deltaIntervalMs } : {}) });
  await api.ready();
  return { worker, plugin, api, requests: countSwitchRequests(plugin.session), vmId };
}

/** The source and destination of the bench's migrations. */
export class MigrateRig {
  /** Flows of the VM the source tracks (established, not lost to a collision), ascending. */
  readonly tracked: number[] = [];
  private nextFlow = 0;
  private migrations = 0;

  private constructor(
    readonly profile: SimProfileName,
    readonly src: BenchSwitch,
    readonly dst: BenchSwitch,
  ) {}

  /** Starts both switches (own processes) with their plugins and device APIs. */
  static async start(o: MigrateRigOptions): Promise<MigrateRig> {
    const src = await startSwitch(o, 'src', BENCH_VM.srcId, o.deltaIntervalMs);
    try {
      return new MigrateRig(o.profile, src, await startSwitch(o, 'dst', BENCH_VM.dstId));
    } catch (e) {
      await stopSwitch(src);
      throw e;
    }
  }

  get group(): SlotGroupSpec {
    return this.src.plugin.group;
  }

  /** Fields a migration changes on purpose: the VM id (remapped) and the clock field (rebased). */
  get translatedFields(): string[] {
    return [this.group.vm.name, ...(this.group.clock ? [this.group.clock.field.name] : [])];
  }

  /**
   * Establishes flows until the source tracks `size` of the VM's (a flow whose candidate slots are
   * all taken is not tracked: another is opened), then waits until its slot index knows them all.
   */
  async populate(size: number): Promise<void> {
    while (this.tracked.length < size) {
      const want = size - this.tracked.length;
      const ok = await this.src.worker.establish(this.nextFlow, want);
      this.nextFlow += want;
      this.tracked.push(...ok);
    }
    const known = await eventually(async () => (await this.src.api.capabilities()).slots.free === this.group.slots - size, 120_000, 100);
    if (!known) throw new MigrateBenchFailure(`${this.profile}: the source's slot index did not learn ${size} flows from digests within 120 s (free: ${(await this.src.api.capabilities()).slots.free})`);
  }

  /** Both switches' request counts and register operations so far. */
  reading(): RequestReading {
    return {
      requests: sumRequests([this.src.requests.counts(), this.dst.requests.counts()]),
      targetOps: this.src.plugin.registerAccess.stats().targetOps + this.dst.plugin.registerAccess.stats().targetOps,
      retries: this.src.plugin.registerAccess.stats().retries + this.dst.plugin.registerAccess.stats().retries,
    };
  }

  /**
   * The median round trip of one P4Runtime read (a counter cell at the source) over `n` reads,
   * ms: what one sequential request costs on this machine at this moment (its load varies).
   */
  async roundTripMs(n = 7): Promise<number> {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await this.src.plugin.session.readAll(this.src.plugin.session.counter(this.src.plugin.contract.counters[0]?.counter ?? 'vm_tx').at(this.src.vmId));
      xs.push(performance.now() - t0);
    }
    return median(xs);
  }

  /** A fresh migration id. */
  nextMigrationId(kind: string): string {
    return `${kind}-${this.profile}-${++this.migrations}`;
  }

  /** An engine for one 1:1 migration of the bench VM over `devices` (wrapped device APIs, by name). */
  async engine(migrationId: string, devices: { readonly src: DeviceApi; readonly dst: DeviceApi }, precopyIntervalMs: number): Promise<MigrationEngine> {
    const site = `devices:\n  src: { address: ${this.src.worker.address}, deviceId: 1, hosts: [host-a] }\n  dst: { address: ${this.dst.worker.address}, deviceId: 1, hosts: [host-b] }\nvms:\n  ${BENCH_VM.name}: { address: ${BENCH_VM.addr}, host: host-a }\n`;
    const plan = planMigration(parseInventory(site, 'bench-site.yaml'), BENCH_VM.name, 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId, vm: BENCH_VM.name, sources: ['src'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
    return new MigrationEngine({
      plan,
      machine,
      devices: new Map([['src', devices.src], ['dst', devices.dst]]),
      // Measured, not enforced: a slow pause is reported, not rolled back.
      pauseDeadlineMs: 60_000,
      precopy: { intervalMs: precopyIntervalMs, policy: { maxRounds: 100_000, convergedAtSlots: -1 } },
      graceMs: 0,
    });
  }

  /** The destination's counters of the VM, before a pause (conservation is checked against them). */
  destinationCounters(): ReturnType<MigrateSimWorker['counters']> {
    return this.dst.worker.counters(this.dst.vmId);
  }

  /**
   * After activation: the destination holds exactly the source's flows as frozen (every field but
   * the translated ones), every tracked flow, and its counters are what they were plus the
   * source's. Throws MigrateBenchFailure naming what differs.
   */
  async checkMoved(what: string, dstCountersBefore: Awaited<ReturnType<MigrateSimWorker['counters']>>): Promise<SlotFingerprint> {
    const [at, moved, srcC, dstC] = await Promise.all([
      this.src.worker.fingerprint(this.src.vmId, this.translatedFields),
      this.dst.worker.fingerprint(this.dst.vmId, this.translatedFields),
      this.src.worker.counters(this.src.vmId),
      this.dst.worker.counters(this.dst.vmId),
    ]);
    if (at.flows !== this.tracked.length) throw new MigrateBenchFailure(`${what}: the source holds ${at.flows} flows of the VM, the bench tracked ${this.tracked.length}`);
    if (moved.flows !== at.flows || moved.digest !== at.digest) {
      throw new MigrateBenchFailure(`${what}: the destination holds ${moved.flows} flows (fingerprint ${moved.digest}), the source held ${at.flows} at the freeze (${at.digest})`);
    }
    for (const [name, s] of Object.entries(srcC)) {
      const before = dstCountersBefore[name] ?? { packets: 0n, bytes: 0n };
      const now = dstC[name] ?? { packets: 0n, bytes: 0n };
      if (now.packets !== before.packets + s.packets || now.bytes !== before.bytes + s.bytes) {
        throw new MigrateBenchFailure(`${what}: counter ${name} not conserved: destination ${now.packets} packets / ${now.bytes} bytes, expected ${before.packets} + ${s.packets} / ${before.bytes} + ${s.bytes}`);
      }
    }
    return moved;
  }

  /** After a rollback: nothing of the VM left at the destination, every flow still at the source. */
  async checkRolledBack(what: string): Promise<void> {
    const [src, dst] = await Promise.all([this.src.worker.fingerprint(this.src.vmId, []), this.dst.worker.fingerprint(this.dst.vmId, [])]);
    if (dst.flows !== 0 || src.flows !== this.tracked.length) throw new MigrateBenchFailure(`${what}: after the rollback the destination holds ${dst.flows} flows of the VM (expected 0), the source ${src.flows} (expected ${this.tracked.length})`);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([stopSwitch(this.src), stopSwitch(this.dst)]);
  }
}

async function stopSwitch(s: BenchSwitch): Promise<void> {
  s.api.stop();
  s.requests.restore();
  await s.plugin.stop();
  await s.worker.stop();
}
