/**
 * `carryover bench first-pause`: the pause-window sync as a one-shot `carryover migrate` makes it —
 * the first pause of a fresh controller process — beside the later pauses of the same process,
 * with the launcher's eager compilation (scenarios/cli/eager-compile.ts) on and off.
 *
 * `bench migrate` runs many migrations in one process and reports medians: after the first, the
 * pause's code is compiled and its inline caches are warm. An operator's `carryover migrate` runs
 * one migration per process, so its pause is always the first. Here each process is the launcher
 * itself (`carryover bench first-pause --child`, CARRYOVER_EAGER_COMPILE set per mode, the modes
 * alternating so they share the machine's load): it starts two `full` sims, establishes the flows,
 * and measures `pauses` migrations of the engine, each checked and rolled back as in `bench migrate`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CompileMode } from '../cli/eager-compile.js';
import { EAGER_COMPILE_ENV, parseCompileMode } from '../cli/eager-compile.js';
import { measurePause, parseMigrateBenchOptions } from './migrate-bench.js';
import { median } from './migrate-flows.js';
import { MigrateRig } from './migrate-rig.js';
import type { BenchRow } from './results.js';
import { CARRYOVER_BIN } from './sim-process.js';

/** Knobs of the suite. */
export interface FirstPauseBenchOptions {
  /** Fresh processes per compile mode. */
  readonly processes: number;
  /** Tracked flows of the VM. */
  readonly flows: number;
  /** Flows changed between the last pre-copy round and the freeze. */
  readonly changed: number;
  /** Migrations measured in each process: the first, then later ones for comparison (≥ 2). */
  readonly pauses: number;
}

/** Four processes per mode, 10^4 flows, 100 changed (1 %), three pauses each. */
export const DEFAULT_FIRST_PAUSE_BENCH_OPTIONS: FirstPauseBenchOptions = Object.freeze({ processes: 4, flows: 10_000, changed: 100, pauses: 3 });

/** Validates the options at the edge; returns them frozen (RangeError naming the option otherwise). */
export function parseFirstPauseBenchOptions(o: Partial<FirstPauseBenchOptions> = {}): FirstPauseBenchOptions {
  const r = { ...DEFAULT_FIRST_PAUSE_BENCH_OPTIONS, ...o };
  const check = (name: keyof FirstPauseBenchOptions, lo: number, hi: number, what: string): void => {
    const v = r[name];
    if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new RangeError(`bench first-pause: ${name} ${v} must be an integer ${lo}..${hi} (${what})`);
  };
  check('processes', 1, 100, 'fresh processes per compile mode');
  check('flows', 100, 100_000, 'tracked flows of the VM');
  check('changed', 0, r.flows, 'flows changed before the freeze, at most the tracked flows; 0: nothing left to move');
  check('pauses', 2, 20, 'migrations per process: the first and at least one later');
  return Object.freeze(r);
}

/** One measured pause of a child process. */
export interface ChildPause {
  readonly pauseMs: number;
  /** CPU of the child's main thread (the event loop, where the pause's steps run) during the pause, ms; NaN where unknown. */
  readonly cpuMs: number;
  /** CPU of the child's whole process (V8's helper threads too) during the pause, ms. */
  readonly processCpuMs: number;
}

/** What one child process measured, in order: its first pause first. */
export interface ChildResult {
  /** The compile mode the launcher applied in the child. */
  readonly mode: CompileMode;
  readonly pauses: readonly ChildPause[];
}

/** In a child (`bench first-pause --child`): the rig, the flows, `o.pauses` checked migrations. */
export async function runFirstPauseChild(options: Partial<FirstPauseBenchOptions>): Promise<ChildResult> {
  const o = parseFirstPauseBenchOptions(options);
  const m = parseMigrateBenchOptions({ profiles: ['full'], sizes: [o.flows], shares: [], counts: [o.changed], repeats: 1 });
  const rig = await MigrateRig.start({ profile: 'full', inbandWindow: m.inbandWindow, inbandTimeoutMs: m.inbandTimeoutMs, deltaIntervalMs: m.precopyIntervalMs });
  try {
    await rig.populate(o.flows);
    const pauses: ChildPause[] = [];
    for (let i = 0; i < o.pauses; i++) {
      const s = await measurePause(rig, 0, m, o.changed, () => undefined);
      pauses.push({ pauseMs: s.pauseMs, cpuMs: s.controllerMainCpuMs ?? Number.NaN, processCpuMs: s.controllerCpuMs ?? Number.NaN });
    }
    return { mode: parseCompileMode(process.env), pauses };
  } finally {
    await rig.stop();
  }
}

/** Runs one child through the launcher with `mode`; resolves what it printed (its last stdout line, JSON). */
export type ChildRunner = (mode: CompileMode, o: FirstPauseBenchOptions) => Promise<ChildResult>;

