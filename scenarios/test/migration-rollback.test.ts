/**
 * Rollback at every phase (issue 12): a failure injected at each step of a 1:1 migration on two
 * simulated switches — the destination refusing prepare, an import of the snapshot or a delta
 * round failing, the source failing to freeze or to hand over its final changes, the destination
 * failing to activate, the destination switch going away mid pre-copy, refusing its writes (sim
 * fault injection), or restarting and losing what was staged. Each time the migration
 * ends ABORTED with the reason, the source holds exactly what it held and forwards the VM's
 * traffic again (unfrozen), and the destination holds no slot and no pinhole of the VM. Then two
 * VMs migrate at once from the same switch, each with its own tracker.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { MemoryJournal, MigrationEngine, MigrationMachine, parseInventory, planMigration, runMigration } from '../../controller/index.js';
import { DeviceApiFailure } from '../../plugin/index.js';
import type { DeviceApi, StateBatch } from '../../plugin/index.js';
import { buildTcpFrame, buildUdpFrame } from '../../sim/workload/index.js';
import { SCHEMA, UPLINK, deviceConfigFor, eventually } from '../edge-rig.js';
import { DEMO_VM, startDemoSite } from '../demo/demo-site.js';
import type { DemoSite } from '../demo/demo-site.js';
import { countVmSlots, readVmPinholes } from '../demo/demo-observer.js';

const REMOTE = 0xc6336409;
const tcp = (vm: number, port: number, dir: 'out' | 'in', seq: number, ack: number, flags: number, payload = 0): Uint8Array =>
  dir === 'out'
    ? buildTcpFrame({ src: vm, dst: REMOTE, srcPort: port, dstPort: 443, seq, ack, flags, window: 64240, payload })
    : buildTcpFrame({ src: REMOTE, dst: vm, srcPort: 443, dstPort: port, seq, ack, flags, window: 65160, payload });

/** Opens `ports` as ESTABLISHED flows of the VM at `vm` (on switch port `swPort`). */
function establish(site: DemoSite, vm: number, swPort: number, ports: readonly number[]): void {
  const sim = site.sources[0]?.rig.sim;
  for (const p of ports) {
    expect(sim?.dataplane.inject(swPort, tcp(vm, p, 'out', 100, 0, 0x02)).kind).toBe('forward');
    expect(sim?.dataplane.inject(UPLINK, tcp(vm, p, 'in', 900, 101, 0x12)).kind).toBe('forward');
    expect(sim?.dataplane.inject(swPort, tcp(vm, p, 'out', 101, 901, 0x10)).kind).toBe('forward');
  }
}

type Step = keyof DeviceApi;
/** The device API with `step` replaced by `around(call, args)` (`call` runs the real one). */
function intercept(api: DeviceApi, step: Step, around: (call: () => unknown, args: unknown[]) => unknown): DeviceApi {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      return prop === step ? (...a: unknown[]) => around(() => f(...a), a) : f;
    },
  });
}

/** The device API with `step` failing (on the call `when` accepts). */
function failing(api: DeviceApi, step: Step, when: (arg: unknown) => boolean = () => true): DeviceApi {
  return intercept(api, step, (call, a) => (when(a[1]) ? Promise.reject(new DeviceApiFailure('DEVICE_UNREACHABLE', `injected failure of ${String(step)}`)) : call()));
}

const VM = DEMO_VM.addrNum;
const PORTS = Array.from({ length: 16 }, (_, i) => 40_000 + i);

