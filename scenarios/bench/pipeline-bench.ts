/**
 * `carryover bench pipeline`: how fast the plugin reads stateful_edge's whole conntrack slot group
 * (327,680 slots × 9 registers) through each register-access backend, with ~10^5 tracked flows.
 *
 * Per profile a sim runs in its own process (`carryover sim`), so the figures are the client's
 * and not the server's GC. The workload (~100,100 TCP flows: handshake, left open) goes in
 * through PacketOut on the plugin's session — the path a lab uses on BMv2 — in batches, each
 * closed by an in-band READ_EPOCH that returns only after the pipeline ran the batch (the stream
 * is FIFO). Then, timed: on `full` a RegisterEntry wildcard read of every register and an
 * in-band read of every slot; on `bmv2` the in-band read (its RegisterEntry read is UNIMPLEMENTED).
 * The reads must agree: full's two backends word for word, full and bmv2 field for field except
 * `last_seen` (each process stamps with its own clock). Last, on the filled `bmv2` switch, a bare
 * window-64 in-band client and the plugin's in-band backend side by side (inband-side-by-side.ts).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { P4Switch } from 'p4runtime-ts';
import { DEFAULT_INBAND_OPTIONS, createEdgePlugin, decodeSlotFields } from '../../plugin/index.js';
import type { EdgePlugin, RegisterAccess, SlotGroupSpec, SlotRecord } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { BMV2_JSON_PATH, SCHEMA, VMS, deviceConfigFor, inbandAccess, injectInBatches, installTopology, makeWorkload } from '../edge-rig.js';
import type { BenchRow } from './results.js';
import { DEFAULT_INBAND_SIDE_BY_SIDE, compareInbandClients } from './inband-side-by-side.js';
import { timedRead } from './timed-read.js';
import type { InbandSideBySideOptions } from './inband-side-by-side.js';
import { startSimProcess } from './sim-process.js';
import { startBmv2 } from '../real-tools.js';
import { DEFAULT_CHANGED_SLOTS_BENCH, runChangedSlotsBench } from './changed-slots-bench.js';
import { sideBySideOn, simVsTargetRows } from './sim-vs-target.js';
import type { ChangedSlotsBenchOptions } from './changed-slots-bench.js';

/** Knobs of the pipeline bench. */
export interface PipelineBenchOptions {
  /** Flows generated; ~0.05 % collide, so 100,100 leaves ~10^5 tracked. */
  readonly flows: number;
  /** PacketOuts per batch before an in-band barrier. */
  readonly injectBatch: number;
  /** In-band requests in flight (the lab's safe value on BMv2 is ~64). */
  readonly inbandWindow: number;
  readonly seed: number;
  /** The bare-vs-plugin in-band rounds on the bmv2 switch. */
  readonly sideBySide: InbandSideBySideOptions;
  /** The change-log rows (a fresh switch per profile). */
  readonly changedSlots: ChangedSlotsBenchOptions;
}

/** The setup: ~10^5 tracked flows, the lab's window of 64. */
export const DEFAULT_PIPELINE_BENCH_OPTIONS: PipelineBenchOptions = Object.freeze({ flows: 100_100, injectBatch: 2_000, inbandWindow: 64, seed: 2026, sideBySide: DEFAULT_INBAND_SIDE_BY_SIDE, changedSlots: DEFAULT_CHANGED_SLOTS_BENCH });

const SUITE = 'pipeline';

interface ProfileRun {
  readonly rows: BenchRow[];
  /** Occupied slots as the profile's own backend read them. */
  readonly occupied: SlotRecord[];
  readonly group: SlotGroupSpec;
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/** Words that differ between two reads of the same slots (all words). */
function wordMismatches(a: readonly SlotRecord[], b: readonly SlotRecord[]): number {
  let bad = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.index !== y.index || x.words.some((w, n) => w !== y.words[n])) bad++;
  }
  return bad;
}

/** Slots whose decoded fields differ, ignoring the group's clock field. */
function fieldMismatches(group: SlotGroupSpec, a: readonly SlotRecord[], b: readonly SlotRecord[]): number {
  const clock = group.clock?.field.name;
  const byIndex = new Map(b.map((r) => [r.index, r]));
  let bad = Math.abs(a.length - b.length);
  for (const r of a) {
    const other = byIndex.get(r.index);
    if (!other) {
      bad++;
      continue;
    }
    const fa = decodeSlotFields(group, r.words);
    const fb = decodeSlotFields(group, other.words);
    if (Object.keys(fa).some((k) => k !== clock && fa[k] !== fb[k])) bad++;
  }
  return bad;
}

/**
 * Generates the workload and sends it by PacketOut in batches, each closed by an in-band
 * READ_EPOCH (answered only once the pipeline ran the batch). The packets are local to this
 * function so they are garbage before the timed reads start.
 */
