import { describe, expect, it } from 'vitest';
import { buildTcpFrame } from '../../workload/frame-builder.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, parseIpv4 } from './frame.js';
import { CT_FLAG_REMOTE_INIT, CT_FLAG_SYN_WIN_IN, CT_FLAG_SYN_WIN_OUT, CtState, DropReason, PACKET_OUT_BYTES, DIRTY_WORDS_PER_BUFFER, CT_WORDS } from './layout.js';
import { candidateSlots } from './placement.js';
import { encodeSlot } from './slot.js';
import { EdgeRig, REMOTE, UPLINK, VM_ADDR, VM_ID, VM_PORT, expectDrop, expectForward } from './test-fixtures.js';

describe('stateful_edge firewall — established flows', () => {
  it('passes a handshake and data both ways, tracking seq/ack/window and counters', () => {
    const rig = new EdgeRig();
    rig.handshake(1000, 5000);
    const slot = rig.flowSlot();
    expect(rig.slot(slot)).toMatchObject({
      vmAddr: VM_ADDR, remoteAddr: REMOTE, vmPort: 40000, remotePort: 443, protocol: 6, vmId: VM_ID,
      state: CtState.ESTABLISHED, flags: CT_FLAG_SYN_WIN_IN, endOut: 1001, endIn: 5001, ackOut: 5001, ackIn: 1001,
    });

    expectForward(rig.out({ seq: 1001, ack: 5001, flags: TCP_ACK | TCP_PSH, payload: 300 }), UPLINK);
    expectForward(rig.in({ seq: 5001, ack: 1301, flags: TCP_ACK | TCP_PSH, payload: 1200, window: 700 }), VM_PORT);
    expectForward(rig.out({ seq: 1301, ack: 6201, flags: TCP_ACK }), UPLINK);

    const s = rig.slot(slot);
    expect(s).toMatchObject({ endOut: 1301, endIn: 6201, ackOut: 6201, ackIn: 1301, winIn: 700, pktsOut: 4, pktsIn: 2 });
    // IPv4 bytes: SYN 40, ACK 40, data 340, ACK 40 out; SYN+ACK 40, data 1240 in.
    expect(s.bytesOut).toBe(40n + 40n + 340n + 40n);
    expect(s.bytesIn).toBe(40n + 1240n);
    expect(rig.env.counter('vm_tx', VM_ID).packets).toBe(4);
    expect(rig.env.counter('vm_rx', VM_ID).packets).toBe(2);
    expect(rig.env.counter('vm_tx', VM_ID).bytes).toBe(4 * 14 + 460);
  });

  it('handles sequence numbers that wrap around 2^32', () => {
    const rig = new EdgeRig();
    rig.handshake(0xfffffff0, 0xffffff00);
    expectForward(rig.out({ seq: 0xfffffff1, ack: 0xffffff01, flags: TCP_ACK, payload: 100 }), UPLINK);
    expectForward(rig.in({ seq: 0xffffff01, ack: (0xfffffff1 + 100) >>> 0, flags: TCP_ACK, payload: 500 }), VM_PORT);
    expect(rig.slot(rig.flowSlot())).toMatchObject({ state: CtState.ESTABLISHED, endOut: 0x55, endIn: 0xf5 });
  });

  it('tracks a connection the remote side opens when a static rule allows it', () => {
    const rig = new EdgeRig();
    rig.env.addEntry('static_acl', {
      match: { vm_addr: { value: BigInt(VM_ADDR), mask: 0xffffffffn }, remote_addr: { value: 0n, mask: 0n }, vm_port: { value: 40000n, mask: 0xffffn }, protocol: { value: 6n, mask: 0xffn } },
      priority: 10,
      action: 'static_allow',
    });
    expectForward(rig.in({ seq: 77, flags: TCP_SYN, window: 64240 }), VM_PORT);
    expectForward(rig.out({ seq: 900, ack: 78, flags: TCP_SYN | TCP_ACK, window: 65160 }), UPLINK);
    expectForward(rig.in({ seq: 78, ack: 901, flags: TCP_ACK }), VM_PORT);
    // Remote-opened (bit 0); the VM's window is still the one of its SYN+ACK (bit 2).
    expect(rig.slot(rig.flowSlot())).toMatchObject({ state: CtState.ESTABLISHED, flags: CT_FLAG_REMOTE_INIT | CT_FLAG_SYN_WIN_OUT, endIn: 78, endOut: 901 });
  });

  it('forwards injected frames (PacketOut op 0) like frames arriving on the port, counting the 85-byte header', () => {
    const rig = new EdgeRig();
    const syn = rig.tcpOut({ seq: 10, flags: TCP_SYN });
    const e = rig.inject(VM_PORT, syn);
    expect(e).toEqual({ kind: 'forward', port: UPLINK, payload: syn });
    expect(rig.env.counter('vm_tx', VM_ID)).toEqual({ packets: 1, bytes: syn.length + PACKET_OUT_BYTES });
    expect(rig.slot(rig.flowSlot()).state).toBe(CtState.SYN_SENT);
  });
});

