import { describe, expect, it } from 'vitest';
import type { PacketEgress } from '../../program.js';
import { TCP_ACK } from './frame.js';
import {
  decodePacketInMetadata,
  decodePacketOutBytes,
  encodePacketOutBytes,
  inbandRequestMetadata,
} from './inband.js';
import type { PacketInHeader } from './inband.js';
import { CT_SLOTS, CT_WORDS, DIRTY_WORDS, DIRTY_WORDS_PER_BUFFER, InbandOp, InbandStatus, PACKET_OUT_BYTES } from './layout.js';
import { encodeSlot } from './slot.js';
import { CPU, EdgeRig, UPLINK, VM_ID, expectForward } from './test-fixtures.js';

function reply(e: PacketEgress): PacketInHeader {
  if (e.kind !== 'to-cpu') throw new Error(`expected a PacketIn, got ${e.kind}`);
  return decodePacketInMetadata(e.metadata);
}

describe('stateful_edge in-band access — slots', () => {
  it('reads every word of a slot, echoing op, request id and index with the data-plane time', () => {
    const rig = new EdgeRig();
    rig.env.nowNsValue = 5_000_000_123n;
    rig.handshake(1000, 5000);
    const slot = rig.flowSlot();
    rig.env.nowNsValue = 7_000_000_000n;
    const r = reply(rig.request(inbandRequestMetadata({ op: InbandOp.READ_SLOT, reqId: 0xdeadbeef, index: slot })));
    expect(r).toMatchObject({ op: InbandOp.READ_SLOT, status: InbandStatus.OK, reqId: 0xdeadbeef, index: slot, tsUs: 7_000_000n });
    expect(r.words).toEqual(encodeSlot(rig.slot(slot)));
    expect(rig.slot(slot).lastSeenUs).toBe(5_000_000n);
  });

  it('writes the words selected by the mask and answers the slot as it now is', () => {
    const rig = new EdgeRig();
    const words = [0x0a0000050a000006n, (1234n << 24n) | (80n << 8n) | 6n, 0x0007_03_00_1000_2000n, 11n, 12n, 13n, 14n, 15n, 16n];
    const r = reply(rig.request(inbandRequestMetadata({ op: InbandOp.WRITE_SLOT, reqId: 1, index: 42, mask: 0b1_1111_1111, words })));
    expect(r.status).toBe(InbandStatus.OK);
    expect(r.words).toEqual(words);
    expect(CT_WORDS.map((w) => rig.env.registerRead(w.register, 42))).toEqual(words);

    const partial = reply(rig.request(inbandRequestMetadata({ op: InbandOp.WRITE_SLOT, reqId: 2, index: 42, mask: 1 << 3, words: [0n, 0n, 0n, 99n] })));
    expect(partial.words).toEqual([...words.slice(0, 3), 99n, ...words.slice(4)]);
  });

  it('cuts written values to the register width (ct_key_port is 40 bits, ct_last_seen 48)', () => {
    const rig = new EdgeRig();
    const r = reply(rig.request(inbandRequestMetadata({ op: InbandOp.WRITE_SLOT, reqId: 3, index: 0, mask: 0b10_0010, words: [0n, (1n << 64n) - 1n, 0n, 0n, 0n, (1n << 64n) - 1n] })));
    expect(r.words[1]).toBe((1n << 40n) - 1n);
    expect(r.words[5]).toBe((1n << 48n) - 1n);
  });

  it('answers BAD_INDEX past the slot group and leaves the state alone', () => {
    const rig = new EdgeRig();
    const r = reply(rig.request(inbandRequestMetadata({ op: InbandOp.WRITE_SLOT, reqId: 4, index: CT_SLOTS, mask: 1, words: [1n] })));
    expect(r).toMatchObject({ status: InbandStatus.BAD_INDEX, index: CT_SLOTS, words: new Array(9).fill(0n) });
    expect(rig.env.nonZeroCells('ct_key_addr')).toEqual([]);
  });

  it('answers BAD_OP for an unknown op', () => {
    const rig = new EdgeRig();
    expect(reply(rig.request(inbandRequestMetadata({ op: 77, reqId: 5 })))).toMatchObject({ op: 77, status: InbandStatus.BAD_OP, reqId: 5 });
  });
});

describe('stateful_edge in-band access — dirty words and epochs', () => {
  it('reads, clears and double-buffers dirty words around an epoch flip', () => {
    const rig = new EdgeRig();
    rig.env.addEntry('vm_migration', { match: { vm_id: { value: BigInt(VM_ID) } }, action: 'set_migration', params: { track: 1n, freeze: 0n, staged: 0n, active: 1n, tracker: 255n } });
    rig.handshake(1000, 5000);
    const slot = rig.flowSlot();
    const w = slot >>> 6;
    const bit = 1n << BigInt(slot % 64);

    expect(reply(rig.request(inbandRequestMetadata({ op: InbandOp.READ_EPOCH, reqId: 1 }))).words[0]).toBe(0n);
    expect(reply(rig.request(inbandRequestMetadata({ op: InbandOp.FLIP_EPOCH, reqId: 2 }))).words[0]).toBe(1n);
    // New changes land in buffer 1; buffer 0 still holds the handshake's bit.
    expectForward(rig.out({ seq: 1001, ack: 5001, flags: TCP_ACK, payload: 5 }), UPLINK);
    expect(reply(rig.request(inbandRequestMetadata({ op: InbandOp.READ_DIRTY, reqId: 3, index: w }))).words[0]).toBe(bit);
    expect(reply(rig.request(inbandRequestMetadata({ op: InbandOp.READ_DIRTY, reqId: 4, index: DIRTY_WORDS_PER_BUFFER + w }))).words[0]).toBe(bit);

    expect(reply(rig.request(inbandRequestMetadata({ op: InbandOp.CLEAR_DIRTY, reqId: 5, index: w }))).words[0]).toBe(bit);
    expect(reply(rig.request(inbandRequestMetadata({ op: InbandOp.READ_DIRTY, reqId: 6, index: w }))).words[0]).toBe(0n);
    expect(reply(rig.request(inbandRequestMetadata({ op: InbandOp.READ_DIRTY, reqId: 7, index: DIRTY_WORDS }))).status).toBe(InbandStatus.BAD_INDEX);
  });
});

describe('stateful_edge in-band access — wire format', () => {
  it('round-trips the 85-byte packet_out header and is served from raw bytes like from metadata', () => {
    const h = { op: InbandOp.READ_SLOT, reqId: 0x01020304, port: 0, index: 9, mask: 0, words: new Array<bigint>(9).fill(0n) };
    const bytes = encodePacketOutBytes(h);
    expect(bytes.length).toBe(PACKET_OUT_BYTES);
    expect([...bytes.subarray(0, 11)]).toEqual([1, 1, 2, 3, 4, 0, 0, 0, 0, 0, 9]);
    expect(decodePacketOutBytes(bytes)).toEqual(h);

    const rig = new EdgeRig();
    rig.env.registerWrite('ct_seq', 9, 0x1122n);
    const e = rig.pipe.process({ ingressPort: CPU, payload: bytes }, rig.env);
    expect(reply(e)).toMatchObject({ reqId: 0x01020304, index: 9, status: 0 });
    expect(reply(e).words[3]).toBe(0x1122n);
  });

  it('rejects an inject op as an in-band request, naming the fix', () => {
    expect(() => inbandRequestMetadata({ op: 0, reqId: 1 })).toThrow(/0 is OP_INJECT/);
  });
});
