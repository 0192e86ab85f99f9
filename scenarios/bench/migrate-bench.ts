/**
 * `carryover bench migrate` (issue 12): the migration engine's pause-window sync — freeze, final
 * delta, install, completeness proof, activation — and pre-copy throughput, at 10^4 and 10^5
 * tracked flows of one VM with 1 %, 5 % and exactly 100 of them changing between the last
 * pre-copy round and the freeze, on sim profiles `full` and `bmv2`; in the same run a naive
 * stop-and-copy of the same state and the ratio; the switch requests each pause made; and the
 * controller's memory per tracked flow.
 *
 * Each switch runs in its own process (migrate-rig.ts). Each population is its own VM on the same
 * pair of switches, all established before the first pause, and the pauses of the populations
 * alternate in time (10^4, 10^5, 10^4, …): this machine's load drifts by the minute, and the
 * flatness ratio must compare pauses taken under the same load. Every measured migration is a real one:
 * snapshot and a delta round staged while the VM "runs" (data segments injected), a pause, then
 * the destination is checked to hold every flow as the source froze it and the counters to be
 * conserved — the bench throws otherwise — and the migration is rolled back so the next one starts
 * from the same state.
 *
 * With `bmv2` (CARRYOVER_BMV2 in the CLI) the same migrations also run on two real BMv2s, flows
 * established by PacketOut and the checks read in-band (migrate-bmv2-side.ts), and after each
 * pause the minimum requests' time on the same switches (migrate-minimum.ts) for the ratio.
 */
import { PerformanceObserver, constants as perfConstants, performance } from 'node:perf_hooks';
import { Subject } from 'rxjs';
import type { SimProfileName } from '../../sim/index.js';
import type { FinalProof } from '../../plugin/index.js';
import { eventually } from '../edge-rig.js';
import type { BenchRow } from './results.js';
import { MigrateBenchFailure, MigrateRig, PrecopyFailed } from './migrate-rig.js';
import type { MigrateProfile, MigrateRigOptions, RequestReading } from './migrate-rig.js';
import { measureMinimumOn } from './migrate-minimum.js';
import { measureP4RuntimeMinimumOn } from './migrate-minimum-p4rt.js';
import type { MinimumSample } from './migrate-minimum.js';
import { BENCH_VMS, changeCounts, pickSpread } from './migrate-flows.js';
import { prepareStopAndCopy, stopAndCopyPause } from './stop-and-copy.js';
import { requestsBetween, totalRequests } from './switch-request-counter.js';
import type { SwitchRequestCounts } from './switch-request-counter.js';
import { mainThreadCpuMs } from './thread-cpu.js';
import { stepTimes, timedDeviceApi } from './timed-device-api.js';
import type { DeviceCall, StepTimes } from './timed-device-api.js';
import { migrateRows } from './migrate-report.js';

/** Knobs of the migrate bench. */
export interface MigrateBenchOptions {
  readonly profiles: readonly SimProfileName[];
  /** Tracked flows per VM, ascending: one VM per size, all on the switches at once. */
  readonly sizes: readonly number[];
  /** Flows changed between the last pre-copy round and the freeze: shares of the size … */
  readonly shares: readonly number[];
  /** … and absolute counts (the flatness rows). */
  readonly counts: readonly number[];
  /** Migrations measured per row; the median pause is reported. */
  readonly repeats: number;
  readonly inbandWindow: number;
  /**
   * How long an in-band answer may take before it is sent again. Longer than the plugin's 250 ms:
   * the switches share two busy cores with everything else, and a request retried is counted.
   */
  readonly inbandTimeoutMs: number;
  /** Source delta pulls and engine rounds during pre-copy, ms apart. */
  readonly precopyIntervalMs: number;
  /**
   * Quiet time before each measured pause (and stop-and-copy), after the last changes: their
   * digests arrive within a few ms. A running migration's pause follows pre-copy's pulls (one
   * every `precopyIntervalMs`); a pause after a second in which every process slept runs cold
   * on this VM — 1.2–2× the CPU in all three processes for the same requests (BENCHMARKS.md).
   * Default 50; `--quiet-ms 1000` measures as before 2026-12-04.
   */
  readonly quietMs: number;
  /** Measure the naive stop-and-copy at each population (default true). */
  readonly stopAndCopy: boolean;
  /**
   * On the sims driven over P4Runtime: after each pause, the minimum requests a bare client needs
   * over P4Runtime for the same number of slots (migrate-minimum-p4rt.ts; default true).
   */
  readonly p4runtimeFloor: boolean;
  /** HOST:PORT of a real switch: not driven yet (a migration needs a source and a destination). */
  readonly target?: string;
  /**
   * Path of simple_switch_grpc: the bench also starts two real BMv2s (source, destination) and
   * measures `bmv2Sizes` × `counts` there, each pause beside the minimum requests' time.
   */
  readonly bmv2?: string;
  /** Tracked flows per VM on real BMv2, ascending. */
  readonly bmv2Sizes: readonly number[];
}

