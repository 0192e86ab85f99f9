/**
 * Is the sim the bottleneck? `bench pipeline` runs the same in-band side-by-side (bare window-64
 * client and the plugin's backend, each in its own process) on a sim and on a real target in one
 * run, and compares what each switch serves: in-band requests per second to the same bare client,
 * the switch's own CPU per request where it is a local process, and register reads — the sim's
 * P4Runtime RegisterEntry read against the target's in-band READ_SLOT (BMv2 answers RegisterEntry
 * with UNIMPLEMENTED, so in-band is its only register-read path). The target is a real switch
 * the bench started (CARRYOVER_BMV2) or one given with `--target`.
 */
import { readFileSync } from 'node:fs';
import { P4RuntimeError } from 'p4runtime-ts';
import { createEdgePlugin } from '../../plugin/index.js';
import { SCHEMA, deviceConfigFor, installTopology } from '../edge-rig.js';
import { compareInbandClients } from './inband-side-by-side.js';
import type { InbandSideBySideOptions } from './inband-side-by-side.js';
import type { BenchRow } from './results.js';
import { timedRead } from './timed-read.js';
import { startSimProcess } from './sim-process.js';

/** A switch to run the in-band side-by-side on. */
export interface InbandTarget {
  readonly address: string;
  readonly deviceId: number;
  /** Local process id, for the switch's CPU per request (from /proc). */
  readonly pid?: number;
  readonly label: string;
  /** Pushed with stateful_edge's P4Info when given; otherwise the switch must run stateful_edge. */
  readonly deviceConfig?: Uint8Array;
}

const SUITE = 'pipeline';
const SIDE = 'in-band READ_SLOT side by side';

/** Loads stateful_edge (when a device config is given) and the port/VM topology, then runs the side-by-side; the loading session steps aside first. */
export async function sideBySideOn(target: InbandTarget, o: InbandSideBySideOptions, window: number, log: (m: string) => void): Promise<BenchRow[]> {
  const plugin = createEdgePlugin({
    address: target.address,
    deviceId: target.deviceId,
    electionId: 10n,
    p4info: SCHEMA,
    ...(target.deviceConfig ? { deviceConfig: target.deviceConfig } : {}),
    inband: { window },
  });
  try {
    await plugin.start();
    await installTopology(plugin.session).catch((e: unknown) => {
      // A target already loaded (an earlier run, the same cookie) still has the topology.
      const failed = e instanceof P4RuntimeError && e.code === 'WRITE_FAILED' ? e.updates : undefined;
      if (!failed || failed.length === 0 || failed.some((u) => u.code !== 'ALREADY_EXISTS')) throw e;
    });
  } finally {
    await plugin.stop();
  }
  return compareInbandClients(target, o, (m) => log(`${target.label}: ${m}`));
}

/** The side-by-side on a fresh `bmv2`-profile sim process (stateful_edge and the topology, no flows — as a target just loaded). */
export async function sideBySideOnFreshSim(o: InbandSideBySideOptions, window: number, log: (m: string) => void): Promise<BenchRow[]> {
  const sim = await startSimProcess(['--profile', 'bmv2', '--program', 'stateful_edge', '--device-id', '1', '--log-level', 'warn']);
  try {
    return await sideBySideOn({ address: sim.address, deviceId: 1, pid: sim.pid, label: 'sim bmv2 (fresh)', deviceConfig: deviceConfigFor('bmv2') }, o, window, log);
  } finally {
    await sim.stop();
  }
}

/** The sim's register-read path: a RegisterEntry wildcard read of the whole conntrack group on a fresh `full` sim, with the sim's CPU per slot. */
export async function simRegisterRead(window: number, log: (m: string) => void): Promise<BenchRow[]> {
  const sim = await startSimProcess(['--profile', 'full', '--program', 'stateful_edge', '--device-id', '1', '--log-level', 'warn']);
  const plugin = createEdgePlugin({ address: sim.address, deviceId: 1, electionId: 10n, p4info: SCHEMA, deviceConfig: deviceConfigFor('full'), inband: { window } });
  try {
    await plugin.start();
    const access = plugin.registerAccess;
    if (access.capabilities().backend !== 'p4runtime') throw new Error('bench pipeline: the full sim did not offer RegisterEntry access');
    log('sim full (fresh): reading the group by RegisterEntry');
    return (await timedRead(access, 'sim full (fresh) / p4runtime', `${plugin.group.words.length} registers read wildcard`, sim.pid)).rows;
  } finally {
    await plugin.stop();
    await sim.stop();
  }
}

