/**
 * The table of `carryover bench migrate`: from the samples of one run, the rows per profile,
 * population and number of changed flows (median pause, where its time went, the requests it
 * made), the stop-and-copy baseline and the speed-up, flatness, memory per flow, and the issue's
 * goals marked REACHED or MISSED. Pure: no switch, no clock.
 */
import type { BenchRow } from './results.js';
import type { CopySample, MigrateBenchResult, PauseSample } from './migrate-bench.js';
import type { MinimumSample } from './migrate-minimum.js';
import type { MigrateProfile } from './migrate-rig.js';
import { checkGoal, median } from './migrate-flows.js';
import type { GoalCheck } from './migrate-flows.js';
import { totalRequests } from './switch-request-counter.js';
import type { SwitchRequestCounts } from './switch-request-counter.js';
import type { StepTimes } from './timed-device-api.js';

const SUITE = 'migrate';
const STEP_NAMES: Readonly<Record<string, string>> = { freeze: 'freeze', finalDelta: 'final delta', importStaged: 'import', activate: 'activate', exportSnapshot: 'read all' };

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** "freeze 0.8, final delta 2.1, …, engine 0.3 ms". */
export function describeSteps(s: StepTimes): string {
  const parts = Object.entries(s.steps).map(([k, v]) => `${STEP_NAMES[k] ?? k} ${ms(v)}`);
  return `${parts.join(', ')}, between calls ${ms(s.otherMs)} ms`;
}

/** "12 writes (40 updates), 3 reads, 210 packet-outs; 1104 register ops". */
export function describeRequests(r: SwitchRequestCounts, targetOps: number, retries = 0): string {
  return `${r.writes} writes (${r.updates} updates), ${r.reads} reads, ${r.packetOuts} packet-outs; ${targetOps} register ops${retries > 0 ? `; ${retries} in-band retries` : ''}`;
}

