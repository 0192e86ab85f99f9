/**
 * `carryover bench p4rt`: p4runtime-ts against a bare @grpc/grpc-js + protobufjs client on the same
 * switch, in one run: table INSERTs (p4runtime-ts builds by name, encodes and writes; the bare
 * client sends WriteRequests encoded before its clock starts) and wildcard reads (p4runtime-ts
 * decodes by name; the bare client to protobuf objects). The table is stateful_edge's `dyn_acl`
 * (six exact keys), the switch a `carryover sim` process (profile `full`) or, with `--target`, a
 * real one. Reported: rates, client CPU per operation (process.cpuUsage, steadier than rates on a
 * shared machine) and their ratios — medians of per-round figures, rounds alternating who goes first.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P4Schema, P4Switch, matchValueToInput } from 'p4runtime-ts';
import type { TableEntrySpec, TableHandle } from 'p4runtime-ts';
import { p4 } from 'p4runtime-ts/proto';
import { BareP4rtClient, canonicalBytes } from './bare-p4rt-client.js';
import type { BenchRow } from './results.js';
import { startSimProcess } from './sim-process.js';
import type { SimProcess } from './sim-process.js';

/** Knobs of the p4rt bench. */
export interface P4rtBenchOptions {
  readonly updatesPerRound: number;
  readonly batchSize: number;
  readonly rounds: number;
  /** HOST:PORT of a running target (e.g. BMv2) instead of a sim process. */
  readonly target?: string;
  readonly deviceId?: bigint;
  /** With `target`: the device config (BMv2 JSON) to push with stateful_edge's P4Info; without it the target must already run stateful_edge. */
  readonly deviceConfig?: string;
}

// Short rounds, many of them: on a shared machine the load drifts within seconds, and a ratio is
// only as good as the two measurements it compares were close in time.
export const DEFAULT_P4RT_BENCH_OPTIONS: P4rtBenchOptions = Object.freeze({ updatesPerRound: 10_000, batchSize: 500, rounds: 15 });

const HERE = dirname(fileURLToPath(import.meta.url));
// p4/ sits two levels up from scenarios/bench in the sources and in build/ (the build copies it).
const P4INFO_PATH = join(HERE, '..', '..', 'p4', 'stateful_edge.p4info.txtpb');
const TABLE = 'dyn_acl';
const ACTION = 'pinhole_allow';

/** One dyn_acl key, as numbers. */
interface Key {
  readonly vmId: number;
  readonly vmAddr: number;
  readonly remoteAddr: number;
  readonly vmPort: number;
  readonly remotePort: number;
  readonly protocol: number;
}

const keyOf = (k: number): Key => ({ vmId: 7, vmAddr: 0x0a00_0005, remoteAddr: 0x0b00_0000 + k, vmPort: 443, remotePort: 1024 + (k % 60_000), protocol: k % 2 === 0 ? 6 : 17 });
const ipv4 = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
/** The entry as an application writes it to p4runtime-ts: by name, addresses as text. */
const specOf = (k: Key): TableEntrySpec => ({
  match: { vm_id: k.vmId, vm_addr: ipv4(k.vmAddr), remote_addr: ipv4(k.remoteAddr), vm_port: k.vmPort, remote_port: k.remotePort, protocol: k.protocol },
  action: ACTION,
});

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** Wall time and client CPU of `fn`, in seconds and microseconds. */
async function measure(fn: () => Promise<unknown>): Promise<{ seconds: number; cpuUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { seconds, cpuUs: c.user + c.system };
}

/** Per-round figures of both clients. */
interface Round {
  oursWriteRate: number;
  oursWriteCpu: number;
  bareWriteRate: number;
  bareSendCpu: number;
  bareEncodeCpu: number;
  oursReadRate: number;
  oursReadCpu: number;
  bareReadRate: number;
  bareReadCpu: number;
}

