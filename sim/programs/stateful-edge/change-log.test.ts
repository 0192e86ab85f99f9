import { describe, expect, it } from 'vitest';
import type { PacketEgress } from '../../program.js';
import { buildTcpFrame } from '../../workload/frame-builder.js';
import { parseIpv4, TCP_ACK, TCP_SYN } from './frame.js';
import { decodePacketInMetadata, inbandRequestMetadata } from './inband.js';
import type { PacketInHeader } from './inband.js';
import { CT_WORDS, InbandOp, InbandStatus, TRK_LOG_SIZE } from './layout.js';
import { encodeSlot } from './slot.js';
import { EdgeRig, UPLINK, VM_ID, expectForward } from './test-fixtures.js';

const VM2 = { id: 8, addr: parseIpv4('10.0.0.6'), port: 2 };
let reqId = 100;

function reply(e: PacketEgress): PacketInHeader {
  if (e.kind !== 'to-cpu') throw new Error(`expected a PacketIn, got ${e.kind}`);
  return decodePacketInMetadata(e.metadata);
}

/** A rig with a second VM, VM_ID tracked by tracker 2 (and VM2 by `vm2Tracker` when given). */
function rig(vm2Tracker?: number): EdgeRig {
  const r = new EdgeRig();
  r.env.addEntry('port_role', { match: { port: { value: BigInt(VM2.port) } }, action: 'vm_port_role', params: { uplink_port: BigInt(UPLINK) } });
  r.env.addEntry('vm_table', { match: { vm_addr: { value: BigInt(VM2.addr) } }, action: 'set_vm', params: { vm_id: BigInt(VM2.id), port: BigInt(VM2.port) } });
  track(r, VM_ID, 2);
  if (vm2Tracker !== undefined) track(r, VM2.id, vm2Tracker);
  return r;
}

function track(r: EdgeRig, vm: number, tracker: number): void {
  r.env.addEntry('vm_migration', { match: { vm_id: { value: BigInt(vm) } }, action: 'set_migration', params: { track: 1n, freeze: 0n, staged: 0n, active: 1n, tracker: BigInt(tracker) } });
}

/** A SYN of VM2 to a remote port: a new flow of the other VM. */
function vm2Syn(r: EdgeRig, remotePort: number): void {
  const frame = buildTcpFrame({ src: VM2.addr, dst: parseIpv4('198.51.100.9'), srcPort: 5555, dstPort: remotePort, seq: 1, ack: 0, flags: TCP_SYN, window: 1000, payload: 0 });
  expectForward(r.pipe.process({ ingressPort: VM2.port, payload: frame }, r.env), UPLINK);
}

const op = (r: EdgeRig, o: number, index: number, extra: { mask?: number; words?: bigint[] } = {}): PacketInHeader =>
  reply(r.request(inbandRequestMetadata({ op: o, reqId: reqId++, index, ...extra })));

describe('stateful_edge change logs — appends', () => {
  it('appends a tracked slot once per round, marks it, and sequences every delta with its entry', () => {
    const r = rig();
    r.handshake(1000, 5000);
    const slot = r.flowSlot();
    expect(r.env.registerRead('ct_trk_head', 2)).toBe(1n);
    expect(r.env.registerRead('ct_trk_log', 2 * TRK_LOG_SIZE)).toBe(BigInt(slot));
    expect(r.env.registerRead('ct_mark', slot)).toBe(3n << 32n);
    const deltas = r.env.digests.filter((d) => d.digest === 'ct_delta_t');
    expect(deltas).toHaveLength(3);
    for (const d of deltas) expect(d.fields).toMatchObject({ slot: BigInt(slot), tracker: 2n, epoch: 0n, seq: 0n });
    // Other trackers' logs stay empty.
    expect([0, 1, 3].map((t) => r.env.registerRead('ct_trk_head', t))).toEqual([0n, 0n, 0n]);
  });

  it('re-logs a slot after a flip starts a new round, at the next seq with the new epoch', () => {
    const r = rig();
    r.handshake(1000, 5000);
    const slot = r.flowSlot();
    const flip = op(r, InbandOp.TRK_FLIP, 2, { mask: 1, words: [0n] });
    // Epoch, head, start, and the three changes of the handshake (each packet changed the slot).
    expect(flip).toMatchObject({ status: InbandStatus.OK, words: [1n, 1n, 1n, 3n, 0n, 0n, 0n, 0n, 0n] });
    expectForward(r.out({ seq: 1001, ack: 5001, flags: TCP_ACK, payload: 10 }), UPLINK);
    expect(r.env.registerRead('ct_trk_head', 2)).toBe(2n);
    expect(r.env.registerRead('ct_trk_log', 2 * TRK_LOG_SIZE + 1)).toBe((1n << 32n) | BigInt(slot));
    expect(r.env.digests.at(-1)?.fields).toMatchObject({ tracker: 2n, epoch: 1n, seq: 1n, change: 3n });
    expect(r.env.registerRead('ct_trk_changes', 2)).toBe(4n);
    // A stale conditional flip conflicts and changes nothing; an unconditional one flips.
    expect(op(r, InbandOp.TRK_FLIP, 2, { mask: 1, words: [0n] })).toMatchObject({ status: InbandStatus.CONFLICT, words: [1n, 2n, 1n, 4n, 0n, 0n, 0n, 0n, 0n] });
    expect(op(r, InbandOp.TRK_READ, 2)).toMatchObject({ status: InbandStatus.OK, words: [1n, 2n, 1n, 4n, 0n, 0n, 0n, 0n, 0n] });
    expect(op(r, InbandOp.TRK_FLIP, 2)).toMatchObject({ status: InbandStatus.OK, words: [2n, 2n, 2n, 4n, 0n, 0n, 0n, 0n, 0n] });
    expect(op(r, InbandOp.TRK_READ, 4).status).toBe(InbandStatus.BAD_INDEX);
  });

  it('keeps two migrations apart: each VM\'s changes in its own tracker, untracked churn in none', () => {
    const r = rig(1);
    r.handshake(1000, 5000);
    vm2Syn(r, 80);
    vm2Syn(r, 81);
    expect(r.env.registerRead('ct_trk_head', 2)).toBe(1n);
    expect(r.env.registerRead('ct_trk_head', 1)).toBe(2n);
    // A flip of one tracker leaves the other's round alone.
    op(r, InbandOp.TRK_FLIP, 1);
    expect(r.env.registerRead('ct_trk_round', 2)).toBe(0n);
    // VM2 no longer tracked: its new flows are announced as new flows, logged nowhere.
    r.env.removeEntries('vm_migration', { vm_id: BigInt(VM2.id) });
    vm2Syn(r, 82);
    expect(r.env.registerRead('ct_trk_head', 1)).toBe(2n);
    expect(r.env.digests.at(-1)?.digest).toBe('ct_new_t');
  });

  it('reads nine log entries per LOG_READ, wrapping inside the tracker\'s ring', () => {
    const r = rig();
    const base = 2 * TRK_LOG_SIZE;
    for (let k = 0; k < 9; k++) r.env.registerWrite('ct_trk_log', base + ((TRK_LOG_SIZE - 4 + k) % TRK_LOG_SIZE), BigInt(k + 1));
    const ans = op(r, InbandOp.LOG_READ, base + TRK_LOG_SIZE - 4);
    expect(ans.words).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
    expect(op(r, InbandOp.LOG_READ, 4 * TRK_LOG_SIZE).status).toBe(InbandStatus.BAD_INDEX);
  });
});

