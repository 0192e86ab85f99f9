import { describe, expect, it } from 'vitest';
import type { ChildResult, ChildRunner } from './first-pause-bench.js';
import { firstPauseRows, measureFirstPauses, parseFirstPauseBenchOptions, runFirstPauseBench } from './first-pause-bench.js';

const result = (mode: 'eager' | 'lazy', ...pauses: [number, number][]): ChildResult => ({ mode, pauses: pauses.map(([pauseMs, cpuMs]) => ({ pauseMs, cpuMs, processCpuMs: cpuMs + 1 })) });

describe('bench first-pause', () => {
  it('bench first-pause — options: four processes per mode, 10^4 flows, 100 changed, three pauses; out-of-range values refused by name', () => {
    expect(parseFirstPauseBenchOptions()).toEqual({ processes: 4, flows: 10_000, changed: 100, pauses: 3 });
    expect(Object.isFrozen(parseFirstPauseBenchOptions({ processes: 2 }))).toBe(true);
    expect(() => parseFirstPauseBenchOptions({ processes: 0 })).toThrow(/processes 0 must be an integer 1\.\.100/);
    expect(() => parseFirstPauseBenchOptions({ pauses: 1 })).toThrow(/pauses 1 .*the first and at least one later/);
    expect(() => parseFirstPauseBenchOptions({ flows: 1_000, changed: 1_001 })).toThrow(/changed 1001 must be an integer 0\.\.1000/);
    expect(() => parseFirstPauseBenchOptions({ changed: -1 })).toThrow(/changed -1 must be an integer 0\.\.10000/);
    expect(parseFirstPauseBenchOptions({ changed: 0 }).changed).toBe(0);
    expect(() => parseFirstPauseBenchOptions({ flows: 2.5 })).toThrow(/flows 2\.5/);
  });

  it('bench first-pause — rows: per mode the median first pause and the later ones with their CPU, and lazy ÷ eager', () => {
    const o = parseFirstPauseBenchOptions({ processes: 2 });
    const rows = firstPauseRows([
      result('eager', [10, 6], [8, 5], [9, 5]),
      result('lazy', [20, 11], [9, 5], [8, 4]),
      result('lazy', [16, 9], [8, 5], [7, 4]),
      result('eager', [12, 7], [9, 6], [8, 5]),
    ], o);
    const row = (c: string, mode: string) => rows.find((r) => r.case === c && (r.variant ?? '').includes(mode));
    expect(row('first pause of a fresh controller process', 'eager')?.value).toBe(11);
    expect(row('first pause of a fresh controller process', 'eager')?.note).toMatch(/median of 2 processes \(10\.0–12\.0\); .*CPU in it: main thread 6\.50 ms \(6\.00–7\.00\), whole process 7\.50 ms/);
    expect(row('first pause of a fresh controller process', 'lazy')?.value).toBe(18);
    expect(row('later pauses of the same processes', 'lazy')?.value).toBe(8);
    expect(row('later pauses of the same processes', 'lazy')?.note).toMatch(/median of 4 .*first ÷ later 2\.25× in time, .* in main thread CPU/);
    const ratio = rows.find((r) => r.case === 'first pause, lazy ÷ eager compilation');
    expect(ratio?.value).toBe(1.64);
    expect(ratio?.note).toMatch(/18\.0 ms \/ 11\.0 ms; the controller's main thread CPU in it 10\.0 \/ 6\.50 ms = 1\.54×/);
  });

  it('bench first-pause — the modes alternate one process at a time (an in-process fake runner stands in for the launcher)', async () => {
    const order: string[] = [];
    const fake: ChildRunner = async (mode) => {
      order.push(mode);
      return result(mode, [1, 1], [1, 1]);
    };
    const r = await measureFirstPauses({ processes: 3 }, fake, () => undefined);
    expect(order).toEqual(['eager', 'lazy', 'lazy', 'eager', 'eager', 'lazy']);
    expect(r).toHaveLength(6);
  });

  it('bench first-pause — through the real launcher: each child runs the compile mode it was given, migrates and reports its pauses', { timeout: 240_000 }, async () => {
    // Needs the build (npm test builds first): the children are `node carryover.mjs bench first-pause --child`.
    const rows = await runFirstPauseBench({ processes: 1, flows: 200, changed: 5, pauses: 2 }, undefined, () => undefined);
    const firsts = rows.filter((r) => r.case === 'first pause of a fresh controller process');
    expect(firsts.map((r) => r.variant)).toEqual(['full / flows=200 / changed=5 / eager compilation (default)', 'full / flows=200 / changed=5 / lazy (CARRYOVER_EAGER_COMPILE=0)']);
    for (const r of rows) expect(typeof r.value === 'number' && r.value > 0).toBe(true);
    expect(rows.find((r) => r.case === 'first pause, lazy ÷ eager compilation')).toBeDefined();
  });
});
