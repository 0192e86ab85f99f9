/**
 * `carryover bench <suite…>`: runs benchmark suites in one process, one after another, and writes
 * one results table. Suites are loaded lazily so `bench sim` does not load the client bench.
 */
import type { BenchRow } from '../bench/results.js';
import type { FirstPauseBenchOptions } from '../bench/first-pause-bench.js';
import type { MigrateBenchOptions } from '../bench/migrate-bench.js';
import { renderMarkdown, writeResults } from '../bench/results.js';
import { cpus as osCpus } from 'node:os';
import { isCpuList } from '../../controller/testing/qemu-pair.js';
import { EXIT_OK, EXIT_USAGE, UsageError, parseFlags } from './main.js';

/** Flags a suite may use (each suite documents which). */
export interface BenchFlags {
  /** HOST:PORT of a real target to run against instead of sim processes. */
  readonly target?: string;
  readonly deviceId?: bigint;
  /** Device config (BMv2 JSON) to push to the target with stateful_edge's P4Info. */
  readonly deviceConfig?: string;
  readonly rounds?: number;
  /** Updates per round (p4rt). */
  readonly updatesPerRound?: number;
  /** Tracked-flow populations, ascending (migrate). */
  readonly sizes?: readonly number[];
  /** Only the pauses with exactly this many flows changed, no share rows (migrate). */
  readonly changed?: number;
  /** Quiet before each measured pause (migrate), ms. */
  readonly quietMs?: number;
  /** Which switches migrate runs on: sim profiles and/or real-bmv2 (CARRYOVER_BMV2). */
  readonly profiles?: readonly MigrateBenchProfile[];
  /** CPUs the QEMUs run on (qemu; a Linux CPU list). */
  readonly qemuCpus?: string;
}

const MIGRATE_PROFILES = ['full', 'bmv2', 'real-bmv2'] as const;
type MigrateBenchProfile = (typeof MIGRATE_PROFILES)[number];

/** The migrate suite's options from the flags: real BMv2 when listed, or by default when CARRYOVER_BMV2 names one. */
function migrateOptions(f: BenchFlags): Partial<MigrateBenchOptions> {
  const real = process.env['CARRYOVER_BMV2'];
  const wanted = f.profiles ?? ['full', 'bmv2', ...(real ? (['real-bmv2'] as const) : [])];
  return {
    profiles: wanted.filter((p): p is 'full' | 'bmv2' => p !== 'real-bmv2'),
    ...(f.rounds !== undefined ? { repeats: f.rounds } : {}),
    ...(f.sizes ? { sizes: f.sizes } : {}),
    ...(f.changed !== undefined ? { shares: [], counts: [f.changed] } : {}),
    ...(f.quietMs !== undefined ? { quietMs: f.quietMs } : {}),
    ...(f.target !== undefined ? { target: f.target } : {}),
    ...(wanted.includes('real-bmv2') && real ? { bmv2: real, ...(f.sizes ? { bmv2Sizes: f.sizes } : {}) } : {}),
  };
}

type Suite = (flags: BenchFlags) => Promise<BenchRow[]>;

