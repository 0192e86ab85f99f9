/**
 * `carryover demo --plugins process --domains 2`: a VM live-migrates from a switch of domain dc-a
 * to a switch of domain dc-b. Each switch has its plugin daemon in a process of its own; each
 * domain has its controller; the controllers meet over the federation service with mutual TLS
 * across two CAs, agree a ticket both sign (the daemons require both signatures), and dc-b stages
 * and activates its own switch while dc-a drives its source. The VM's TCP and UDP flows run
 * during pre-copy; the VM pauses; only the commit crosses between the domains inside the pause.
 * Then every open flow's next packets pass at dc-b's switch — and are dropped by a control twin
 * that got no state. The report counts what survived, what would have broken, whether counters
 * and pinholes were conserved, and what each domain journalled.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Subject } from 'rxjs';
import { FileJournal, MigrationEngine, connectPlanDevices, joinPeerDomain, planToPeer, runMigration } from '../../controller/index.js';
import type { EngineRun, InventoryController, InventoryFederation, InventoryPeer } from '../../controller/index.js';
import { connectMigrationPeer } from '../../plugin/index.js';
import type { SimProfileName, SimSwitch } from '../../sim/index.js';
import { P4INFO_PATH, UPLINK, eventually } from '../edge-rig.js';
import { vmRunsThenPauses } from './vm-runs.js';
import { countVmSlots } from './demo-observer.js';
import type { CounterSet } from './demo-observer.js';
import { DEMO_VM } from './demo-site.js';
import { startDomainsSite } from './domains-site.js';
import type { DemoPlugins, DomainsSite } from './domains-site.js';
import { VmTraffic } from './vm-traffic.js';
import type { VmPacket } from './vm-traffic.js';

/** Knobs of the two-domain demo. */
export interface DomainsDemoOptions {
  readonly flows: number;
  readonly profile: SimProfileName;
  readonly seed: number;
  readonly pauseDeadlineMs: number;
  readonly precopySteps: number;
  readonly stepMs: number;
  readonly plugins: DemoPlugins;
  readonly progress: (line: string) => void;
}

export const DEFAULT_DOMAINS_DEMO_OPTIONS: Omit<DomainsDemoOptions, 'progress'> = Object.freeze({
  flows: 200,
  profile: 'full',
  seed: 7,
  // The commit crosses two processes and a TLS hop each way inside the pause: more room than one domain.
  pauseDeadlineMs: 1_000,
  precopySteps: 20,
  stepMs: 25,
  plugins: 'process',
});

/** What the demo measured. */
export interface DomainsDemoReport {
  readonly profile: SimProfileName;
  readonly plugins: DemoPlugins;
  readonly pluginPids: readonly number[];
  readonly source: string;
  readonly destinations: readonly string[];
  readonly flows: number;
  readonly tcpFlows: number;
  readonly udpFlows: number;
  readonly openAtPause: number;
  readonly packetsSent: number;
  readonly flowsAtFreeze: number;
  readonly flowsMigrated: number;
  readonly pinholesAtFreeze: number;
  readonly pinholesMigrated: number;
  readonly survivedWith: number;
  readonly brokenWithout: number;
  readonly countersConserved: boolean;
  readonly counterDetail: readonly string[];
  readonly pauseSyncMs: number;
  /** The commit inside the pause as dc-a timed it, and dc-b's own share of it. */
  readonly commitMs: number | undefined;
  readonly peerCommitWorkMs: number | undefined;
  /** Federation calls made inside the pause (only Commit), and in all. */
  readonly callsInPause: readonly string[];
  readonly federationCalls: readonly string[];
  readonly deltaSizes: readonly number[];
  readonly sourceCleaned: number;
  /** Each domain's journal of the migration, event by event. */
  readonly journals: Readonly<Record<'dc-a' | 'dc-b', readonly string[]>>;
  readonly aborted: { readonly reason: string; readonly detail: string } | undefined;
  readonly timingsMs: Readonly<Record<string, number>>;
}


/** The VM's per-VM counters on a sim (read in process). */
function countersOf(sim: SimSwitch, names: readonly string[], vmId: number): CounterSet {
  return Object.fromEntries(names.map((n) => [n, sim.state.counter(n, vmId)]));
}

