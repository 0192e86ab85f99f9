/**
 * `carryover bench daemons`: the pause-window sync through plugin daemons — each switch's
 * `carryover plugin` a child process serving the migration protocol over mutual TLS with tickets,
 * as README "Deploying a plugin beside a switch" lays them out — pipelined (FreezeFinal,
 * ImportActivate: two calls in the pause) against one call per step (four) and peer to peer (the
 * sources' daemons send to the destinations'), in turn in one run
 * over the same two simulated switches while the VM moves back and forth. The figure is the
 * engine's pause-window sync; the ratio compares the two in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeMigration, parseInventory, planMigration } from '../../controller/index.js';
import { TestPki } from '../../plugin/testing/test-pki.js';
import type { SimProfileName, SimSwitch } from '../../sim/index.js';
import type { BenchFlags } from '../cli/bench-command.js';
import { controllerYaml, makeDomainFiles, writeDaemonConfig } from '../domain-files.js';
import type { DomainFiles } from '../domain-files.js';
import { P4INFO_PATH } from '../edge-rig.js';
import { establish } from '../migration-fixture.js';
import { startDaemonProcess, startSwitchForDaemon } from '../plugin-daemons.js';
import type { RunningDaemon } from '../plugin-daemons.js';
import { median } from './migrate-flows.js';
import type { BenchRow } from './results.js';

/** Knobs of the daemons bench. */
export interface DaemonsBenchOptions {
  /** Migrations per mode (pipelined, one call per step), alternating. */
  readonly runs: number;
  /** Established TCP flows the VM has. */
  readonly flows: number;
  readonly profile: SimProfileName;
}

export const DEFAULT_DAEMONS_BENCH_OPTIONS: DaemonsBenchOptions = Object.freeze({ runs: 8, flows: 100, profile: 'bmv2' });

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** How a migration's state moves: the pause pipelined through the controller, one call per step, or peer to peer. */
type Mode = 'pipelined' | 'stepped' | 'peer';
const MODES: readonly Mode[] = ['pipelined', 'stepped', 'peer'];
/** The calls a peer-to-peer pause makes (daemons offering Capabilities.transfer_freezes). */
const PEER_CALLS = 'calls in the pause: Transfer (final: the source daemon freezes, reads, then ImportActivate at the destination daemon)';

/** One edge: its switch and its daemon (a child process). */
interface Edge {
  readonly sim: SimSwitch;
  readonly daemon: RunningDaemon & { readonly pid: number };
}

async function startEdge(files: DomainFiles, device: string, vmId: number, profile: SimProfileName): Promise<Edge> {
  const { sim } = await startSwitchForDaemon(vmId, profile);
  try {
    // Each daemon trusts the other as a caller: peer to peer, the source's daemon imports at the destination's.
    const config = writeDaemonConfig({ switchAddress: sim.address, deviceId: sim.deviceId, electionId: 20, p4info: P4INFO_PATH, device, files, requiredSigners: [files.domain], snapshotSource: 'index', trustedCallers: [files.controllerName, 'edge-a', 'edge-b'] });
    return { sim, daemon: await startDaemonProcess(config) };
  } catch (e) {
    await sim.stop();
    throw e;
  }
}

