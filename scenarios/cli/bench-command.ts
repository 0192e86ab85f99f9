/**
 * `carryover bench <suite…>`: runs benchmark suites in one process, one after another, and writes
 * one results table. Suites are loaded lazily so `bench sim` does not load the client bench.
 */
import type { BenchRow } from '../bench/results.js';
import { renderMarkdown, writeResults } from '../bench/results.js';
import { EXIT_OK, EXIT_USAGE, parseFlags } from './main.js';

type Suite = () => Promise<BenchRow[]>;

const SUITES: Record<string, { summary: string; load: () => Promise<Suite> }> = {
  p4rt: {
    summary: 'p4runtime-ts encode+write throughput vs a bare grpc-js client sending pre-encoded WriteRequests',
    load: async () => (await import('../bench/p4rt-bench.js')).runP4rtBench,
  },
  sim: {
    summary: 'table writes/s and register cells read/s served by the sim, per profile',
    load: async () => (await import('../bench/sim-bench.js')).runSimBench,
  },
  pipeline: {
    summary: 'stateful_edge slots read/s through each register-access backend, profiles full and bmv2',
    load: async () => (await import('../bench/pipeline-bench.js')).runPipelineBench,
  },
  qemu: {
    summary: "QEMU's migration downtime without and with carryover's trigger holding pre-switchover (real QEMU)",
    load: async () => (await import('../bench/qemu-bench.js')).runQemuBench,
  },
};

const HELP = `usage: carryover bench <suite…|all> [--out DIR] [--json]

suites:
${Object.entries(SUITES).map(([n, s]) => `  ${n.padEnd(9)} ${s.summary}`).join('\n')}

Writes bench-<time>.md and .json under --out (default ./bench-results) and prints the table.`;

/** Runs `carryover bench`. */
export async function runBenchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('bench', argv, {
    out: { type: 'string', default: 'bench-results' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(HELP);
    return EXIT_OK;
  }
  const names = positionals.length === 0 || positionals.includes('all') ? Object.keys(SUITES) : positionals;
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    console.error(`carryover bench: unknown suite(s) ${unknown.join(', ')}; choose from ${Object.keys(SUITES).join(', ')}, all`);
    return EXIT_USAGE;
  }
  const rows: BenchRow[] = [];
  for (const name of names) {
    const suite = SUITES[name];
    if (!suite) continue;
    console.error(`bench: running ${name} …`);
    rows.push(...(await (await suite.load())()));
  }
  const path = writeResults(values.out ?? 'bench-results', 'carryover benchmarks', rows);
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderMarkdown('carryover benchmarks', rows));
  console.error(`bench: results written to ${path}`);
  return EXIT_OK;
}
