import { describe, expect, it } from 'vitest';
import { parseSimBenchOptions, runSimBenchmarks } from './bench.js';

describe('sim bench — rows per profile', () => {
  it('sim bench — every profile gets table writes/s; register writes and reads are UNSUPPORTED on bmv2 with its answer', async () => {
    const rows = await runSimBenchmarks({ tableEntries: 50, batchSize: 20, cells: 64, readRounds: 1 });
    expect(rows.map((r) => `${r.variant}:${r.case}`)).toEqual([
      'full:table writes/s', 'full:register cells written/s', 'full:register cells read/s', 'full:counter cells read/s',
      'bmv2:table writes/s', 'bmv2:register cells written/s', 'bmv2:register cells read/s', 'bmv2:counter cells read/s',
      'stratum-tofino:table writes/s', 'stratum-tofino:register cells written/s', 'stratum-tofino:register cells read/s', 'stratum-tofino:counter cells read/s',
    ]);
    const bmv2Reg = rows.find((r) => r.variant === 'bmv2' && r.case === 'register cells read/s');
    expect(bmv2Reg?.value).toBe('UNSUPPORTED');
    expect(bmv2Reg?.note).toMatch(/Register reads are not supported yet/);
    const bmv2RegWrite = rows.find((r) => r.variant === 'bmv2' && r.case === 'register cells written/s');
    expect(bmv2RegWrite?.value).toBe('UNSUPPORTED');
    expect(bmv2RegWrite?.note).toMatch(/Register writes are not supported yet/);
    for (const r of rows.filter((x) => x !== bmv2Reg && x !== bmv2RegWrite)) expect(typeof r.value === 'number' && r.value > 0).toBe(true);
  });

  it('sim bench — options are validated', () => {
    expect(() => parseSimBenchOptions({ tableEntries: 0 })).toThrow(/tableEntries.*expected an integer >= 1/);
    expect(() => parseSimBenchOptions({ profiles: ['nope' as never] })).toThrow(/'nope' is not one of full, bmv2, stratum-tofino/);
  });
});
