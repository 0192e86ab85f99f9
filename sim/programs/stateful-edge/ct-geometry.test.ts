// A stateful_edge variant (another size, other hashes, a wider last_seen cell, as p4c builds it
// with -D options): its placement, its P4Info, and the model running it. The committed program
// keeps its own code path.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { P4Schema, crc16, crc32 } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CT_GEOMETRY, candidateSlotsIn, ctGeometry, geometryFromRegisters, p4cDefines, variantP4InfoText } from './ct-geometry.js';
import type { ProgramRegister } from '../../program.js';
import { programRegisters } from '../../program-registers.js';
import { encodePacketOutMetadata, decodePacketInMetadata, inbandRequestMetadata } from './inband.js';
import { CT_SLOTS, InbandOp, InbandStatus } from './layout.js';
import { candidateSlots, flowKeyBytes } from './placement.js';
import { statefulEdgeVariant } from './program.js';
import { EdgeRig, VM_ID, arbFlowKey as arbKey } from './test-fixtures.js';
import { LARGER_VARIANT as LARGER, WIDE_SEEN_VARIANT as WIDE } from './test-variants.js';

const COMMITTED = readFileSync(resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'p4', 'stateful_edge.p4info.txtpb'), 'utf8');

describe('stateful_edge variant — geometry and placement', () => {
  it('variant — the default geometry places every flow exactly where the committed program does', () => {
    fc.assert(
      fc.property(arbKey, (key) => {
        expect(candidateSlotsIn(DEFAULT_CT_GEOMETRY, key)).toEqual(candidateSlots(key));
      }),
      { numRuns: 500 },
    );
  });

  it('variant — swapped hashes over larger regions: crc16 picks the bucket in region 0, crc32 in region 1', () => {
    expect(LARGER).toMatchObject({ slots: 655360, dirtyWordsPerBuffer: 10240, dirtyWords: 20480 });
    fc.assert(
      fc.property(arbKey, (key) => {
        const b = flowKeyBytes(key);
        const c0 = 2 * (crc16(b) % 65536);
        const c2 = 131072 + 2 * (crc32(b) % 262144);
        expect(candidateSlotsIn(LARGER, key)).toEqual([c0, c0 + 1, c2, c2 + 1]);
      }),
      { numRuns: 500 },
    );
  });

  it('variant — a geometry a build would refuse is refused, naming why', () => {
    expect(() => ctGeometry({ hash0: 'crc16', region0: 262144, hash1: 'crc32', region1: 65536 })).toThrow(/region 0 has 131072 buckets but crc16 yields 16 bits/);
    expect(() => ctGeometry({ hash0: 'md5', region0: 8, hash1: 'crc32', region1: 8 })).toThrow(/region 0 hash 'md5'/);
    expect(() => ctGeometry({ hash0: 'crc32', region0: 7, hash1: 'crc32', region1: 8 })).toThrow(/region 0 size 7 must be a positive multiple of 2/);
  });

  it('variant — its P4Info: every slot-group register (and the change-log mark) resized, the dirty bitmap resized, @migrate_hash rewritten', () => {
    const s = P4Schema.fromText(variantP4InfoText(COMMITTED, LARGER), 'stateful_edge, larger');
    const d = P4Schema.fromText(COMMITTED, 'stateful_edge');
    for (const r of d.registers) {
      const v = s.registers.find((x) => x.alias === r.alias);
      const want = r.size === CT_SLOTS ? 655360 : r.alias === 'ct_dirty' ? 20480 : r.size;
      expect([r.alias, v?.size]).toEqual([r.alias, want]);
    }
    const ann = s.registers.find((r) => r.alias === 'ct_key_addr')?.annotations.find((a) => a.name === 'migrate_hash');
    expect(ann?.args).toEqual(['crc16', 0n, 131072n, 'crc32', 131072n, 524288n]);
    expect(variantP4InfoText(COMMITTED, DEFAULT_CT_GEOMETRY)).toBe(COMMITTED);
  });

  it('variant — a wider last_seen cell: 48..64 bits, one more -D option only when it is not 48', () => {
    expect(WIDE).toMatchObject({ slots: CT_SLOTS, lastSeenBits: 64 });
    expect(DEFAULT_CT_GEOMETRY.lastSeenBits).toBe(48);
    expect(p4cDefines(WIDE)).toContain('-DCT_LAST_SEEN_BITS=64');
    expect(p4cDefines(DEFAULT_CT_GEOMETRY).some((d) => d.startsWith('-DCT_LAST_SEEN_BITS'))).toBe(false);
    for (const bad of [40, 65, 48.5]) {
      expect(() => ctGeometry({ hash0: 'crc32', region0: 8, hash1: 'crc32', region1: 8, lastSeenBits: bad })).toThrow(new RegExp(`lastSeenBits ${bad} must be 48\\.\\.64`));
    }
  });

  it('variant — a wider last_seen cell\'s P4Info: the register, its @migrate_layout and ct_delta_t\'s member are 64 bits; nothing else changes', () => {
    const text = variantP4InfoText(COMMITTED, WIDE);
    const before = COMMITTED.split('\n');
    const after = text.split('\n');
    expect(after.length).toBe(before.length);
    const changed = after.flatMap((l, i) => (l === before[i] ? [] : [`${(before[i] ?? '').trim()} → ${l.trim()}`]));
    expect(changed).toEqual(['annotations: "@migrate_layout(\\"last_seen:48\\")" → annotations: "@migrate_layout(\\"last_seen:64\\")"', 'bitwidth: 48 → bitwidth: 64', 'bitwidth: 48 → bitwidth: 64']);
    const s = P4Schema.fromText(text, 'stateful_edge, wide last_seen');
    expect(s.register('ct_last_seen').bitwidth).toBe(64);
    expect(s.register('ct_last_seen').annotations.find((a) => a.name === 'migrate_layout')?.args).toEqual(['last_seen:64']);
    expect(s.digest('ct_delta_t').members.find((m) => m.name === 'ct_last_seen')?.bitwidth).toBe(64);
  });
});

