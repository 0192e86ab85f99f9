/**
 * The two switches of `carryover bench migrate` and what drives them: a source and a destination
 * sim, each in its own process (migrate-sim-worker.ts), each with an edge plugin and the plugin's
 * device API in this process (the controller's), requests counted per session, the bench VMs'
 * flows established at the source (one VM per population, so pauses of different populations
 * can alternate in time and share the machine's load), and the checks that a migration moved
 * exactly what the source held at its freeze (flows field by field, counters conserved) — the
 * bench fails loudly otherwise.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { P4Switch } from 'p4runtime-ts';
import { MemoryJournal, MigrationEngine, MigrationMachine, parseInventory, planMigration } from '../../controller/index.js';
import { createDeviceApi, createEdgePlugin } from '../../plugin/index.js';
import type { DeviceApi, EdgeDeviceApi, EdgePlugin, SlotGroupSpec } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { BMV2_JSON_PATH, SCHEMA, deviceConfigFor, eventually, newFlowDigestDelayFor } from '../edge-rig.js';
import { startBmv2 } from '../real-tools.js';
import type { Bmv2Process } from '../real-tools.js';
import { migrateBmv2Side } from './migrate-bmv2-side.js';
import type { Bmv2Side } from './migrate-bmv2-side.js';
import type { MigrateSwitchSide, SwitchCounters } from './migrate-switch-side.js';
import { BENCH_UPLINK, BENCH_VMS, median } from './migrate-flows.js';
import type { BenchVm, SlotFingerprint } from './migrate-flows.js';
import { startMigrateSimWorker } from './migrate-sim-worker.js';
import { countSwitchRequests, sumRequests } from './switch-request-counter.js';
import type { SwitchRequestCounter, SwitchRequestCounts } from './switch-request-counter.js';

/** A migration of the bench did not do its work: the figures of the run are not to be trusted. */
export class MigrateBenchFailure extends Error {
  override readonly name: string = 'MigrateBenchFailure';
}

/** Pre-copy failed before the pause (e.g. a switch starved of CPU past every in-band retry): rolled back, measured again. */
export class PrecopyFailed extends MigrateBenchFailure {
  override readonly name = 'PrecopyFailed';
}

/** What a rig runs on: a sim profile (switches in processes of their own), or real BMv2. */
export type MigrateProfile = SimProfileName | 'real-bmv2';

/** One switch of the pair. */
export interface BenchSwitch {
  /** Traffic in, state out: the sim's side channel, or PacketOut and in-band reads on BMv2. */
  readonly worker: MigrateSwitchSide;
  /** Driven like a real BMv2 (PacketOut in, in-band reads out): the same side, which also locates flows' slots. */
  readonly packetSide?: Bmv2Side;
  /** P4Runtime device id (BMv2 is started with 0, the sims with 1). */
  readonly deviceId: number;
  readonly plugin: EdgePlugin;
  readonly api: EdgeDeviceApi;
  readonly requests: SwitchRequestCounter;
}

/** A bench VM at the source: its flows the source tracks (established, not lost to a collision). */
interface VmFlows {
  readonly vm: BenchVm;
  readonly tracked: number[];
  nextFlow: number;
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
  /** Path of simple_switch_grpc: run on two real BMv2s instead (`profile` is then not used). */
  readonly bmv2?: string;
  /**
   * Drive the sims as a real BMv2 is driven — flows established by PacketOut, the checks read
   * in-band, no side channel — to test that path without BMv2 (implied by `bmv2`).
   */
  readonly packetPath?: boolean;
  /** On BMv2: PacketOuts between two in-band barriers while establishing flows (default 2,000). */
  readonly injectBatch?: number;
  /** In-band requests in flight (the lab's safe value on BMv2 is ~64). */
  readonly inbandWindow: number;
  /** How long an in-band answer may take before the request is sent again (default: the plugin's). */
  readonly inbandTimeoutMs?: number;
  /** Pause between the source's delta pulls during pre-copy, ms. */
  readonly deltaIntervalMs: number;
  /** How many of BENCH_VMS the switches know (default 1). */
  readonly vms?: number;
}

/** The uplink, and per VM its port role and the VM map entry giving it this switch's id. */
async function topology(sw: P4Switch, vms: readonly BenchVm[], side: 'srcId' | 'dstId'): Promise<void> {
  await sw.write([
    sw.table('port_role').insert({ match: { port: BENCH_UPLINK }, action: 'uplink_role' }),
    ...vms.map((vm) => sw.table('port_role').insert({ match: { port: vm.port }, action: 'vm_port_role', params: { uplink_port: BENCH_UPLINK } })),
    ...vms.map((vm) => sw.table('vm_table').insert({ match: { vm_addr: vm.addr }, action: 'set_vm', params: { vm_id: vm[side], port: vm.port } })),
  ]);
}