const SUITES: Record<string, { summary: string; load: () => Promise<Suite> }> = {
  p4rt: {
    summary: 'p4runtime-ts INSERTs and wildcard reads vs a bare grpc-js client: rates, CPU per operation, ratios (--target, --device-config, --rounds, --updates)',
    load: async () => {
      const { runP4rtBench, DEFAULT_P4RT_BENCH_OPTIONS } = await import('../bench/p4rt-bench.js');
      return (f) => runP4rtBench({ ...DEFAULT_P4RT_BENCH_OPTIONS, ...f });
    },
  },
  sim: {
    summary: 'table writes/s and register cells read/s served by the sim, per profile',
    load: async () => {
      const { runSimBench } = await import('../bench/sim-bench.js');
      return () => runSimBench();
    },
  },
  pipeline: {
    summary: 'stateful_edge slots read/s through each register-access backend, profiles full and bmv2; in-band plugin vs bare client; the sim vs a real target (--target, or CARRYOVER_BMV2)',
    load: async () => {
      const { runPipelineBench, DEFAULT_PIPELINE_BENCH_OPTIONS: d } = await import('../bench/pipeline-bench.js');
      const { runPipelineTargetBench } = await import('../bench/sim-vs-target.js');
      const log = (m: string): void => console.error(`bench pipeline: ${m}`);
      const sideBySide = (f: BenchFlags): typeof d.sideBySide => (f.rounds !== undefined ? { ...d.sideBySide, rounds: f.rounds } : d.sideBySide);
      return (f) =>
        f.target !== undefined
          ? runPipelineTargetBench({ address: f.target, deviceId: Number(f.deviceId ?? 1n), ...(f.deviceConfig !== undefined ? { deviceConfig: f.deviceConfig } : {}) }, sideBySide(f), d.inbandWindow, log)
          : runPipelineBench({ ...d, sideBySide: sideBySide(f) }, log);
    },
  },
  migrate: {
    summary: 'the engine\'s pause-window sync and pre-copy at 10^4/10^5 flows, 1 %/5 %/100 changed, vs stop-and-copy; requests per pause, memory per flow; beside each pause on the sims the minimum requests\' time over P4Runtime, and with CARRYOVER_BMV2 also on two real BMv2s beside the minimum requests\' time in-band (--rounds = migrations per row, --sizes, --changed N = only N changed (0: nothing left to move), --quiet-ms N = quiet before each pause (default 50), --profiles full,bmv2,real-bmv2; run node with --expose-gc)',
    load: async () => {
      const { runMigrateBench } = await import('../bench/migrate-bench.js');
      return (f) => runMigrateBench(migrateOptions(f));
    },
  },
  'first-pause': {
    summary: "the pause a one-shot `carryover migrate` makes — the first of a fresh controller process — beside the later ones, with the launcher's eager compilation on and off (--rounds = processes per mode, default 4; --sizes N flows, default 10^4; --changed N, default 100)",
    load: async () => {
      const { runFirstPauseBench } = await import('../bench/first-pause-bench.js');
      return (f) => runFirstPauseBench(firstPauseOptions(f, 'processes'));
    },
  },
  domains: {
    summary: 'the pause window of a cross-domain migration with 0, 10 and 50 ms one-way delay between the controllers, against one domain (--rounds)',
    load: async () => (await import('../bench/domains-bench.js')).runDomainsBench,
  },
  daemons: {
    summary: 'the pause-window sync through plugin daemons (child processes, mutual TLS), pipelined against one call per step and peer to peer, in turn in one run (--rounds: migrations per mode, default 8)',
    load: async () => (await import('../bench/daemons-bench.js')).runDaemonsBench,
  },
  qemu: {
    summary: "QEMU's migration downtime without and with carryover: the trigger alone, then the engine moving 10^4 tracked flows, 1 % changing — with QEMU's own bandwidth (the test guest copied in ~20 ms) and with the copy paced to ~2 s, the flows changing until the pause (real QEMU; --rounds, --sizes N, --qemu-cpus LIST: QEMU on those CPUs only)",
    load: async () => {
      const { runQemuBench } = await import('../bench/qemu-bench.js');
      const { runQemuFlowsBench, DEFAULT_QEMU_FLOWS_BENCH } = await import('../bench/qemu-flows-bench.js');
      // The trigger alone, then the engine moving tracked flows (--sizes: the first size, default 10^4).
      return async (f) => [...(await runQemuBench(f)), ...(await runQemuFlowsBench({ ...DEFAULT_QEMU_FLOWS_BENCH, flows: f.sizes?.[0] ?? DEFAULT_QEMU_FLOWS_BENCH.flows, ...(f.rounds !== undefined ? { runs: f.rounds } : {}), ...(f.qemuCpus !== undefined ? { qemuCpus: f.qemuCpus } : {}) }))];
    },
  },
};

