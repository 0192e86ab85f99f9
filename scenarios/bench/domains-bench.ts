/**
 * `carryover bench domains`: what the boundary between two domains costs inside the VM's pause.
 * dc-a's controller migrates a VM with established flows to dc-b, whose controller serves
 * federation behind a delaying TCP proxy (0, 10, 50 ms one way); the figure is the engine's pause
 * window — from the freeze at the source to the destination domain's answer that it activated —
 * against the same migration inside one domain. Only the commit crosses the boundary inside the
 * pause, so the window should grow by one round trip (2 × the one-way delay), while the whole
 * migration (proposal, agreement, staging) grows by several. Each run uses fresh switches.
 */
import { MemoryJournal, executeMigration, parseInventory, planMigration } from '../../controller/index.js';
import type { MigrationOutcome } from '../../controller/index.js';
import type { DeviceApi } from '../../plugin/index.js';
import type { BenchFlags } from '../cli/bench-command.js';
import { P4INFO_PATH, eventually } from '../edge-rig.js';
import { establish } from '../migration-fixture.js';
import { startTwoDomains } from '../two-domain-rig.js';
import type { TwoDomains } from '../two-domain-rig.js';
import { startDelayProxy } from './delay-proxy.js';
import type { BenchRow } from './results.js';

/** Knobs of the domains bench. */
export interface DomainsBenchOptions {
  /** One-way delays between the controllers (ms). */
  readonly delaysMs: readonly number[];
  /** Migrations per delay (and for the one-domain baseline). */
  readonly runs: number;
  /** Established TCP flows the VM has. */
  readonly flows: number;
}

export const DEFAULT_DOMAINS_BENCH_OPTIONS: DomainsBenchOptions = Object.freeze({ delaysMs: Object.freeze([0, 10, 50]), runs: 5, flows: 200 });