/** The real runner: `node --expose-gc carryover.mjs bench first-pause --child …` with CARRYOVER_EAGER_COMPILE for `mode`. */
export const launcherChild: ChildRunner = async (mode, o) => {
  const args = ['--expose-gc', CARRYOVER_BIN, 'bench', 'first-pause', '--child', '--rounds', String(o.pauses), '--sizes', String(o.flows), '--changed', String(o.changed)];
  const env = { ...process.env, [EAGER_COMPILE_ENV]: mode === 'eager' ? '1' : '0' };
  const { stdout } = await promisify(execFile)(process.execPath, args, { env, timeout: 600_000, maxBuffer: 1 << 20 });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let r: ChildResult;
  try {
    r = JSON.parse(last) as ChildResult;
  } catch (e) {
    throw new Error(`bench first-pause: a child printed no result (last line: ${JSON.stringify(last.slice(0, 200))})`, { cause: e });
  }
  if (r.mode !== mode) throw new Error(`bench first-pause: a child asked for ${mode} compilation ran ${String(r.mode)}`);
  return r;
};

/** Runs `o.processes` children per mode, the modes alternating; every child's result. */
export async function measureFirstPauses(options: Partial<FirstPauseBenchOptions> = {}, run: ChildRunner = launcherChild, log: (m: string) => void = (m) => console.error(`bench first-pause: ${m}`)): Promise<ChildResult[]> {
  const o = parseFirstPauseBenchOptions(options);
  const out: ChildResult[] = [];
  for (let i = 0; i < o.processes; i++) {
    for (const mode of i % 2 === 0 ? (['eager', 'lazy'] as const) : (['lazy', 'eager'] as const)) {
      const r = await run(mode, o);
      log(`${mode}: pauses ${r.pauses.map((p) => `${p.pauseMs.toFixed(2)} ms (main thread CPU ${p.cpuMs.toFixed(2)}, process ${p.processCpuMs.toFixed(2)})`).join(', ')}`);
      out.push(r);
    }
  }
  return out;
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const spread = (xs: readonly number[]): string => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;

/** The table: per mode the first pauses and the later ones (time, the main thread's and the whole process's CPU), and eager against lazy. */
export function firstPauseRows(results: readonly ChildResult[], o: FirstPauseBenchOptions): BenchRow[] {
  const base = `full / flows=${o.flows} / changed=${o.changed}`;
  const rows: BenchRow[] = [];
  const firsts: Partial<Record<CompileMode, { ms: number; cpu: number }>> = {};
  for (const mode of ['eager', 'lazy'] as const) {
    const mine = results.filter((r) => r.mode === mode);
    const first = mine.flatMap((r) => r.pauses.slice(0, 1));
    const later = mine.flatMap((r) => r.pauses.slice(1));
    if (first.length === 0 || later.length === 0) continue;
    const f = { ms: median(first.map((p) => p.pauseMs)), cpu: median(first.map((p) => p.cpuMs)), all: median(first.map((p) => p.processCpuMs)) };
    const l = { ms: median(later.map((p) => p.pauseMs)), cpu: median(later.map((p) => p.cpuMs)), all: median(later.map((p) => p.processCpuMs)) };
    firsts[mode] = f;
    const variant = `${base} / ${mode === 'eager' ? 'eager compilation (default)' : `lazy (${EAGER_COMPILE_ENV}=0)`}`;
    rows.push({
      suite: 'first-pause', case: 'first pause of a fresh controller process', variant, value: Number(fmt(f.ms)), unit: 'ms',
      note: `median of ${first.length} processes (${spread(first.map((p) => p.pauseMs))}); the controller's CPU in it: main thread ${fmt(f.cpu)} ms (${spread(first.map((p) => p.cpuMs))}), whole process ${fmt(f.all)} ms; the two sims are fresh processes too`,
    });
    rows.push({
      suite: 'first-pause', case: 'later pauses of the same processes', variant, value: Number(fmt(l.ms)), unit: 'ms',
      note: `median of ${later.length} (${spread(later.map((p) => p.pauseMs))}); main thread CPU ${fmt(l.cpu)} ms (${spread(later.map((p) => p.cpuMs))}), whole process ${fmt(l.all)} ms; first ÷ later ${(f.ms / l.ms).toFixed(2)}× in time, ${(f.cpu / l.cpu).toFixed(2)}× in main thread CPU`,
    });
  }
  const e = firsts.eager;
  const z = firsts.lazy;
  if (e && z) {
    rows.push({
      suite: 'first-pause', case: 'first pause, lazy ÷ eager compilation', variant: base, value: Number((z.ms / e.ms).toFixed(2)), unit: '×',
      note: `${fmt(z.ms)} ms / ${fmt(e.ms)} ms; the controller's main thread CPU in it ${fmt(z.cpu)} / ${fmt(e.cpu)} ms = ${(z.cpu / e.cpu).toFixed(2)}×; the modes alternated, one process at a time`,
    });
  }
  return rows;
}

/** `carryover bench first-pause`: measures and returns the table's rows. */
export async function runFirstPauseBench(options: Partial<FirstPauseBenchOptions> = {}, run?: ChildRunner, log?: (m: string) => void): Promise<BenchRow[]> {
  const o = parseFirstPauseBenchOptions(options);
  return firstPauseRows(await measureFirstPauses(o, run, log), o);
}
