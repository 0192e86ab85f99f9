import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATE_BENCH_OPTIONS, parseMigrateBenchOptions } from './migrate-bench.js';
import type { CopySample, MigrateBenchResult, PauseSample } from './migrate-bench.js';
import { floorMs, medianMinimum, medianPause, migrateGoals, migrateRows } from './migrate-report.js';
import type { MinimumSample } from './migrate-minimum.js';

const requests = { writes: 4, updates: 5, reads: 6, packetOuts: 100 };
const steps = { totalMs: 1, steps: { freeze: 0.2, finalDelta: 0.4, importStaged: 0.3, activate: 0.1 }, otherMs: 0 };

function pause(profile: 'full' | 'bmv2', flows: number, changed: number, pauseMs: number): PauseSample {
  return { profile, flows, changed, pauseMs, steps, requests, targetOps: 1000, retries: 0, roundTripMs: 0.3, finalSlots: changed, snapshot: { slots: flows, ms: 1000 }, delta: { slots: changed, ms: 10 }, heapBytes: flows * 800 };
}
const copy = (profile: 'full' | 'bmv2', flows: number, pauseMs: number): CopySample => ({ profile, flows, pauseMs, steps, requests, targetOps: flows * 10, retries: 0, roundTripMs: 0.3 });

function result(pauses: PauseSample[], copies: CopySample[], extra: Partial<MigrateBenchResult['options']> = {}, gcExposed = true): MigrateBenchResult {
  return { pauses, copies, minimums: [], indexBytesPerFlow: { full: 90 }, gcExposed, retried: [], options: parseMigrateBenchOptions({ profiles: ['full'], ...extra }) };
}