const find = (rows: readonly BenchRow[], variant: string, suffix: string): number | undefined => {
  const r = rows.find((x) => x.variant === variant && x.case.endsWith(suffix));
  return typeof r?.value === 'number' ? r.value : undefined;
};

/**
 * The comparison rows: the sim's serving against the target's, from side-by-side rows of both
 * (and a register read of the sim's, when measured). Goal ≥ 1 for rates; CPU is informative.
 */
export function simVsTargetRows(rows: readonly BenchRow[], sim: string, target: string, simRegisterVariant?: string): BenchRow[] {
  const out: BenchRow[] = [];
  const simRate = find(rows, sim, `${SIDE}: bare grpc-js client`);
  const targetRate = find(rows, target, `${SIDE}: bare grpc-js client`);
  const v = `${sim} vs ${target}`;
  if (simRate !== undefined && targetRate !== undefined) {
    out.push({ suite: SUITE, case: 'in-band requests/s served to the same bare client, sim / target', variant: v, value: simRate / targetRate, unit: 'ratio', note: `${Math.round(simRate)} vs ${Math.round(targetRate)} requests/s (medians); goal ≥ 1: the sim is not the bottleneck` });
  }
  const simCpu = find(rows, sim, `${SIDE}: switch CPU while serving the bare client`);
  const targetCpu = find(rows, target, `${SIDE}: switch CPU while serving the bare client`);
  if (simCpu !== undefined && targetCpu !== undefined) {
    out.push({ suite: SUITE, case: 'switch CPU per in-band request, sim / target', variant: v, value: simCpu / targetCpu, unit: 'ratio', note: `${simCpu.toFixed(1)} vs ${targetCpu.toFixed(1)} ms per 1k requests; below 1: the sim spends less` });
  }
  if (simRegisterVariant !== undefined) {
    const simRead = find(rows, simRegisterVariant, 'read whole conntrack group');
    if (simRead !== undefined && targetRate !== undefined) {
      out.push({
        suite: SUITE,
        case: 'register reads: sim RegisterEntry slots/s / target in-band slots/s',
        variant: `${simRegisterVariant} vs ${target}`,
        value: simRead / targetRate,
        unit: 'ratio',
        note: `${Math.round(simRead)} vs ${Math.round(targetRate)} slots/s; the target's register reads are in-band READ_SLOTs (one slot each; BMv2 answers RegisterEntry reads UNIMPLEMENTED); goal ≥ 1; the client decodes in the same 2 cores`,
      });
    }
    const simSlotCpu = find(rows, simRegisterVariant, 'read whole conntrack group: switch CPU per slot');
    if (simSlotCpu !== undefined && targetCpu !== undefined) {
      out.push({
        suite: SUITE,
        case: 'register reads: switch CPU per slot, sim RegisterEntry / target in-band',
        variant: `${simRegisterVariant} vs ${target}`,
        value: simSlotCpu / targetCpu,
        unit: 'ratio',
        note: `${simSlotCpu.toFixed(1)} vs ${targetCpu.toFixed(1)} µs of switch CPU per slot read; below 1: the sim spends less`,
      });
    }
  }
  return out;
}

/** `bench pipeline --target`: the side-by-side on the target and on a fresh sim, the sim's register read, and the comparison. */
export async function runPipelineTargetBench(
  target: { readonly address: string; readonly deviceId: number; readonly deviceConfig?: string },
  o: InbandSideBySideOptions,
  window: number,
  log: (m: string) => void,
): Promise<BenchRow[]> {
  const label = `target ${target.address}`;
  const onTarget = await sideBySideOn({ address: target.address, deviceId: target.deviceId, label, ...(target.deviceConfig !== undefined ? { deviceConfig: readFileSync(target.deviceConfig) } : {}) }, o, window, log);
  const onSim = await sideBySideOnFreshSim(o, window, log);
  const read = await simRegisterRead(window, log);
  const rows = [...onTarget, ...onSim, ...read];
  return [...rows, ...simVsTargetRows(rows, 'sim bmv2 (fresh)', label, read[0]?.variant)];
}