/** The VM's dyn_acl entries on a sim: key without the VM id → direct counter. */
function pinholesOf(sim: SimSwitch, vmId: number): Map<string, { packets: bigint; bytes: bigint }> {
  const out = new Map<string, { packets: bigint; bytes: bigint }>();
  for (const e of sim.state.tableEntries('dyn_acl')) {
    const fields = e.match.filter((m): m is NonNullable<typeof m> => m !== null);
    if (fields.find((m) => m.field === 'vm_id')?.value !== BigInt(vmId)) continue;
    const key = fields.filter((m) => m.field !== 'vm_id').map((m) => `${m.field}=${m.value ?? ''}`).sort().join(',');
    out.set(key, { packets: e.counter?.packets ?? 0n, bytes: e.counter?.bytes ?? 0n });
  }
  return out;
}

/** Event types of one domain's journal of the migration. */
function journalOf(dir: string, migrationId: string): string[] {
  try {
    return readFileSync(join(dir, 'journal', `${migrationId}.journal.jsonl`), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  } catch {
    return [];
  }
}

/** Waits until dc-a's daemon has learned the VM's slots from digests (its snapshot reads through that index). */
async function indexed(site: DomainsSite): Promise<void> {
  const a = site.a;
  const probe = connectMigrationPeer({
    address: site.daemons['edge-a'].address, name: 'edge-a',
    tls: { ca: a.ca, cert: a.controller.cert, key: a.controller.key, serverName: 'edge-a' },
    ticket: () => {
      throw new Error('capabilities need no ticket');
    },
  });
  try {
    const want = countVmSlots(site.src, site.group, DEMO_VM.sourceId);
    let known = 0;
    const learned = async (): Promise<boolean> => {
      known = site.group.slots - (await probe.capabilities()).slots.free;
      return known === want;
    };
    if (!(await eventually(learned, 60_000, 50))) throw new Error(`demo: edge-a's daemon knows ${known} slots in use; the VM holds ${want} (waited 60 s for its digests)`);
  } finally {
    probe.close();
  }
}

/** Runs the demo. */
export async function runDomainsDemo(o: DomainsDemoOptions): Promise<DomainsDemoReport> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (k: string, since: number): number => (timings[k] = Math.round(performance.now() - since));
  const site = await startDomainsSite(o.profile, o.plugins, o.progress);
  try {
    mark('start domains', t0);
    const traffic = new VmTraffic(DEMO_VM.addrNum, o.seed);
    let packets = 0;
    const send = (ps: readonly VmPacket[]): void => {
      for (const p of ps) site.src.dataplane.inject(p.dir === 'out' ? DEMO_VM.port : UPLINK, p.frame);
      packets += ps.length;
    };
    const t1 = performance.now();
    for (let i = 0; i < o.flows; i++) {
      const f = traffic.addFlow();
      send([...traffic.openFlow(f), ...traffic.exchange(f)]);
    }
    const udpOpen = (): number => traffic.flows.filter((f) => f.protocol === 17 && f.state !== 'new').length;
    const holes = (): number => pinholesOf(site.src, DEMO_VM.sourceId).size;
    if (!(await eventually(() => holes() === udpOpen(), 30_000))) throw new Error(`demo: edge-a's daemon learned ${holes()} of ${udpOpen()} UDP pinholes within 30 s`);
    await indexed(site);
    mark('open flows', t1);
    o.progress(`VM ${DEMO_VM.addr} in dc-a: ${o.flows} flows open (${udpOpen()} UDP with pinholes the daemon learned), ${packets} packets`);

    const inv = site.inventoryA;
    const controller = inv.controller as InventoryController;
    const migrationId = `demo-domains-${o.profile}`;
    const plan = planToPeer(inv, DEMO_VM.name, 'host-a', 'dc-b', 'host-b');
    const destBefore = countersOf(site.dst, site.counters, DEMO_VM.destinationId);
    const t2 = performance.now();
    const joined = await joinPeerDomain({
      plan, migrationId, domain: inv.domain, signingKey: controller.signingKey, federation: inv.federation as InventoryFederation, peer: inv.peers.get('dc-b') as InventoryPeer, toHost: 'host-b',
      journal: new FileJournal(inv.journal), pauseDeadlineMs: o.pauseDeadlineMs, progress: o.progress,
      connect: (ds, c) => connectPlanDevices(ds, { defaultP4info: P4INFO_PATH, domain: inv.domain, controller, scope: c.scope, ...(c.tickets ? { tickets: c.tickets } : {}) }),
    });
    mark('propose and agree', t2);
    o.progress(`dc-a and dc-b agreed migration ${migrationId}: ticket signed by both; dc-b's destinations: ${joined.destinations.join(', ')}`);
    const deltaSizes: number[] = [];
    let lastMoved = 0;
    const sub = joined.machine.states$.subscribe((s) => {
      if (s.rounds <= deltaSizes.length) return;
      deltaSizes.push(s.moved.slots - lastMoved);
      lastMoved = s.moved.slots;
      const n = deltaSizes[deltaSizes.length - 1] ?? 0;
      if (deltaSizes.length === 1) o.progress(`pre-copy: snapshot staged in dc-b, ${n} slots`);
      else if (n > 0) o.progress(`pre-copy round ${deltaSizes.length - 1}: ${n} changed slots staged in dc-b while the VM runs`);
    });
    const engine = new MigrationEngine({ plan, machine: joined.machine, devices: joined.devices, pauseDeadlineMs: o.pauseDeadlineMs, precopy: { intervalMs: 50, policy: { maxRounds: 1_000, convergedAtSlots: -1 } }, graceMs: 50, beforeSourceCleaned: (deleted) => joined.finish(deleted) });
    const paused$ = new Subject<void>();
    let atFreeze: CounterSet = {};
    let holesAtFreeze = new Map<string, { packets: bigint; bytes: bigint }>();
    let flowsAtFreeze = 0;
    let openAtPause = 0;
    const t3 = performance.now();
    let run: EngineRun;
    try {
      const running = vmRunsThenPauses(joined.machine, { steps: o.precopySteps, stepMs: o.stepMs, step: () => send(traffic.step(Math.max(1, Math.round(o.flows / 20)))), paused$ });
      run = await runMigration(engine, {
        paused$,
        beforePause: async () => {
          await running;
          mark('pre-copy', t3);
          openAtPause = traffic.open().length;
          if (!(await eventually(() => holes() === udpOpen(), 30_000))) throw new Error(`demo: edge-a holds ${holes()} pinholes, the VM opened ${udpOpen()} UDP flows`);
          atFreeze = countersOf(site.src, site.counters, DEMO_VM.sourceId);
          holesAtFreeze = pinholesOf(site.src, DEMO_VM.sourceId);
          flowsAtFreeze = countVmSlots(site.src, site.group, DEMO_VM.sourceId);
          o.progress(`VM paused: ${openAtPause} flows open; dc-a freezes its source and commits to dc-b (the one call across inside the pause)`);
        },
      });
    } finally {
      sub.unsubscribe();
      await joined.stop();
    }
    const t4 = performance.now();
    const destAfter = countersOf(site.dst, site.counters, DEMO_VM.destinationId);
    const counterDetail: string[] = [];
    for (const [name, v] of Object.entries(destAfter)) {
      const want = { packets: (destBefore[name]?.packets ?? 0n) + (atFreeze[name]?.packets ?? 0n), bytes: (destBefore[name]?.bytes ?? 0n) + (atFreeze[name]?.bytes ?? 0n) };
      const ok = !run.aborted && v.packets === want.packets && v.bytes === want.bytes;
      counterDetail.push(`${name}: ${v.packets} pkts/${v.bytes} B in dc-b${ok ? ' = ' : ' ≠ '}${destBefore[name]?.packets ?? 0n}/${destBefore[name]?.bytes ?? 0n} before + ${atFreeze[name]?.packets ?? 0n}/${atFreeze[name]?.bytes ?? 0n} at dc-a's freeze`);
    }
    const moved = pinholesOf(site.dst, DEMO_VM.destinationId);
    let holesOk = moved.size === holesAtFreeze.size;
    for (const [k, c] of holesAtFreeze) {
      const m = moved.get(k);
      if (!m || m.packets !== c.packets || m.bytes !== c.bytes) holesOk = false;
    }
    counterDetail.push(`dyn_acl direct counters: ${holesOk ? 'equal to dc-a at the freeze' : 'DIFFERENT from dc-a at the freeze'} (${moved.size} pinholes)`);
    let survived = 0;
    let broken = 0;
    for (const f of traffic.open()) {
      const inbound = traffic.send(f, 'in', 200).frame;
      const outbound = traffic.send(f, 'out', 100).frame;
      const pass = (s: SimSwitch): boolean => s.dataplane.inject(UPLINK, inbound).kind === 'forward' && s.dataplane.inject(DEMO_VM.port, outbound).kind === 'forward';
      if (pass(site.dst)) survived++;
      if (!pass(site.control)) broken++;
    }
    mark('pause, sync, commit', t4);
    mark('total', t0);
    const x = run.aborted ? undefined : joined;
    return {
      profile: o.profile,
      plugins: o.plugins,
      pluginPids: [site.daemons['edge-a'].pid, site.daemons['edge-b'].pid].filter((p): p is number => p !== undefined),
      source: 'edge-a (dc-a)',
      destinations: joined.destinations.map((d) => `${d} (dc-b)`),
      flows: traffic.flows.length,
      tcpFlows: traffic.flows.filter((f) => f.protocol === 6).length,
      udpFlows: traffic.flows.filter((f) => f.protocol === 17).length,
      openAtPause,
      packetsSent: packets,
      flowsAtFreeze,
      flowsMigrated: countVmSlots(site.dst, site.group, DEMO_VM.destinationId),
      pinholesAtFreeze: holesAtFreeze.size,
      pinholesMigrated: moved.size,
      survivedWith: survived,
      brokenWithout: broken,
      countersConserved: !run.aborted && holesOk && counterDetail.every((d) => !d.includes('≠')),
      counterDetail,
      pauseSyncMs: run.sync ? Math.round(run.sync.elapsedMs * 100) / 100 : -1,
      commitMs: x?.commitMs() === undefined ? undefined : Math.round((x.commitMs() as number) * 100) / 100,
      peerCommitWorkMs: x?.peerCommitWorkMs() === undefined ? undefined : Math.round((x.peerCommitWorkMs() as number) * 100) / 100,
      callsInPause: [...joined.callsInPause()],
      federationCalls: [...joined.calls()],
      deltaSizes,
      sourceCleaned: run.committed?.deleted ?? 0,
      journals: { 'dc-a': journalOf(site.a.dir, migrationId), 'dc-b': journalOf(site.b.dir, migrationId) },
      aborted: run.aborted,
      timingsMs: timings,
    };
  } finally {
    await site.stop();
  }
}