/** The rows. */
export const DEFAULT_MIGRATE_BENCH_OPTIONS: MigrateBenchOptions = Object.freeze({
  profiles: ['full', 'bmv2'] as const,
  sizes: [10_000, 100_000],
  shares: [0.01, 0.05],
  counts: [100],
  repeats: 3,
  inbandWindow: 64,
  inbandTimeoutMs: 1_000,
  precopyIntervalMs: 5,
  quietMs: 50,
  stopAndCopy: true,
  p4runtimeFloor: true,
  bmv2Sizes: [10_000],
});

/** Checks and completes options (sizes ascending, repeats ≥ 1); throws RangeError naming the field. */
export function parseMigrateBenchOptions(o: Partial<MigrateBenchOptions> = {}): MigrateBenchOptions {
  const r = { ...DEFAULT_MIGRATE_BENCH_OPTIONS, ...o };
  const sizes = (xs: readonly number[], what: string): void => {
    if (what === 'sizes' && xs.length === 0) throw new RangeError('bench migrate: sizes must not be empty');
    if (xs.some((s, i) => !Number.isSafeInteger(s) || s < 1 || (i > 0 && s <= (xs[i - 1] as number)))) throw new RangeError(`bench migrate: ${what} ${xs.join(', ')} must be ascending positive integers`);
  };
  sizes(r.sizes, 'sizes');
  sizes(r.bmv2Sizes, 'bmv2Sizes');
  if (r.bmv2Sizes.length > BENCH_VMS.length || r.bmv2Sizes.reduce((a, b) => a + b, 0) > 200_000) throw new RangeError(`bench migrate: bmv2Sizes ${r.bmv2Sizes.join(', ')}: at most ${BENCH_VMS.length} sizes adding up to 200,000 flows or less`);
  if (r.sizes.length > BENCH_VMS.length) throw new RangeError(`bench migrate: ${r.sizes.length} sizes; at most ${BENCH_VMS.length} (one VM each)`);
  if (r.sizes.reduce((a, b) => a + b, 0) > 200_000) throw new RangeError(`bench migrate: sizes ${r.sizes.join(', ')} add up to more than 200,000 flows (the table has 327,680 slots)`);
  if (!Number.isSafeInteger(r.repeats) || r.repeats < 1) throw new RangeError(`bench migrate: repeats ${r.repeats} must be an integer ≥ 1`);
  if (r.shares.some((s) => !(s > 0 && s <= 1))) throw new RangeError(`bench migrate: shares ${r.shares.join(', ')} must be in (0, 1]`);
  if (!Number.isSafeInteger(r.quietMs) || r.quietMs < 0 || r.quietMs > 60_000) throw new RangeError(`bench migrate: quietMs ${r.quietMs} must be an integer 0..60000 (ms of quiet before each measured pause)`);
  return Object.freeze(r);
}

/** Collections of one kind: how many, and their ms in all. */
export interface GcCount {
  readonly count: number;
  readonly ms: number;
}