/** A P4Info's registers as the sim hands them to a program. */
function registersOf(text: string): ProgramRegister[] {
  return programRegisters(P4Schema.fromText(text, 'stateful_edge build').p4info);
}

describe('stateful_edge variant — read from a pushed P4Info', () => {
  it('variant — the geometry of each build is read back from its P4Info: committed, larger with swapped hashes, 64-bit last_seen', () => {
    expect(geometryFromRegisters(registersOf(COMMITTED))).toEqual(DEFAULT_CT_GEOMETRY);
    expect(geometryFromRegisters(registersOf(variantP4InfoText(COMMITTED, LARGER)))).toEqual(LARGER);
    expect(geometryFromRegisters(registersOf(variantP4InfoText(COMMITTED, WIDE)))).toEqual(WIDE);
  });

  it('variant — a P4Info that does not say, or says what no build makes, gives no geometry (the committed one runs)', () => {
    const regs = registersOf(COMMITTED);
    expect(geometryFromRegisters(regs.map((r) => ({ ...r, annotations: r.annotations.filter((a) => !a.startsWith('@migrate_hash')) })))).toBeUndefined();
    // Slot registers of another size than the regions add up to.
    expect(geometryFromRegisters(regs.map((r) => (r.name === 'ct_seq' ? { ...r, size: 1024 } : r)))).toBeUndefined();
    // A 16-bit hash over more buckets than it can reach; region 1 not right after region 0.
    const hashed = (h: string): ProgramRegister[] => regs.map((r) => ({ ...r, annotations: r.annotations.map((a) => (a.startsWith('@migrate_hash') ? h : a)) }));
    expect(geometryFromRegisters(hashed('@migrate_hash("crc16" , 0 , 262144 , "crc32" , 262144 , 65536)'))).toBeUndefined();
    expect(geometryFromRegisters(hashed('@migrate_hash("crc32" , 0 , 262144 , "crc16" , 300000 , 65536)'))).toBeUndefined();
  });
});

