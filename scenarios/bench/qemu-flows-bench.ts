/**
 * `carryover bench qemu --flows N`: QEMU's migration downtime without carryover and with the
 * migration engine moving N tracked flows (1 % of them changing while QEMU copies memory) through
 * the QEMU trigger — fresh QEMU pairs alternating, the switches (sim, profile `full`) in processes
 * of their own as in `bench migrate`. Each engine migration is checked and rolled back after QEMU
 * completes, so every run starts from the same state. The snapshot is staged before QEMU starts
 * (carryover's pre-copy may begin before QEMU's), the flows change while QEMU copies memory, the
 * sync runs in the pause.
 *
 * Two settings, each with its own migrations without carryover. `compressed`: QEMU's own
 * bandwidth, so the disk-less test guest (64 MiB, nearly all zero pages) is copied in 15–110 ms
 * and the destination QEMU is still loading it in `pre-switchover`, on the cores the sync needs;
 * the flows change once, as QEMU starts. `paced`: QEMU's `max-bandwidth` set so the copy takes
 * about two seconds, as the issue's own migration of this guest did and a real VM's copy does
 * (seconds), and the flows keep changing every `changeEveryMs` until the pause.
 */
import { systemClock } from 'p4runtime-ts';
import { Subject } from 'rxjs';
import { benchQemuDowntime } from '../../controller/index.js';
import type { MigrationEngine, MigrationPhaseHandler, PrecopyRound, QemuDowntimeSample } from '../../controller/index.js';
import { QEMU_SKIP_REASON, ownCpus } from '../../controller/testing/qemu-pair.js';
import type { FinalProof } from '../../plugin/index.js';
import { eventually } from '../edge-rig.js';
import { pickSpread } from './migrate-flows.js';
import { MigrateRig } from './migrate-rig.js';
import { cpuPlacement } from './cpu-placement.js';
import { keepChanging } from './flow-changer.js';
import type { FlowChanger } from './flow-changer.js';
import { downtimePartRows, guestDowntimeRows } from './downtime-part-rows.js';
import { describeSteps } from './migrate-report.js';
import type { BenchRow } from './results.js';
import { stepTimes, timedDeviceApi } from './timed-device-api.js';
import type { DeviceCall, StepTimes } from './timed-device-api.js';

/** How QEMU copies memory in one setting of the bench, and how the VM's flows change meanwhile. */
export interface QemuFlowsSetting {
  readonly name: string;
  /** QEMU's `max-bandwidth` in bytes/s for the migrations of this setting (both modes); default QEMU's own. */
  readonly maxBandwidth?: number;
  /** The changing flows each send a data segment every this many ms until the pause; default once, as QEMU starts. */
  readonly changeEveryMs?: number;
}

/** QEMU's own bandwidth, the flows changing once: how every run went before the paced setting was added. */
export const COMPRESSED_SETTING: QemuFlowsSetting = Object.freeze({ name: 'compressed' });

/** 256 KiB/s: the test guest's stream (≈ 0.5 MiB) takes about 2 s, as in the issue; the flows change every 20 ms (the bench's pre-copy interval). */
export const PACED_SETTING: QemuFlowsSetting = Object.freeze({ name: 'paced', maxBandwidth: 256 * 1024, changeEveryMs: 20 });

/** Knobs of the QEMU bench with flows. */
export interface QemuFlowsBenchOptions {
  readonly flows: number;
  /** Share of the flows changing during QEMU's pre-copy. */
  readonly changing: number;
  readonly runs: number;
  /** CPUs the QEMUs run on (a Linux CPU list); default: wherever the OS puts them. */
  readonly qemuCpus?: string;
  /** Each setting runs `runs` migrations per mode, one setting after the other. */
  readonly settings: readonly QemuFlowsSetting[];
}

export const DEFAULT_QEMU_FLOWS_BENCH: QemuFlowsBenchOptions = Object.freeze({ flows: 10_000, changing: 0.01, runs: 5, settings: Object.freeze([COMPRESSED_SETTING, PACED_SETTING]) });

/** Runs the bench, each setting in turn; one UNSUPPORTED row without QEMU. */
export async function runQemuFlowsBench(o: QemuFlowsBenchOptions, log: (m: string) => void = (m) => console.error(`bench qemu: ${m}`)): Promise<BenchRow[]> {
  if (QEMU_SKIP_REASON !== undefined) return [{ suite: 'qemu', case: `QEMU downtime with ${o.flows} tracked flows`, value: 'UNSUPPORTED', unit: 'ms', note: QEMU_SKIP_REASON }];
  const rig = await MigrateRig.start({ profile: 'full', inbandWindow: 64, deltaIntervalMs: 20 });
  try {
    log(`populating ${o.flows} flows`);
    await rig.populate(o.flows);
    const changing = pickSpread(rig.tracked, Math.round(o.flows * o.changing));
    const rows: BenchRow[] = [];
    for (const setting of o.settings) {
      log(`setting ${setting.name}`);
      rows.push(...(await runSetting(rig, o, setting, changing)));
    }
    return rows;
  } finally {
    await rig.stop();
  }
}

