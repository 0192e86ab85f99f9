/**
 * The plugin's control loop on the sim: outbound UDP from a VM makes the pipeline ask for a
 * pinhole (digest pinhole_t), the plugin inserts a dyn_acl entry with its idle timeout, replies
 * from outside then pass; when the switch reports the entry idle the plugin deletes it and
 * replies are dropped again. The switch runs on virtual time, so digest flushes and idle scans
 * happen exactly when the test advances the clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DropReason } from '../../sim/programs/stateful-edge/layout.js';
import { VirtualScheduler } from '../../sim/index.js';
import type { EgressPacket } from '../../sim/index.js';
import { buildUdpFrame } from '../../sim/workload/index.js';
import { UPLINK, eventually, injectViaPacketOut, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

const VM = 0x0a000005; // 10.0.0.5, VM id 7 behind port 1
const DNS = 0xc6336401; // 198.51.100.1

describe.each(['full', 'bmv2'] as const)('pinholes learned from digests, expired on idle timeout (profile %s)', (profile) => {
  const clock = new VirtualScheduler({ startMs: 10_000 });
  let rig: EdgeRig;
  const egress: EgressPacket[] = [];

  const udpOut = (vmPort: number, remotePort: number): Uint8Array => buildUdpFrame({ src: VM, dst: DNS, srcPort: vmPort, dstPort: remotePort, payload: 40 });
  const udpIn = (vmPort: number, remotePort: number): Uint8Array => buildUdpFrame({ src: DNS, dst: VM, srcPort: remotePort, dstPort: vmPort, payload: 80 });
  /** Injects by PacketOut and waits until the pipeline ran it; true when it left on a data port. */
  const send = async (port: number, frame: Uint8Array): Promise<boolean> => {
    const before = egress.length;
    const target = (rig.sim.dataplane.stats()?.packetOuts ?? 0) + 1;
    injectViaPacketOut(rig.sw, port, frame);
    if (!(await eventually(() => (rig.sim.dataplane.stats()?.packetOuts ?? 0) >= target, 5_000, 2))) throw new Error('PacketOut not processed');
    return egress.length > before;
  };
  const pinholes = async (): Promise<number> => rig.sim.state.tableEntries('dyn_acl').length;

  beforeAll(async () => {
    rig = await startEdgeRig({ profile, scheduler: clock, idleScanIntervalMs: 100, plugin: { pinholeIdleTimeout: '1s' } });
    rig.sim.dataplane.onEgress((p) => egress.push(p));
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('installs one pinhole per outbound UDP flow, with the idle timeout; duplicates and existing entries are fine', async () => {
    // Flow D's digest is buffered, then someone installs D by hand before the list leaves.
    await send(1, udpOut(5004, 53));
    await rig.sw.write(rig.sw.table('dyn_acl').insert({ match: { vm_id: 7, vm_addr: VM, remote_addr: DNS, vm_port: 5004, remote_port: 53, protocol: 17 }, action: 'pinhole_allow', idleTimeout: '1s' }));
    for (const vmPort of [5001, 5002]) for (let i = 0; i < 3; i++) expect(await send(1, udpOut(vmPort, 53))).toBe(true);
    expect(await send(UPLINK, udpIn(5001, 53))).toBe(false); // no pinhole yet
    clock.advance(400); // the digest list leaves (≤ 300 ms even with BMv2's coarse timing)
    expect(await eventually(async () => (await pinholes()) === 3 && rig.plugin.health().pinholes.alreadyPresent === 1)).toBe(true);
    await rig.plugin.settled();
    const h = rig.plugin.health();
    expect(h.pinholes).toMatchObject({ installed: 2, alreadyPresent: 1, errors: 0 });
    expect(h.errors).toBe(0);
    for (const e of rig.sim.state.tableEntries('dyn_acl')) expect(e).toMatchObject({ action: 'pinhole_allow', idleTimeoutNs: 1_000_000_000n });
  });

  it('lets replies through a pinhole and drops replies without one', async () => {
    expect(await send(UPLINK, udpIn(5001, 53))).toBe(true);
    expect(await send(UPLINK, udpIn(5002, 53))).toBe(true);
    const before = (await rig.plugin.registerAccess.readCounter('drops', DropReason.NOT_ADMITTED)).packets;
    expect(await send(UPLINK, udpIn(5999, 53))).toBe(false);
    expect((await rig.plugin.registerAccess.readCounter('drops', DropReason.NOT_ADMITTED)).packets).toBe(before + 1n);
  });

  it('deletes pinholes the switch reports idle — once each, however often it repeats — and replies stop', async () => {
    // Advance in scan-sized steps so notifications repeat while deletes are on their way.
    for (let t = 0; t < 3_000; t += 100) {
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    expect(await eventually(async () => (await pinholes()) === 0)).toBe(true);
    await rig.plugin.settled();
    const h = rig.plugin.health();
    expect(h.pinholes.expired + h.pinholes.alreadyGone).toBeGreaterThanOrEqual(3);
    expect(h.pinholes.expired).toBe(3);
    expect(h.errors).toBe(0);
    expect(await send(UPLINK, udpIn(5001, 53))).toBe(false);
  });

  it('learns a flow again after its pinhole expired', async () => {
    expect(await send(1, udpOut(5001, 53))).toBe(true);
    clock.advance(400);
    expect(await eventually(async () => (await pinholes()) === 1)).toBe(true);
    await rig.plugin.settled();
    expect(rig.plugin.health().pinholes.installed).toBe(3);
    expect(await send(UPLINK, udpIn(5001, 53))).toBe(true);
  });
});

describe('pinholes expired by polling where the target sends no idle notifications (profile stratum-tofino)', () => {
  it('pinholes — learned from the digest, then deleted once time_since_last_hit reaches the timeout', async () => {
    const rig = await startEdgeRig({ profile: 'stratum-tofino', plugin: { pinholeIdleTimeout: '300ms', pinholeExpiry: { pollMs: 50 } } });
    try {
      const frame = buildUdpFrame({ src: VM, dst: DNS, srcPort: 40001, dstPort: 53, payload: 40 });
      injectViaPacketOut(rig.sw, 1, frame);
      expect(await eventually(() => rig.sim.state.tableEntries('dyn_acl').length === 1, 5_000)).toBe(true);
      expect(await eventually(() => rig.sim.state.tableEntries('dyn_acl').length === 0, 5_000)).toBe(true);
      // The switch applies the DELETE before the plugin has its answer: let the control loop finish.
      expect(await eventually(() => rig.plugin.health().pinholes.expired === 1, 5_000)).toBe(true);
      expect(rig.plugin.health().pinholes).toMatchObject({ installed: 1, expired: 1, errors: 0 });
    } finally {
      await rig.stop();
    }
  });
});
