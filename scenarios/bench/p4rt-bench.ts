/**
 * `carryover bench p4rt`: p4runtime-ts against a bare @grpc/grpc-js + protobufjs client on the same
 * switch, in one run: table INSERTs (p4runtime-ts builds by name, encodes and writes; the bare
 * client sends WriteRequests encoded before its clock starts) — p4runtime-ts twice, with the
 * updates in an array built before write() and from a generator write() draws batch by batch —
 * and wildcard reads (p4runtime-ts
 * decodes by name; the bare client to protobuf objects). The table is stateful_edge's `dyn_acl`
 * (six exact keys), the switch a `carryover sim` process (profile `full`) or, with `--target`, a
 * real one. Reported: rates, client CPU per operation (process.cpuUsage, steadier than rates on a
 * shared machine) and their ratios — medians of per-round figures, rounds rotating who goes first.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P4Schema, P4Switch, matchValueToInput } from 'p4runtime-ts';
import type { TableEntrySpec, TableHandle } from 'p4runtime-ts';
import { p4 } from 'p4runtime-ts/proto';
import { BareP4rtClient, canonicalBytes } from './bare-p4rt-client.js';
import { CaptureTransport } from './capture-transport.js';
import { runGrpcClientBench } from './grpc-client-bench.js';
import { exposedGc } from '../../controller/index.js';
import { settleHeap } from './settle-heap.js';
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
export const DEFAULT_P4RT_BENCH_OPTIONS: P4rtBenchOptions = Object.freeze({ updatesPerRound: 5_000, batchSize: 500, rounds: 30 });

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

/** Wall time and client CPU of `fn`, in seconds and microseconds, the heap settled first (settle-heap.ts). */
async function measure(fn: () => Promise<unknown>): Promise<Measured> {
  await settleHeap();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { seconds, cpuUs: c.user + c.system };
}

/** Wall time (s) and client CPU (µs) of one measured step. */
interface Measured {
  readonly seconds: number;
  readonly cpuUs: number;
}

/** One round: each client's measured steps. */
interface Round {
  /** p4runtime-ts, the caller's array of updates built before write() is called. */
  arrayWrite: Measured;
  /** p4runtime-ts, updates built by a generator that write() draws from batch by batch. */
  streamWrite: Measured;
  bareWrite: Measured;
  /** The bare client's protobufjs encoding of ready objects (not in its timed write). */
  bareEncode: Measured;
  oursRead: Measured;
  bareRead: Measured;
  /** p4runtime-ts's write() of updates built by name, WriteRequests kept instead of sent. */
  oursEncode: Measured;
  /** protobufjs encoding of the same entries as ready objects, into the same WriteRequests. */
  bareEncodeSame: Measured;
}