interface Sample {
  readonly pauseMs: number;
  /** The commit call at dc-a (undefined inside one domain). */
  readonly commitMs: number | undefined;
  /** dc-b's own time on the commit, as it reported (the rest of commitMs is the wire). */
  readonly peerWorkMs: number | undefined;
  readonly totalMs: number;
  readonly callsInPause: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Flows established at the source, and its slot index caught up with them. */
async function withFlows(site: TwoDomains, flows: number): Promise<void> {
  for (let i = 0; i < flows; i++) if (!establish(site.src.sim, 20_000 + i)) throw new Error(`bench domains: flow ${i} was not established at the source`);
  const want = site.src.plugin.group.slots - flows;
  if (!(await eventually(async () => (await site.srcApi.capabilities()).slots.free === want, 60_000))) throw new Error('bench domains: the source slot index did not learn the flows within 60 s');
}

/** The same migration inside one domain: both devices driven by one controller. */
function migrateLocally(site: TwoDomains, id: string): Promise<MigrationOutcome> {
  const inv = parseInventory(`
devices:
  edge-a: { address: ${site.src.sim.address}, deviceId: 1, hosts: [host-a] }
  edge-b: { address: ${site.dst.sim.address}, deviceId: 1, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`, 'one-domain.yaml');
  const apis: Record<string, DeviceApi> = { 'edge-a': site.srcApi, 'edge-b': site.dstApi };
  return executeMigration({
    plan: planMigration(inv, 'vm-7', 'host-a', 'host-b'), trigger: { kind: 'manual' }, migrationId: id, journal: new MemoryJournal(), journalDir: site.dir,
    defaultP4info: P4INFO_PATH, pauseDeadlineMs: 60_000, onDeadline: 'abort', progress: () => undefined,
    connect: async (ds) => ({ apis: new Map(ds.map((d) => [d.name, apis[d.name] as DeviceApi])), stop: async () => undefined }),
  });
}

/** One migration on fresh switches: across the proxy with `delayMs`, or inside one domain (undefined). */
async function sample(o: DomainsBenchOptions, delayMs: number | undefined, n: number): Promise<Sample> {
  const site = await startTwoDomains(delayMs === undefined ? {} : { between: (target) => startDelayProxy({ target, delayMs }) });
  try {
    await withFlows(site, o.flows);
    const t0 = performance.now();
    const out = delayMs === undefined ? await migrateLocally(site, `bench-local-${n}`) : await site.migrate(`bench-${delayMs}-${n}`);
    const totalMs = performance.now() - t0;
    if (out.run.aborted || !out.run.sync) throw new Error(`bench domains: the migration did not commit: ${out.run.aborted?.reason ?? '?'}: ${out.run.aborted?.detail ?? ''}`);
    return { pauseMs: out.run.sync.elapsedMs, commitMs: out.crossDomain?.commitMs, peerWorkMs: out.crossDomain?.peerCommitWorkMs, totalMs, callsInPause: out.crossDomain?.callsInPause.length ?? 0 };
  } finally {
    await site.stop();
  }
}

/** Runs the suite (`--rounds` sets the migrations per delay). */
export async function runDomainsBench(flags: BenchFlags = {}, o: DomainsBenchOptions = DEFAULT_DOMAINS_BENCH_OPTIONS): Promise<BenchRow[]> {
  const runs = flags.rounds ?? o.runs;
  const opts = { ...o, runs };
  const cases: (number | undefined)[] = [undefined, ...o.delaysMs];
  const results = new Map<number | undefined, Sample[]>(cases.map((c) => [c, []]));
  // Interleaved, so a burst of load on this shared machine does not land on one case only.
  for (let n = 0; n < runs; n++) for (const c of cases) results.get(c)?.push(await sample(opts, c, n));
  const local = results.get(undefined) ?? [];
  const base = median(local.map((s) => s.pauseMs));
  const rows: BenchRow[] = [];
  const note = (ss: readonly Sample[]): string => `min ${round1(Math.min(...ss.map((s) => s.pauseMs)))}, max ${round1(Math.max(...ss.map((s) => s.pauseMs)))}; ${ss.length} migrations of ${o.flows} flows`;
  rows.push({ suite: 'domains', case: 'pause window (freeze → activation), median', variant: 'one domain', value: round1(base), unit: 'ms', note: note(local) });
  for (const d of o.delaysMs) {
    const ss = results.get(d) ?? [];
    const pause = median(ss.map((s) => s.pauseMs));
    rows.push({ suite: 'domains', case: 'pause window (freeze → activation), median', variant: `two domains, ${d} ms one way`, value: round1(pause), unit: 'ms', note: `${note(ss)}; +${round1(pause - base)} ms over one domain; federation calls inside the pause: ${[...new Set(ss.map((s) => s.callsInPause))].join('/')}` });
  }
  for (const d of o.delaysMs) {
    const ss = results.get(d) ?? [];
    rows.push({ suite: 'domains', case: 'the commit inside the pause (dc-a → dc-b → dc-a, with dc-b\'s activation), median', variant: `two domains, ${d} ms one way`, value: round1(median(ss.map((s) => s.commitMs ?? NaN))), unit: 'ms', note: `of which dc-b's own work (median) ${round1(median(ss.map((s) => s.peerWorkMs ?? NaN)))} ms` });
    rows.push({ suite: 'domains', case: 'the commit\'s time on the wire (commit − dc-b\'s work), median', variant: `two domains, ${d} ms one way`, value: round1(median(ss.map((s) => (s.commitMs ?? NaN) - (s.peerWorkMs ?? NaN)))), unit: 'ms', note: `one round trip: expected ≈ 2 × ${d} ms plus loopback, TLS and gRPC` });
  }
  for (const d of [undefined, ...o.delaysMs]) {
    const ss = results.get(d) ?? [];
    rows.push({ suite: 'domains', case: 'whole migration (connect → commit), median', variant: d === undefined ? 'one domain' : `two domains, ${d} ms one way`, value: round1(median(ss.map((s) => s.totalMs))), unit: 'ms' });
  }
  return rows;
}