/** One measured pause: how long, where the time went, what it asked of the switches. */
export interface MeasuredPause {
  readonly profile: MigrateProfile;
  readonly flows: number;
  readonly pauseMs: number;
  readonly steps: StepTimes;
  readonly requests: SwitchRequestCounts;
  readonly targetOps: number;
  /** In-band retries among the requests (timeouts: the machine's load, not the algorithm). */
  readonly retries: number;
  /** Median P4Runtime read round trip just before the pause, ms. */
  readonly roundTripMs: number;
  /** CPU the controller's process (every thread: the event loop, GC helpers) used in the pause, ms. */
  readonly controllerCpuMs?: number;
  /** CPU of the controller's main thread (the event loop) in the pause, ms (Linux). */
  readonly controllerMainCpuMs?: number;
  /** The controller's young-generation collections (scavenges) that overlapped the pause: how many, and their ms. */
  readonly youngGcs?: GcCount;
  /** The controller's major collections (their final, atomic step) that overlapped the pause. */
  readonly majorGcs?: GcCount;
}

/** One measured pause of the engine. */
export interface PauseSample extends MeasuredPause {
  readonly changed: number;
  /** Slots the final delta installed (must equal `changed`). */
  readonly finalSlots: number;
  /** How the source proved its final batch (numbered digests, or the change log read in the pause). */
  readonly proof?: FinalProof;
  readonly snapshot: { readonly slots: number; readonly ms: number };
  readonly delta: { readonly slots: number; readonly ms: number };
  /** Heap the migration held right after the pause (staged everywhere) that its rollback released (GC forced at both readings when exposed). */
  readonly heapBytes: number;
}

/** One measured stop-and-copy. */
export type CopySample = MeasuredPause;

/** Everything one run measured, for migrateRows. */
export interface MigrateBenchResult {
  readonly pauses: readonly PauseSample[];
  readonly copies: readonly CopySample[];
  /** On real BMv2: the minimum requests' time after each pause. */
  readonly minimums: readonly MinimumSample[];
  /** Heap growth per flow while the source's plugin learned every VM's flows (its slot index), by profile. */
  readonly indexBytesPerFlow: Readonly<Partial<Record<MigrateProfile, number>>>;
  readonly gcExposed: boolean;
  /** Migrations measured again after pre-copy failed (the first attempt's error each). */
  readonly retried: readonly string[];
  readonly options: MigrateBenchOptions;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Records this process's collections until `within` returns the young and the major ones that overlapped [t0, t1] (performance.now()). */
function watchGcs(): { within: (t0: number, t1: number) => Promise<{ young: GcCount; major: GcCount }> } {
  const seen: { start: number; ms: number; major: boolean }[] = [];
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR || kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) seen.push({ start: e.startTime, ms: e.duration, major: kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR });
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    within: async (t0, t1) => {
      // GC entries are delivered after the collection, on a later turn of the event loop.
      await new Promise((r) => setTimeout(r, 1));
      obs.disconnect();
      const inside = seen.filter((g) => g.start + g.ms >= t0 && g.start <= t1);
      const count = (major: boolean): GcCount => {
        const xs = inside.filter((g) => g.major === major);
        return { count: xs.length, ms: xs.reduce((n, g) => n + g.ms, 0) };
      };
      return { young: count(false), major: count(true) };
    },
  };
}

/**
 * Lets what the last round left in flight (digests of the changes just made, answers on their way)
 * drain before a measured pause, for `ms` (MigrateBenchOptions.quietMs). No collection is forced
 * here: a full collection discards the optimized code whose embedded objects died (V8's "weak
 * objects" deoptimizations — 234 in three migrations, traced with --trace-deopt), so the pause ran
 * the read decoder, the wire reader and the placement in the interpreter: twice the controller CPU
 * of a pause that follows pre-copy directly, as a real one does. The heap is measured after the
 * pause instead (measurePause).
 */
async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Heap in use after a forced collection (when `--expose-gc`), bytes. */
function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function diff(a: RequestReading, b: RequestReading): { requests: SwitchRequestCounts; targetOps: number; retries: number } {
  return { requests: requestsBetween(a.requests, b.requests), targetOps: b.targetOps - a.targetOps, retries: b.retries - a.retries };
}

