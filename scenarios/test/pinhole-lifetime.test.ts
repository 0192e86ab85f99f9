/**
 * Pinholes across a migration, on the sim over real gRPC (both profiles), on virtual time: a
 * frozen or staged VM's pinholes are not deleted on idle timeout (they see no traffic by design),
 * and a pinhole carries its remaining lifetime — exported with it at the source, imported with a
 * deadline at the destination, deleted there when the deadline passes without traffic, kept as
 * an ordinary entry once traffic refreshes it; a pinhole the source's traffic refreshed after the
 * snapshot lives by what the final list says, not by the snapshot's reading.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PinholeLearner } from '../../plugin/index.js';
import { exportTableEntries, importTableEntries } from '../../plugin/device-api/table-entry-transfer.js';
import type { ImportedEntries } from '../../plugin/device-api/table-entry-transfer.js';
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

    // Activation: 5001 has been idle past its carried deadline and the table's timeout: deleted.
    await control(dst, 0, 1);
    learner(dst).setPhase(7, 'normal');
    expect(await eventually(() => entries(dst).length === 1)).toBe(true);
    await dst.plugin.settled();
    expect(entries(dst)).toEqual([5002]);

    // Traffic refreshes 5002. A pinhole imported now with 3 s left and no traffic ends at its
    // deadline, long before the table's 10 s idle timeout could remove it.
    expect(dst.sim.dataplane.inject(UPLINK, buildUdpFrame({ src: DNS, dst: VM, srcPort: 53, dstPort: 5002, payload: 60 })).kind).toBe('forward');
    const ended = learner(dst).stats().lifetimeEnded;
    const third = { ...second, match: { ...second.match, vm_port: 5003n }, remainingNs: 3_000_000_000n };
    expect(await learner(dst).importEntries(7, [third], { ageMs: 0 })).toMatchObject({ installed: 1 });
    dstClock.advance(4_000);
    expect(await eventually(() => entries(dst).length === 1 && learner(dst).stats().lifetimeEnded === ended + 1)).toBe(true);
    expect(entries(dst)).toEqual([5002]);

    // Past 5002's own deadline (20 s after import): refreshed by traffic, it stays.
    dstClock.advance(5_500);
    await dst.plugin.settled();
    expect(entries(dst)).toEqual([5002]);
    expect(learner(dst).stats().lifetimeEnded).toBe(ended + 1);
  }, 60_000);

  it('pinhole lifetime — refreshed at the source after the snapshot, it lives by the final list\'s lifetime (the snapshot\'s ≈2 s would have ended it at activation)', async () => {
    const port = (e: { match: Readonly<Record<string, bigint>> }): bigint | undefined => e.match['vm_port'];
    const both = (ms: number): void => {
      srcClock.advance(ms);
      dstClock.advance(ms);
    };
    // Source: VM 7's query learns pinhole 5011, then 8 s without traffic: the snapshot reads ≈2 s left.
    expect(src.sim.dataplane.inject(1, buildUdpFrame({ src: VM, dst: DNS, srcPort: 5011, dstPort: 53, payload: 40 })).kind).toBe('forward');
    srcClock.advance(400);
    expect(await eventually(() => entries(src).includes(5011))).toBe(true);
    srcClock.advance(8_000);
    const snapshot = (await exportTableEntries(src.plugin, 7)).filter((e) => port(e) === 5011n);
    expect(Number(snapshot[0]?.remainingNs ?? 0n) / 1e9).toBeLessThanOrEqual(2);

    // Destination: staged, the snapshot's list imported (the engine's path).
    await control(dst, 1, 0);
    learner(dst).setPhase(7, 'staged');
    const imported: ImportedEntries = new Map();
    await importTableEntries(dst.plugin, 7, 'src', snapshot, imported);
    expect(entries(dst)).toContain(5011);

    // Pre-copy runs on: a reply passes the pinhole at the source 1.5 s later, then 1.5 s more.
    both(1_500);
    expect(src.sim.dataplane.inject(UPLINK, buildUdpFrame({ src: DNS, dst: VM, srcPort: 53, dstPort: 5011, payload: 60 })).kind).toBe('forward');
    both(1_500);
    // The freeze: the final list says ≈8.5 s left.
    const final = (await exportTableEntries(src.plugin, 7, snapshot)).filter((e) => port(e) === 5011n);
    expect(Number(final[0]?.remainingNs ?? 0n) / 1e9).toBeGreaterThan(8);
    await importTableEntries(dst.plugin, 7, 'src', final, imported);

    // Activation, 3 s after the snapshot's import: the pinhole stays.
    const ended = learner(dst).stats().lifetimeEnded;
    await control(dst, 0, 1);
    learner(dst).setPhase(7, 'normal');
    dstClock.advance(1_000);
    await dst.plugin.settled();
    await learner(dst).idle();
    expect(entries(dst)).toContain(5011);
    expect(learner(dst).stats().lifetimeEnded).toBe(ended);

    // Without traffic at the destination it goes when the final list's lifetime ends (on BMv2,
    // whose reading stops at the timeout, by the idle notice that follows).
    dstClock.advance(8_500);
    await dst.plugin.settled();
    if (profile === 'full') expect(await eventually(() => !entries(dst).includes(5011) && learner(dst).stats().lifetimeEnded === ended + 1)).toBe(true);
    dstClock.advance(3_000);
    expect(await eventually(() => !entries(dst).includes(5011))).toBe(true);
  }, 60_000);

  it('pinhole lifetime — exported again from the switch it was imported at, an entry not hit there carries what is left of its carried lifetime, not the table\'s timeout restarted at the insert (walkthrough 18: idle pinholes lived on while the VM kept moving)', async () => {
    const port = (e: { match: Readonly<Record<string, bigint>> }): bigint | undefined => e.match['vm_port'];
    // The VM runs at the destination now (the move before the next one); 2 s pass there.
    await control(dst, 0, 1);
    learner(dst).setPhase(7, 'normal');
    // Two pinholes learnt at the source, carried with 6 s left.
    for (const p of [5021, 5022]) expect(src.sim.dataplane.inject(1, buildUdpFrame({ src: VM, dst: DNS, srcPort: p, dstPort: 53, payload: 40 })).kind).toBe('forward');
    srcClock.advance(400);
    expect(await eventually(() => entries(src).includes(5021) && entries(src).includes(5022))).toBe(true);
    const both = (await learner(src).exportEntries(7)).filter((e) => port(e) === 5021n || port(e) === 5022n).map((e) => ({ ...e, remainingNs: 6_000_000_000n }));
    expect(both).toHaveLength(2);
    expect(await learner(dst).importEntries(7, both, { ageMs: 0 })).toMatchObject({ installed: 2 });
    dstClock.advance(1_500);
    expect(dst.sim.dataplane.inject(UPLINK, buildUdpFrame({ src: DNS, dst: VM, srcPort: 53, dstPort: 5022, payload: 60 })).kind).toBe('forward');
    dstClock.advance(1_500);
    const again = await learner(dst).exportEntries(7);
    const left = (p: bigint): number => Number(again.find((e) => port(e) === p)?.remainingNs ?? -1n) / 1e9;
    // 6 s carried, 3 s since: 3 s left — not the 10 s table timeout minus 3 s.
    expect(left(5021n)).toBeGreaterThan(2.5);
    expect(left(5021n)).toBeLessThanOrEqual(3);
    // Hit here since: an ordinary entry, timed by the switch (10 s from the hit).
    expect(left(5022n)).toBeGreaterThan(7);
  }, 60_000);
});
