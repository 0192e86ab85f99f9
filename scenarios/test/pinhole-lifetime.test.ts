/**
 * Pinholes across a migration, on the sim over real gRPC (both profiles), on virtual time: a
 * frozen or staged VM's pinholes are not deleted on idle timeout (they see no traffic by design),
 * and a pinhole carries its remaining lifetime — exported with it at the source, imported with a
 * deadline at the destination, deleted there when the deadline passes without traffic, kept as
 * an ordinary entry once traffic refreshes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PinholeLearner } from '../../plugin/index.js';
import type { Clock } from 'p4runtime-ts';
import { VirtualScheduler } from '../../sim/index.js';
import type { TimerHandle } from '../../sim/index.js';
import { buildUdpFrame } from '../../sim/workload/index.js';
import { UPLINK, eventually, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

const VM = 0x0a000005; // 10.0.0.5, VM id 7 on both switches
const DNS = 0xc6336401;

describe.each(['full', 'bmv2'] as const)('pinhole lifetimes across a migration (profile %s)', (profile) => {
  const srcClock = new VirtualScheduler({ startMs: 10_000 });
  const dstClock = new VirtualScheduler({ startMs: 90_000 });
  let src: EdgeRig;
  let dst: EdgeRig;
  const learner = (rig: EdgeRig): PinholeLearner => {
    const l = rig.plugin.pinholes();
    if (!l) throw new Error('no pinhole learner');
    return l;
  };
  const entries = (rig: EdgeRig): number[] => rig.sim.state.tableEntries('dyn_acl').map((e) => Number(e.match.find((m) => m?.field === 'vm_port')?.value ?? -1n)).sort();
  const control = (rig: EdgeRig, staged: number, active: number) => {
    const entry = { match: { vm_id: 7 }, action: 'set_migration', params: { track: 0, freeze: 0, staged, active, tracker: 255 } };
    return rig.sw.write(rig.sw.table('vm_migration').insert(entry)).catch(() => rig.sw.write(rig.sw.table('vm_migration').modify(entry)));
  };

  beforeAll(async () => {
    // The plugin's timers (carried deadlines) run on the switch's virtual time too.
    const asClock = (s: VirtualScheduler): Clock => ({ now: () => s.now(), setTimeout: (fn, ms) => s.setTimer(ms, fn), clearTimeout: (h) => s.clearTimer(h as TimerHandle) });
    const options = (clock: VirtualScheduler) => ({ profile, scheduler: clock, idleScanIntervalMs: 100, plugin: { pinholeIdleTimeout: '10s', scheduler: asClock(clock) } as const });
    src = await startEdgeRig(options(srcClock));
    dst = await startEdgeRig(options(dstClock));
  }, 60_000);
  afterAll(async () => {
    await src?.stop();
    await dst?.stop();
  });

  it('pinhole lifetimes — exported with the time left, staged entries outlive the idle timeout, the carried deadline ends them unless traffic refreshes them', async () => {
    // Source: VM 7's DNS query learns a pinhole; 4 s pass without traffic.
    expect(src.sim.dataplane.inject(1, buildUdpFrame({ src: VM, dst: DNS, srcPort: 5001, dstPort: 53, payload: 40 })).kind).toBe('forward');
    srcClock.advance(400);
    expect(await eventually(() => entries(src).length === 1)).toBe(true);
    srcClock.advance(4_000);
    const exported = await learner(src).exportEntries(7);
    expect(exported).toHaveLength(1);
    const left = exported[0]?.remainingNs ?? 0n;
    expect(left).toBeLessThanOrEqual(10_000_000_000n - 4_000_000_000n);
    expect(left).toBeGreaterThan(5_000_000_000n);
    expect(await learner(src).exportEntries(8)).toEqual([]);

    // Destination: the VM is staged; the pinhole arrives 100 ms after export, with a second one
    // that has 20 s left (port 5002).
    await control(dst, 1, 0);
    learner(dst).setPhase(7, 'staged');
    const second = { ...exported[0], match: { ...exported[0]?.match, vm_port: 5002n }, remainingNs: 20_000_000_000n } as (typeof exported)[number];
    expect(await learner(dst).importEntries(7, [...exported, second], { ageMs: 100 })).toEqual({ installed: 2, alreadyPresent: 0, expired: 0 });
    // A retry is harmless; an entry whose lifetime ran out in transit is not installed.
    expect(await learner(dst).importEntries(7, exported, { ageMs: 100 })).toMatchObject({ installed: 0, alreadyPresent: 1 });
    expect(await learner(dst).importEntries(7, exported, { ageMs: 60_000 })).toMatchObject({ installed: 0, expired: 1 });

    // Staged past the 10 s idle timeout: idle notices come, nothing is deleted.
    dstClock.advance(11_000);
    expect(await eventually(() => learner(dst).stats().deferred > 0)).toBe(true);
    await dst.plugin.settled();
    expect(entries(dst)).toEqual([5001, 5002]);

    // Activation: 5001's carried deadline (≈5.5 s after import) has passed with no hit: deleted.
    await control(dst, 0, 1);
    learner(dst).setPhase(7, 'normal');
    expect(await eventually(() => entries(dst).length === 1)).toBe(true);
    expect(entries(dst)).toEqual([5002]);
    expect(learner(dst).stats().lifetimeEnded).toBe(1);

    // Traffic refreshes 5002 before its deadline (20 s after import); past it, it stays.
    expect(dst.sim.dataplane.inject(UPLINK, buildUdpFrame({ src: DNS, dst: VM, srcPort: 53, dstPort: 5002, payload: 60 })).kind).toBe('forward');
    dstClock.advance(9_500);
    await dst.plugin.settled();
    expect(entries(dst)).toEqual([5002]);
    expect(learner(dst).stats().lifetimeEnded).toBe(1);
  }, 60_000);
});