describe('stateful_edge firewall — drops', () => {
  it('drops and counts out-of-window segments without touching the slot', () => {
    const rig = new EdgeRig();
    rig.handshake(1000, 5000);
    const before = rig.slot(rig.flowSlot());
    expectDrop(rig.in({ seq: 5001 + 0x40000000, ack: 1001, flags: TCP_ACK, payload: 10 }), 'OUT_OF_WINDOW');
    expectDrop(rig.in({ seq: 5001 - 0x40000000, ack: 1001, flags: TCP_RST | TCP_ACK }), 'OUT_OF_WINDOW');
    expectDrop(rig.out({ seq: 1001, ack: 5001 + 100000, flags: TCP_ACK }), 'OUT_OF_WINDOW'); // acks unsent data
    expect(rig.env.counter('drops', DropReason.OUT_OF_WINDOW).packets).toBe(3);
    expect(rig.slot(rig.flowSlot())).toEqual(before);
    expect(rig.env.counter('vm_rx', VM_ID).packets).toBe(1);
  });

  it('drops untracked traffic from outside: no connection, no pinhole, no static rule', () => {
    const rig = new EdgeRig();
    expectDrop(rig.in({ seq: 1, ack: 2, flags: TCP_ACK }), 'NOT_ADMITTED');
    expectDrop(rig.in({ seq: 1, flags: TCP_SYN }), 'NOT_ADMITTED');
    expectDrop(rig.udpIn(5353, 53), 'NOT_ADMITTED');
    expect(rig.env.counter('drops', DropReason.NOT_ADMITTED).packets).toBe(3);
    expect(rig.env.nonZeroCells('ct_key_port')).toEqual([]);
  });

  it('drops a SYN+ACK that does not acknowledge the SYN, and a mid-stream SYN, as invalid', () => {
    const rig = new EdgeRig();
    expectForward(rig.out({ seq: 1000, flags: TCP_SYN }), UPLINK);
    expectDrop(rig.in({ seq: 5000, ack: 999, flags: TCP_SYN | TCP_ACK }), 'TCP_INVALID');
    expectDrop(rig.in({ seq: 5000, ack: 1001, flags: TCP_ACK }), 'TCP_INVALID');
    expect(rig.env.counter('drops', DropReason.TCP_INVALID).packets).toBe(2);
  });

  it('drops spoofed sources, unknown ports and non-IPv4 frames, each under its reason', () => {
    const rig = new EdgeRig();
    const spoofed = buildTcpFrame({ src: parseIpv4('10.0.0.99'), dst: REMOTE, srcPort: 1, dstPort: 2, seq: 1, ack: 0, flags: TCP_SYN, window: 1 });
    expectDrop(rig.pipe.process({ ingressPort: VM_PORT, payload: spoofed }, rig.env), 'UNKNOWN_VM');
    expectDrop(rig.pipe.process({ ingressPort: 9, payload: rig.tcpOut({ seq: 1, flags: TCP_SYN }) }, rig.env), 'UNKNOWN_PORT');
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expectDrop(rig.pipe.process({ ingressPort: VM_PORT, payload: arp }, rig.env), 'NOT_IPV4');
    expect(rig.env.counter('drops', DropReason.NOT_IPV4)).toEqual({ packets: 1, bytes: 42 });
  });

  it('honours a static deny for traffic that is otherwise pinholed', () => {
    const rig = new EdgeRig();
    rig.env.addEntry('static_acl', { match: { vm_addr: { value: 0n, mask: 0n }, remote_addr: { value: BigInt(REMOTE), mask: 0xffffffffn }, vm_port: { value: 0n, mask: 0n }, protocol: { value: 0n, mask: 0n } }, priority: 1, action: 'static_deny' });
    rig.env.addEntry('dyn_acl', { match: { vm_id: { value: BigInt(VM_ID) }, vm_addr: { value: BigInt(VM_ADDR) }, remote_addr: { value: BigInt(REMOTE) }, vm_port: { value: 5353n }, remote_port: { value: 53n }, protocol: { value: 17n } }, action: 'pinhole_allow' });
    expectDrop(rig.udpIn(5353, 53), 'ACL_DENY');
  });
});

