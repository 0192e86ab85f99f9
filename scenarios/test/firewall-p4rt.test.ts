/**
 * The stateful firewall end to end through P4Runtime: frames enter by PacketOut (op INJECT, the
 * lab's path on BMv2), what leaves is watched on the sim's data ports, and the state — counters,
 * drop reasons, the connection's slot — is read back through P4Runtime and the plugin (on bmv2 the
 * slot comes back in-band, by PacketIn).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateSlotsFor } from '../../plugin/index.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../sim/programs/stateful-edge/frame.js';
import { CtState, DropReason, PACKET_OUT_BYTES } from '../../sim/programs/stateful-edge/layout.js';
import { buildTcpFrame } from '../../sim/workload/index.js';
import type { EgressPacket } from '../../sim/index.js';
import { UPLINK, eventually, injectViaPacketOut, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

const VM = 0x0a000005; // 10.0.0.5, VM id 7 behind port 1
const REMOTE = 0xc6336409; // 198.51.100.9

describe.each(['full', 'bmv2'] as const)('firewall over P4Runtime packet-out (profile %s)', (profile) => {
  let rig: EdgeRig;
  const egress: EgressPacket[] = [];
  const wireBytes: number[] = [];

  /** Injects a frame by PacketOut and waits until the pipeline has run it; returns what left, if anything. */
  const send = async (port: number, frame: Uint8Array): Promise<EgressPacket | undefined> => {
    const before = egress.length;
    const target = (rig.sim.dataplane.stats()?.packetOuts ?? 0) + 1;
    injectViaPacketOut(rig.sw, port, frame);
    if (!(await eventually(() => (rig.sim.dataplane.stats()?.packetOuts ?? 0) >= target, 5_000, 2))) throw new Error('the PacketOut was not processed');
    return egress[before];
  };
  const out = (p: { seq: number; ack?: number; flags: number; payload?: number; window?: number; port?: number }): Uint8Array =>
    buildTcpFrame({ src: VM, dst: REMOTE, srcPort: p.port ?? 40000, dstPort: 443, seq: p.seq, ack: p.ack ?? 0, flags: p.flags, window: p.window ?? 502, payload: p.payload ?? 0 });
  const inn = (p: { seq: number; ack?: number; flags: number; payload?: number; window?: number; port?: number; from?: number }): Uint8Array =>
    buildTcpFrame({ src: p.from ?? REMOTE, dst: VM, srcPort: 443, dstPort: p.port ?? 40000, seq: p.seq, ack: p.ack ?? 0, flags: p.flags, window: p.window ?? 509, payload: p.payload ?? 0 });
  // The flow's candidate slots, from the contract: an in-band read of those, not of all 327,680.
  const slots = (): { indices: number[] } => ({
    indices: candidateSlotsFor(rig.plugin.group.placement, { vm_addr: VM, remote_addr: REMOTE, vm_port: 40000, remote_port: 443, protocol: 6 }),
  });
  const drops = async (reason: number): Promise<bigint> => (await rig.plugin.registerAccess.readCounter('drops', reason)).packets;

  beforeAll(async () => {
    rig = await startEdgeRig({ profile });
    rig.sim.dataplane.onEgress((p) => egress.push(p));
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('passes an established connection both ways and tracks it', async () => {
    const steps: [number, Uint8Array, number][] = [
      [1, out({ seq: 1000, flags: TCP_SYN, window: 64240 }), UPLINK],
      [UPLINK, inn({ seq: 5000, ack: 1001, flags: TCP_SYN | TCP_ACK, window: 65160 }), 1],
      [1, out({ seq: 1001, ack: 5001, flags: TCP_ACK }), UPLINK],
      [1, out({ seq: 1001, ack: 5001, flags: TCP_ACK | TCP_PSH, payload: 300 }), UPLINK],
      [UPLINK, inn({ seq: 5001, ack: 1301, flags: TCP_ACK | TCP_PSH, payload: 1200 }), 1],
    ];
    for (const [port, frame, exit] of steps) {
      const left = await send(port, frame);
      expect(left?.port).toBe(exit);
      expect([...(left?.payload ?? [])]).toEqual([...frame]);
      wireBytes.push(frame.length + PACKET_OUT_BYTES);
    }
    const state = await rig.plugin.readVmState('10.0.0.5', { slots: slots() });
    expect(state.slots).toHaveLength(1);
    expect(state.slots[0]?.fields).toMatchObject({
      vm_addr: BigInt(VM), remote_addr: BigInt(REMOTE), vm_port: 40000n, remote_port: 443n, protocol: 6n, vm_id: 7n,
      state: BigInt(CtState.ESTABLISHED), end_out: 1301n, end_in: 6201n, ack_out: 5001n, ack_in: 1301n, pkts_out: 3n, pkts_in: 2n,
    });
    // Per-VM counters count the ingress length: the frame plus the 85-byte packet_out header.
    const [tx, rx] = state.counters;
    expect(tx).toMatchObject({ counter: 'vm_tx', index: 7, packets: 3n, bytes: BigInt((wireBytes[0] ?? 0) + (wireBytes[2] ?? 0) + (wireBytes[3] ?? 0)) });
    expect(rx).toMatchObject({ counter: 'vm_rx', index: 7, packets: 2n, bytes: BigInt((wireBytes[1] ?? 0) + (wireBytes[4] ?? 0)) });
  });

  it('drops and counts an untracked packet from outside', async () => {
    const before = await drops(DropReason.NOT_ADMITTED);
    expect(await send(UPLINK, inn({ seq: 77, ack: 1, flags: TCP_ACK, port: 40001, from: 0xc6336477 }))).toBeUndefined();
    expect(await send(UPLINK, inn({ seq: 77, flags: TCP_SYN, port: 22, from: 0xc6336477 }))).toBeUndefined();
    expect(await drops(DropReason.NOT_ADMITTED)).toBe(before + 2n);
  });

  it('drops and counts an out-of-window segment, leaving the connection as it was', async () => {
    const before = (await rig.plugin.readVmState(7, { slots: slots() })).slots[0]?.fields;
    expect(await send(UPLINK, inn({ seq: 5001 + 0x40000000, ack: 1301, flags: TCP_ACK, payload: 10 }))).toBeUndefined();
    expect(await drops(DropReason.OUT_OF_WINDOW)).toBe(1n);
    expect((await rig.plugin.readVmState(7, { slots: slots() })).slots[0]?.fields).toEqual(before);
    // The connection still works.
    expect((await send(UPLINK, inn({ seq: 6201, ack: 1301, flags: TCP_ACK, payload: 10 })))?.port).toBe(1);
  });

  it('forwards and tracks a VM whose id is past the per-VM counters, counting it nowhere (as BMv2 does)', async () => {
    const big = 0x0a000009; // 10.0.0.9, VM id 2000 behind port 20
    await rig.sw.write([
      rig.sw.table('port_role').insert({ match: { port: 20 }, action: 'vm_port_role', params: { uplink_port: UPLINK } }),
      rig.sw.table('vm_table').insert({ match: { vm_addr: big }, action: 'set_vm', params: { vm_id: 2000, port: 20 } }),
    ]);
    const cells = async (): Promise<string> => JSON.stringify(await rig.sw.readAll(['vm_tx', 'vm_rx', 'ct_collisions'].map((c) => rig.sw.counter(c).all())), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const before = await cells();
    const syn = buildTcpFrame({ src: big, dst: REMOTE, srcPort: 41000, dstPort: 443, seq: 9, ack: 0, flags: TCP_SYN, window: 64240 });
    expect((await send(20, syn))?.port).toBe(UPLINK);
    expect((await send(UPLINK, buildTcpFrame({ src: REMOTE, dst: big, srcPort: 443, dstPort: 41000, seq: 70, ack: 10, flags: TCP_SYN | TCP_ACK, window: 65160 })))?.port).toBe(20);
    expect(await cells()).toBe(before);
    const slot = candidateSlotsFor(rig.plugin.group.placement, { vm_addr: big, remote_addr: REMOTE, vm_port: 41000, remote_port: 443, protocol: 6 });
    const words = await rig.plugin.registerAccess.readSlots({ indices: slot });
    const held = words.map((w) => w.words[2] ?? 0n).find((w) => w !== 0n) ?? 0n;
    expect(held >> 48n).toBe(2000n);
    expect(Number((held >> 44n) & 0xfn)).toBe(CtState.SYN_RECV);
  });

  it('drops and counts a frame whose output port would be the CPU port; nothing reaches the controller', async () => {
    const vm = 0x0a00000a; // 10.0.0.10 behind port 21, whose uplink is misconfigured as the CPU port
    await rig.sw.write([
      rig.sw.table('port_role').insert({ match: { port: 21 }, action: 'vm_port_role', params: { uplink_port: 255 } }),
      rig.sw.table('vm_table').insert({ match: { vm_addr: vm }, action: 'set_vm', params: { vm_id: 10, port: 21 } }),
    ]);
    const before = await drops(DropReason.CPU_PORT);
    expect(await send(21, buildTcpFrame({ src: vm, dst: REMOTE, srcPort: 42000, dstPort: 443, seq: 1, ack: 0, flags: TCP_SYN, window: 64240, payload: 200 }))).toBeUndefined();
    expect(await drops(DropReason.CPU_PORT)).toBe(before + 1n);
  });
});
