/**
 * `carryover bench sim`: what one simulated switch serves, per profile, measured in one run over
 * real gRPC on loopback with a bare client (pre-built requests): table INSERTs per second in
 * batches, and register cells per second through wildcard reads (only where the profile has
 * P4Runtime register reads; UNSUPPORTED otherwise, with the target's answer), register cells per
 * second written in batches (where the profile takes register writes). Indirect counter
 * cells per second too, for comparison with the lab's BMv2 figures.
 */
import { P4RuntimeError } from 'p4runtime-ts';
import { p4, toUint128 } from 'p4runtime-ts/proto';
import { canonicalBytes } from './p4rt/bytestring.js';
import { SIM_PROFILE_NAMES } from './profiles.js';
import type { SimProfileName } from './profiles.js';
import { L2_ECHO_IDS, L2_ECHO_P4INFO_OBJECT, l2EchoDeviceConfig } from './programs/l2-echo/l2-echo-p4info.js';
import { startSimSwitch } from './sim-switch.js';
import { RawP4RuntimeClient } from './testing/raw-client.js';

/** One result row; the same shape as scenarios' BenchRow. */
export interface SimBenchRow {
  readonly suite: 'sim';
  readonly case: string;
  readonly variant: SimProfileName;
  readonly value: number | 'UNSUPPORTED';
  readonly unit: string;
  readonly note?: string;
}

/** Options of `runSimBenchmarks`. */
export interface SimBenchOptions {
  readonly profiles?: readonly SimProfileName[];
  /** Table entries inserted per profile. */
  readonly tableEntries?: number;
  readonly batchSize?: number;
  /** Cells of the register (and counter) read by wildcard. */
  readonly cells?: number;
  /** Wildcard reads per measurement, and passes over the register's cells when writing them. */
  readonly readRounds?: number;
  /** Progress lines (e.g. to stderr). */
  readonly progress?: (line: string) => void;
}

/** The defaults (sized like the lab's BMv2 measurements). */
export const DEFAULT_SIM_BENCH_OPTIONS = Object.freeze({
  profiles: SIM_PROFILE_NAMES,
  tableEntries: 20_000,
  batchSize: 500,
  cells: 65_536,
  readRounds: 5,
});

interface ParsedBench {
  readonly profiles: readonly SimProfileName[];
  readonly tableEntries: number;
  readonly batchSize: number;
  readonly cells: number;
  readonly readRounds: number;
  readonly progress: (line: string) => void;
}

/** Validates bench options and fills in defaults. */
export function parseSimBenchOptions(o: SimBenchOptions = {}): ParsedBench {
  const posInt = (name: string, v: number): number => {
    if (!(Number.isInteger(v) && v >= 1)) throw new P4RuntimeError('BAD_OPTIONS', `sim bench option '${name}': got ${v}; expected an integer >= 1`);
    return v;
  };
  const profiles = o.profiles ?? DEFAULT_SIM_BENCH_OPTIONS.profiles;
  for (const p of profiles) if (!SIM_PROFILE_NAMES.includes(p)) throw new P4RuntimeError('BAD_OPTIONS', `sim bench option 'profiles': '${p}' is not one of ${SIM_PROFILE_NAMES.join(', ')}`);
  return Object.freeze({
    profiles: Object.freeze([...profiles]),
    tableEntries: posInt('tableEntries', o.tableEntries ?? DEFAULT_SIM_BENCH_OPTIONS.tableEntries),
    batchSize: posInt('batchSize', o.batchSize ?? DEFAULT_SIM_BENCH_OPTIONS.batchSize),
    cells: posInt('cells', o.cells ?? DEFAULT_SIM_BENCH_OPTIONS.cells),
    readRounds: posInt('readRounds', o.readRounds ?? DEFAULT_SIM_BENCH_OPTIONS.readRounds),
    progress: o.progress ?? (() => undefined),
  });
}

/** l2_echo resized for the bench: a table that holds every entry, a register and counter of `cells`. */
function benchP4Info(entries: number, cells: number): p4.config.v1.P4Info {
  const info = p4.config.v1.P4Info.fromObject(L2_ECHO_P4INFO_OBJECT);
  for (const t of info.tables) if (t.preamble?.id === L2_ECHO_IDS.tables.mac_fwd) t.size = entries;
  for (const r of info.registers) if (r.preamble?.id === L2_ECHO_IDS.registers.pkt_count) r.size = cells;
  for (const c of info.counters) if (c.preamble?.id === L2_ECHO_IDS.counters.port_counter) c.size = cells;
  return info;
}

/**
 * Register cells written per second: MODIFYs of every cell of a bit<32> register in batches, as a
 * migration's activation writes held flows' words (one Write of hundreds to thousands of cells).
 * UNSUPPORTED, with the target's answer, where the profile refuses register writes.
 */
