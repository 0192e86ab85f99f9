/**
 * `carryover demo`: a VM live-migrates between simulated edge switches while its connections keep
 * running. Its TCP and UDP flows open, move data and close through PacketOut during pre-copy; the
 * migration engine installs the snapshot and the delta rounds staged at the destination; the VM
 * pauses (its traffic stops), the engine freezes the source, syncs the final changes, proves them
 * complete and activates the destination; then every open connection's next packets arrive at the
 * destination — and, for comparison, at a control switch that got no state (a migration without
 * carryover). The report counts what survived, what would have broken, and whether counters were
 * conserved.
 */
import { performance } from 'node:perf_hooks';
import { Subject } from 'rxjs';
import { MemoryJournal, MigrationEngine, MigrationMachine, runMigration } from '../../controller/index.js';
import type { EngineRun } from '../../controller/index.js';
import type { DeviceApi } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { UPLINK, eventually, injectViaPacketOut } from '../edge-rig.js';
import { vmRunsThenPauses } from './vm-runs.js';
import { DEMO_VM, startDemoSite } from './demo-site.js';
import type { DemoSite, DemoSwitch, DemoTopology } from './demo-site.js';
import { countVmSlots, readVmCounters, readVmPinholes, sumCounters } from './demo-observer.js';
import type { CounterSet } from './demo-observer.js';
import { migrateWithQemu } from './qemu-vm.js';
import type { QemuVmReport } from './qemu-vm.js';
import { VmTraffic } from './vm-traffic.js';
import type { VmPacket } from './vm-traffic.js';

/** Knobs of the demo. */
export interface LiveDemoOptions {
  /** Flows the VM has when pre-copy starts (more open while it runs). */
  readonly flows: number;
  readonly topology: DemoTopology;
  readonly profile: SimProfileName;
  readonly seed: number;
  /** Pause-window budget (ms) and what happens past it. */
  readonly pauseDeadlineMs: number;
  /** Traffic steps during pre-copy (one every `stepMs`). */
  readonly precopySteps: number;
  readonly stepMs: number;
  /** The VM: simulated (its pause is the demo's choice), or a real QEMU process migrated on loopback. */
  readonly vm: 'sim' | 'qemu';
  readonly progress: (line: string) => void;
}

export const DEFAULT_LIVE_DEMO_OPTIONS: Omit<LiveDemoOptions, 'progress'> = Object.freeze({
  flows: 400,
  topology: '1:1',
  profile: 'full',
  seed: 7,
  // Every switch, plugin and the controller share this one process and its event loop, so the
  // demo budgets QEMU's default downtime limit (300 ms); the engine's own default is 50 ms, and
  // `bench migrate` measures the pause with the switches in processes of their own.
  pauseDeadlineMs: 300,
  precopySteps: 20,
  stepMs: 25,
  vm: 'sim',
});

/** What the demo measured. */
export interface LiveDemoReport {
  readonly topology: DemoTopology;
  readonly profile: SimProfileName;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  /** Every flow the VM opened, before and during pre-copy. */
  readonly flows: number;
  readonly tcpFlows: number;
  readonly udpFlows: number;
  /** Flows still open when the VM paused (the ones that must survive). */
  readonly openAtPause: number;
  readonly packetsSent: number;
  /** The VM's slots at the destinations after activation (open, closing and closed flows alike). */
  readonly flowsMigrated: number;
  /** Slots the sources held at the freeze (all of them must arrive). */
  readonly flowsAtFreeze: number;
  readonly pinholesMigrated: number;
  /** Open flows whose next packets, both ways, the destination firewall passed. */
  readonly survivedWith: number;
  /** The first open flows the destination still dropped, for diagnosis (empty when all survived). */
  readonly notSurvived: readonly { readonly flow: number; readonly protocol: number; readonly vmPort: number; readonly destination: string; readonly dropped: string }[];
  /** Open flows the control switch (no state moved) dropped. */
  readonly brokenWithout: number;
  readonly countersConserved: boolean;
  readonly counterDetail: readonly string[];
  readonly pauseSyncMs: number;
  /** Slots the final delta (in the pause) carried. */
  readonly finalDeltaSlots: number;
  /** Per source, how its final delta was proven complete ('change-numbers' or 'change-log'). */
  readonly finalDeltaProofs: Readonly<Record<string, string>>;
  /** Pre-copy rounds after the snapshot. */
  readonly rounds: number;
  /** Slots installed per round, the snapshot (round 0) first. */
  readonly deltaSizes: readonly number[];
  readonly sourceCleaned: number;
  readonly aborted: { readonly reason: string; readonly detail: string } | undefined;
  /** With --vm qemu: QEMU's own downtime and carryover's share of it. */
  readonly qemu: QemuVmReport | undefined;
  readonly timingsMs: Readonly<Record<string, number>>;
}