/** The sample with the median pause (the lower middle one of an even count). */
function medianSample<T extends { readonly pauseMs: number }>(xs: readonly T[]): T {
  const sorted = [...xs].sort((a, b) => a.pauseMs - b.pauseMs);
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

/** Groups samples by a key, keeping first-seen order. */
function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

const pauseKey = (p: { profile: string; flows: number; changed: number }): string => `${p.profile}/${p.flows}/${p.changed}`;

/** The median pause of one row, or undefined when it was not measured. */
export function medianPause(pauses: readonly PauseSample[], profile: MigrateProfile, flows: number, changed: number): number | undefined {
  const xs = pauses.filter((p) => pauseKey(p) === pauseKey({ profile, flows, changed })).map((p) => p.pauseMs);
  return xs.length === 0 ? undefined : median(xs);
}

function copyOf(copies: readonly CopySample[], profile: MigrateProfile, flows: number): CopySample | undefined {
  return copies.find((c) => c.profile === profile && c.flows === flows);
}

/** The median minimum-requests time of one row on real BMv2 in one order, or undefined when not measured. */
export function medianMinimum(minimums: readonly MinimumSample[], flows: number, changed: number, overlap = true): number | undefined {
  const xs = minimums.filter((m) => m.flows === flows && m.changed === changed && m.overlap === overlap).map((m) => m.ms);
  return xs.length === 0 ? undefined : median(xs);
}

/** The floor of a row: the faster median of the two orders (what BMv2 needs, however a client orders them). */
export function floorMs(minimums: readonly MinimumSample[], flows: number, changed: number): number | undefined {
  const xs = [medianMinimum(minimums, flows, changed, true), medianMinimum(minimums, flows, changed, false)].filter((x): x is number => x !== undefined);
  return xs.length === 0 ? undefined : Math.min(...xs);
}

/** The minimum requests' rows (each order) and the pause / floor ratio, per real-BMv2 row. */
function minimumRows(r: MigrateBenchResult): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const xs of groupBy(r.minimums, (m) => `${m.flows}/${m.changed}/${m.overlap}`).values()) {
    const m = medianSample(xs.map((x) => ({ ...x, pauseMs: x.ms })));
    const variant = `${m.profile} / flows=${m.flows} / changed=${m.changed}`;
    const times = xs.map((x) => x.ms);
    const how = m.path === 'p4runtime'
      ? [`minimum requests over P4Runtime (freeze; one Read of the slots' cells; one Write of them with the activation)`, `Read ${ms(m.readsMs)}, then the cells' Write${m.atomic ? ' (atomic, with the activation)' : ''} to ${ms(m.slotsMs)}`]
      : m.overlap
      ? [`minimum requests, each write sent as its read answers`, `${m.changed} reads ‖ writes ${ms(m.slotsMs)} (last read answered at ${ms(m.readsMs)})`]
      : [`minimum requests, writes after every read (the engine's order)`, `reads ${ms(m.readsMs)}, then writes to ${ms(m.slotsMs)}`];
    rows.push({ suite: SUITE, case: how[0] as string, variant, value: median(times), unit: 'ms', note: `median of ${xs.length} (${ms(Math.min(...times))}–${ms(Math.max(...times))}), each right after a pause on the same switches; median run: freeze ${ms(m.freezeMs)}, ${how[1] as string}, activation ${ms(m.activateMs)} ms; ${totalRequests(m.requests)} requests (${describeRequests(m.requests, m.targetOps)})` });
  }
  for (const xs of groupBy(r.minimums, (m) => `${m.flows}/${m.changed}`).values()) {
    const m = xs[0] as MinimumSample;
    const pause = medianPause(r.pauses, m.profile, m.flows, m.changed);
    const floor = floorMs(r.minimums, m.flows, m.changed);
    const goal = m.profile === 'real-bmv2' ? ' (goal ≤ 1.5)' : ' (no goal: what the sim needs on this machine)';
    if (pause !== undefined && floor !== undefined) rows.push({ suite: SUITE, case: 'pause-window sync / minimum requests', variant: `${m.profile} / flows=${m.flows} / changed=${m.changed}`, value: pause / floor, unit: '×', note: `${ms(pause)} ms / ${ms(floor)} ms, the faster order's median${goal}` });
  }
  return rows;
}

/** The issue's goals (stated for `full`; flatness on every profile) against the run's figures. */
export function migrateGoals(r: MigrateBenchResult): GoalCheck[] {
  const o = r.options;
  // The goals name two populations (10^4 and 10^5): with two sizes or more, the smallest and the
  // largest play them; a run of one size is held only to the goals of the population it is
  // nearer to, and to no flatness goal (a size against itself proves nothing).
  const one = o.sizes.length === 1;
  const small = one && (o.sizes[0] as number) >= 100_000 ? undefined : (o.sizes[0] as number);
  const big = one && small !== undefined ? undefined : (o.sizes[o.sizes.length - 1] as number);
  const share = o.shares[0] ?? 0.01;
  const at = (size: number): number => Math.round(share * size);
  const goals: GoalCheck[] = [];
  if (o.profiles.includes('full')) {
    if (small !== undefined) goals.push(checkGoal(`full: pause-window sync at ${small} flows / ${share * 100} % changing ≤ 5 ms`, medianPause(r.pauses, 'full', small, at(small)), { max: 5 }, 'ms'));
    if (big !== undefined) goals.push(checkGoal(`full: pause-window sync at ${big} flows / ${share * 100} % changing ≤ 20 ms`, medianPause(r.pauses, 'full', big, at(big)), { max: 20 }, 'ms'));
  }
  for (const profile of o.profiles) {
    if (big === undefined) continue;
    const copy = copyOf(r.copies, profile, big);
    const pause = medianPause(r.pauses, profile, big, at(big));
    goals.push(checkGoal(`${profile}: ≥ 20× faster than stop-and-copy at ${big} flows (${share * 100} % changing)`, copy && pause ? copy.pauseMs / pause : undefined, { min: 20 }, '×'));
    if (small === undefined) continue;
    for (const k of o.counts) {
      const a = medianPause(r.pauses, profile, small, k);
      const b = medianPause(r.pauses, profile, big, k);
      goals.push(checkGoal(`${profile}: ${big} vs ${small} flows with ${k} changed within 1.5×`, a && b ? Math.max(a, b) / Math.min(a, b) : undefined, { max: 1.5 }, '×'));
    }
  }
  if (o.bmv2 !== undefined) {
    const flows = o.bmv2Sizes[0] as number;
    const k = o.counts[0] ?? 100;
    const pause = medianPause(r.pauses, 'real-bmv2', flows, k);
    const floor = floorMs(r.minimums, flows, k);
    goals.push(checkGoal(`real BMv2: pause-window sync at ${flows} flows / ${k} changed ≤ 50 ms`, pause, { max: 50 }, 'ms'));
    goals.push(checkGoal(`real BMv2: pause within 1.5× of the minimum requests' time (${flows} flows / ${k} changed)`, pause !== undefined && floor !== undefined ? pause / floor : undefined, { max: 1.5 }, '×'));
  }
  return goals;
}