async function injectWorkload(sw: P4Switch, barrier: RegisterAccess, o: PipelineBenchOptions, log: (m: string) => void): Promise<{ packets: number; seconds: number }> {
  log(`generating ${o.flows} flows`);
  const work = makeWorkload({ seed: o.seed, flows: o.flows, concurrency: 512, udpShare: 0, inboundShare: 0, exchanges: [0, 0], close: { fin: 0, rst: 0, open: 1 } });
  log(`injecting ${work.packets.length} packets by PacketOut`);
  const t0 = performance.now();
  await injectInBatches(sw, barrier, work.packets.map((p) => ({ port: p.ingressPort, payload: p.payload })), o.injectBatch);
  return { packets: work.packets.length, seconds: seconds(t0) };
}

async function runProfile(profile: SimProfileName, o: PipelineBenchOptions, log: (m: string) => void): Promise<ProfileRun> {
  const sim = await startSimProcess(['--profile', profile, '--program', 'stateful_edge', '--device-id', '1', '--log-level', 'warn']);
  let plugin: EdgePlugin | undefined;
  let barrier: RegisterAccess | undefined;
  let second: RegisterAccess | undefined;
  try {
    const p = createEdgePlugin({ address: sim.address, deviceId: 1, electionId: 10n, p4info: SCHEMA, deviceConfig: deviceConfigFor(profile), inband: { window: o.inbandWindow } });
    plugin = p;
    await p.start();
    const sw = plugin.session;
    await installTopology(sw);
    const group = plugin.group;
    const inband = (timeoutMs: number, maxAttempts: number): Promise<RegisterAccess> => inbandAccess(p, { window: o.inbandWindow, timeoutMs, maxAttempts });
    // The barrier waits behind a whole batch in the switch's queue: a long timeout, no retry.
    barrier = await inband(60_000, 1);

    const injected = await injectWorkload(sw, barrier, o, (m) => log(`${profile}: ${m}`));
    // Done with it: a second in-band client would decode every answer of the timed read too.
    barrier.close();
    let collisions = 0n;
    for (const vm of VMS) collisions += (await plugin.registerAccess.readCounter('ct_collisions', vm.id)).packets;

    const rows: BenchRow[] = [
      { suite: SUITE, case: 'inject workload (PacketOut)', variant: profile, value: injected.packets / injected.seconds, unit: 'packets/s', note: `${injected.packets} packets of ${o.flows} TCP handshakes in ${injected.seconds.toFixed(1)} s, a READ_EPOCH barrier every ${o.injectBatch}` },
    ];
    let occupied: SlotRecord[];
    const caps = plugin.registerAccess.capabilities();
    if (caps.backend === 'p4runtime') {
      log(`${profile}: reading the group by RegisterEntry`);
      const p4rt = await timedRead(plugin.registerAccess, `${profile} / p4runtime`, `${group.words.length} registers read wildcard`, sim.pid);
      rows.push(...p4rt.rows);
      log(`${profile}: reading the group in-band`);
      second = await inband(DEFAULT_INBAND_OPTIONS.timeoutMs, DEFAULT_INBAND_OPTIONS.maxAttempts);
      const ib = await timedRead(second, `${profile} / inband`, `one READ_SLOT per slot, window ${o.inbandWindow}`, sim.pid);
      rows.push(...ib.rows);
      rows.push({ suite: SUITE, case: 'mismatched slots', variant: `${profile}: p4runtime vs inband`, value: wordMismatches(p4rt.records, ib.records), unit: 'slots', note: 'every slot, every word' });
      occupied = p4rt.records.filter((r) => (decodeSlotFields(group, r.words)[group.valid.name] ?? 0n) !== 0n);
    } else {
      rows.push({ suite: SUITE, case: 'read whole conntrack group', variant: `${profile} / p4runtime`, value: 'UNSUPPORTED', unit: 'slots/s', note: caps.reason });
      log(`${profile}: reading the group in-band`);
      const ib = await timedRead(plugin.registerAccess, `${profile} / inband`, `one READ_SLOT per slot, window ${o.inbandWindow}`, sim.pid);
      rows.push(...ib.rows);
      occupied = ib.records.filter((r) => (decodeSlotFields(group, r.words)[group.valid.name] ?? 0n) !== 0n);
    }
    rows.unshift({ suite: SUITE, case: 'tracked flows', variant: profile, value: occupied.length, unit: 'flows', note: `of ${o.flows} generated; ${collisions} found no free slot (ct_collisions)` });
    if (caps.backend === 'inband') {
      // The clients take the primary role in turn: the plugin steps aside, the filled switch stays.
      await plugin.stop();
      plugin = undefined;
      rows.push(...(await compareInbandClients({ address: sim.address, deviceId: 1, pid: sim.pid, label: `sim ${profile}` }, o.sideBySide, (m) => log(`${profile}: ${m}`))));
    }
    return { rows, occupied, group };
  } finally {
    barrier?.close();
    second?.close();
    await plugin?.stop();
    await sim.stop();
  }
}