/** Sends the VM's packets through PacketOut at the switch each flow crosses. */
function send(site: DemoSite, traffic: VmTraffic, packets: readonly VmPacket[]): void {
  for (const p of packets) {
    const f = traffic.flows[p.flow];
    if (!f) continue;
    const s = site.sourceOf(f);
    injectViaPacketOut(s.rig.sw, p.dir === 'out' ? DEMO_VM.port : UPLINK, p.frame);
  }
}

/**
 * Waits until every source switch has processed every PacketOut sent to it: an in-band clock
 * read travels the same PacketOut stream after them, so its answer comes back only after theirs.
 */
async function drained(site: DemoSite): Promise<void> {
  await Promise.all(site.sources.map((s) => s.rig.plugin.registerAccess.readClock()));
}

/** Waits until each source's slot index has learned the VM's slots from digests. */
async function indexed(site: DemoSite): Promise<void> {
  for (const s of site.sources) {
    const g = s.rig.plugin.group;
    const want = countVmSlots(s.rig.sim, g, DEMO_VM.sourceId);
    const ok = await eventually(async () => (await s.api.capabilities()).slots.free === g.slots - want, 30_000);
    if (!ok) throw new Error(`demo: ${s.name}'s slot index did not learn the VM's ${want} slots within 30 s`);
  }
}