const HELP = `usage: carryover bench [suite…|all] [--out DIR] [--json] [--target HOST:PORT [--device-id N] [--device-config FILE]] [--rounds N] [--updates N] [--sizes N,N…] [--changed N] [--quiet-ms N] [--profiles P,P…]

suites:
${Object.entries(SUITES).map(([n, s]) => `  ${n.padEnd(Math.max(...Object.keys(SUITES).map((k) => k.length)))}  ${s.summary}`).join('\n')}

No suite named (or all): every one of them, which takes many minutes.
Writes bench-<time>.md and .json under --out (default ./bench-results) and prints the table.
--target runs p4rt against a running switch (e.g. BMv2 simple_switch_grpc) instead of a sim
process; it pushes p4/stateful_edge's P4Info with --device-config (the BMv2 JSON p4c wrote), or
else expects the switch to run stateful_edge already. pipeline --target runs the in-band
side-by-side on that switch and on a fresh sim, the sim's RegisterEntry read, and compares them
(--rounds: side-by-side rounds); without --target, CARRYOVER_BMV2=path/simple_switch_grpc adds
a real BMv2 started on loopback; for migrate it adds two (source and destination) and the
profile real-bmv2 (--profiles picks among full, bmv2, real-bmv2; --sizes then also sets the
real-BMv2 populations, default 10000). qemu --qemu-cpus 1 starts both QEMUs on CPU 1 (taskset); start
the bench itself elsewhere (taskset -c 0 node …) to keep QEMU off the controller's and the
switches' CPUs, as on a deployment; the rows' notes say where each ran.`;

/** Runs `carryover bench`. */
export async function runBenchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('bench', argv, {
    out: { type: 'string', default: 'bench-results' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
    target: { type: 'string' },
    'device-id': { type: 'string' },
    'device-config': { type: 'string' },
    rounds: { type: 'string' },
    updates: { type: 'string' },
    sizes: { type: 'string' },
    changed: { type: 'string' },
    'quiet-ms': { type: 'string' },
    profiles: { type: 'string' },
    'qemu-cpus': { type: 'string' },
    child: { type: 'boolean', default: false },
  });
  if (values.help) {
    console.log(HELP);
    return EXIT_OK;
  }
  if (values.child) return firstPauseChild(positionals, benchFlags(values));
  const names = positionals.length === 0 || positionals.includes('all') ? Object.keys(SUITES) : positionals;
  const unknown = names.filter((n) => !(n in SUITES));
  if (unknown.length > 0) {
    console.error(`carryover bench: unknown suite(s) ${unknown.join(', ')}; choose from ${Object.keys(SUITES).join(', ')}, all`);
    return EXIT_USAGE;
  }
  const flags = benchFlags(values);
  const rows: BenchRow[] = [];
  for (const name of names) {
    const suite = SUITES[name];
    if (!suite) continue;
    console.error(`bench: running ${name} …`);
    rows.push(...(await (await suite.load())(flags)));
  }
  const path = writeResults(values.out ?? 'bench-results', 'carryover benchmarks', rows);
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderMarkdown('carryover benchmarks', rows));
  console.error(`bench: results written to ${path}`);
  return EXIT_OK;
}

/** The first-pause suite's options from the flags: --sizes gives the flows, --changed the changes, --rounds counts `rounds` (the parent's processes per mode, or a child's pauses). */
function firstPauseOptions(f: BenchFlags, rounds: 'processes' | 'pauses'): Partial<FirstPauseBenchOptions> {
  return { ...(f.rounds !== undefined ? { [rounds]: f.rounds } : {}), ...(f.sizes ? { flows: f.sizes[0] as number } : {}), ...(f.changed !== undefined ? { changed: f.changed } : {}) };
}

/**
 * `bench first-pause --child`: one process of that suite (started by it through this launcher):
 * measures its pauses and prints them as one JSON line (--rounds = pauses in this process).
 */
async function firstPauseChild(positionals: readonly string[], f: BenchFlags): Promise<number> {
  if (positionals.length !== 1 || positionals[0] !== 'first-pause') throw new UsageError('bench: --child is the first-pause suite\'s own child process (bench first-pause --child); it takes no other suite');
  const { runFirstPauseChild } = await import('../bench/first-pause-bench.js');
  const r = await runFirstPauseChild(firstPauseOptions(f, 'pauses'));
  console.log(JSON.stringify(r));
  return EXIT_OK;
}