/** Runs the bench and returns its rows: rates, client CPU per operation and their ratios. */
export async function runP4rtBench(options: P4rtBenchOptions = DEFAULT_P4RT_BENCH_OPTIONS): Promise<BenchRow[]> {
  const { updatesPerRound: n, batchSize, rounds } = options;
  const load0 = loadavg()[0] ?? NaN;
  const deviceId = options.deviceId ?? 1n;
  let sim: SimProcess | undefined;
  if (!options.target) sim = await startSimProcess(['--profile', 'full', '--program', 'stateful_edge', '--device-id', String(deviceId)]);
  const address = options.target ?? sim?.address ?? '';
  const variant = options.target ? `target ${options.target}` : 'sim full';
  // The real gRPC transport, able to keep encoded writes back for the build+encode comparison.
  const transport = new CaptureTransport(address);
  const sw = await P4Switch.connect({ address, deviceId, writeBatchSize: batchSize, writeConcurrency: 1, transport });
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

    // p4runtime-ts as an application writes: entries by name, addresses as text; then a wildcard read.
    const oursArray = async (r: Round): Promise<void> => {
      const specs = takeKeys().map(specOf);
      const w = await measure(() => sw.write(specs.map((s) => table.insert(s))));
      let count = 0;
      const rd = await measure(async () => {
        for await (const e of sw.read(table.all())) if (e.action !== undefined) count++;
      });
      if (count !== n) throw new Error(`bench p4rt: p4runtime-ts read ${count} entries, wrote ${n}`);
      Object.assign(r, { arrayWrite: w, oursRead: rd });
      await sw.write(specs.map((s) => table.delete(s)));
    };
    // The same entries from a generator: built while the previous batch is on the wire.
    const oursStream = async (r: Round): Promise<void> => {
      const specs = takeKeys().map(specOf);
      const w = await measure(() => sw.write((function* () {
        for (const s of specs) yield table.insert(s);
      })()));
      Object.assign(r, { streamWrite: w });
      await sw.write(specs.map((s) => table.delete(s)));
    };
    const bareBatches = (keys: readonly Key[]): p4.v1.Update.$Properties[][] => {
      const batches: p4.v1.Update.$Properties[][] = [];
      for (let b = 0; b < n; b += batchSize) batches.push(keys.slice(b, b + batchSize).map(bareUpdate));
      return batches;
    };
    const bareEncode = (batches: readonly p4.v1.Update.$Properties[][], into: Buffer[]): Promise<Measured> =>
      measure(async () => {
        for (const batch of batches) into.push(BareP4rtClient.encodeWrite(deviceId, sw.electionId, batch));
      });
    const baseline = async (r: Round): Promise<void> => {
      const keys = takeKeys();
      // Ready objects first; only protobufjs's encoding is charged to "encode".
      const batches = bareBatches(keys);
      const requests: Buffer[] = [];
      const enc = await bareEncode(batches, requests);
      const w = await measure(async () => {
        for (const req of requests) await bare.write(req);
      });
      let count = 0;
      const rd = await measure(async () => {
        count = await bare.readTableEntries(readRequest);
      });
      if (count !== n) throw new Error(`bench p4rt: the bare client read ${count} entries, wrote ${n}`);
      Object.assign(r, { bareWrite: w, bareEncode: enc, bareRead: rd });
      await sw.write(keys.map((k) => table.delete(specOf(k))));
    };

    // Build + encode alone, the "CPU per update ≤ 1.2× the bare client's own encoding": one
    // set of entries, made once both ways before any clock starts, encoded by each side once per
    // round, back to back in alternating order. Made once, the inputs stay put in the old
    // generation: the measured windows hold each side's own allocation and collection, not the
    // promotion of per-round inputs or the major collections that churn triggers (which V8 runs
    // as event-loop tasks, i.e. in whichever window yields — write() does, a bare encode does not).
    // p4runtime-ts: the whole write() of updates built by name (address text parsed, names
    // resolved, values checked, encoded, batched into WriteRequests), the transport keeping the
    // requests instead of sending them. Bare: protobufjs encoding ready Update objects (ids,
    // canonical bytestrings already made) into the same WriteRequests, synchronously. Nothing is
    // written; the requests are checked equal once.
    const encodePhase = async (rs: readonly Round[]): Promise<void> => {
      const keys = takeKeys();
      const specs = keys.map(specOf);
      const batches = bareBatches(keys);
      const once = async (r: Round, first: 'ours' | 'bare'): Promise<{ ours: Uint8Array[]; bare: Buffer[] }> => {
        let ours: Uint8Array[] = [];
        const bareOut: Buffer[] = [];
        const runOurs = async (): Promise<void> => {
          transport.startCapture();
          try {
            r.oursEncode = await measure(() => sw.write(specs.map((s) => table.insert(s))));
          } finally {
            ours = transport.stopCapture();
          }
        };
        const runBare = async (): Promise<void> => {
          r.bareEncodeSame = await bareEncode(batches, bareOut);
        };
        for (const step of first === 'ours' ? [runOurs, runBare] : [runBare, runOurs]) await step();
        return { ours, bare: bareOut };
      };
      // The rounds before left garbage behind: a full collection now, outside any window, then
      // two unrecorded passes so the young generation grows back to its working size.
      exposedGc()?.();
      const warm = await once({} as Round, 'ours');
      sameWriteRequests(warm.ours, warm.bare);
      await once({} as Round, 'bare');
      for (let i = 0; i < rs.length; i++) await once(rs[i] as Round, i % 2 === 0 ? 'ours' : 'bare');
    };

    // One unrecorded round first (JIT warm-up, the server's first allocations), then rounds in
    // rotating order, so drifting load favours no client.
    const clients = [oursArray, oursStream, baseline];
    const warm = {} as Round;
    for (const c of clients) await c(warm);
    const all: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = {} as Round;
      for (let j = 0; j < clients.length; j++) await (clients[(i + j) % clients.length] as (r: Round) => Promise<void>)(r);
      all.push(r);
    }
    await encodePhase(all);
    const settled = await settleHeap();
    // Keys far above the rounds' own: each pair of calls inserts one entry and deletes it again.
    const clientRows = await runGrpcClientBench({
      address, deviceId, schema, variant, rounds: Math.min(rounds, 10), calls: 300, warmup: 50,
      update: (s, i) => (i % 2 === 0 ? s.table(TABLE).insert(specOf(keyOf(5_000_000 + i / 2))) : s.table(TABLE).delete({ match: specOf(keyOf(5_000_000 + (i - 1) / 2)).match })),
    });
    return [
      ...rowsOf(all, { variant, n, batchSize, rounds }),
      ...clientRows,
      { suite: 'p4rt', case: 'heap settled before each measured window', variant, value: settled ? 1 : 0, unit: 'yes/no', note: settled ? "two young-generation GCs (V8 gc({ type: 'minor' })) and one event-loop turn before every client's clock starts: inputs built beforehand are promoted, no pending scavenge of them lands in a window" : 'gc() unavailable: only an event-loop turn; a window may pay for copying inputs built for another' },
      { suite: 'p4rt', case: 'machine load (1-minute load average, start → end)', variant, value: loadavg()[0] ?? NaN, unit: 'load', note: `${load0.toFixed(1)} → ${(loadavg()[0] ?? NaN).toFixed(1)} on ${availableParallelism()} cores; rates swing with it, CPU per operation much less` }];
  } finally {
    bare.close();
    await sw.close();
    await sim?.stop();
  }
}