/**
 * Resolves once the recorded imports of rounds ≥ `minRound` carried `slots` slots, with the time
 * the last of them ended; rejects with pre-copy's own error if `running` fails first.
 */
async function installed(calls: readonly DeviceCall[], minRound: number, slots: number, running: Promise<unknown>, what: string): Promise<number> {
  let end = 0;
  let failed: unknown;
  running.catch((e: unknown) => (failed = e ?? new Error('pre-copy failed')));
  const done = (): boolean => {
    if (failed !== undefined) return true;
    let n = 0;
    for (const c of calls) {
      if (c.method !== 'importStaged' || c.device !== 'dst' || (c.round ?? -1) < minRound || c.endMs === undefined || c.failed) continue;
      n += c.slots ?? 0;
      end = Math.max(end, c.endMs);
    }
    return n >= slots;
  };
  const ok = await eventually(done, 300_000, 2);
  if (failed !== undefined) throw new PrecopyFailed(`${what}: pre-copy failed: ${failed instanceof Error ? failed.message : String(failed)}`, { cause: failed });
  if (!ok) throw new MigrateBenchFailure(`${what}: the destination did not get ${slots} slots within 300 s`);
  return end;
}

/** One engine migration of VM `vm` with `changed` flows changing before the freeze, checked, then rolled back (throws MigrateBenchFailure when it did not move the state). */
export async function measurePause(rig: MigrateRig, vm: number, o: MigrateBenchOptions, changed: number, log: (m: string) => void): Promise<PauseSample> {
  const flows = rig.trackedOf(vm).length;
  const what = `${rig.profile}, ${flows} flows, ${changed} changed`;
  const calls: DeviceCall[] = [];
  const src = timedDeviceApi('src', rig.src.api, calls);
  const dst = timedDeviceApi('dst', rig.dst.api, calls);
  const engine = await rig.engine(rig.nextMigrationId('engine'), { src, dst }, o.precopyIntervalMs, vm);
  await engine.prepare();
  const stop$ = new Subject<void>();
  const t0 = performance.now();
  const running = engine.precopy(stop$);
  const changing = pickSpread(rig.trackedOf(vm), changed);
  let snapshotEnd: number;
  let tChange: number;
  let deltaEnd: number;
  try {
    snapshotEnd = await installed(calls, 0, flows, running, `${what}: snapshot`);
    // The VM runs: one data segment on each changing flow, which the next delta round carries.
    tChange = performance.now();
    if ((await rig.src.worker.change(changing, vm)) !== changed) throw new MigrateBenchFailure(`${what}: not every data segment during pre-copy passed the source`);
    // Nothing changed (--changed 0): no delta round to wait for.
    deltaEnd = changed === 0 ? tChange : await installed(calls, 1, changed, running, `${what}: delta round`);
  } catch (e) {
    if (e instanceof PrecopyFailed) {
      await engine.abort('ABORTED_BY_TRIGGER', 'bench: pre-copy failed');
      await rig.checkRolledBack(what, vm);
    }
    throw e;
  }
  stop$.next();
  await running;
  // Between the last round and the freeze: the same flows change again; only the final delta has it.
  if ((await rig.src.worker.change(changing, vm)) !== changed) throw new MigrateBenchFailure(`${what}: not every data segment before the freeze passed the source`);
  const dstBefore = await rig.destinationCounters(vm);
  await settle(o.quietMs);
  const roundTripMs = await rig.roundTripMs();
  const r0 = rig.reading();
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuMs();
  const gcs = watchGcs();
  const p0 = performance.now();
  const sync = await engine.pauseSync();
  const p1 = performance.now();
  const cpu = process.cpuUsage(c0);
  const m1 = mainThreadCpuMs();
  const r1 = rig.reading();
  const { young: youngGcs, major: majorGcs } = await gcs.within(p0, p1);
  // What the controller holds for the migration once everything is staged (forced collections
  // here, after the pause, not before it: see settle()); compared below with the heap once the
  // rollback released it — the heap before prepare still held an earlier migration's leftovers
  // when the populations alternate, which made a difference from it negative.
  const heapStaged = heapUsed();
  if (sync.lost) throw new MigrateBenchFailure(`${what}: the pause lost state: ${sync.lost.detail}`);
  if (sync.slots !== changed) throw new MigrateBenchFailure(`${what}: the final delta installed ${sync.slots} slots, ${changed} flows changed`);
  await rig.checkMoved(what, dstBefore, vm);
  await engine.abort('ABORTED_BY_TRIGGER', 'bench: rolled back so the next migration starts from the same state');
  await rig.checkRolledBack(what, vm);
  const heapBytes = heapStaged - heapUsed();
  const d = diff(r0, r1);
  const s: PauseSample = {
    profile: rig.profile, flows, changed, pauseMs: p1 - p0, steps: stepTimes(calls, p0, p1), ...d, roundTripMs, controllerCpuMs: (cpu.user + cpu.system) / 1000, ...(m0 !== undefined && m1 !== undefined ? { controllerMainCpuMs: m1 - m0 } : {}), youngGcs, majorGcs, finalSlots: sync.slots, ...(sync.proofs['src'] ? { proof: sync.proofs['src'] } : {}),
    snapshot: { slots: flows, ms: snapshotEnd - t0 }, delta: { slots: changed, ms: deltaEnd - tChange }, heapBytes,
  };
  log(`${what}: pause ${s.pauseMs.toFixed(2)} ms, ${totalRequests(s.requests)} requests (${s.targetOps} register ops); snapshot ${s.snapshot.ms.toFixed(0)} ms`);
  return s;
}

