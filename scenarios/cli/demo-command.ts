/**
 * `carryover demo`: a VM live-migrates between simulated edge switches while its connections keep
 * running (scenarios/demo/live-demo.ts); prints the report — for people, or one JSON object with
 * --json. Exit 0 only when every open connection survived at the destination, the control switch
 * without carryover broke them, counters were conserved and every slot arrived.
 */
import { findQemu } from '../../controller/testing/qemu-pair.js';
import type { SimProfileName } from '../../sim/index.js';
import { DEMO_TOPOLOGIES } from '../demo/demo-site.js';
import type { DemoTopology } from '../demo/demo-site.js';
import { proofText } from '../../controller/index.js';
import { DEFAULT_LIVE_DEMO_OPTIONS, demoSucceeded, runLiveDemo } from '../demo/live-demo.js';
import type { LiveDemoReport } from '../demo/live-demo.js';
import { EXIT_FAILED, EXIT_OK, UsageError, parseFlags } from './main.js';

const HELP = `usage: carryover demo [--flows N] [--topology 1:1|2:1|1:2] [--profile full|bmv2]
                     [--vm sim|qemu] [--pause-deadline-ms N] [--seed N] [--json]
       carryover demo --domains 2 [--plugins process|in-process] [--flows N] [--profile P] [--json]

Simulated edge switches running p4/stateful_edge.p4's model, an edge plugin on each, and a VM
whose TCP and UDP flows open, move data and close through PacketOut while carryover live-migrates
its state: snapshot and delta rounds staged at the destination during pre-copy, then the VM
pauses, the source is frozen, the final changes are synced and proven complete, the destination
activated, the source cleaned. Then every open connection's next packets arrive at the
destination, and at a control switch that got no state (a migration without carryover).

  --flows N              flows open when pre-copy starts (default ${DEFAULT_LIVE_DEMO_OPTIONS.flows}; more open during it)
  --topology T           1:1, 2:1 (two source edges merged) or 1:2 (flows placed by ECMP hash) (default 1:1)
  --profile P            sim profile of every switch: full (registers over P4Runtime) or bmv2
                         (registers only in-band, as on BMv2) (default ${DEFAULT_LIVE_DEMO_OPTIONS.profile})
  --vm sim|qemu          sim (default): the demo pauses the VM itself; qemu: two real QEMU processes
                         migrate on loopback and QEMU's phases drive carryover (the VM's traffic
                         stops exactly while QEMU holds it in pre-switchover)
  --pause-deadline-ms N  pause-window budget; past it the migration rolls back (default ${DEFAULT_LIVE_DEMO_OPTIONS.pauseDeadlineMs})
  --seed N               the VM's traffic (default ${DEFAULT_LIVE_DEMO_OPTIONS.seed})
  --domains 2            two data-centre domains: the VM moves from dc-a's switch to dc-b's, each
                         domain with its own CA, controller and plugin daemons; the controllers
                         agree over mutual TLS, only the commit crosses inside the pause. Its own
                         defaults (DEFAULT_DOMAINS_DEMO_OPTIONS): --flows 200, a 1000 ms deadline (the commit crosses
                         processes and TLS inside the pause); its JSON has no rounds or proofs
  --plugins process      the plugin daemons (carryover plugin --config) as separate processes
                         (default with --domains 2; in-process runs them in this process)
  --json                 one JSON object (flows, flowsMigrated, survivedWith, brokenWithout,
                         countersConserved, pauseSyncMs, rounds, …)`;

/** The engine's words with the demo's own flag: the demo has no --on-deadline (walkthrough 21). */
const demoDetail = (detail: string): string => detail.replace(/a longer deadline \(carryover migrate --pause-deadline-ms\) or 'continue' \(--on-deadline\) lets such a pause activate/, 'a longer --pause-deadline-ms lets the demo\'s pause activate');