/** The rows' case: the compressed setting keeps the name every earlier run's rows had. */
export function settingCase(flows: number, setting: QemuFlowsSetting): string {
  const c = `QEMU downtime with ${flows} tracked flows`;
  if (setting.maxBandwidth === undefined && setting.changeEveryMs === undefined) return c;
  const copy = setting.maxBandwidth === undefined ? "QEMU's own bandwidth" : `memory copy paced at ${setting.maxBandwidth / 1024} KiB/s`;
  const flowsChange = setting.changeEveryMs === undefined ? 'flows changing once' : `flows changing every ${setting.changeEveryMs} ms`;
  return `${c}, ${setting.name} (${copy}, ${flowsChange})`;
}

/** One setting's migrations, alternating without and with carryover, and their rows. */
async function runSetting(rig: MigrateRig, o: QemuFlowsBenchOptions, setting: QemuFlowsSetting, changing: number[]): Promise<BenchRow[]> {
  const c = settingCase(o.flows, setting);
  const syncs: SyncSample[] = [];
  // The device calls of the current migration, timed: where each pause's milliseconds went.
  let calls: DeviceCall[] = [];
  const failures: string[] = [];
  const changeErrors: string[] = [];
  // Per with-carryover migration: the batches of segments the changing flows sent before the pause.
  const batches: number[] = [];
  const change = (): Promise<number> => rig.src.worker.change(changing);
  // Each with-carryover run: the engine prepares and stages the snapshot before QEMU starts, the
  // VM's flows change while QEMU copies memory, the sync runs in the pause.
  let current: { engine: MigrationEngine; paused$: Subject<void>; precopy: Promise<PrecopyRound[]>; changer?: FlowChanger } | undefined;
  const beforeMigrate = async (): Promise<void> => {
    calls = [];
    const engine = await rig.engine(rig.nextMigrationId('qemu'), { src: timedDeviceApi('src', rig.src.api, calls), dst: timedDeviceApi('dst', rig.dst.api, calls) }, 20);
    await engine.prepare();
    const paused$ = new Subject<void>();
    const precopy = engine.precopy(paused$);
    current = { engine, paused$, precopy };
    // PRECOPY is recorded once the snapshot is staged at the destination.
    if (!(await eventually(() => engine.phase === 'PRECOPY', 120_000, 10))) throw new Error('the snapshot was not staged within 120 s');
  };
  const undo = async (why: string): Promise<void> => {
    const x = current;
    current = undefined;
    if (!x) return;
    await x.changer?.stop();
    await x.engine.abort('ABORTED_BY_TRIGGER', why);
    await rig.checkRolledBack('qemu bench');
  };
  const handler = (): MigrationPhaseHandler => ({
    // The VM runs: its changing flows move on while QEMU copies memory (once, or until the pause).
    onPrecopy: () => {
      const x = current;
      if (!x || x.changer) return;
      if (setting.changeEveryMs === undefined) void change();
      else x.changer = keepChanging(change, setting.changeEveryMs, systemClock, (e) => changeErrors.push(String(e)));
    },
    onPause: async () => {
      const x = current as NonNullable<typeof current>;
      // QEMU stopped the VM: its traffic stops. Not awaited: a batch still passing the source
      // switch is the VM's last packets in flight, and the freeze settles what they changed.
      void x.changer?.stop();
      if (x.changer) batches.push(x.changer.batches);
      x.paused$.next();
      // A round still being installed finishes behind the freeze (the engine waits for it there).
      const p0 = performance.now();
      const sync = await x.engine.pauseSync();
      const p1 = performance.now();
      await x.precopy;
      // Timed here: the same window the steps are cut from.
      syncs.push({ ms: p1 - p0, slots: sync.slots, steps: stepTimes(calls, p0, p1), proofs: Object.values(sync.proofs) });
      return { decision: 'continue' };
    },
    onCompleted: () => undo('bench: rolled back so the next migration starts from the same state'),
    onFailed: async (f) => {
      failures.push(f.message);
      await undo(`bench: QEMU failed: ${f.message}`);
    },
  });
  const r = await benchQemuDowntime({
    runs: o.runs, handler, beforeMigrate, pauseDeadlineMs: 5_000,
    ...(o.qemuCpus !== undefined ? { qemuCpus: o.qemuCpus } : {}),
    ...(setting.maxBandwidth !== undefined ? { maxBandwidth: setting.maxBandwidth } : {}),
  });
  if (failures.length > 0) throw new Error(`QEMU migrations failed: ${failures.join('; ')}`);
  if (changeErrors.length > 0) throw new Error(`the VM's flows could not change during pre-copy: ${changeErrors.join('; ')}`);
  const total = median(r.samples.flatMap((x) => (x.totalTimeMs !== undefined ? [x.totalTimeMs] : [])));
  const copy = `${setting.name}: QEMU's max-bandwidth ${setting.maxBandwidth === undefined ? "its own" : `${setting.maxBandwidth} B/s`}, migrations of ${Number.isNaN(total) ? '?' : total} ms (median total-time)`;
  const note = `QEMU ${r.qemuVersion}, ${r.memoryMb} MiB, ${r.runsPerMode} migrations per mode, alternating; ${copy}; ${o.flows} flows, ${changing.length} changing during pre-copy ${setting.changeEveryMs === undefined ? 'once, as QEMU starts' : `every ${setting.changeEveryMs} ms until the pause (${median(batches)} batches, median per migration)`}; switches: sim full in own processes; ${cpuPlacement(o.qemuCpus, ownCpus() ?? null)}`;
  return [
    ...addedByKind(c, r.samples, syncs, r.without.medianMs),
    { suite: 'qemu', case: c, variant: 'without carryover', value: r.without.medianMs, unit: 'ms', note: `${note}; min ${r.without.minMs}, max ${r.without.maxMs}` },
    { suite: 'qemu', case: c, variant: 'with carryover (engine syncing in pre-switchover)', value: r.with.medianMs, unit: 'ms', note: `min ${r.with.minMs}, max ${r.with.maxMs}` },
    { suite: 'qemu', case: `${c}: added by carryover (median with − median without)`, value: r.addedMedianMs, unit: 'ms' },
    { suite: 'qemu', case: `${c}: hold in pre-switchover, median`, value: r.heldMedianMs, unit: 'ms' },
    { suite: 'qemu', case: `${c}: engine pause-window sync, median`, value: medianSync(syncs)?.ms ?? NaN, unit: 'ms', note: syncNote(syncs) },
    ...guestDowntimeRows(c, r, 'with carryover'),
    ...downtimePartRows(c, r.parts, 'with carryover'),
  ];
}