async function registerWrites(client: RawP4RuntimeClient, deviceId: number, profile: SimProfileName, o: ParsedBench): Promise<SimBenchRow> {
  const electionId = toUint128(1n);
  const cell = (i: number, round: number): p4.v1.Update.$Properties => ({
    type: 2,
    entity: { registerEntry: { registerId: L2_ECHO_IDS.registers.pkt_count, index: { index: i }, data: { bitstring: canonicalBytes(BigInt((i * 7919 + round) % 0x100_0000)) } } },
  });
  const what = 'register cells written/s';
  const probe = await client.write({ deviceId, electionId, updates: [cell(0, 0)] });
  if (probe.code !== 0) return { suite: 'sim', case: what, variant: profile, value: 'UNSUPPORTED', unit: 'cells/s', note: `Write answers code ${probe.code}: ${probe.details}` };
  const batches: p4.v1.WriteRequest.$Properties[] = [];
  for (let round = 0; round < o.readRounds; round++) {
    for (let start = 0; start < o.cells; start += o.batchSize) {
      const updates: p4.v1.Update.$Properties[] = [];
      for (let i = start; i < Math.min(o.cells, start + o.batchSize); i++) updates.push(cell(i, round));
      batches.push({ deviceId, electionId, updates });
    }
  }
  o.progress(`sim bench ${profile}: writing ${o.cells} register cells ${o.readRounds} times in batches of ${o.batchSize}`);
  const t0 = performance.now();
  for (const b of batches) {
    const r = await client.write(b);
    if (r.code !== 0) throw new Error(`register write failed on ${profile}: ${r.details}`);
  }
  const secs = (performance.now() - t0) / 1000;
  return { suite: 'sim', case: what, variant: profile, value: (o.cells * o.readRounds) / secs, unit: 'cells/s', note: `MODIFY of bit<32> cells, batches of ${o.batchSize}` };
}

async function benchProfile(profile: SimProfileName, o: ParsedBench): Promise<SimBenchRow[]> {
  const sw = await startSimSwitch({ profile });
  const client = new RawP4RuntimeClient(sw.address);
  const stream = client.stream();
  const rows: SimBenchRow[] = [];
  try {
    const electionId = toUint128(1n);
    const deviceId = Number(sw.deviceId);
    stream.arbitrate({ deviceId: sw.deviceId, electionId: 1n });
    await stream.nextArbitration();
    const pushed = await client.setPipeline({ deviceId, electionId, action: 3, config: { p4info: benchP4Info(o.tableEntries, o.cells), p4DeviceConfig: l2EchoDeviceConfig(profile) } });
    if (pushed.code !== 0) throw new Error(`pipeline push failed on ${profile}: ${pushed.details}`);

    // Pre-built batches: the client's own encoding cost stays out of the figure as far as possible.
    const batches: p4.v1.WriteRequest.$Properties[] = [];
    for (let start = 0; start < o.tableEntries; start += o.batchSize) {
      const updates: p4.v1.Update.$Properties[] = [];
      for (let i = start; i < Math.min(o.tableEntries, start + o.batchSize); i++) {
        updates.push({ type: 1, entity: { tableEntry: { tableId: L2_ECHO_IDS.tables.mac_fwd, match: [{ fieldId: 1, exact: { value: canonicalBytes(BigInt(i + 1)) } }], action: { action: { actionId: L2_ECHO_IDS.actions.forward, params: [{ paramId: 1, value: canonicalBytes(BigInt(1 + (i % 500))) }] } } } } });
      }
      batches.push({ deviceId, electionId, updates });
    }
    o.progress(`sim bench ${profile}: inserting ${o.tableEntries} entries in batches of ${o.batchSize}`);
    let t0 = performance.now();
    for (const b of batches) {
      const r = await client.write(b);
      if (r.code !== 0) throw new Error(`write failed on ${profile}: ${r.details}`);
    }
    let secs = (performance.now() - t0) / 1000;
    rows.push({ suite: 'sim', case: 'table writes/s', variant: profile, value: o.tableEntries / secs, unit: 'entries/s', note: `INSERT, batches of ${o.batchSize}` });
    rows.push(await registerWrites(client, deviceId, profile, o));

    const wildcard = async (entity: p4.v1.Entity.$Properties, what: string, unsupportedCase: string): Promise<void> => {
      const probe = await client.read({ deviceId, entities: [entity] });
      if (probe.outcome.code !== 0) {
        rows.push({ suite: 'sim', case: unsupportedCase, variant: profile, value: 'UNSUPPORTED', unit: 'cells/s', note: `Read answers code ${probe.outcome.code}: ${probe.outcome.details}` });
        return;
      }
      o.progress(`sim bench ${profile}: ${o.readRounds} wildcard reads of ${o.cells} ${what} cells`);
      t0 = performance.now();
      let cells = 0;
      for (let i = 0; i < o.readRounds; i++) {
        const r = await client.read({ deviceId, entities: [entity] });
        if (r.outcome.code !== 0) throw new Error(`read failed on ${profile}: ${r.outcome.details}`);
        cells += r.entities.length;
      }
      secs = (performance.now() - t0) / 1000;
      rows.push({ suite: 'sim', case: unsupportedCase, variant: profile, value: cells / secs, unit: 'cells/s', note: `wildcard Read of ${o.cells} cells` });
    };
    await wildcard({ registerEntry: { registerId: L2_ECHO_IDS.registers.pkt_count } }, 'register', 'register cells read/s');
    await wildcard({ counterEntry: { counterId: L2_ECHO_IDS.counters.port_counter } }, 'counter', 'counter cells read/s');
  } finally {
    stream.cancel();
    client.close();
    await sw.stop();
  }
  return rows;
}

/** Runs the sim benchmark for every requested profile, one after another, in one process. */
export async function runSimBenchmarks(options: SimBenchOptions = {}): Promise<SimBenchRow[]> {
  const o = parseSimBenchOptions(options);
  const rows: SimBenchRow[] = [];
  for (const profile of o.profiles) rows.push(...(await benchProfile(profile, o)));
  return rows;
}