/** How many of `xs` had a collection of the controller of `kind` inside (empty when not observed). */
function gcNote(xs: readonly PauseSample[], kind: 'youngGcs' | 'majorGcs', what: string): string {
  const seen = xs.filter((x) => x[kind] !== undefined);
  if (seen.length === 0) return '';
  const hit = seen.filter((x) => (x[kind]?.count ?? 0) > 0);
  return `${what} of the controller inside ${hit.length} of ${seen.length}${hit.length > 0 ? ` (${ms(hit.reduce((n, x) => n + (x[kind]?.ms ?? 0), 0))} ms in all)` : ''}; `;
}

function pauseRows(r: MigrateBenchResult): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const xs of groupBy(r.pauses, pauseKey).values()) {
    const m = medianSample(xs);
    const variant = `${m.profile} / flows=${m.flows} / changed=${m.changed}`;
    const times = xs.map((x) => x.pauseMs);
    rows.push({ suite: SUITE, case: 'pause-window sync', variant, value: median(times), unit: 'ms', note: `median of ${xs.length} (${ms(Math.min(...times))}–${ms(Math.max(...times))}); median run: ${describeSteps(m.steps)}; final delta ${m.finalSlots} slots; proven from the numbered digests in ${xs.filter((x) => x.proof === 'change-numbers').length} of ${xs.length}; ${gcNote(xs, 'youngGcs', 'a young-generation collection')}${gcNote(xs, 'majorGcs', 'a major collection')}${r.options.quietMs} ms quiet, then one read round trip ${ms(m.roundTripMs)} ms just before; destination checked` });
    rows.push({ suite: SUITE, case: 'switch requests in the pause', variant, value: totalRequests(m.requests), unit: 'requests', note: `both switches: ${describeRequests(m.requests, m.targetOps, m.retries)}` });
    const slots = m.snapshot.slots + m.delta.slots;
    const secs = (m.snapshot.ms + m.delta.ms) / 1000;
    rows.push({ suite: SUITE, case: 'pre-copy throughput', variant, value: slots / secs, unit: 'slots/s', note: `snapshot ${m.snapshot.slots} slots in ${ms(m.snapshot.ms)} ms (${Math.round((m.snapshot.slots / m.snapshot.ms) * 1000)}/s); ${m.delta.slots === 0 ? 'no delta round (nothing changed)' : `delta round ${m.delta.slots} slots changed → staged in ${ms(m.delta.ms)} ms (includes ≤ 2 polling intervals)`}` });
  }
  return rows;
}