/** Runs the demo; `site` may be given (tests inject faults through it). */
export async function runLiveDemo(o: LiveDemoOptions, given?: DemoSite): Promise<LiveDemoReport> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (k: string, since: number): number => (timings[k] = Math.round(performance.now() - since));
  o.progress(`starting ${o.topology} site on profile ${o.profile}`);
  const site = given ?? (await startDemoSite(o.topology, o.profile));
  try {
    mark('start switches', t0);
    const traffic = new VmTraffic(DEMO_VM.addrNum, o.seed);
    let packets = 0;
    const t1 = performance.now();
    for (let i = 0; i < o.flows; i++) {
      const f = traffic.addFlow();
      const ps = [...traffic.openFlow(f), ...traffic.exchange(f)];
      send(site, traffic, ps);
      packets += ps.length;
    }
    await drained(site);
    await indexed(site);
    const udpOpen = (): number => traffic.flows.filter((f) => f.protocol === 17 && f.state !== 'new').length;
    const holes = async (): Promise<number> => (await Promise.all(site.sources.map((s) => readVmPinholes(s.rig.sw, DEMO_VM.sourceId)))).reduce((n, h) => n + h.size, 0);
    if (!(await eventually(async () => (await holes()) === udpOpen(), 30_000))) throw new Error(`demo: the plugins did not learn the ${udpOpen()} UDP pinholes within 30 s`);
    mark('open flows', t1);
    o.progress(`VM ${DEMO_VM.addr}: ${o.flows} flows open (${udpOpen()} UDP with pinholes), ${packets} packets through PacketOut`);

    const destBefore = await Promise.all(site.destinations.map((d) => readVmCounters(d.rig, DEMO_VM.destinationId)));
    const journal = new MemoryJournal();
    const migrationId = `demo-${o.topology.replace(':', 'to')}-${o.profile}`;
    const machine = await MigrationMachine.plan(
      { migrationId, vm: DEMO_VM.name, sources: site.sources.map((s) => s.name), destinations: site.destinations.map((d) => d.name) },
      { journal, now: () => Date.now() },
    );
    const deltaSizes: number[] = [];
    let lastMoved = 0;
    const sub = machine.states$.subscribe((s) => {
      if (s.rounds > deltaSizes.length) {
        const n = s.moved.slots - lastMoved;
        lastMoved = s.moved.slots;
        deltaSizes.push(n);
        if (deltaSizes.length === 1) o.progress(`pre-copy: snapshot staged at the destination, ${n} slots`);
        else if (n > 0) o.progress(`pre-copy round ${deltaSizes.length - 1}: ${n} changed slots staged while the VM runs`);
      }
    });
    const devices = new Map<string, DeviceApi>([...site.sources, ...site.destinations].map((s) => [s.name, s.api]));
    const engine = new MigrationEngine({
      plan: site.plan,
      machine,
      devices,
      pauseDeadlineMs: o.pauseDeadlineMs,
      precopy: { intervalMs: 50, policy: { maxRounds: 1_000, convergedAtSlots: -1 } },
      graceMs: 50,
    });
    const paused$ = new Subject<void>();
    let atFreeze: CounterSet = {};
    let holesAtFreeze = new Map<string, { packets: bigint; bytes: bigint }>();
    let flowsAtFreeze = 0;
    let openAtPause = 0;
    const vmStep = (): void => {
      const ps = traffic.step(Math.max(1, Math.round(o.flows / 50)));
      send(site, traffic, ps);
      packets += ps.length;
    };
    const observeFreeze = async (): Promise<void> => {
      openAtPause = traffic.open().length;
      // Pinholes are learned from digests by the plugin: the VM's last UDP flows may still be in flight.
      if (!(await eventually(async () => (await holes()) === udpOpen(), 30_000))) throw new Error(`demo: the source holds ${await holes()} pinholes, the VM opened ${udpOpen()} UDP flows (waited 30 s for the plugins to learn them)`);
      atFreeze = sumCounters(await Promise.all(site.sources.map((s) => readVmCounters(s.rig, DEMO_VM.sourceId))));
      holesAtFreeze = new Map((await Promise.all(site.sources.map((s) => readVmPinholes(s.rig.sw, DEMO_VM.sourceId)))).flatMap((m) => [...m]));
      flowsAtFreeze = site.sources.reduce((n, s) => n + countVmSlots(s.rig.sim, s.rig.plugin.group, DEMO_VM.sourceId), 0);
    };
    // The VM runs: traffic through PacketOut while pre-copy rounds move its changes.
    const t2 = performance.now();
    let run: EngineRun;
    let qemu: QemuVmReport | undefined;
    if (o.vm === 'qemu') {
      ({ run, qemu } = await migrateWithQemu(engine, { step: vmStep, stepMs: o.stepMs, drain: () => drained(site), observe: observeFreeze, progress: o.progress }, o.pauseDeadlineMs));
      mark('migration with QEMU', t2);
    } else {
      const running = vmRunsThenPauses(machine, { steps: o.precopySteps, stepMs: o.stepMs, step: vmStep, paused$ });
      run = await runMigration(engine, {
        paused$,
        beforePause: async () => {
          // The VM is paused: its last packets reach the switch before the freeze.
          await running;
          await drained(site);
          mark('pre-copy', t2);
          await observeFreeze();
          o.progress(`VM paused: ${openAtPause} flows open; freezing, final sync, activation`);
        },
      });
    }
    sub.unsubscribe();
    const t3 = performance.now();

    // After activation, before any new traffic: counters conserved?
    const destAfter = await Promise.all(site.destinations.map((d) => readVmCounters(d.rig, DEMO_VM.destinationId)));
    const counterDetail: string[] = [];
    const before = sumCounters(destBefore);
    const after = sumCounters(destAfter);
    for (const [name, v] of Object.entries(after)) {
      const want = { packets: (before[name]?.packets ?? 0n) + (atFreeze[name]?.packets ?? 0n), bytes: (before[name]?.bytes ?? 0n) + (atFreeze[name]?.bytes ?? 0n) };
      const ok = !run.aborted && v.packets === want.packets && v.bytes === want.bytes;
      counterDetail.push(`${name}: ${v.packets} pkts/${v.bytes} B at the destination${ok ? ' = ' : ' ≠ '}${before[name]?.packets ?? 0n}/${before[name]?.bytes ?? 0n} before + ${atFreeze[name]?.packets ?? 0n}/${atFreeze[name]?.bytes ?? 0n} at the source's freeze`);
    }
    const primary = site.destinations[0] as DemoSwitch;
    const movedHoles = await readVmPinholes(primary.rig.sw, DEMO_VM.destinationId);
    let holesOk = movedHoles.size === holesAtFreeze.size;
    for (const [k, c] of holesAtFreeze) {
      const m = movedHoles.get(k);
      if (!m || m.packets !== c.packets || m.bytes !== c.bytes) holesOk = false;
    }
    counterDetail.push(`dyn_acl direct counters: ${holesOk ? 'equal to the source at the freeze' : 'DIFFERENT from the source at the freeze'} (${movedHoles.size} pinholes)`);
    const flowsMigrated = site.destinations.reduce((n, d) => n + countVmSlots(d.rig.sim, d.rig.plugin.group, DEMO_VM.destinationId), 0);

    // Traffic resumes at the destination: each open flow's next packets, and the same at the control.
    let survived = 0;
    let broken = 0;
    const notSurvived: LiveDemoReport['notSurvived'][number][] = [];
    for (const f of traffic.open()) {
      const i = site.destinationIndexOf(f);
      const dst = site.destinations[i] as DemoSwitch;
      const ctl = site.controls[i] as DemoSwitch;
      const inbound = traffic.send(f, 'in', 200).frame;
      const outbound = traffic.send(f, 'out', 100).frame;
      const pass = (s: DemoSwitch): string | undefined => {
        const a = s.rig.sim.dataplane.inject(UPLINK, inbound);
        if (a.kind !== 'forward') return `inbound: ${JSON.stringify(a)}`;
        const b = s.rig.sim.dataplane.inject(DEMO_VM.port, outbound);
        return b.kind === 'forward' ? undefined : `outbound: ${JSON.stringify(b)}`;
      };
      const atDst = pass(dst);
      if (atDst === undefined) survived++;
      else if (notSurvived.length < 20) notSurvived.push({ flow: f.id, protocol: f.protocol, vmPort: f.vmPort, destination: dst.name, dropped: atDst.slice(0, 200) });
      if (pass(ctl) !== undefined) broken++;
    }
    mark('pause, sync, commit', t3);
    mark('total', t0);
    const report: LiveDemoReport = {
      topology: o.topology,
      profile: o.profile,
      sources: site.sources.map((s) => s.name),
      destinations: site.destinations.map((d) => d.name),
      flows: traffic.flows.length,
      tcpFlows: traffic.flows.filter((f) => f.protocol === 6).length,
      udpFlows: traffic.flows.filter((f) => f.protocol === 17).length,
      openAtPause,
      packetsSent: packets,
      flowsMigrated,
      flowsAtFreeze,
      pinholesMigrated: site.destinations.length === 0 ? 0 : movedHoles.size,
      survivedWith: survived,
      notSurvived,
      brokenWithout: broken,
      countersConserved: !run.aborted && holesOk && counterDetail.every((d) => !d.includes('≠')),
      counterDetail,
      pauseSyncMs: run.sync ? Math.round(run.sync.elapsedMs * 100) / 100 : -1,
      finalDeltaSlots: run.sync?.slots ?? 0,
      finalDeltaProofs: run.sync?.proofs ?? {},
      rounds: run.rounds.length,
      deltaSizes,
      sourceCleaned: run.committed?.deleted ?? 0,
      aborted: run.aborted,
      qemu,
      timingsMs: timings,
    };
    return report;
  } finally {
    if (!given) await site.stop();
  }
}

/** Whether the demo showed what it should: every open flow survived, the control broke them, counters held. */
export function demoSucceeded(r: LiveDemoReport): boolean {
  return !r.aborted && r.survivedWith === r.openAtPause && r.brokenWithout === r.openAtPause && r.countersConserved && r.flowsMigrated === r.flowsAtFreeze;
}