describe('migration rollback — a failure at each step leaves the source authoritative and the destination clean', () => {
  let site: DemoSite;
  beforeEach(async () => {
    site = await startDemoSite('1:1', 'full');
    establish(site, VM, DEMO_VM.port, PORTS);
    // One UDP flow: a pinhole the destination must not keep either.
    const src = site.sources[0]!;
    expect(src.rig.sim.dataplane.inject(DEMO_VM.port, buildUdpFrame({ src: VM, dst: REMOTE, srcPort: 5353, dstPort: 53, payload: 40 })).kind).toBe('forward');
    expect(await eventually(async () => (await readVmPinholes(src.rig.sw, DEMO_VM.sourceId)).size === 1)).toBe(true);
    expect(await eventually(async () => (await src.api.capabilities()).slots.free === src.rig.plugin.group.slots - PORTS.length)).toBe(true);
  }, 60_000);
  afterEach(async () => {
    await site?.stop();
  });

  async function migrate(src: DeviceApi, dst: DeviceApi, opts: { stopAfterRounds?: number; beforePause?: () => Promise<void> } = {}) {
    const plan = planMigration(parseInventory(site.inventoryYaml, 'site.yaml'), DEMO_VM.name, 'host-a', 'host-b');
    const journal = new MemoryJournal();
    const machine = await MigrationMachine.plan({ migrationId: 'm-rb', vm: DEMO_VM.name, sources: ['src-1'], destinations: ['dst-1'] }, { journal, now: () => Date.now() });
    const engine = new MigrationEngine({ plan, machine, devices: new Map([['src-1', src], ['dst-1', dst]]), pauseDeadlineMs: 60_000, precopy: { intervalMs: 20, policy: { maxRounds: 1_000, convergedAtSlots: -1 } }, graceMs: 0 });
    const paused$ = new Subject<void>();
    // Pre-copy runs until a delta round with changes was installed (or the failure ended it).
    const sub = machine.states$.subscribe((s) => {
      if (s.rounds >= (opts.stopAfterRounds ?? 2)) paused$.next();
    });
    const run = await runMigration(engine, { paused$, ...(opts.beforePause ? { beforePause: opts.beforePause } : {}) });
    sub.unsubscribe();
    return { run, machine };
  }

  const cases: { name: string; step: Step; side: 'src' | 'dst'; when?: (b: unknown) => boolean }[] = [
    { name: 'the destination refuses prepare', step: 'prepare', side: 'dst' },
    { name: 'the snapshot import fails', step: 'importStaged', side: 'dst', when: (b) => (b as StateBatch).round === 0 },
    { name: 'the source cannot freeze', step: 'freeze', side: 'src' },
    { name: 'the final delta cannot be read', step: 'finalDelta', side: 'src' },
    { name: 'the final import fails', step: 'importStaged', side: 'dst', when: (b) => (b as StateBatch).round === 99 },
    { name: 'the destination cannot activate', step: 'activate', side: 'dst' },
  ];

  for (const c of cases) {
    it(`migration rollback — ${c.name}: ABORTED with the reason, source unchanged and unfrozen, destination clean`, async () => {
      const src = site.sources[0]!;
      const dst = site.destinations[0]!;
      const g = src.rig.plugin.group;
      const before = countVmSlots(src.rig.sim, g, DEMO_VM.sourceId);
      const holes = await readVmPinholes(src.rig.sw, DEMO_VM.sourceId);
      const srcApi = c.side === 'src' ? failing(src.api, c.step, c.when) : src.api;
      const dstApi = c.side === 'dst' ? failing(dst.api, c.step, c.when) : dst.api;
      const { run, machine } = await migrate(srcApi, dstApi);
      expect(run.aborted?.reason).toBe('DEVICE_UNREACHABLE');
      expect(run.aborted?.detail).toMatch(new RegExp(`injected failure of ${c.step}`));
      expect(machine.state.phase).toBe('ABORTED');
      expect(machine.state.rolledBack).toBe(true);
      expect(countVmSlots(src.rig.sim, g, DEMO_VM.sourceId)).toBe(before);
      expect(await readVmPinholes(src.rig.sw, DEMO_VM.sourceId)).toEqual(holes);
      for (const p of PORTS) expect(src.rig.sim.dataplane.inject(UPLINK, tcp(VM, p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
      expect(countVmSlots(dst.rig.sim, g, DEMO_VM.destinationId)).toBe(0);
      expect((await readVmPinholes(dst.rig.sw, DEMO_VM.destinationId)).size).toBe(0);
      for (const p of PORTS) expect(dst.rig.sim.dataplane.inject(UPLINK, tcp(VM, p, 'in', 901, 101, 0x18, 10)).kind).toBe('drop');
    }, 120_000);
  }

  it('migration rollback — the destination switch refuses its writes (sim fault injection: every Write INTERNAL) while the snapshot is staged: ABORTED with the switch\'s reason, source unchanged and unfrozen, destination clean', async () => {
    const src = site.sources[0]!;
    const dst = site.destinations[0]!;
    const g = src.rig.plugin.group;
    const before = countVmSlots(src.rig.sim, g, DEMO_VM.sourceId);
    let armed = false;
    // The first import arms the switch's fault: from then on its Write RPCs fail, as a real switch's would.
    const arming = intercept(dst.api, 'importStaged', (call) => {
      if (!armed) {
        armed = true;
        dst.rig.sim.faults.failNext('Write', { code: grpcStatus.INTERNAL, message: 'injected: table write failed', count: 10_000 });
      }
      return call();
    });
    const { run, machine } = await migrate(src.api, arming);
    dst.rig.sim.faults.clear();
    expect(armed).toBe(true);
    expect(machine.state.phase).toBe('ABORTED');
    expect(run.aborted?.detail).toMatch(/injected: table write failed/);
    expect(countVmSlots(src.rig.sim, g, DEMO_VM.sourceId)).toBe(before);
    for (const p of PORTS) expect(src.rig.sim.dataplane.inject(UPLINK, tcp(VM, p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
    expect(countVmSlots(dst.rig.sim, g, DEMO_VM.destinationId)).toBe(0);
  }, 120_000);

  it('migration rollback — the destination switch restarts mid pre-copy and loses what was staged: the migration does not commit without it; ABORTED, the source unchanged and unfrozen', async () => {
    const src = site.sources[0]!;
    const dst = site.destinations[0]!;
    const g = src.rig.plugin.group;
    const before = countVmSlots(src.rig.sim, g, DEMO_VM.sourceId);
    const { run, machine } = await migrate(src.api, dst.api, {
      stopAfterRounds: 1,
      beforePause: async () => {
        await dst.rig.sim.faults.restart({ downForMs: 50 });
        // Back up, and its pipeline pushed again (as its controller would) before the pause: it
        // answers every request now, so only knowing that its state was lost can stop the commit.
        await new Promise((r) => setTimeout(r, 300));
        expect(await eventually(async () => (await dst.rig.sw.setPipeline('VERIFY_AND_COMMIT', SCHEMA.p4info, deviceConfigFor('full')).then(() => true, () => false)), 10_000, 100)).toBe(true);
      },
    });
    expect(machine.state.phase).toBe('ABORTED');
    expect(run.aborted?.reason).toBe('DEVICE_UNREACHABLE');
    expect(run.aborted?.detail).toMatch(/P4Runtime session to the switch was lost after prepare/);
    expect(countVmSlots(src.rig.sim, g, DEMO_VM.sourceId)).toBe(before);
    for (const p of PORTS) expect(src.rig.sim.dataplane.inject(UPLINK, tcp(VM, p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
  }, 120_000);

  it('migration rollback — the destination switch goes away mid pre-copy: DEVICE_UNREACHABLE, the source unchanged and unfrozen', async () => {
    const src = site.sources[0]!;
    const dst = site.destinations[0]!;
    const g = src.rig.plugin.group;
    const before = countVmSlots(src.rig.sim, g, DEMO_VM.sourceId);
    const { run } = await migrate(src.api, dst.api, {
      stopAfterRounds: 1,
      beforePause: async () => {
        await dst.rig.sim.stop();
      },
    });
    expect(run.aborted?.reason).toBe('DEVICE_UNREACHABLE');
    expect(countVmSlots(src.rig.sim, g, DEMO_VM.sourceId)).toBe(before);
    for (const p of PORTS) expect(src.rig.sim.dataplane.inject(UPLINK, tcp(VM, p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
  }, 120_000);
});

describe('migration — two VMs at once from one switch', () => {
  it('migration — two prepares at once on one switch take different change-log trackers (neither flips the other\'s)', async () => {
    const site = await startDemoSite('1:1', 'full');
    try {
      const src = site.sources[0]!;
      const sw = src.rig.sw;
      await sw.write([
        sw.table('port_role').insert({ match: { port: 2 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
        sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.6' }, action: 'set_vm', params: { vm_id: 8, port: 2 } }),
      ]);
      const refs = [{ migrationId: 'p-1', vm: '10.0.0.5' }, { migrationId: 'p-2', vm: '10.0.0.6' }];
      await Promise.all(refs.map((r) => src.api.prepare(r)));
      const trackers = new Map<number, number>();
      for await (const e of sw.read(sw.table('vm_migration').all())) if (e.kind === 'table') trackers.set(Number((e.match['vm_id'] as { value: bigint }).value), Number(e.params['tracker']));
      expect(trackers.size).toBe(2);
      expect(trackers.get(DEMO_VM.sourceId)).not.toBe(trackers.get(8));
      await Promise.all(refs.map((r) => src.api.abort(r)));
    } finally {
      await site.stop();
    }
  }, 120_000);

  it('migration — two VMs migrate concurrently from the same source: both commit, each with its own flows and ids at the destination', async () => {
    const site = await startDemoSite('1:1', 'full');
    try {
      const src = site.sources[0]!;
      const dst = site.destinations[0]!;
      // A second VM, 10.0.0.6 on port 2: id 8 at the source, 10 at the destination.
      for (const [sw, id] of [[src.rig.sw, 8], [dst.rig.sw, 10]] as const) {
        await sw.write([
          sw.table('port_role').insert({ match: { port: 2 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
          sw.table('vm_table').insert({ match: { vm_addr: '10.0.0.6' }, action: 'set_vm', params: { vm_id: id, port: 2 } }),
        ]);
      }
      const VM2 = 0x0a000006;
      establish(site, VM, DEMO_VM.port, PORTS);
      establish(site, VM2, 2, PORTS.slice(0, 9));
      const g = src.rig.plugin.group;
      expect(await eventually(async () => (await src.api.capabilities()).slots.free === g.slots - PORTS.length - 9)).toBe(true);
      const inv = parseInventory(`${site.inventoryYaml}  vm-2: { address: 10.0.0.6, host: host-a }\n`, 'site.yaml');
      const journal = new MemoryJournal();
      const one = async (vm: string, id: string) => {
        const machine = await MigrationMachine.plan({ migrationId: id, vm, sources: ['src-1'], destinations: ['dst-1'] }, { journal, now: () => Date.now() });
        const engine = new MigrationEngine({ plan: planMigration(inv, vm, 'host-a', 'host-b'), machine, devices: new Map([['src-1', src.api], ['dst-1', dst.api]]), pauseDeadlineMs: 60_000, precopy: { intervalMs: 20, policy: { maxRounds: 3, convergedAtSlots: -1 } }, graceMs: 0 });
        return runMigration(engine);
      };
      const [a, b] = await Promise.all([one('vm-1', 'm-vm1'), one('vm-2', 'm-vm2')]);
      expect(a.aborted).toBeUndefined();
      expect(b.aborted).toBeUndefined();
      expect(a.committed?.deleted).toBe(PORTS.length);
      expect(b.committed?.deleted).toBe(9);
      expect(countVmSlots(dst.rig.sim, g, DEMO_VM.destinationId)).toBe(PORTS.length);
      expect(countVmSlots(dst.rig.sim, g, 10)).toBe(9);
      expect(countVmSlots(src.rig.sim, g, DEMO_VM.sourceId) + countVmSlots(src.rig.sim, g, 8)).toBe(0);
      for (const p of PORTS.slice(0, 9)) expect(dst.rig.sim.dataplane.inject(UPLINK, tcp(VM2, p, 'in', 901, 101, 0x18, 10)).kind).toBe('forward');
    } finally {
      await site.stop();
    }
  }, 120_000);
});

describe('migration — N:1 imports', () => {
  it('device API — two sources whose batches have the same round, sequence range and size are both installed (the source is part of a retry\'s identity)', async () => {
    const site = await startDemoSite('1:1', 'full');
    try {
      const dst = site.destinations[0]!;
      const g = dst.rig.plugin.group;
      const m = { migrationId: 'm-n1', vm: DEMO_VM.addr };
      await dst.api.prepare(m);
      const flow = (port: number): Record<string, bigint> => ({ vm_addr: BigInt(VM), remote_addr: BigInt(REMOTE), vm_port: BigInt(port), remote_port: 443n, protocol: 6n, state: 3n, vm_id: 7n });
      const batch = (source: string, port: number): StateBatch => ({ migrationId: m.migrationId, source, round: 1, slots: [{ fields: flow(port) }], removed: [], coversSeq: { from: 0n, to: 1n } });
      const a = await dst.api.importStaged(m, batch('src-a', 45_000));
      const b = await dst.api.importStaged(m, batch('src-b', 45_001));
      expect([a.installed, b.installed]).toEqual([1, 1]);
      expect(countVmSlots(dst.rig.sim, g, DEMO_VM.destinationId)).toBe(2);
      // A true retry (same source, same batch) is still answered once, not installed twice.
      expect((await dst.api.importStaged(m, batch('src-a', 45_000))).installed).toBe(1);
      expect(countVmSlots(dst.rig.sim, g, DEMO_VM.destinationId)).toBe(2);
      await dst.api.abort(m);
      expect(countVmSlots(dst.rig.sim, g, DEMO_VM.destinationId)).toBe(0);
    } finally {
      await site.stop();
    }
  }, 60_000);
});
