/**
 * The bare in-band client and the plugin's in-band backend against the same switch, in the same
 * run: READ_SLOT requests with the same window, each client in a process of its own (the switch in
 * a third), alternating rounds so drift on a shared machine hits both alike. Rates swing with load;
 * CPU per request is the steadier figure. The switch's own CPU per request is read from /proc
 * when it is a local process (Linux), to show whether it or the client is the bottleneck.
 */
import { readFileSync } from 'node:fs';
import { runInbandClientProcess } from './inband-client-process.js';
import type { InbandClientKind, InbandClientResult } from './inband-client-process.js';
import type { BenchRow } from './results.js';

/** Knobs of the side-by-side rounds. */
export interface InbandSideBySideOptions {
  /** Requests per measured run (after `warmup` unmeasured ones in the same process). */
  readonly requests: number;
  readonly warmup: number;
  readonly window: number;
  /** Rounds; each runs both clients, the order alternating. */
  readonly rounds: number;
}

/** The lab's setup: 20,000 READ_SLOTs, window 64. */
export const DEFAULT_INBAND_SIDE_BY_SIDE: InbandSideBySideOptions = Object.freeze({ requests: 20_000, warmup: 5_000, window: 64, rounds: 4 });

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** CPU ms a local process has used so far (utime + stime), or undefined where /proc is absent. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

interface Round {
  readonly bare: InbandClientResult;
  readonly plugin: InbandClientResult;
  /** Switch CPU ms per 1000 requests during the bare run (warm-up included in both counts). */
  readonly switchCpuPer1k: number | undefined;
}

/**
 * Runs the rounds against a switch that has stateful_edge loaded and no other primary sending
 * PacketOuts; each client takes the primary role with its own election id.
 */
export async function compareInbandClients(target: { readonly address: string; readonly deviceId: number; readonly pid?: number; readonly label: string }, o: InbandSideBySideOptions = DEFAULT_INBAND_SIDE_BY_SIDE, log: (m: string) => void = () => undefined): Promise<BenchRow[]> {
  let electionId = 1_000;
  const run = (kind: InbandClientKind): Promise<InbandClientResult> =>
    runInbandClientProcess({ kind, address: target.address, deviceId: target.deviceId, electionId: electionId++, requests: o.requests, warmup: o.warmup, window: o.window });
  const rounds: Round[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const order: InbandClientKind[] = r % 2 === 0 ? ['bare', 'plugin'] : ['plugin', 'bare'];
    const got: Partial<Record<InbandClientKind, InbandClientResult>> = {};
    let switchCpuPer1k: number | undefined;
    for (const kind of order) {
      const before = target.pid !== undefined ? processCpuMs(target.pid) : undefined;
      const res = await run(kind);
      const after = target.pid !== undefined ? processCpuMs(target.pid) : undefined;
      if (kind === 'bare' && before !== undefined && after !== undefined) switchCpuPer1k = ((after - before) / (o.requests + o.warmup)) * 1000;
      got[kind] = res;
      log(`in-band round ${r + 1}/${o.rounds}: ${kind} ${Math.round(res.requests / res.seconds)} req/s, ${((res.cpuMs / res.requests) * 1000).toFixed(1)} ms CPU per 1k`);
    }
    rounds.push({ bare: got.bare as InbandClientResult, plugin: got.plugin as InbandClientResult, switchCpuPer1k });
  }
  const rate = (x: InbandClientResult): number => x.requests / x.seconds;
  const cpu = (x: InbandClientResult): number => (x.cpuMs / x.requests) * 1000;
  const list = (xs: readonly number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
  const rateRatios = rounds.map((r) => rate(r.plugin) / rate(r.bare));
  const cpuRatios = rounds.map((r) => cpu(r.plugin) / cpu(r.bare));
  const what = `${o.requests} READ_SLOTs (after ${o.warmup} warm-up) window ${o.window}, each client in its own process; median of ${o.rounds} alternating rounds`;
  const c = 'in-band READ_SLOT side by side';
  const v = target.label;
  const rows: BenchRow[] = [
    { suite: 'pipeline', case: `${c}: bare grpc-js client`, variant: v, value: median(rounds.map((r) => rate(r.bare))), unit: 'requests/s', note: what },
    { suite: 'pipeline', case: `${c}: plugin in-band backend`, variant: v, value: median(rounds.map((r) => rate(r.plugin))), unit: 'requests/s', note: what },
    { suite: 'pipeline', case: `${c}: rate plugin / bare`, variant: v, value: median(rateRatios), unit: 'ratio', note: `per round: ${list(rateRatios)}; goal ≥ 0.9` },
    { suite: 'pipeline', case: `${c}: client CPU, bare`, variant: v, value: median(rounds.map((r) => cpu(r.bare))), unit: 'ms per 1k requests', note: 'process.cpuUsage of the client process over the measured run' },
    { suite: 'pipeline', case: `${c}: client CPU, plugin`, variant: v, value: median(rounds.map((r) => cpu(r.plugin))), unit: 'ms per 1k requests', note: 'process.cpuUsage of the client process over the measured run' },
    { suite: 'pipeline', case: `${c}: client CPU plugin / bare`, variant: v, value: median(cpuRatios), unit: 'ratio', note: `per round: ${list(cpuRatios)}; goal ≤ 1.2` },
  ];
  const sw = rounds.map((r) => r.switchCpuPer1k).filter((x): x is number => x !== undefined);
  if (sw.length > 0) {
    rows.push({ suite: 'pipeline', case: `${c}: switch CPU while serving the bare client`, variant: v, value: median(sw), unit: 'ms per 1k requests', note: 'the switch process (utime+stime from /proc, warm-up included); the lab measured real BMv2 at ≈133' });
  }
  return rows;
}