/**
 * Throws unless both lists hold the same WriteRequests: same device, election id and updates,
 * decoded (p4runtime-ts puts its fixed fields before the updates, protobufjs after; the
 * messages are equal, the byte order of fields is not).
 */
function sameWriteRequests(ours: readonly Uint8Array[], bare: readonly Uint8Array[]): void {
  const plain = (b: Uint8Array): unknown => {
    const m = p4.v1.WriteRequest.decode(b);
    return p4.v1.WriteRequest.toObject(m, { longs: String, bytes: String, enums: String, defaults: true });
  };
  if (ours.length !== bare.length) throw new Error(`bench p4rt: p4runtime-ts made ${ours.length} WriteRequests, the bare client ${bare.length}`);
  for (let i = 0; i < ours.length; i++) {
    const a = JSON.stringify(plain(ours[i] as Uint8Array));
    const b = JSON.stringify(plain(bare[i] as Uint8Array));
    if (a !== b) throw new Error(`bench p4rt: WriteRequest ${i} differs between p4runtime-ts and the bare client:\n${a.slice(0, 600)}\n${b.slice(0, 600)}`);
  }
}

/** Deletes whatever an earlier run left in the table. */
async function clearTable(sw: P4Switch, table: TableHandle): Promise<void> {
  const left = await sw.readAll(table.all());
  if (left.length > 0) await sw.write(left.map((e) => table.delete({ match: Object.fromEntries(Object.entries(e.match).map(([k, v]) => [k, matchValueToInput(v)])) })));
}

const quartiles = (xs: readonly number[]): string => {
  const q = [...xs].sort((a, b) => a - b);
  const at = (f: number): string => (q[Math.min(q.length - 1, Math.floor(f * q.length))] ?? NaN).toFixed(2);
  return `per-round median ${median(xs).toFixed(2)}, quartiles ${at(0.25)}–${at(0.75)}`;
};

/**
 * The rows: rates and CPU per operation over all rounds (totals, so a slow round weighs what it
 * cost), ratios of those totals, and the spread of per-round ratios beside them.
 */