/**
 * The change-log rows on a real BMv2 (`simple_switch_grpc` at `bmv2`, started here on loopback
 * with the committed p4c JSON pushed): the same rows as the sim profiles, variant `real BMv2`.
 */
export async function runChangeLogRealBmv2(bmv2: string, o: PipelineBenchOptions, log: (m: string) => void): Promise<BenchRow[]> {
  const sw = await startBmv2(bmv2);
  const plugin = createEdgePlugin({ address: sw.address, deviceId: 0, electionId: 10n, p4info: SCHEMA, deviceConfig: readFileSync(BMV2_JSON_PATH), inband: { window: o.inbandWindow } });
  try {
    await plugin.start();
    await installTopology(plugin.session);
    log(`real BMv2 (pid ${sw.pid}) at ${sw.address}`);
    return await runChangedSlotsBench(plugin, 'real BMv2', o.changedSlots, log);
  } finally {
    await plugin.stop();
    await sw.stop();
  }
}

/**
 * The in-band side-by-side on a real BMv2 started here (stateful_edge's committed p4c JSON pushed,
 * topology installed, no flows), with its CPU per request read from /proc.
 */
export async function runInbandRealBmv2(bmv2: string, o: PipelineBenchOptions, log: (m: string) => void): Promise<BenchRow[]> {
  const sw = await startBmv2(bmv2);
  try {
    log(`real BMv2 (pid ${sw.pid}) at ${sw.address}: in-band side by side`);
    return await sideBySideOn({ address: sw.address, deviceId: 0, pid: sw.pid, label: 'real BMv2', deviceConfig: readFileSync(BMV2_JSON_PATH) }, o.sideBySide, o.inbandWindow, log);
  } finally {
    await sw.stop();
  }
}

/** The change-log rows of one profile, on a fresh sim process (the rows fill it from 0 flows). */
export async function runChangeLogProfile(profile: SimProfileName, o: PipelineBenchOptions, log: (m: string) => void): Promise<BenchRow[]> {
  const sim = await startSimProcess(['--profile', profile, '--program', 'stateful_edge', '--device-id', '1', '--log-level', 'warn']);
  const plugin = createEdgePlugin({ address: sim.address, deviceId: 1, electionId: 10n, p4info: SCHEMA, deviceConfig: deviceConfigFor(profile), inband: { window: o.inbandWindow } });
  try {
    await plugin.start();
    await installTopology(plugin.session);
    return await runChangedSlotsBench(plugin, profile, o.changedSlots, log);
  } finally {
    await plugin.stop();
    await sim.stop();
  }
}

/**
 * Runs the bench: profile full, then bmv2 (one sim process at a time), and returns its rows.
 * @example
 * const rows = await runPipelineBench();
 */
export async function runPipelineBench(options: PipelineBenchOptions = DEFAULT_PIPELINE_BENCH_OPTIONS, log: (m: string) => void = (m) => console.error(`bench pipeline: ${m}`)): Promise<BenchRow[]> {
  const full = await runProfile('full', options, log);
  const bmv2 = await runProfile('bmv2', options, log);
  const cross = fieldMismatches(full.group, full.occupied, bmv2.occupied);
  const changeRows = [...(await runChangeLogProfile('full', options, log)), ...(await runChangeLogProfile('bmv2', options, log))];
  // Real BMv2 when the lab's variable names one (the same variable the opt-in tests use).
  const real = process.env['CARRYOVER_BMV2'];
  const realRows: BenchRow[] = [];
  if (real) {
    changeRows.push(...(await runChangeLogRealBmv2(real, options, log)));
    realRows.push(...(await runInbandRealBmv2(real, options, log)));
    realRows.push(...simVsTargetRows([...full.rows, ...bmv2.rows, ...realRows], 'sim bmv2', 'real BMv2', 'full / p4runtime'));
  } else {
    const skipped = 'not run: set CARRYOVER_BMV2 to a simple_switch_grpc binary to add these rows';
    changeRows.push({ suite: SUITE, case: 'find and read changed slots of one VM', variant: 'real BMv2', value: 'UNSUPPORTED', unit: 'ops', note: skipped });
    realRows.push({ suite: SUITE, case: 'in-band READ_SLOT side by side', variant: 'real BMv2', value: 'NOT RUN', unit: 'requests/s', note: skipped });
  }
  return [
    ...full.rows,
    ...bmv2.rows,
    ...realRows,
    ...changeRows,
    { suite: SUITE, case: 'mismatched slots', variant: 'full vs bmv2', value: cross, unit: 'slots', note: `${full.occupied.length} occupied slots, every field but ${full.group.clock?.field.name ?? '(no clock)'} (each process has its own clock)` },
  ];
}
