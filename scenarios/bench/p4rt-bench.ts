/**
 * `carryover bench p4rt`: encode+write throughput of p4runtime-ts against the same server as a
 * bare @grpc/grpc-js client that sends WriteRequests encoded before the clock starts. Both write
 * the same number of table INSERTs in the same batch size, one batch in flight, to one sim switch
 * (profile `full`, in its own process), interleaved round by round so drift on a shared machine hits both alike.
 */
import * as grpc from '@grpc/grpc-js';
import { P4Switch } from 'p4runtime-ts';
import { p4, toLong } from 'p4runtime-ts/proto';
import { L2_ECHO_P4INFO_OBJECT } from '../../sim/programs/l2-echo/l2-echo-p4info.js';
import type { BenchRow } from './results.js';
import { startSimProcess } from './sim-process.js';

/** Knobs of the p4rt bench. */
export interface P4rtBenchOptions {
  readonly updatesPerRound: number;
  readonly batchSize: number;
  readonly rounds: number;
}

export const DEFAULT_P4RT_BENCH_OPTIONS: P4rtBenchOptions = Object.freeze({ updatesPerRound: 20_000, batchSize: 500, rounds: 7 });

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Runs the bench and returns its rows (updates/s for each client and their ratio). */
export async function runP4rtBench(options: P4rtBenchOptions = DEFAULT_P4RT_BENCH_OPTIONS): Promise<BenchRow[]> {
  const { updatesPerRound, batchSize, rounds } = options;
  const sim = await startSimProcess(['--profile', 'full', '--program', 'l2_echo', '--device-id', '1']);
  const deviceId = 1n;
  // The table must hold every round's inserts of both clients.
  const capacity = updatesPerRound * (rounds + 1) * 2 + 1;
  const p4infoObject = {
    ...L2_ECHO_P4INFO_OBJECT,
    tables: L2_ECHO_P4INFO_OBJECT.tables.map((t) => (t.preamble.name === 'EchoIngress.mac_fwd' ? { ...t, size: capacity } : t)),
  };
  const p4info = p4.config.v1.P4Info.fromObject(p4infoObject);
  const sw = await P4Switch.connect({ address: sim.address, deviceId, writeBatchSize: batchSize, writeConcurrency: 1 });
  const bare = new grpc.Client(sim.address, grpc.credentials.createInsecure());
  try {
    await sw.waitForPrimary();
    await sw.ensurePipeline({ p4info, deviceConfig: new Uint8Array() });
    const table = sw.table('mac_fwd');
    const tableId = sw.schema?.table('mac_fwd').id ?? 0;
    const forwardId = sw.schema?.action('forward').id ?? 0;
    let nextKey = 1;

    const oursRound = async (): Promise<number> => {
      // p4runtime-ts: build by name, encode, batch and write — all inside the timed region.
      const first = nextKey;
      nextKey += updatesPerRound;
      const t0 = process.hrtime.bigint();
      const updates = [];
      for (let k = first; k < first + updatesPerRound; k++) {
        updates.push(table.insert({ match: { dst_addr: BigInt(k) }, action: 'forward', params: { port: k % 512 } }));
      }
      await sw.write(updates);
      return updatesPerRound / (Number(process.hrtime.bigint() - t0) / 1e9);
    };
    const bareRound = async (): Promise<number> => {
      // bare grpc-js: requests encoded before the clock starts; only the RPCs are timed.
      const bareFirst = nextKey;
      nextKey += updatesPerRound;
      const requests: Buffer[] = [];
      for (let b = 0; b < updatesPerRound; b += batchSize) {
        const batch: p4.v1.Update.$Properties[] = [];
        for (let k = bareFirst + b; k < bareFirst + Math.min(b + batchSize, updatesPerRound); k++) {
          batch.push({
            type: p4.v1.Update.Type.INSERT,
            entity: {
              tableEntry: {
                tableId,
                match: [{ fieldId: 1, exact: { value: encodeUint(BigInt(k)) } }],
                action: { action: { actionId: forwardId, params: [{ paramId: 1, value: encodeUint(BigInt(k % 512)) }] } },
              },
            },
          });
        }
        const electionId = sw.electionId;
        const req = p4.v1.WriteRequest.create({
          deviceId: toLong(deviceId),
          electionId: { high: toLong(electionId >> 64n), low: toLong(electionId & 0xffff_ffff_ffff_ffffn) },
          updates: batch,
        });
        requests.push(Buffer.from(p4.v1.WriteRequest.encode(req).finish()));
      }
      const t1 = process.hrtime.bigint();
      for (const req of requests) await bareWrite(bare, req);
      return updatesPerRound / (Number(process.hrtime.bigint() - t1) / 1e9);
    };

    // One unrecorded round each first: JIT warm-up and the server's first allocations.
    await oursRound();
    await bareRound();
    const oursRates: number[] = [];
    const bareRates: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first (ABBA…), so a growing table or drifting load favours neither.
      let o: number;
      let b: number;
      if (r % 2 === 0) {
        o = await oursRound();
        b = await bareRound();
      } else {
        b = await bareRound();
        o = await oursRound();
      }
      oursRates.push(o);
      bareRates.push(b);
      ratios.push(o / b);
    }
    const ours = median(oursRates);
    const base = median(bareRates);
    const note = `${rounds} alternating rounds (after a warm-up round) of ${updatesPerRound} INSERTs, batches of ${batchSize}, one batch in flight; median`;
    return [
      { suite: 'p4rt', case: 'table INSERT, p4runtime-ts (build by name + encode + write)', variant: 'sim full', value: ours, unit: 'updates/s', note },
      { suite: 'p4rt', case: 'table INSERT, bare grpc-js (pre-encoded WriteRequests)', variant: 'sim full', value: base, unit: 'updates/s', note },
      { suite: 'p4rt', case: 'ratio p4runtime-ts / bare', variant: 'sim full', value: median(ratios), unit: 'ratio', note: `median of per-round ratios (${ratios.map((x) => x.toFixed(2)).join(', ')}); goal ≥ 0.8` },
    ];
  } finally {
    bare.close();
    await sw.close();
    await sim.stop();
  }
}

function encodeUint(v: bigint): Uint8Array {
  if (v === 0n) return Uint8Array.of(0);
  const bytes: number[] = [];
  for (let x = v; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
  return Uint8Array.from(bytes);
}

function bareWrite(client: grpc.Client, request: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      '/p4.v1.P4Runtime/Write',
      (b) => b,
      (b) => b,
      request,
      (err) => (err ? reject(err) : resolve()),
    );
  });
}