describe('stateful_edge variant — the model runs it', () => {
  const status = (rig: EdgeRig, index: number): number => {
    const e = rig.request(encodePacketOutMetadata({ op: InbandOp.READ_SLOT, reqId: 1, port: 0, index, mask: 0, words: [] }));
    return e.kind === 'to-cpu' ? decodePacketInMetadata(e.metadata).status : -1;
  };

  it('variant — new flows take slots among the variant\'s candidates, some past the committed size; the in-band service reaches them', () => {
    const rig = new EdgeRig(statefulEdgeVariant(LARGER));
    const slots: number[] = [];
    for (let p = 40000; p < 40040; p++) {
      rig.vmPort = p;
      rig.handshake(1000, 9000);
      const at = rig.flowSlot(rig.key, (k) => candidateSlotsIn(LARGER, k));
      expect(rig.slot(at).vmId).toBe(VM_ID);
      slots.push(at);
    }
    // Region 0 (crc16) first: with an empty table every flow takes its first candidate there.
    expect(slots.every((s) => s < 131072)).toBe(true);
    expect(status(rig, 655359)).toBe(InbandStatus.OK);
    expect(status(rig, 655360)).toBe(InbandStatus.BAD_INDEX);
    expect(status(new EdgeRig(), CT_SLOTS)).toBe(InbandStatus.BAD_INDEX);
    expect(status(new EdgeRig(), CT_SLOTS - 1)).toBe(InbandStatus.OK);
  });

  it('variant — when region 0\'s bucket is full a flow takes region 1 (crc32), past the committed 327680 slots for most keys', () => {
    const rig = new EdgeRig(statefulEdgeVariant(LARGER));
    const beyond: number[] = [];
    for (let p = 41000; p < 41040; p++) {
      rig.vmPort = p;
      const [a, b] = candidateSlotsIn(LARGER, rig.key);
      // Occupy both ways of the region-0 bucket with another (live) flow's key.
      for (const s of [a, b]) rig.env.registerWrite('ct_key_port', s, 0x0101_0202_06n);
      rig.handshake(1000, 9000);
      const at = rig.flowSlot(rig.key, (k) => candidateSlotsIn(LARGER, k));
      expect(at).toBeGreaterThanOrEqual(131072);
      if (at >= CT_SLOTS) beyond.push(at);
    }
    expect(beyond.length).toBeGreaterThan(0);
  });

  it('variant — a 64-bit last_seen cell keeps all 64 bits an in-band write gives it; a packet ages the flow by the low 48 and writes the 48-bit clock back', () => {
    const rig = new EdgeRig(statefulEdgeVariant(WIDE));
    rig.handshake(1000, 9000);
    const at = rig.flowSlot();
    const seen = rig.slot(at).lastSeenUs;
    const high = (0xabn << 56n) | seen;
    const put = rig.request(inbandRequestMetadata({ op: InbandOp.WRITE_SLOT, reqId: 9, index: at, mask: 1 << 5, words: [0n, 0n, 0n, 0n, 0n, high] }));
    expect(put.kind === 'to-cpu' ? decodePacketInMetadata(put.metadata).words[5] : -1n).toBe(high);
    expect(rig.env.registerRead('ct_last_seen', at)).toBe(high);
    // Not idle: the age is taken over the low 48 bits, as conntrack.p4 takes cell[47:0].
    expect(rig.out({ seq: 1001, ack: 9001, flags: 0x10, payload: 20 }).kind).toBe('forward');
    expect(rig.env.registerRead('ct_last_seen', at) >> 48n).toBe(0n);
    // The committed 48-bit cell cuts the same write.
    const narrow = new EdgeRig();
    narrow.handshake(1000, 9000);
    const n = narrow.flowSlot();
    narrow.request(inbandRequestMetadata({ op: InbandOp.WRITE_SLOT, reqId: 9, index: n, mask: 1 << 5, words: [0n, 0n, 0n, 0n, 0n, high] }));
    expect(narrow.env.registerRead('ct_last_seen', n)).toBe(high & ((1n << 48n) - 1n));
  });
});