/** Whether the demo showed what it should. */
export function domainsDemoSucceeded(r: DomainsDemoReport): boolean {
  return !r.aborted && r.survivedWith === r.openAtPause && r.brokenWithout === r.openAtPause && r.countersConserved && r.flowsMigrated === r.flowsAtFreeze
    && r.callsInPause.join() === 'Commit' && r.journals['dc-b'].at(-1) === 'source-cleaned';
}

/** The report for people. */
export function renderDomainsDemoReport(r: DomainsDemoReport): string {
  const [snapshot, ...deltas] = r.deltaSizes;
  return [
    `carryover demo — two domains, profile ${r.profile}, plugins ${r.plugins === 'process' ? `as processes (pids ${r.pluginPids.join(', ')})` : 'in process'}: ${r.source} → ${r.destinations.join(' + ')}`,
    '',
    `trust              : dc-a and dc-b each have a CA; the controllers meet over mutual TLS, each trusting the other's CA for its controller only; every device call carried a ticket signed by both`,
    `VM flows           : ${r.flows} (${r.tcpFlows} TCP, ${r.udpFlows} UDP), ${r.packetsSent} packets; ${r.openAtPause} open when the VM paused`,
    `pre-copy           : snapshot ${snapshot ?? 0} slots staged in dc-b, then ${Math.max(0, r.deltaSizes.length - 1)} delta rounds (${deltas.reduce((a, b) => a + b, 0)} slots)`,
    `pause window       : ${r.aborted ? 'FAILED' : `${r.pauseSyncMs} ms`} (freeze in dc-a, final delta, commit to dc-b${r.commitMs !== undefined ? ` ${r.commitMs} ms, of which dc-b's own work ${r.peerCommitWorkMs ?? '?'} ms` : ''})`,
    `across the boundary: inside the pause ${r.callsInPause.join(', ') || 'nothing'}; in all ${r.federationCalls.join(' → ')}`,
    `state moved        : ${r.flowsMigrated} of ${r.flowsAtFreeze} tracked flows, ${r.pinholesMigrated} of ${r.pinholesAtFreeze} pinholes; dc-a's source cleaned: ${r.sourceCleaned} slots`,
    `counters           : ${r.countersConserved ? 'conserved' : 'NOT conserved'}`,
    ...r.counterDetail.map((d) => `  ${d}`),
    `journals           : dc-a ${r.journals['dc-a'].join(' → ')}`,
    `                     dc-b ${r.journals['dc-b'].join(' → ')}`,
    '',
    `after the migration, each open flow's next packets (both directions):`,
    `  with carryover   : ${r.survivedWith} of ${r.openAtPause} flows pass dc-b's firewall`,
    `  without carryover: ${r.brokenWithout} of ${r.openAtPause} flows dropped by the same switch without the state`,
    ...(r.aborted ? ['', `migration aborted: ${r.aborted.reason}: ${r.aborted.detail} — both domains rolled back: dc-a's source stays authoritative, dc-b holds nothing of the VM`] : []),
    '',
    `timings (ms): ${Object.entries(r.timingsMs).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    domainsDemoSucceeded(r) ? 'result: OK' : 'result: FAILED',
  ].join('\n');
}

/** The flags `carryover demo` passes on when --domains or --plugins is given. */
export interface DomainsDemoFlags {
  readonly flows?: string | undefined;
  readonly profile?: string | undefined;
  readonly seed?: string | undefined;
  readonly 'pause-deadline-ms'?: string | undefined;
  readonly plugins?: string | undefined;
  readonly domains?: string | undefined;
  readonly vm?: string | undefined;
  readonly topology?: string | undefined;
  readonly json?: boolean | undefined;
}

/**
 * `carryover demo --domains 2 [--plugins process|in-process]`: checks the flags (a bad one throws
 * `usage(message)`), runs the demo; resolves with the report as printed and whether it succeeded.
 */
export async function runDomainsDemoFromFlags(v: DomainsDemoFlags, usage: (message: string) => Error): Promise<{ readonly output: string; readonly ok: boolean }> {
  if (v.domains !== '2') throw usage(`--domains ${v.domains ?? '1'}${v.plugins ? ` with --plugins ${v.plugins}` : ''}: plugins as daemons are demonstrated with two domains; use --domains 2 [--plugins process|in-process]`);
  const plugins = v.plugins ?? 'process';
  if (plugins !== 'process' && plugins !== 'in-process') throw usage(`--plugins ${plugins}: expected process or in-process`);
  if (v.vm !== undefined && v.vm !== 'sim') throw usage('--domains 2 runs with the simulated VM (--vm sim)');
  if (v.topology !== undefined && v.topology !== '1:1') throw usage('--domains 2 runs the 1:1 topology (one edge in each domain)');
  const int = (name: string, s: string | undefined, dflt: number, min: number, max: number): number => {
    if (s === undefined) return dflt;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw usage(`--${name} ${s}: expected an integer ${min}..${max}`);
    return n;
  };
  const d = DEFAULT_DOMAINS_DEMO_OPTIONS;
  const profile = v.profile ?? d.profile;
  if (profile !== 'full' && profile !== 'bmv2') throw usage(`--profile ${profile}: expected full or bmv2`);
  const report = await runDomainsDemo({
    ...d,
    plugins,
    profile,
    flows: int('flows', v.flows, d.flows, 1, 20_000),
    seed: int('seed', v.seed, d.seed, 0, 2 ** 31 - 1),
    pauseDeadlineMs: int('pause-deadline-ms', v['pause-deadline-ms'], d.pauseDeadlineMs, 1, 600_000),
    progress: (line) => process.stderr.write(`demo: ${line}\n`),
  });
  return { output: v.json ? JSON.stringify(report, null, 2) : renderDomainsDemoReport(report), ok: domainsDemoSucceeded(report) };
}