describe('bench migrate report', () => {
  const run = result(
    [pause('full', 10_000, 100, 4), pause('full', 10_000, 100, 6), pause('full', 10_000, 100, 5), pause('full', 10_000, 500, 9), pause('full', 100_000, 1000, 25), pause('full', 100_000, 5000, 60), pause('full', 100_000, 100, 5.5)],
    [copy('full', 10_000, 200), copy('full', 100_000, 2_000)],
  );

  it('bench migrate report — medians per row, the goals marked REACHED or MISSED against them', () => {
    expect(medianPause(run.pauses, 'full', 10_000, 100)).toBe(5);
    expect(medianPause(run.pauses, 'bmv2', 10_000, 100)).toBeUndefined();
    expect(migrateGoals(run).map((g) => [g.goal, g.measured, g.reached])).toEqual([
      ['full: pause-window sync at 10000 flows / 1 % changing ≤ 5 ms', 5, true],
      ['full: pause-window sync at 100000 flows / 1 % changing ≤ 20 ms', 25, false],
      ['full: ≥ 20× faster than stop-and-copy at 100000 flows (1 % changing)', 80, true],
      ['full: 100000 vs 10000 flows with 100 changed within 1.5×', 1.1, true],
    ]);
  });

  it('bench migrate report — rows: pause, requests and throughput per row, the copy and its ratios, flatness, memory, goals, and real BMv2 not run', () => {
    const rows = migrateRows(run);
    const find = (c: string, v: string): (typeof rows)[number] | undefined => rows.find((r) => r.case === c && r.variant === v);
    expect(find('pause-window sync', 'full / flows=10000 / changed=100')).toMatchObject({ value: 5, unit: 'ms', note: expect.stringMatching(/^median of 3 \(4\.00–6\.00\)/) as unknown });
    expect(find('switch requests in the pause', 'full / flows=10000 / changed=100')).toMatchObject({ value: 110, unit: 'requests' });
    expect(find('pre-copy throughput', 'full / flows=100000 / changed=1000')?.value).toBeCloseTo(101_000 / 1.01, 0);
    expect(find('stop-and-copy / pause-window sync', 'full / flows=100000 / changed=1000')).toMatchObject({ value: 80, unit: '×' });
    expect(find('pause-window sync with 100 changed: 100000 / 10000 flows', 'full')?.value).toBeCloseTo(1.1, 5);
    expect(find('controller memory per tracked flow', 'full / flows=10000')).toMatchObject({ value: 800, unit: 'B/flow', note: expect.stringContaining('GC forced') as unknown });
    expect(rows.filter((r) => r.case === 'goal').map((r) => r.note)).toEqual(['REACHED', 'MISSED', 'REACHED', 'REACHED']);
    expect(rows[rows.length - 1]).toMatchObject({ value: 'NOT RUN', note: 'not run: no real target configured (set CARRYOVER_BMV2 to simple_switch_grpc)' });
  });

  it('bench migrate report — without forced GC the memory row says so; a target is named in the not-run row; goals not measured say so', () => {
    const rows = migrateRows(result([pause('full', 10_000, 100, 5)], [], { sizes: [10_000, 100_000], target: '127.0.0.1:9559' }, false));
    expect(rows.find((r) => r.case === 'controller memory per tracked flow')?.note).toContain('NO forced GC');
    expect(rows[rows.length - 1]?.note).toContain('--target 127.0.0.1:9559');
    expect(rows.filter((r) => r.case === 'goal' && r.value === 'NOT RUN').map((r) => r.note)).toContain('not measured in this run');
    expect(rows.some((r) => r.case.startsWith('migrations measured again'))).toBe(false);
    const again = migrateRows({ ...result([pause('full', 10_000, 100, 5)], []), retried: ['full, 10000 flows, 100 changed: snapshot: pre-copy failed: timeout'] });
    expect(again.find((r) => r.case === 'migrations measured again after pre-copy failed')).toMatchObject({ value: 1, note: expect.stringContaining('pre-copy failed: timeout') as unknown });
  });

  it('bench migrate report — a run of one size has only that population\'s goals and no flatness goal (a size against itself proves nothing)', () => {
    const big = result([pause('full', 100_000, 1000, 130)], [copy('full', 100_000, 12_000)], { sizes: [100_000], counts: [1000], shares: [] });
    expect(migrateGoals(big).map((g) => [g.goal, g.reached])).toEqual([
      ['full: pause-window sync at 100000 flows / 1 % changing ≤ 20 ms', false],
      ['full: ≥ 20× faster than stop-and-copy at 100000 flows (1 % changing)', true],
    ]);
    const small = result([pause('full', 10_000, 100, 4)], [], { sizes: [10_000], counts: [100], shares: [] });
    expect(migrateGoals(small).map((g) => [g.goal, g.reached])).toEqual([['full: pause-window sync at 10000 flows / 1 % changing ≤ 5 ms', true]]);
  });

  it('bench migrate report — real BMv2: the floor per row (median), pause / floor, both goals; no not-run row', () => {
    const floor = (ms: number, overlap = true): MinimumSample => ({ profile: 'real-bmv2', path: 'in-band', targetOps: 200, overlap, flows: 10_000, changed: 100, ms, freezeMs: 1, slotsMs: ms - 2, readsMs: ms / 2, activateMs: 1, requests: { writes: 2, updates: 2, reads: 0, packetOuts: 200 } });
    const real = { ...pause('full', 10_000, 100, 0), profile: 'real-bmv2' as const };
    const r: MigrateBenchResult = {
      ...result([{ ...real, pauseMs: 90 }, { ...real, pauseMs: 70 }, { ...real, pauseMs: 80 }], [], { profiles: [], bmv2: '/x/simple_switch_grpc' }),
      minimums: [floor(60), floor(70, false), floor(50), floor(80, false), floor(55), floor(75, false)],
    };
    expect(medianMinimum(r.minimums, 10_000, 100)).toBe(55);
    expect(medianMinimum(r.minimums, 10_000, 100, false)).toBe(75);
    const rows = migrateRows(r);
    expect(floorMs(r.minimums, 10_000, 100)).toBe(55);
    expect(floorMs([floor(60), floor(40, false)], 10_000, 100)).toBe(40);
    expect(rows.find((x) => x.case === 'minimum requests, each write sent as its read answers')).toMatchObject({ variant: 'real-bmv2 / flows=10000 / changed=100', value: 55, note: expect.stringContaining('202 requests') as unknown });
    expect(rows.find((x) => x.case.startsWith('minimum requests, writes after every read'))?.value).toBe(75);
    expect(rows.find((x) => x.case === 'pause-window sync / minimum requests')?.value).toBeCloseTo(80 / 55, 5);
    expect(migrateGoals(r).map((g) => [g.goal, g.reached])).toEqual([
      ['real BMv2: pause-window sync at 10000 flows / 100 changed ≤ 50 ms', false],
      ["real BMv2: pause within 1.5× of the minimum requests' time (10000 flows / 100 changed)", true],
    ]);
    expect(rows.some((x) => x.value === 'NOT RUN' && x.case.startsWith('pause-window sync on real BMv2'))).toBe(false);
  });

  it('bench migrate report — the sims over P4Runtime: the floor row says how it was made, and the ratio has no goal', () => {
    const floor = (ms: number): MinimumSample => ({ profile: 'full', path: 'p4runtime', targetOps: 1800, atomic: true, overlap: false, flows: 10_000, changed: 100, ms, freezeMs: 1, slotsMs: ms - 1, readsMs: 2, activateMs: ms - 3, requests: { writes: 2, updates: 902, reads: 1, packetOuts: 0 } });
    const r: MigrateBenchResult = { ...result([pause('full', 10_000, 100, 9), pause('full', 10_000, 100, 12), pause('full', 10_000, 100, 15)], []), minimums: [floor(6), floor(8), floor(7)] };
    const rows = migrateRows(r);
    expect(rows.find((x) => x.case.startsWith('minimum requests over P4Runtime'))).toMatchObject({ variant: 'full / flows=10000 / changed=100', value: 7, note: expect.stringContaining("then the cells' Write (atomic, with the activation)") as unknown });
    expect(rows.find((x) => x.case === 'pause-window sync / minimum requests')).toMatchObject({ value: 12 / 7, note: expect.stringContaining('no goal') as unknown });
    expect(migrateGoals(r).some((g) => g.goal.includes('minimum'))).toBe(false);
  });

  it('bench migrate report — the pause row says in how many pauses the controller collected its young generation, and its old one, when observed', () => {
    const seen = (ms: number, count: number, gcMs: number, major = 0, majorMs = 0): PauseSample => ({ ...pause('full', 10_000, 100, ms), youngGcs: { count, ms: gcMs }, majorGcs: { count: major, ms: majorMs } });
    const note = (xs: PauseSample[]): string => String(migrateRows(result(xs, [])).find((r) => r.case === 'pause-window sync')?.note);
    expect(note([seen(4, 0, 0), seen(6, 1, 7.5), seen(5, 2, 3)])).toContain('a young-generation collection of the controller inside 2 of 3 (10.5 ms in all); a major collection of the controller inside 0 of 3; ');
    expect(note([seen(4, 0, 0), seen(6, 0, 0, 1, 16)])).toContain('a young-generation collection of the controller inside 0 of 2; a major collection of the controller inside 1 of 2 (16.0 ms in all); ');
    expect(note([pause('full', 10_000, 100, 4)])).not.toMatch(/young-generation|major/);
  });

  it('bench migrate report — options: defaults are the issue rows; bad sizes and repeats are refused', () => {
    expect(DEFAULT_MIGRATE_BENCH_OPTIONS).toMatchObject({ profiles: ['full', 'bmv2'], sizes: [10_000, 100_000], shares: [0.01, 0.05], counts: [100] });
    expect(() => parseMigrateBenchOptions({ sizes: [100_000, 10_000] })).toThrow(RangeError);
    expect(() => parseMigrateBenchOptions({ repeats: 0 })).toThrow(RangeError);
    expect(() => parseMigrateBenchOptions({ shares: [2] })).toThrow(RangeError);
    expect(() => parseMigrateBenchOptions({ bmv2Sizes: [10_000, 1_000] })).toThrow(/bmv2Sizes/);
  });

  it('bench migrate report — the quiet before each pause: 50 ms by default, 0..60000 accepted, said in the pause rows', () => {
    expect(DEFAULT_MIGRATE_BENCH_OPTIONS.quietMs).toBe(50);
    expect(parseMigrateBenchOptions({ quietMs: 0 }).quietMs).toBe(0);
    expect(parseMigrateBenchOptions({ quietMs: 1000 }).quietMs).toBe(1000);
    expect(() => parseMigrateBenchOptions({ quietMs: -1 })).toThrow(/quietMs -1 must be an integer 0\.\.60000/);
    expect(() => parseMigrateBenchOptions({ quietMs: 2.5 })).toThrow(RangeError);
    expect(() => parseMigrateBenchOptions({ quietMs: 60_001 })).toThrow(RangeError);
    const rows = (quietMs: number): string[] => migrateRows(result([...run.pauses], [...run.copies], { quietMs })).filter((r) => r.case === 'pause-window sync' || r.case === 'stop-and-copy pause').map((r) => String(r.note));
    expect(rows(50)).toHaveLength(7); // five pause rows (profile · flows · changed) and two stop-and-copy rows
    expect(rows(50).every((n) => n.includes('50 ms quiet, then one read round trip'))).toBe(true);
    const proven = migrateRows(result(run.pauses.map((p, i) => (i === 0 ? { ...p, proof: 'change-log' as const } : { ...p, proof: 'change-numbers' as const })), [...run.copies]));
    expect(proven.filter((r) => r.case === 'pause-window sync').map((r) => /proven from the numbered digests in (\d+) of (\d+)/.exec(String(r.note))?.slice(1).join('/'))).toContain('2/3');
    expect(rows(1000).every((n) => n.includes('1000 ms quiet, then one read round trip'))).toBe(true);
  });
});