function copyRows(r: MigrateBenchResult): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const c of r.copies) {
    rows.push({ suite: SUITE, case: 'stop-and-copy pause', variant: `${c.profile} / flows=${c.flows}`, value: c.pauseMs, unit: 'ms', note: `${describeSteps(c.steps)}; ${totalRequests(c.requests)} requests (${describeRequests(c.requests, c.targetOps, c.retries)}); ${r.options.quietMs} ms quiet, then one read round trip ${ms(c.roundTripMs)} ms just before; destination checked` });
    for (const k of [...new Set(r.pauses.filter((p) => p.profile === c.profile && p.flows === c.flows).map((p) => p.changed))]) {
      const p = medianPause(r.pauses, c.profile, c.flows, k);
      if (p !== undefined) rows.push({ suite: SUITE, case: 'stop-and-copy / pause-window sync', variant: `${c.profile} / flows=${c.flows} / changed=${k}`, value: c.pauseMs / p, unit: '×', note: `${ms(c.pauseMs)} ms / ${ms(p)} ms` });
    }
  }
  return rows;
}

function memoryRows(r: MigrateBenchResult): BenchRow[] {
  const how = r.gcExposed ? 'GC forced before each reading (node --expose-gc)' : 'NO forced GC (run node with --expose-gc): indicative only';
  const rows: BenchRow[] = [];
  for (const xs of groupBy(r.pauses, (p) => `${p.profile}/${p.flows}`).values()) {
    const first = xs[0] as PauseSample;
    const per = median(xs.map((x) => x.heapBytes / x.flows));
    const index = r.indexBytesPerFlow[first.profile];
    rows.push({
      suite: SUITE, case: 'controller memory per tracked flow', variant: `${first.profile} / flows=${first.flows}`, value: per, unit: 'B/flow',
      note: `heap the migration held right after the pause, staged everywhere, that its rollback released (engine + in-process device APIs: the source's exported keys, the destination's placements), median of ${xs.length}; ${how}${index !== undefined ? `; the source plugin's slot index, standing: ≈ ${Math.round(index)} B/flow` : ''}`,
    });
  }
  return rows;
}

/** The run's rows: measurements, then the goals, then what was not run. */
export function migrateRows(r: MigrateBenchResult): BenchRow[] {
  const o = r.options;
  const rows = [...pauseRows(r), ...minimumRows(r), ...copyRows(r)];
  for (const profile of o.profiles) {
    for (const k of o.counts) {
      const a = medianPause(r.pauses, profile, o.sizes[0] as number, k);
      const b = medianPause(r.pauses, profile, o.sizes[o.sizes.length - 1] as number, k);
      if (a !== undefined && b !== undefined && o.sizes.length > 1) rows.push({ suite: SUITE, case: `pause-window sync with ${k} changed: ${o.sizes[o.sizes.length - 1]} / ${o.sizes[0]} flows`, variant: profile, value: b / a, unit: '×', note: `${ms(b)} ms / ${ms(a)} ms (flat = 1)` });
    }
  }
  rows.push(...memoryRows(r));
  if (r.retried.length > 0) rows.push({ suite: SUITE, case: 'migrations measured again after pre-copy failed', value: r.retried.length, unit: 'migrations', note: `rolled back and checked first; the first failure: ${r.retried[0]}` });
  for (const g of migrateGoals(r)) {
    rows.push({ suite: SUITE, case: 'goal', variant: g.goal, value: g.measured ?? 'NOT RUN', unit: g.unit, note: g.reached === undefined ? 'not measured in this run' : g.reached ? 'REACHED' : 'MISSED' });
  }
  if (o.bmv2 !== undefined) return rows;
  const why = o.target !== undefined ? `--target ${o.target} names one switch; a migration needs a source and a destination (set CARRYOVER_BMV2: the bench starts two)` : 'no real target configured (set CARRYOVER_BMV2 to simple_switch_grpc)';
  rows.push({ suite: SUITE, case: 'pause-window sync on real BMv2 (≤ 50 ms at 10^4; within 1.5× of the minimum requests)', variant: 'simple_switch_grpc', value: 'NOT RUN', unit: 'ms', note: `not run: ${why}` });
  return rows;
}