describe('stateful_edge in-band conditional ops and clock', () => {
  const key = (r: EdgeRig): bigint[] => encodeSlot(r.slot(r.flowSlot())).slice(0, 3);

  it('WRITE_IF writes a free slot or one holding the same key, and answers CONFLICT with the content otherwise', () => {
    const r = new EdgeRig();
    r.handshake(1000, 5000);
    const slot = r.flowSlot();
    const live = encodeSlot(r.slot(slot));
    const other = [0x0a0000050a000009n, (1n << 24n) | (2n << 8n) | 6n, 7n << 48n, 1n, 2n, 3n, 4n, 5n, 6n];
    const refused = op(r, InbandOp.WRITE_IF, slot, { mask: 0x1ff, words: other });
    expect(refused).toMatchObject({ status: InbandStatus.CONFLICT, words: live });
    expect(encodeSlot(r.slot(slot))).toEqual(live);
    const same = [...live.slice(0, 3), 9n, 9n, 9n, 9n, 9n, 9n];
    expect(op(r, InbandOp.WRITE_IF, slot, { mask: 0x1ff, words: same })).toMatchObject({ status: InbandStatus.OK, words: same });
    expect(op(r, InbandOp.WRITE_IF, 12345, { mask: 0x1ff, words: other })).toMatchObject({ status: InbandStatus.OK, words: other });
    expect(CT_WORDS.map((w) => r.env.registerRead(w.register, 12345))).toEqual(other);
  });

  it('CLEAR_IF clears only the slot still holding this VM\'s key, answering what it held', () => {
    const r = new EdgeRig();
    r.handshake(1000, 5000);
    const slot = r.flowSlot();
    const live = encodeSlot(r.slot(slot));
    const k = key(r);
    expect(op(r, InbandOp.CLEAR_IF, slot, { words: [k[0] ?? 0n, k[1] ?? 0n, 9n << 48n] })).toMatchObject({ status: InbandStatus.CONFLICT, words: live });
    expect(op(r, InbandOp.CLEAR_IF, slot, { words: k })).toMatchObject({ status: InbandStatus.OK, words: live });
    expect(CT_WORDS.map((w) => r.env.registerRead(w.register, slot))).toEqual(new Array(9).fill(0n));
    // A retry finds the slot empty: CONFLICT, nothing to clear.
    expect(op(r, InbandOp.CLEAR_IF, slot, { words: k })).toMatchObject({ status: InbandStatus.CONFLICT, words: new Array(9).fill(0n) });
  });

  it('FLIP_EPOCH with mask bit 0 flips only from w0; READ_CLOCK answers the data-plane time', () => {
    const r = new EdgeRig();
    expect(op(r, InbandOp.FLIP_EPOCH, 0, { mask: 1, words: [3n] })).toMatchObject({ status: InbandStatus.CONFLICT, words: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] });
    expect(op(r, InbandOp.FLIP_EPOCH, 0, { mask: 1, words: [0n] })).toMatchObject({ status: InbandStatus.OK, words: [1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] });
    r.env.nowNsValue = 123_456_789_000n;
    expect(op(r, InbandOp.READ_CLOCK, 0)).toMatchObject({ status: InbandStatus.OK, tsUs: 123_456_789n, words: [123_456_789n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] });
  });
});