/** Checks the target flags; a bad one is a usage error naming it. */
function benchFlags(v: { target?: string; 'device-id'?: string; 'device-config'?: string; rounds?: string; updates?: string; sizes?: string; changed?: string; 'quiet-ms'?: string; profiles?: string; 'qemu-cpus'?: string }): BenchFlags {
  const out: { -readonly [K in keyof BenchFlags]: BenchFlags[K] } = {};
  if (v.target !== undefined) {
    if (!/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(v.target)) throw new UsageError(`bench: --target '${v.target}' is not HOST:PORT (e.g. 127.0.0.1:9559)`);
    out.target = v.target;
  }
  if (v['device-id'] !== undefined) {
    if (!/^\d+$/.test(v['device-id'])) throw new UsageError(`bench: --device-id '${v['device-id']}' is not a non-negative integer`);
    out.deviceId = BigInt(v['device-id']);
  }
  if (v['device-config'] !== undefined) {
    if (out.target === undefined) throw new UsageError('bench: --device-config needs --target (the sim takes no device config)');
    out.deviceConfig = v['device-config'];
  }
  if (v.rounds !== undefined) {
    const n = Number(v.rounds);
    if (!Number.isSafeInteger(n) || n < 1 || n > 1000) throw new UsageError(`bench: --rounds '${v.rounds}' is not an integer 1..1000`);
    out.rounds = n;
  }
  if (v.updates !== undefined) {
    const n = Number(v.updates);
    if (!Number.isSafeInteger(n) || n < 1 || n > 60_000) throw new UsageError(`bench: --updates '${v.updates}' is not an integer 1..60000 (updates per round; the table holds 65536)`);
    out.updatesPerRound = n;
  }
  if (v.sizes !== undefined) {
    const ns = v.sizes.split(',').map(Number);
    if (ns.length > 4 || ns.reduce((a, b) => a + b, 0) > 200_000 || ns.some((n, i) => !Number.isSafeInteger(n) || n < 100 || (i > 0 && n <= (ns[i - 1] as number)))) {
      throw new UsageError(`bench: --sizes '${v.sizes}' is not a list of at most 4 ascending integers ≥ 100 adding up to 200000 or less (tracked flows of one VM each, e.g. 10000,100000)`);
    }
    out.sizes = ns;
  }
  if (v.changed !== undefined) {
    const n = Number(v.changed);
    // 0 is a pause with nothing left to move: what the freeze and the activation cost alone.
    if (!/^\d+$/.test(v.changed) || n > 100_000) throw new UsageError(`bench: --changed '${v.changed}' is not an integer 0..100000 (flows changed between the last pre-copy round and the freeze; 0: nothing left to move)`);
    out.changed = n;
  }
  if (v['quiet-ms'] !== undefined) {
    const n = Number(v['quiet-ms']);
    if (!/^\d+$/.test(v['quiet-ms']) || n > 60_000) throw new UsageError(`bench: --quiet-ms '${v['quiet-ms']}' is not an integer 0..60000 (ms of quiet before each measured pause; 1000 measures as before 2026-12-04)`);
    out.quietMs = n;
  }
  if (v.profiles !== undefined) {
    const ps = v.profiles.split(',');
    const bad = ps.filter((p) => !(MIGRATE_PROFILES as readonly string[]).includes(p));
    if (ps.length === 0 || bad.length > 0) throw new UsageError(`bench: --profiles '${v.profiles}' names ${bad.join(', ') || 'nothing'}; choose from ${MIGRATE_PROFILES.join(', ')}`);
    if (ps.includes('real-bmv2') && !process.env['CARRYOVER_BMV2']) throw new UsageError('bench: --profiles real-bmv2 needs CARRYOVER_BMV2 (the path of simple_switch_grpc)');
    out.profiles = ps as MigrateBenchProfile[];
  }
  if (v['qemu-cpus'] !== undefined) {
    if (!isCpuList(v['qemu-cpus'])) throw new UsageError(`bench: --qemu-cpus '${v['qemu-cpus']}' is not a CPU list (e.g. 1, 2-3 or 0,2): the CPUs both QEMUs may run on`);
    const cpus = osCpus().length;
    const beyond = v['qemu-cpus'].split(/[,-]/).map(Number).find((n) => n >= cpus);
    if (beyond !== undefined) throw new UsageError(`bench: --qemu-cpus '${v['qemu-cpus']}' names CPU ${beyond}, but this machine has CPUs 0-${cpus - 1}`);
    out.qemuCpus = v['qemu-cpus'];
  }
  return out;
}