/** Runs the bench and returns its rows. */
export async function runP4rtBench(options: P4rtBenchOptions = DEFAULT_P4RT_BENCH_OPTIONS): Promise<BenchRow[]> {
  const { updatesPerRound: n, batchSize, rounds } = options;
  const deviceId = options.deviceId ?? 1n;
  let sim: SimProcess | undefined;
  if (!options.target) sim = await startSimProcess(['--profile', 'full', '--program', 'stateful_edge', '--device-id', String(deviceId)]);
  const address = options.target ?? sim?.address ?? '';
  const variant = options.target ? `target ${options.target}` : 'sim full';
  const sw = await P4Switch.connect({ address, deviceId, writeBatchSize: batchSize, writeConcurrency: 1 });
  const bare = new BareP4rtClient(address);
  try {
    await sw.waitForPrimary();
    const schema = P4Schema.fromFile(P4INFO_PATH);
    if (options.target && options.deviceConfig === undefined) {
      const running = await sw.fetchSchema();
      if (!running.find('table', TABLE)) throw new Error(`bench p4rt: target ${options.target} does not run stateful_edge (no table ${TABLE}); give --device-config to push it`);
    } else {
      await sw.ensurePipeline({ schema, deviceConfig: options.deviceConfig === undefined ? new Uint8Array() : readFileSync(options.deviceConfig) });
    }
    const table = sw.table(TABLE);
    const tableId = table.info.id;
    const actionId = schema.action(ACTION).id;
    const fieldIds = ['vm_id', 'vm_addr', 'remote_addr', 'vm_port', 'remote_port', 'protocol'].map((f) => table.info.matchField(f).id);
    const readRequest = BareP4rtClient.encodeTableRead(deviceId, tableId);
    await clearTable(sw, table);

    let next = 1;
    const takeKeys = (): Key[] => Array.from({ length: n }, () => keyOf(next++));
    const bareUpdate = (k: Key): p4.v1.Update.$Properties => ({
      type: p4.v1.Update.Type.INSERT,
      entity: {
        tableEntry: {
          tableId,
          match: [k.vmId, k.vmAddr, k.remoteAddr, k.vmPort, k.remotePort, k.protocol].map((v, i) => ({ fieldId: fieldIds[i], exact: { value: canonicalBytes(v) } })),
          action: { action: { actionId } },
        },
      },
    });

    const ours = async (r: Round): Promise<void> => {
      const specs = takeKeys().map(specOf);
      const w = await measure(() => sw.write(specs.map((s) => table.insert(s))));
      let count = 0;
      const rd = await measure(async () => {
        for await (const e of sw.read(table.all())) if (e.action !== undefined) count++;
      });
      if (count !== n) throw new Error(`bench p4rt: p4runtime-ts read ${count} entries, wrote ${n}`);
      Object.assign(r, { oursWriteRate: n / w.seconds, oursWriteCpu: w.cpuUs / n, oursReadRate: n / rd.seconds, oursReadCpu: rd.cpuUs / n });
      await sw.write(specs.map((s) => table.delete(s)));
    };
    const baseline = async (r: Round): Promise<void> => {
      const keys = takeKeys();
      // Ready objects first; only protobufjs's encoding is charged to "encode".
      const batches: p4.v1.Update.$Properties[][] = [];
      for (let b = 0; b < n; b += batchSize) batches.push(keys.slice(b, b + batchSize).map(bareUpdate));
      const requests: Buffer[] = [];
      const enc = await measure(async () => {
        for (const batch of batches) requests.push(BareP4rtClient.encodeWrite(deviceId, sw.electionId, batch));
      });
      const w = await measure(async () => {
        for (const req of requests) await bare.write(req);
      });
      let count = 0;
      const rd = await measure(async () => {
        count = await bare.readTableEntries(readRequest);
      });
      if (count !== n) throw new Error(`bench p4rt: the bare client read ${count} entries, wrote ${n}`);
      Object.assign(r, { bareWriteRate: n / w.seconds, bareSendCpu: w.cpuUs / n, bareEncodeCpu: enc.cpuUs / n, bareReadRate: n / rd.seconds, bareReadCpu: rd.cpuUs / n });
      await sw.write(keys.map((k) => table.delete(specOf(k))));
    };

    // One unrecorded round each first (JIT warm-up, the server's first allocations), then rounds
    // alternating who goes first, so drifting load favours neither.
    const warm = {} as Round;
    await ours(warm);
    await baseline(warm);
    const all: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = {} as Round;
      if (i % 2 === 0) {
        await ours(r);
        await baseline(r);
      } else {
        await baseline(r);
        await ours(r);
      }
      all.push(r);
    }
    return rowsOf(all, { variant, n, batchSize, rounds });
  } finally {
    bare.close();
    await sw.close();
    await sim?.stop();
  }
}