/** The naive copy of VM `vm`: everything read and written in the pause; rolled back afterwards. */
async function measureCopy(rig: MigrateRig, vm: number, quietMs: number, log: (m: string) => void): Promise<CopySample> {
  const flows = rig.trackedOf(vm).length;
  const what = `${rig.profile}, ${flows} flows, stop-and-copy`;
  const calls: DeviceCall[] = [];
  const src = timedDeviceApi('src', rig.src.api, calls);
  const dst = timedDeviceApi('dst', rig.dst.api, calls);
  const ref = { migrationId: rig.nextMigrationId('copy'), vm: rig.vm(vm).addr };
  await prepareStopAndCopy(src, dst, ref);
  const dstBefore = await rig.destinationCounters(vm);
  await settle(quietMs);
  const roundTripMs = await rig.roundTripMs();
  const r0 = rig.reading();
  const p0 = performance.now();
  const copy = await stopAndCopyPause(src, dst, ref);
  const p1 = performance.now();
  const r1 = rig.reading();
  if (copy.slots !== flows) throw new MigrateBenchFailure(`${what}: installed ${copy.slots} slots of ${flows}`);
  await rig.checkMoved(what, dstBefore, vm);
  await dst.abort(ref);
  await src.abort(ref);
  await rig.checkRolledBack(what, vm);
  const s: CopySample = { profile: rig.profile, flows, pauseMs: p1 - p0, steps: stepTimes(calls, p0, p1), ...diff(r0, r1), roundTripMs };
  log(`${what}: pause ${s.pauseMs.toFixed(0)} ms, ${totalRequests(s.requests)} requests`);
  return s;
}

/** What one rig measures: per VM its size, and the changed counts of each. */
interface RigPlan {
  readonly sizes: readonly number[];
  readonly counts: readonly (readonly number[])[];
}