/** A switch process of the pair: a sim worker of `o.profile`, or a real BMv2. */
async function startTarget(o: MigrateRigOptions): Promise<{ readonly process: Bmv2Process; readonly deviceId: number; readonly deviceConfig: Uint8Array; readonly sim?: MigrateSwitchSide }> {
  if (o.bmv2 !== undefined) return { process: await startBmv2(o.bmv2), deviceId: 0, deviceConfig: readFileSync(BMV2_JSON_PATH) };
  const w = await startMigrateSimWorker(o.profile);
  return { process: { address: w.address, pid: w.pid, stderr: () => '', stop: () => w.stop() }, deviceId: 1, deviceConfig: deviceConfigFor(o.profile), sim: w };
}

async function startSwitch(o: MigrateRigOptions, name: 'src' | 'dst', flowsOf: (vm: number) => readonly number[], deltaIntervalMs?: number): Promise<BenchSwitch> {
  const target = await startTarget(o);
  const plugin = createEdgePlugin({ address: target.process.address, deviceId: target.deviceId, electionId: 10n, p4info: SCHEMA, deviceConfig: target.deviceConfig, inband: { window: o.inbandWindow, ...(o.inbandTimeoutMs !== undefined ? { timeoutMs: o.inbandTimeoutMs } : {}) } });
  try {
    await plugin.start();
    await topology(plugin.session, BENCH_VMS.slice(0, o.vms ?? 1), name === 'src' ? 'srcId' : 'dstId');
  } catch (e) {
    await plugin.stop();
    await target.process.stop();
    throw e;
  }
  const packetSide = o.bmv2 !== undefined || o.packetPath ? migrateBmv2Side({ plugin, process: target.process, flowsOf, window: o.inbandWindow, injectBatch: o.injectBatch ?? 2_000 }) : undefined;
  const worker = packetSide ?? target.sim;
  if (!worker) throw new Error('bench migrate: no switch started');
  // The index learns the VMs' slots from digests: it listens from before the first flow.
  const api = createDeviceApi(plugin, { name, snapshotSource: 'index', reconcile: false, ...(o.bmv2 === undefined ? newFlowDigestDelayFor(o.profile) : {}), ...(deltaIntervalMs !== undefined ? { deltaIntervalMs } : {}) });
  await api.ready();
  return { worker, ...(packetSide ? { packetSide } : {}), deviceId: target.deviceId, plugin, api, requests: countSwitchRequests(plugin.session) };
}

/** The source and destination of the bench's migrations. */
export class MigrateRig {
  private readonly vms: VmFlows[];
  private migrations = 0;

  private constructor(
    readonly profile: MigrateProfile,
    readonly src: BenchSwitch,
    readonly dst: BenchSwitch,
    vms: VmFlows[],
    /** In-band requests in flight the plugins use (and the minimum-requests floor). */
    readonly inbandWindow: number,
  ) {
    this.vms = vms;
  }