/** Renders the report for people. */
export function renderLiveDemoReport(r: LiveDemoReport): string {
  const ok = demoSucceeded(r);
  const [snapshot, ...deltas] = r.deltaSizes;
  return [
    `carryover demo — ${r.topology}, profile ${r.profile}: ${r.sources.join(' + ')} → ${r.destinations.join(' + ')}`,
    '',
    `VM flows           : ${r.flows} (${r.tcpFlows} TCP, ${r.udpFlows} UDP), ${r.packetsSent} packets through PacketOut; ${r.openAtPause} open when the VM paused`,
    `pre-copy           : snapshot ${snapshot ?? 0} slots, then ${r.rounds} delta rounds (${deltas.filter((n) => n > 0).length} with changes: ${deltas.reduce((a, b) => a + b, 0)} slots)`,
    `pause-window sync  : ${r.aborted ? 'FAILED' : `${r.pauseSyncMs} ms, final delta ${r.finalDeltaSlots} slots${proofText(r.finalDeltaProofs, r.finalDeltaSlots)}`} (freeze, final delta, completeness proof, activation)`,
    `state moved        : ${r.flowsMigrated} of ${r.flowsAtFreeze} tracked flows, ${r.pinholesMigrated} pinholes; source cleaned: ${r.sourceCleaned} slots`,
    // Rolled back, nothing moved: conservation is not the question (walkthrough 21: "NOT conserved").
    ...(r.aborted ? ['counters           : not moved (rolled back: the VM\'s counts stay at the source)'] : [`counters           : ${r.countersConserved ? 'conserved' : 'NOT conserved'}`, ...r.counterDetail.map((d) => `  ${d}`)]),
    '',
    `after the migration, each open flow's next packets (both directions):`,
    `  with carryover   : ${r.survivedWith} of ${r.openAtPause} flows pass the destination firewall`,
    `  without carryover: ${r.brokenWithout} of ${r.openAtPause} flows dropped by the same switch without the state`,
    ...(r.qemu ? [`QEMU               : migration ${r.qemu.outcome}, downtime ${r.qemu.qemuDowntimeMs ?? '?'} ms, of which carryover held the VM ${r.qemu.heldMs?.toFixed(1) ?? '?'} ms; the VM down ${r.qemu.guestDowntimeMs?.toFixed(1) ?? '?'} ms from stop to resume; destination VM ${r.qemu.destinationStatus ?? '?'}`] : []),
    ...(r.aborted ? ['', `migration aborted: ${r.aborted.reason}: ${demoDetail(r.aborted.detail)} — rolled back: the source stays authoritative, the destination holds nothing of the VM`] : []),
    '',
    `timings (ms): ${Object.entries(r.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    ok ? 'result: OK' : 'result: FAILED',
  ].join('\n');
}

/** Runs `carryover demo`. */
export async function runDemoCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags('demo', argv, {
    flows: { type: 'string' },
    topology: { type: 'string' },
    profile: { type: 'string' },
    'pause-deadline-ms': { type: 'string' },
    vm: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
    plugins: { type: 'string' },
    domains: { type: 'string' },
  });
  if (values.help) {
    console.log(HELP);
    return EXIT_OK;
  }
  if (values.domains !== undefined || values.plugins !== undefined) {
    const r = await (await import('../demo/domains-demo.js')).runDomainsDemoFromFlags(values, (m) => new UsageError(m));
    console.log(r.output);
    return r.ok ? EXIT_OK : EXIT_FAILED;
  }
  const int = (name: string, v: string | undefined, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} ${v}: expected an integer ${min}..${max}`);
    return n;
  };
  const topology = (values.topology ?? DEFAULT_LIVE_DEMO_OPTIONS.topology) as DemoTopology;
  if (!DEMO_TOPOLOGIES.includes(topology)) throw new UsageError(`--topology ${values.topology}: expected one of ${DEMO_TOPOLOGIES.join(', ')}`);
  const profile = values.profile ?? DEFAULT_LIVE_DEMO_OPTIONS.profile;
  if (profile !== 'full' && profile !== 'bmv2') throw new UsageError(`--profile ${values.profile}: expected full or bmv2`);
  const vm = values.vm ?? 'sim';
  if (vm !== 'sim' && vm !== 'qemu') throw new UsageError(`--vm ${vm}: expected sim or qemu`);
  if (vm === 'qemu' && findQemu() === undefined) throw new UsageError('--vm qemu: qemu-system-x86_64 is not on PATH; install Debian\'s qemu-system-x86 (or set CARRYOVER_QEMU to the binary)');
  const report = await runLiveDemo({
    ...DEFAULT_LIVE_DEMO_OPTIONS,
    vm,
    flows: int('flows', values.flows, DEFAULT_LIVE_DEMO_OPTIONS.flows, 1, 20_000),
    seed: int('seed', values.seed, DEFAULT_LIVE_DEMO_OPTIONS.seed, 0, 2 ** 31 - 1),
    pauseDeadlineMs: int('pause-deadline-ms', values['pause-deadline-ms'], DEFAULT_LIVE_DEMO_OPTIONS.pauseDeadlineMs, 1, 600_000),
    topology,
    profile: profile satisfies SimProfileName,
    progress: (line) => process.stderr.write(`demo: ${line}\n`),
  });
  console.log(values.json ? JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) : renderLiveDemoReport(report));
  return demoSucceeded(report) ? EXIT_OK : EXIT_FAILED;
}
