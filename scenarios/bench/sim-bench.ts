/** `carryover bench sim`: what the sim serves per profile (see sim/bench.ts), as result rows. */
import { runSimBenchmarks } from '../../sim/index.js';
import type { BenchRow } from './results.js';

/** Runs the sim benchmarks with their defaults, reporting progress on stderr. */
export async function runSimBench(): Promise<BenchRow[]> {
  const rows = await runSimBenchmarks({ progress: (line) => process.stderr.write(`bench sim: ${line}\n`) });
  return rows.map((r) => ({ ...r }));
}
