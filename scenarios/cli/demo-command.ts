/**
 * `carryover demo`: runs the self-contained demo (scenarios/demo/run-demo.ts) on simulated switches
 * and prints a report — human-readable, or JSON with --json. Exit 0 only when the state arrived
 * identical and the VM's return traffic was admitted at the destination.
 */
import type { DemoReport, StateSummary } from '../demo/run-demo.js';
import { DEFAULT_DEMO_OPTIONS, runDemo } from '../demo/run-demo.js';
import { EXIT_FAILED, EXIT_OK, UsageError, parseFlags } from './main.js';

const HELP = `usage: carryover demo [--flows N] [--seed N] [--json]

Two simulated edge switches (stateful_edge; source on the spec profile, destination on the BMv2
profile), an edge plugin on each, one VM with live TCP/UDP flows driven through PacketOut. Shows
the VM's state at the source, the return traffic the destination drops without it, the state
copied through the destination's in-band backend and read back identical, and the same traffic
admitted afterwards. The live-migration engine itself is a later issue; the report lists what is
not built yet.`;

const summaryLine = (s: StateSummary): string =>
  `${s.slots} slots (${Object.entries(s.byState).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), ${s.pinholes} pinholes, counters ${
    Object.entries(s.counters).map(([k, c]) => `${k} ${c.packets} pkts/${c.bytes} B`).join(', ') || 'none'
  }`;

/** Renders the demo report for people. */
export function renderDemoReport(r: DemoReport): string {
  const ok = r.identical && r.probes.admittedAfter === r.probes.sent && r.probes.admittedBefore === 0;
  return [
    'carryover demo',
    '',
    `VM ${r.vm.addr} (id ${r.vm.id}): ${r.flows.tcp} TCP flows (${r.flows.openTcp} left open), ${r.flows.udp} UDP flows, ${r.packetsSent} packets sent through PacketOut`,
    `source      : profile ${r.source.profile}, register access ${r.source.backend} (${r.source.reason})`,
    `destination : profile ${r.destination.profile}, register access ${r.destination.backend} (${r.destination.reason})`,
    '',
    `source state              : ${summaryLine(r.sourceState)}`,
    `pinholes learned from digests at the source: ${r.pinholesLearned}`,
    `destination, before copy  : ${summaryLine(r.destinationBefore)}`,
    `  return packets of open connections admitted: ${r.probes.admittedBefore} of ${r.probes.sent}  <- what a migration without carryover does`,
    `destination, after copy   : ${summaryLine(r.destinationAfter)}`,
    `  identical to the source : ${r.identical ? 'yes, field by field' : `NO — ${r.differences.length} difference(s):\n    ${r.differences.join('\n    ')}`}`,
    `  return packets admitted : ${r.probes.admittedAfter} of ${r.probes.sent} (at the source: ${r.probes.admittedAtSource})`,
    '',
    `timings (ms): ${Object.entries(r.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    'not built yet:',
    ...r.notBuilt.map((n) => `  - ${n}`),
    '',
    ok ? 'result: OK' : 'result: FAILED',
  ].join('\n');
}

/** Runs `carryover demo`. */
export async function runDemoCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags('demo', argv, {
    flows: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(HELP);
    return EXIT_OK;
  }
  const int = (name: string, v: string | undefined, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} ${v}: expected an integer ${min}..${max}`);
    return n;
  };
  const flows = int('flows', values.flows, DEFAULT_DEMO_OPTIONS.flows, 1, 100_000);
  const seed = int('seed', values.seed, DEFAULT_DEMO_OPTIONS.seed, 0, 2 ** 31 - 1);
  const report = await runDemo({ flows, seed, progress: (line) => process.stderr.write(`demo: ${line}\n`) });
  const ok = report.identical && report.probes.admittedAfter === report.probes.sent && report.probes.admittedBefore === 0;
  console.log(values.json ? JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) : renderDemoReport(report));
  return ok ? EXIT_OK : EXIT_FAILED;
}