describe('stateful_edge firewall — closing', () => {
  it('walks FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT on an orderly close', () => {
    const rig = new EdgeRig();
    rig.handshake(1000, 5000);
    const s = rig.flowSlot();
    expectForward(rig.out({ seq: 1001, ack: 5001, flags: TCP_FIN | TCP_ACK }), UPLINK);
    expect(rig.slot(s).state).toBe(CtState.FIN_WAIT);
    expectForward(rig.in({ seq: 5001, ack: 1002, flags: TCP_ACK }), VM_PORT);
    expect(rig.slot(s).state).toBe(CtState.CLOSE_WAIT);
    expectForward(rig.in({ seq: 5001, ack: 1002, flags: TCP_FIN | TCP_ACK }), VM_PORT);
    expect(rig.slot(s).state).toBe(CtState.LAST_ACK);
    expectForward(rig.out({ seq: 1002, ack: 5002, flags: TCP_ACK }), UPLINK);
    expect(rig.slot(s).state).toBe(CtState.TIME_WAIT);
    // A new connection on the same 5-tuple reuses the TIME_WAIT slot.
    expectForward(rig.out({ seq: 90000, flags: TCP_SYN }), UPLINK);
    expect(rig.slot(s)).toMatchObject({ state: CtState.SYN_SENT, endOut: 90001, pktsOut: 1 });
  });

  it('records the remote side as the first closer', () => {
    const rig = new EdgeRig();
    rig.handshake(1000, 5000);
    expectForward(rig.in({ seq: 5001, ack: 1001, flags: TCP_FIN | TCP_ACK }), VM_PORT);
    expect(rig.slot(rig.flowSlot())).toMatchObject({ state: CtState.FIN_WAIT, flags: 2 });
  });

  it('closes on an in-window RST', () => {
    const rig = new EdgeRig();
    rig.handshake(1000, 5000);
    expectForward(rig.in({ seq: 5001, ack: 1001, flags: TCP_RST | TCP_ACK }), VM_PORT);
    expect(rig.slot(rig.flowSlot()).state).toBe(CtState.CLOSED);
  });
});

describe('stateful_edge firewall — pinholes', () => {
  it('asks for a pinhole on outbound UDP, admits replies once it exists and counts them on the entry', () => {
    const rig = new EdgeRig();
    expectForward(rig.udpOut(5353, 53), UPLINK);
    expect(rig.env.digests).toEqual([
      { digest: 'pinhole_t', fields: { vm_id: BigInt(VM_ID), vm_addr: BigInt(VM_ADDR), remote_addr: BigInt(REMOTE), vm_port: 5353n, remote_port: 53n, protocol: 17n } },
    ]);
    expectDrop(rig.udpIn(5353, 53), 'NOT_ADMITTED');

    const d = rig.env.digests[0];
    if (!d) throw new Error('no digest');
    rig.env.addEntry('dyn_acl', { match: Object.fromEntries(Object.entries(d.fields).map(([k, v]) => [k, { value: v }])), action: 'pinhole_allow' });
    expectForward(rig.udpIn(5353, 53, 100), VM_PORT);
    expectForward(rig.udpOut(5353, 53), UPLINK);
    expect(rig.env.digests.length).toBe(1); // a hit asks for nothing
    expect(rig.env.directCounter('dyn_acl', { vm_port: 5353n })).toEqual({ packets: 2, bytes: 14 + 28 + 100 + 14 + 28 + 40 });

    // The pinhole expires (the plugin deletes it): replies are dropped again.
    rig.env.removeEntries('dyn_acl', { vm_port: 5353n });
    expectDrop(rig.udpIn(5353, 53), 'NOT_ADMITTED');
  });

  it('drops traffic matching a learned deny entry', () => {
    const rig = new EdgeRig();
    rig.env.addEntry('dyn_acl', { match: { vm_id: { value: BigInt(VM_ID) }, vm_addr: { value: BigInt(VM_ADDR) }, remote_addr: { value: BigInt(REMOTE) }, vm_port: { value: 7000n }, remote_port: { value: 53n }, protocol: { value: 17n } }, action: 'pinhole_deny' });
    expectDrop(rig.udpIn(7000, 53), 'ACL_DENY');
  });
});

