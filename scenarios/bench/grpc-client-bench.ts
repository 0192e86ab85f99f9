/**
 * p4runtime-ts over its own HTTP/2 gRPC client against p4runtime-ts over a grpc-js channel: the
 * same one-update Writes, one after another (the shape of a migration's pause), to the same switch,
 * each round a fresh session per client in rotating order. Client CPU per call (process.cpuUsage)
 * and wall time per call; the ratios are what to compare, the machine being shared.
 */
import { P4Switch } from 'p4runtime-ts';
import type { GrpcClientKind, P4Schema, P4Update } from 'p4runtime-ts';
import { median } from './migrate-flows.js';
import type { BenchRow } from './results.js';

/** What the comparison needs. */
export interface GrpcClientBenchOptions {
  readonly address: string;
  readonly deviceId: bigint;
  readonly schema: P4Schema;
  /** The i-th Write's single update (the caller alternates e.g. an INSERT and its DELETE). */
  readonly update: (sw: P4Switch, i: number) => P4Update;
  readonly rounds: number;
  /** Calls measured per client per round, after `warmup` unmeasured ones. */
  readonly calls: number;
  readonly warmup: number;
  readonly variant: string;
}

const KINDS: readonly GrpcClientKind[] = ['http2', 'grpc-js'];

/** Client CPU and wall ms per call for `calls` sequential one-update Writes on a fresh session. */
async function oneRound(o: GrpcClientBenchOptions, kind: GrpcClientKind): Promise<{ cpu: number; wall: number }> {
  // The default election id grows with the clock: each new session outbids the one before.
  const sw = await P4Switch.connect({ address: o.address, deviceId: o.deviceId, schema: o.schema, grpcClient: kind });
  try {
    await sw.waitForPrimary();
    let i = 0;
    // An even number of calls in each phase keeps every INSERT paired with its DELETE.
    for (const end = o.warmup + (o.warmup % 2); i < end; i++) await sw.write([o.update(sw, i)]);
    const calls = o.calls + (o.calls % 2);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const end = i + calls; i < end; i++) await sw.write([o.update(sw, i)]);
    const wall = (performance.now() - t0) / calls;
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / 1000 / calls, wall };
  } finally {
    await sw.close();
  }
}

/**
 * Runs the rounds and returns rows per client and the http2 ÷ grpc-js ratios.
 * @example
 * const rows = await runGrpcClientBench({ address, deviceId: 1n, schema, update: (sw, i) => ..., rounds: 10, calls: 300, warmup: 50, variant: 'sim full' });
 */
export async function runGrpcClientBench(o: GrpcClientBenchOptions): Promise<BenchRow[]> {
  const cpu: Record<GrpcClientKind, number[]> = { http2: [], 'grpc-js': [] };
  const wall: Record<GrpcClientKind, number[]> = { http2: [], 'grpc-js': [] };
  for (let r = 0; r < o.rounds; r++) {
    for (let j = 0; j < KINDS.length; j++) {
      const kind = KINDS[(r + j) % KINDS.length] as GrpcClientKind;
      const m = await oneRound(o, kind);
      cpu[kind].push(m.cpu);
      wall[kind].push(m.wall);
    }
  }
  const what = `${o.calls} sequential one-update Writes per session, ${o.rounds} rounds (fresh sessions, clients in rotating order, ${o.warmup} unmeasured calls first), median`;
  const row = (name: string, value: number, unit: string, note: string): BenchRow => ({ suite: 'p4rt', case: name, variant: o.variant, value, unit, note });
  const rows: BenchRow[] = [];
  for (const k of KINDS) {
    rows.push(row(`unary Write over ${k}: client CPU per call`, median(cpu[k]), 'ms', `${what}; rounds ${Math.min(...cpu[k]).toFixed(3)}–${Math.max(...cpu[k]).toFixed(3)}`));
    rows.push(row(`unary Write over ${k}: wall time per call`, median(wall[k]), 'ms', `${what}; rounds ${Math.min(...wall[k]).toFixed(3)}–${Math.max(...wall[k]).toFixed(3)}`));
  }
  rows.push(row('unary Write, http2 ÷ grpc-js: client CPU per call', median(cpu.http2) / median(cpu['grpc-js']), '×', 'below 1: the own client costs less'));
  rows.push(row('unary Write, http2 ÷ grpc-js: wall time per call', median(wall.http2) / median(wall['grpc-js']), '×', 'includes the switch\'s own time per Write, the same for both'));
  return rows;
}