/** One pause of the bench: its time, the slots its final delta moved, its device calls' times, how each source proved its final delta complete. */
export interface SyncSample {
  readonly ms: number;
  readonly slots: number;
  readonly steps: StepTimes;
  readonly proofs: readonly FinalProof[];
}

/** The pause whose time is the sync row's median (the upper middle one of an even count). */
export function medianSync(syncs: readonly SyncSample[]): SyncSample | undefined {
  return [...syncs].sort((a, b) => a.ms - b.ms)[Math.floor(syncs.length / 2)];
}

/**
 * The sync row's note: each pause's final delta slots, how the final deltas were proven (from the
 * numbered change digests, or the change log read when a digest was still missing), and where the
 * median pause's time went (medianSync: the run the row's value is).
 */
export function syncNote(syncs: readonly SyncSample[]): string {
  const slots = `final delta slots: ${syncs.map((s) => s.slots).join(', ')}`;
  const counts = new Map<FinalProof, number>();
  for (const p of syncs.flatMap((s) => s.proofs)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const proofs = counts.size === 0 ? '' : `; proven by ${[...counts].map(([p, n]) => `${p} ×${n}`).join(', ')}`;
  const mid = medianSync(syncs);
  return `${slots}${proofs}${mid ? `; median run: ${describeSteps(mid.steps)}` : ''}`;
}

/**
 * What carryover added, apart for pauses with nothing left to move and pauses with changed slots:
 * whether the VM's changes land in a pre-copy round or in the pause is a race with QEMU's last
 * memory pass, and one median over both kinds moves with how the race went. The with-carryover
 * samples pair with the syncs in order (one pause per with-carryover migration); no rows if not.
 */
export function addedByKind(c: string, samples: readonly QemuDowntimeSample[], syncs: readonly { readonly ms: number; readonly slots: number }[], withoutMedianMs: number): BenchRow[] {
  const runs = samples.filter((x) => x.mode === 'with-trigger');
  if (runs.length !== syncs.length || runs.length === 0) return [];
  const rows: BenchRow[] = [];
  for (const [variant, moved] of [['nothing left to move in the pause', false], ['changed slots left to the pause', true]] as const) {
    const picked = runs.flatMap((x, i) => ((syncs[i]?.slots ?? 0) > 0 === moved ? [{ downtime: x.qemuDowntimeMs, sync: syncs[i]?.ms ?? NaN }] : []));
    if (picked.length === 0) continue;
    rows.push({
      suite: 'qemu', case: `${c}: added by carryover (median with − median without)`, variant, value: median(picked.map((x) => x.downtime)) - withoutMedianMs, unit: 'ms',
      note: `${picked.length} of ${runs.length} migrations; their engine sync median ${median(picked.map((x) => x.sync)).toFixed(1)} ms`,
    });
  }
  return rows;
}

/** The upper middle of `xs` (NaN when empty), as the bench's other medians. */
function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}