  /** Starts both switches (own processes) with their plugins and device APIs. */
  static async start(o: MigrateRigOptions): Promise<MigrateRig> {
    const n = o.vms ?? 1;
    if (!(Number.isInteger(n) && n >= 1 && n <= BENCH_VMS.length)) throw new RangeError(`bench migrate: ${n} VMs; the bench has ${BENCH_VMS.length}`);
    const vms: VmFlows[] = BENCH_VMS.slice(0, n).map((vm) => ({ vm, tracked: [], nextFlow: 0 }));
    const flowsOf = (vm: number): readonly number[] => vms[vm]?.tracked ?? [];
    const src = await startSwitch(o, 'src', flowsOf, o.deltaIntervalMs);
    try {
      return new MigrateRig(o.bmv2 !== undefined ? 'real-bmv2' : o.profile, src, await startSwitch(o, 'dst', flowsOf), vms, o.inbandWindow);
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

  private flows(vm: number): VmFlows {
    const f = this.vms[vm];
    if (!f) throw new RangeError(`bench migrate: no VM ${vm} in this rig`);
    return f;
  }

  /** The bench VM `vm` (an index of BENCH_VMS). */
  vm(vm = 0): BenchVm {
    return this.flows(vm).vm;
  }

  /** Flows of the first VM the source tracks, ascending. */
  get tracked(): readonly number[] {
    return this.trackedOf(0);
  }

  /** Flows of VM `vm` the source tracks, ascending. */
  trackedOf(vm: number): readonly number[] {
    return this.flows(vm).tracked;
  }

  /**
   * Establishes flows of VM `vm` until the source tracks `size` of them (a flow whose candidate
   * slots are all taken is not tracked: another is opened), then waits until the source's slot
   * index knows every flow of every VM.
   */
  async populate(size: number, vm = 0): Promise<void> {
    const f = this.flows(vm);
    while (f.tracked.length < size) {
      const want = size - f.tracked.length;
      const ok = await this.src.worker.establish(f.nextFlow, want, vm);
      f.nextFlow += want;
      f.tracked.push(...ok);
    }
    const all = this.vms.reduce((n, x) => n + x.tracked.length, 0);
    const known = await eventually(async () => (await this.src.api.capabilities()).slots.free === this.group.slots - all, 120_000, 100);
    if (!known) throw new MigrateBenchFailure(`${this.profile}: the source's slot index did not learn ${all} flows from digests within 120 s (free: ${(await this.src.api.capabilities()).slots.free})`);
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
      await this.src.plugin.session.readAll(this.src.plugin.session.counter(this.src.plugin.contract.counters[0]?.counter ?? 'vm_tx').at(this.vm(0).srcId));
      xs.push(performance.now() - t0);
    }
    return median(xs);
  }

  /** A fresh migration id. */
  nextMigrationId(kind: string): string {
    return `${kind}-${this.profile}-${++this.migrations}`;
  }

  /** An engine for one 1:1 migration of VM `vm` over `devices` (wrapped device APIs, by name). */
  async engine(migrationId: string, devices: { readonly src: DeviceApi; readonly dst: DeviceApi }, precopyIntervalMs: number, vm = 0): Promise<MigrationEngine> {
    const v = this.vm(vm);
    const id = this.src.deviceId;
    const site = `devices:\n  src: { address: ${this.src.worker.address}, deviceId: ${id}, hosts: [host-a] }\n  dst: { address: ${this.dst.worker.address}, deviceId: ${id}, hosts: [host-b] }\nvms:\n  ${v.name}: { address: ${v.addr}, host: host-a }\n`;
    const plan = planMigration(parseInventory(site, 'bench-site.yaml'), v.name, 'host-a', 'host-b');
    const machine = await MigrationMachine.plan({ migrationId, vm: v.name, sources: ['src'], destinations: ['dst'] }, { journal: new MemoryJournal(), now: () => Date.now() });
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

  /** The destination's counters of VM `vm`, before a pause (conservation is checked against them). */
  destinationCounters(vm = 0): Promise<SwitchCounters> {
    return this.dst.worker.counters(this.vm(vm).dstId);
  }

  /**
   * After activation: the destination holds exactly the source's flows of VM `vm` as frozen
   * (every field but the translated ones), every tracked flow, and its counters are what they
   * were plus the source's. Throws MigrateBenchFailure naming what differs.
   */
  async checkMoved(what: string, dstCountersBefore: SwitchCounters, vm = 0): Promise<SlotFingerprint> {
    const v = this.vm(vm);
    const tracked = this.trackedOf(vm).length;
    const [at, moved, srcC, dstC] = await Promise.all([
      this.src.worker.fingerprint(v.srcId, this.translatedFields),
      this.dst.worker.fingerprint(v.dstId, this.translatedFields),
      this.src.worker.counters(v.srcId),
      this.dst.worker.counters(v.dstId),
    ]);
    if (at.flows !== tracked) throw new MigrateBenchFailure(`${what}: the source holds ${at.flows} flows of the VM, the bench tracked ${tracked}`);
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

  /** After a rollback: nothing of VM `vm` left at the destination, every flow still at the source. */
  async checkRolledBack(what: string, vm = 0): Promise<void> {
    const v = this.vm(vm);
    const [src, dst] = await Promise.all([this.src.worker.fingerprint(v.srcId, []), this.dst.worker.fingerprint(v.dstId, [])]);
    const tracked = this.trackedOf(vm).length;
    if (dst.flows !== 0 || src.flows !== tracked) throw new MigrateBenchFailure(`${what}: after the rollback the destination holds ${dst.flows} flows of the VM (expected 0), the source ${src.flows} (expected ${tracked})`);
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