describe('stateful_edge firewall — migration control, dirty tracking, deltas', () => {
  const migration = (track: number, freeze: number, staged: number, active: number) => ({
    match: { vm_id: { value: BigInt(VM_ID) } },
    action: 'set_migration',
    params: { track: BigInt(track), freeze: BigInt(freeze), staged: BigInt(staged), active: BigInt(active), tracker: 255n },
  });

  it('marks changed slots dirty and pushes their new content only while the VM is tracked', () => {
    const rig = new EdgeRig();
    rig.handshake(1000, 5000);
    expect(rig.env.nonZeroCells('ct_dirty')).toEqual([]);
    // Untracked: the SYN's new slot is announced (ct_new_t), nothing else.
    expect(rig.env.digests).toEqual([{ digest: 'ct_new_t', fields: { slot: BigInt(rig.flowSlot()), vm_id: BigInt(VM_ID) } }]);

    rig.env.addEntry('vm_migration', migration(1, 0, 0, 1));
    expectForward(rig.out({ seq: 1001, ack: 5001, flags: TCP_ACK, payload: 10 }), UPLINK);
    const slot = rig.flowSlot();
    const word = slot >>> 6;
    expect(rig.env.nonZeroCells('ct_dirty')).toEqual([word]);
    expect(rig.env.registerRead('ct_dirty', word)).toBe(1n << BigInt(slot % 64));

    const delta = rig.env.digests.at(-1);
    expect(delta?.digest).toBe('ct_delta_t');
    const words = encodeSlot(rig.slot(slot));
    expect(delta?.fields).toEqual({
      slot: BigInt(slot),
      vm_id: BigInt(VM_ID),
      // Tracked without a change log (tracker 255): no place in a log, no number.
      tracker: 255n,
      epoch: 0n,
      seq: 0n,
      change: 0n,
      ...Object.fromEntries(CT_WORDS.map((w, i) => [w.register, words[i]])),
    });
  });

  it('sets bits in the buffer the epoch selects', () => {
    const rig = new EdgeRig();
    rig.env.addEntry('vm_migration', migration(1, 0, 0, 1));
    rig.env.registerWrite('ct_epoch', 0, 3n);
    expectForward(rig.out({ seq: 1, flags: TCP_SYN }), UPLINK);
    const slot = rig.flowSlot();
    expect(rig.env.nonZeroCells('ct_dirty')).toEqual([DIRTY_WORDS_PER_BUFFER + (slot >>> 6)]);
  });

  it('drops a frozen or staged VM\'s packets without changing its state', () => {
    const rig = new EdgeRig();
    rig.handshake(1000, 5000);
    const before = rig.slot(rig.flowSlot());
    rig.env.addEntry('vm_migration', migration(1, 1, 0, 1));
    expectDrop(rig.out({ seq: 1001, ack: 5001, flags: TCP_ACK, payload: 10 }), 'VM_INACTIVE');
    rig.env.removeEntries('vm_migration', { vm_id: BigInt(VM_ID) });
    rig.env.addEntry('vm_migration', migration(0, 0, 1, 0));
    expectDrop(rig.in({ seq: 5001, ack: 1001, flags: TCP_ACK }), 'VM_INACTIVE');
    expect(rig.slot(rig.flowSlot())).toEqual(before);
    expect(rig.env.counter('drops', DropReason.VM_INACTIVE).packets).toBe(2);
    expect(rig.env.digests.map((d) => d.digest)).toEqual(['ct_new_t']);
  });

  it('marks a reclaimed slot dirty even when the new flow\'s VM is not tracked', () => {
    const rig = new EdgeRig();
    const key = rig.key;
    const [s0] = candidateSlots(key);
    // A stale foreign flow (another VM, CLOSED) sits in the first candidate.
    rig.env.registerWrite('ct_key_addr', s0, 0x0a000063c6336409n);
    rig.env.registerWrite('ct_key_port', s0, (1n << 24n) | (2n << 8n) | 6n);
    rig.env.registerWrite('ct_state', s0, (9n << 48n) | (BigInt(CtState.CLOSED) << 44n));
    expectForward(rig.out({ seq: 1, flags: TCP_SYN }), UPLINK);
    expect(rig.slot(s0).vmPort).toBe(40000);
    expect(rig.env.nonZeroCells('ct_dirty')).toEqual([s0 >>> 6]);
    expect(rig.env.digests.map((d) => d.digest)).toEqual(['ct_delta_t']);
  });
});