function rowsOf(all: readonly Round[], c: { variant: string; n: number; batchSize: number; rounds: number }): BenchRow[] {
  const ops = c.n * all.length;
  const sum = (f: (r: Round) => Measured, k: keyof Measured): number => all.reduce((t, r) => t + f(r)[k], 0);
  const rate = (f: (r: Round) => Measured): number => ops / sum(f, 'seconds');
  const cpu = (f: (r: Round) => Measured): number => sum(f, 'cpuUs') / ops;
  const perRound = (f: (r: Round) => number): string => quartiles(all.map(f));
  const arrayW = (r: Round): Measured => r.arrayWrite;
  const streamW = (r: Round): Measured => r.streamWrite;
  const bareW = (r: Round): Measured => r.bareWrite;
  const bareE = (r: Round): Measured => r.bareEncode;
  const oursR = (r: Round): Measured => r.oursRead;
  const bareR = (r: Round): Measured => r.bareRead;
  const bareCpu = cpu(bareE) + cpu(bareW);
  const oursEnc = (r: Round): Measured => r.oursEncode;
  const bareEnc = (r: Round): Measured => r.bareEncodeSame;
  const w = `${c.rounds} rounds (rotating order) of ${c.n} dyn_acl INSERTs, batches of ${c.batchSize}, one in flight`;
  const rd = `wildcard Read of the ${c.n} entries, ${c.rounds} rounds`;
  const enc = `the same ${c.n} dyn_acl INSERTs (made once) encoded both ways into WriteRequests of ${c.batchSize}, ${c.rounds} times each, back to back, order alternating`;
  const row = (name: string, value: number, unit: string, note: string): BenchRow => ({ suite: 'p4rt', case: name, variant: c.variant, value, unit, note });
  return [
    row('INSERT rate, p4runtime-ts: array built, then written', rate(arrayW), 'updates/s', w),
    row('INSERT rate, p4runtime-ts: generator, built while writing', rate(streamW), 'updates/s', w),
    row('INSERT rate, bare grpc-js (pre-encoded WriteRequests)', rate(bareW), 'updates/s', w),
    row('ratio INSERT rate p4runtime-ts array / bare', rate(arrayW) / rate(bareW), 'ratio', `goal ≥ 0.9; ${perRound((r) => r.bareWrite.seconds / r.arrayWrite.seconds)}`),
    row('ratio INSERT rate p4runtime-ts generator / bare', rate(streamW) / rate(bareW), 'ratio', `goal ≥ 0.9; ${perRound((r) => r.bareWrite.seconds / r.streamWrite.seconds)}`),
    row('INSERT client CPU, p4runtime-ts array (build + encode + write)', cpu(arrayW), 'µs/update', w),
    row('INSERT client CPU, p4runtime-ts generator (build + encode + write)', cpu(streamW), 'µs/update', w),
    row('INSERT client CPU, bare: protobufjs encoding of ready objects', cpu(bareE), 'µs/update', w),
    row('INSERT client CPU, bare: sending pre-encoded', cpu(bareW), 'µs/update', w),
    row('ratio INSERT CPU p4runtime-ts array / bare (encoding + sending)', cpu(arrayW) / bareCpu, 'ratio', `goal ≤ 1.2; ${perRound((r) => r.arrayWrite.cpuUs / (r.bareEncode.cpuUs + r.bareWrite.cpuUs))}`),
    row('ratio INSERT CPU p4runtime-ts generator / bare (encoding + sending)', cpu(streamW) / bareCpu, 'ratio', `goal ≤ 1.2; ${perRound((r) => r.streamWrite.cpuUs / (r.bareEncode.cpuUs + r.bareWrite.cpuUs))}`),
    row('build + encode CPU, p4runtime-ts: write() of updates built by name, requests kept, not sent', cpu(oursEnc), 'µs/update', `${enc}; names resolved, IPv4 text parsed, values checked, encoded, batched`),
    row('build + encode CPU, bare: protobufjs encoding of the same entries as ready objects', cpu(bareEnc), 'µs/update', `${enc}; objects by id with canonical bytestrings made before the clock`),
    row('ratio build + encode CPU p4runtime-ts / bare protobufjs encoding', cpu(oursEnc) / cpu(bareEnc), 'ratio', `goal ≤ 1.2; ${perRound((r) => r.oursEncode.cpuUs / r.bareEncodeSame.cpuUs)}`),
    row('wildcard READ rate, p4runtime-ts (decoded by name)', rate(oursR), 'entries/s', rd),
    row('wildcard READ rate, bare grpc-js (decoded to protobuf objects)', rate(bareR), 'entries/s', rd),
    row('ratio READ rate p4runtime-ts / bare', rate(oursR) / rate(bareR), 'ratio', `goal ≥ 0.95; ${perRound((r) => r.bareRead.seconds / r.oursRead.seconds)}`),
    row('READ client CPU, p4runtime-ts', cpu(oursR), 'µs/entry', rd),
    row('READ client CPU, bare', cpu(bareR), 'µs/entry', rd),
    row('ratio READ CPU p4runtime-ts / bare', cpu(oursR) / cpu(bareR), 'ratio', perRound((r) => r.oursRead.cpuUs / r.bareRead.cpuUs)),
  ];
}