/** Deletes whatever an earlier run left in the table. */
async function clearTable(sw: P4Switch, table: TableHandle): Promise<void> {
  const left = await sw.readAll(table.all());
  if (left.length > 0) await sw.write(left.map((e) => table.delete({ match: Object.fromEntries(Object.entries(e.match).map(([k, v]) => [k, matchValueToInput(v)])) })));
}

function rowsOf(all: readonly Round[], c: { variant: string; n: number; batchSize: number; rounds: number }): BenchRow[] {
  const med = (f: (r: Round) => number): number => median(all.map(f));
  const per = (xs: (r: Round) => number, fmt: (x: number) => string): string => all.map((r) => fmt(xs(r))).join(', ');
  const two = (x: number): string => x.toFixed(2);
  const v = c.variant;
  const w = `${c.rounds} alternating rounds of ${c.n} dyn_acl INSERTs, batches of ${c.batchSize}, one in flight; median`;
  const rd = `wildcard Read of the ${c.n} entries; median of ${c.rounds} rounds`;
  const row = (name: string, value: number, unit: string, note: string): BenchRow => ({ suite: 'p4rt', case: name, variant: v, value, unit, note });
  return [
    row('INSERT rate, p4runtime-ts (build by name + encode + write)', med((r) => r.oursWriteRate), 'updates/s', w),
    row('INSERT rate, bare grpc-js (pre-encoded WriteRequests)', med((r) => r.bareWriteRate), 'updates/s', w),
    row('ratio INSERT rate p4runtime-ts / bare', med((r) => r.oursWriteRate / r.bareWriteRate), 'ratio', `goal ≥ 0.9; per round ${per((r) => r.oursWriteRate / r.bareWriteRate, two)}`),
    row('INSERT client CPU, p4runtime-ts (build + encode + write)', med((r) => r.oursWriteCpu), 'µs/update', w),
    row('INSERT client CPU, bare: protobufjs encoding of ready objects', med((r) => r.bareEncodeCpu), 'µs/update', w),
    row('INSERT client CPU, bare: sending pre-encoded', med((r) => r.bareSendCpu), 'µs/update', w),
    row('ratio INSERT CPU p4runtime-ts / bare (encoding + sending)', med((r) => r.oursWriteCpu / (r.bareEncodeCpu + r.bareSendCpu)), 'ratio', `goal ≤ 1.2; per round ${per((r) => r.oursWriteCpu / (r.bareEncodeCpu + r.bareSendCpu), two)}`),
    row(
      'ratio INSERT CPU p4runtime-ts building / bare encoding',
      med((r) => (r.oursWriteCpu - r.bareSendCpu) / r.bareEncodeCpu),
      'ratio',
      'p4runtime-ts CPU less the bare client\'s sending CPU, over protobufjs encoding ready objects',
    ),
    row('wildcard READ rate, p4runtime-ts (decoded by name)', med((r) => r.oursReadRate), 'entries/s', rd),
    row('wildcard READ rate, bare grpc-js (decoded to protobuf objects)', med((r) => r.bareReadRate), 'entries/s', rd),
    row('ratio READ rate p4runtime-ts / bare', med((r) => r.oursReadRate / r.bareReadRate), 'ratio', `goal ≥ 0.95; per round ${per((r) => r.oursReadRate / r.bareReadRate, two)}`),
    row('READ client CPU, p4runtime-ts', med((r) => r.oursReadCpu), 'µs/entry', rd),
    row('READ client CPU, bare', med((r) => r.bareReadCpu), 'µs/entry', rd),
    row('ratio READ CPU p4runtime-ts / bare', med((r) => r.oursReadCpu / r.bareReadCpu), 'ratio', `per round ${per((r) => r.oursReadCpu / r.bareReadCpu, two)}`),
  ];
}