/** Runs the bench and returns its samples (migrateRows makes the table). */
export async function measureMigrations(options: Partial<MigrateBenchOptions> = {}, log: (m: string) => void = (m) => console.error(`bench migrate: ${m}`)): Promise<MigrateBenchResult> {
  const o = parseMigrateBenchOptions(options);
  const pauses: PauseSample[] = [];
  const copies: CopySample[] = [];
  const minimums: MinimumSample[] = [];
  const retried: string[] = [];
  // A pre-copy that failed was rolled back and checked: measure that migration once more.
  const againOnce = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof PrecopyFailed)) throw e;
      log(`${e.message} — rolled back; measuring it again`);
      retried.push(e.message);
      return f();
    }
  };
  const indexBytesPerFlow: Partial<Record<MigrateProfile, number>> = {};
  const measureRig = async (rigOptions: MigrateRigOptions, plan: RigPlan): Promise<void> => {
    const rig = await MigrateRig.start(rigOptions);
    try {
      const h0 = heapUsed();
      for (const [vm, size] of plan.sizes.entries()) {
        log(`${rig.profile}: establishing ${size} flows of ${rig.vm(vm).name}`);
        const t0 = performance.now();
        await rig.populate(size, vm);
        log(`${rig.profile}: ${size} flows of ${rig.vm(vm).name} established in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      indexBytesPerFlow[rig.profile] = (heapUsed() - h0) / plan.sizes.reduce((a, b) => a + b, 0);
      // Every changed count, in order; its pauses alternate between the VMs (populations) it applies to.
      for (const changed of [...new Set(plan.counts.flat())]) {
        for (let i = 0; i < o.repeats; i++) {
          for (const vm of plan.sizes.keys()) {
            if (!plan.counts[vm]?.includes(changed)) continue;
            pauses.push(await againOnce(() => measurePause(rig, vm, o, changed, log)));
            // On real switches, the floor right after each pause (the same load, the same slots,
            // the heap settled the same way), and the same requests with the writes after the
            // reads, as the engine orders them; which of the two goes first alternates.
            if (rig.src.packetSide) {
              for (const overlap of i % 2 === 0 ? [true, false] : [false, true]) {
                const m = await measureMinimumOn(rig, vm, pickSpread(rig.trackedOf(vm), changed), overlap, () => settle(o.quietMs));
                log(`${rig.profile}, ${m.flows} flows, ${changed} changed: minimum requests${overlap ? '' : ', reads then writes,'} ${m.ms.toFixed(2)} ms (${totalRequests(m.requests)} requests)`);
                minimums.push(m);
              }
            } else if (o.p4runtimeFloor && rig.src.plugin.registerAccess.capabilities().backend === 'p4runtime') {
              // The sims over P4Runtime: the same floor as a bare client's Read and Write of cells.
              const m = await measureP4RuntimeMinimumOn(rig, vm, changed, () => settle(o.quietMs));
              log(`${rig.profile}, ${m.flows} flows, ${changed} changed: minimum requests over P4Runtime ${m.ms.toFixed(2)} ms (${totalRequests(m.requests)} requests)`);
              minimums.push(m);
            }
          }
        }
      }
      if (o.stopAndCopy) for (const vm of plan.sizes.keys()) copies.push(await measureCopy(rig, vm, o.quietMs, log));
    } finally {
      await rig.stop();
    }
  };
  const base = { inbandWindow: o.inbandWindow, inbandTimeoutMs: o.inbandTimeoutMs, deltaIntervalMs: o.precopyIntervalMs };
  for (const profile of o.profiles) {
    await measureRig({ ...base, profile, vms: o.sizes.length }, { sizes: o.sizes, counts: o.sizes.map((size) => changeCounts(size, o.shares, o.counts)) });
  }
  // Real BMv2: the absolute counts only (the 1 % and 5 % rows need more establishing than a run has).
  if (o.bmv2 !== undefined) {
    await measureRig({ ...base, profile: 'bmv2', bmv2: o.bmv2, vms: o.bmv2Sizes.length }, { sizes: o.bmv2Sizes, counts: o.bmv2Sizes.map((size) => changeCounts(size, [], o.counts)) });
  }
  return { pauses, copies, minimums, indexBytesPerFlow, gcExposed: gc !== undefined, retried, options: o };
}

/** `carryover bench migrate`: measures and returns the table's rows. */
export async function runMigrateBench(options: Partial<MigrateBenchOptions> = {}, log?: (m: string) => void): Promise<BenchRow[]> {
  return migrateRows(await measureMigrations(options, log));
}