/** Runs the suite (`--rounds` sets the migrations per mode). */
export async function runDaemonsBench(flags: BenchFlags = {}, o: DaemonsBenchOptions = DEFAULT_DAEMONS_BENCH_OPTIONS): Promise<BenchRow[]> {
  const runs = flags.rounds ?? o.runs;
  const dir = mkdtempSync(join(tmpdir(), 'carryover-bench-daemons-'));
  const pki = new TestPki();
  const edges: Edge[] = [];
  try {
    const files = makeDomainFiles(pki, dir, 'dc-a');
    edges.push(await startEdge(files, 'edge-a', 7, o.profile), await startEdge(files, 'edge-b', 9, o.profile));
    const [a, b] = edges as [Edge, Edge];
    for (let i = 0; i < o.flows; i++) if (!establish(a.sim, 20_000 + i)) throw new Error(`bench daemons: flow ${i} was not established at the source`);
    const site = (at: string): string => `
domain: dc-a
${controllerYaml(files)}
devices:
  edge-a: { plugin: { address: ${a.daemon.address}, serverName: edge-a }, hosts: [host-a] }
  edge-b: { plugin: { address: ${b.daemon.address}, serverName: edge-b }, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: ${at} }
`;
    const samples: Record<Mode, number[]> = { pipelined: [], stepped: [], peer: [] };
    let at = 'host-a';
    // The first migration (daemons' first pause, the slot index's first use) is not counted.
    for (let n = -1; n < MODES.length * runs; n++) {
      const to = at === 'host-a' ? 'host-b' : 'host-a';
      const inv = parseInventory(site(at), join(dir, 'site.yaml'));
      const mode = MODES[(n + MODES.length) % MODES.length] as Mode;
      const out = await executeMigration({
        plan: planMigration(inv, 'vm-7', at, to), trigger: { kind: 'manual' }, migrationId: `bench-daemons-${n + 1}`, journalDir: dir, defaultP4info: P4INFO_PATH,
        domain: inv.domain, ...(inv.controller ? { controller: inv.controller } : {}), pauseDeadlineMs: 60_000, onDeadline: 'abort', progress: () => undefined,
        ...(mode === 'stepped' ? { pipelinedPause: false } : {}), ...(mode === 'peer' ? { transfer: 'peer-to-peer' as const } : {}),
      });
      if (out.run.aborted || !out.run.sync) throw new Error(`bench daemons: migration ${n + 1} (${mode}) did not commit: ${out.run.aborted?.reason ?? '?'}: ${out.run.aborted?.detail ?? ''}`);
      if (out.rounds[0] !== o.flows) throw new Error(`bench daemons: migration ${n + 1}'s snapshot held ${String(out.rounds[0])} flows, not ${o.flows}`);
      if (n >= 0) samples[mode].push(out.run.sync.elapsedMs);
      at = to;
    }
    const note = (xs: readonly number[], calls: string): string => `min ${round2(Math.min(...xs))}, max ${round2(Math.max(...xs))}; ${xs.length} migrations of ${o.flows} flows, sim ${o.profile}, daemons as child processes; ${calls}`;
    const p = median(samples.pipelined);
    const s = median(samples.stepped);
    const q = median(samples.peer);
    return [
      { suite: 'daemons', case: 'pause-window sync through plugin daemons, median', variant: 'pipelined (default)', value: round2(p), unit: 'ms', note: note(samples.pipelined, 'calls in the pause: FreezeFinal, ImportActivate') },
      { suite: 'daemons', case: 'pause-window sync through plugin daemons, median', variant: 'one call per step (pipelinedPause: false)', value: round2(s), unit: 'ms', note: note(samples.stepped, 'calls in the pause: Freeze, PauseDelta, FinalDelta, ImportStaged, Activate') },
      { suite: 'daemons', case: 'pause-window sync through plugin daemons, median', variant: 'peer to peer (--transfer peer-to-peer)', value: round2(q), unit: 'ms', note: note(samples.peer, PEER_CALLS) },
      { suite: 'daemons', case: 'pipelined ÷ one call per step, same run', variant: o.profile, value: round2(p / s), unit: '×', note: 'below 1: the pipelined pause is shorter' },
      { suite: 'daemons', case: 'peer to peer ÷ pipelined through the controller, same run', variant: o.profile, value: round2(q / p), unit: '×', note: 'above 1: the peer-to-peer pause is longer' },
    ];
  } finally {
    for (const e of edges) await e.daemon.stop().catch(() => undefined);
    for (const e of edges) await e.sim.stop().catch(() => undefined);
    pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
