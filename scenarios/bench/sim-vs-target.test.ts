import { describe, expect, it } from 'vitest';
import type { BenchRow } from './results.js';
import { simVsTargetRows } from './sim-vs-target.js';

const side = (variant: string, bare: number, switchCpu?: number): BenchRow[] => [
  { suite: 'pipeline', case: 'in-band READ_SLOT side by side: bare grpc-js client', variant, value: bare, unit: 'requests/s' },
  { suite: 'pipeline', case: 'in-band READ_SLOT side by side: plugin in-band backend', variant, value: bare / 2, unit: 'requests/s' },
  ...(switchCpu === undefined ? [] : [{ suite: 'pipeline', case: 'in-band READ_SLOT side by side: switch CPU while serving the bare client', variant, value: switchCpu, unit: 'ms per 1k requests' }]),
];

describe('bench pipeline — the sim against a target', () => {
  it('bench pipeline — compares what the same bare client was served, the switches\' CPU and the sim\'s register read (rate and CPU per slot) against the target\'s in-band rate', () => {
    const rows = [...side('sim', 9_000, 40), ...side('bmv2', 6_000, 130), { suite: 'pipeline', case: 'read whole conntrack group', variant: 'sim full', value: 12_000, unit: 'slots/s' }, { suite: 'pipeline', case: 'read whole conntrack group: switch CPU per slot', variant: 'sim full', value: 26, unit: 'µs per slot' }];
    const out = simVsTargetRows(rows, 'sim', 'bmv2', 'sim full');
    expect(out.map((r) => [r.case, r.value])).toEqual([
      ['in-band requests/s served to the same bare client, sim / target', 1.5],
      ['switch CPU per in-band request, sim / target', 40 / 130],
      ['register reads: sim RegisterEntry slots/s / target in-band slots/s', 2],
      ['register reads: switch CPU per slot, sim RegisterEntry / target in-band', 26 / 130],
    ]);
  });

  it('bench pipeline — leaves out a comparison whose rows are missing (no switch CPU for a target that is not a child process)', () => {
    const out = simVsTargetRows([...side('sim', 9_000, 40), ...side('target', 3_000)], 'sim', 'target');
    expect(out.map((r) => r.case)).toEqual(['in-band requests/s served to the same bare client, sim / target']);
    expect(out[0]?.value).toBe(3);
  });
});
