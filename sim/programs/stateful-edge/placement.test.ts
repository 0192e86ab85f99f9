import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadLabHashVectors } from 'p4runtime-ts';
import { TCP_SYN } from './frame.js';
import { CT_REGION0_BUCKETS, CT_REGION0_SIZE, CT_REGION1_BUCKETS, CT_SLOTS, CtState } from './layout.js';
import {
  STATEFUL_EDGE_PLACEMENT,
  candidateSlots,
  candidateSlotsFor,
  canonicalFlowKey,
  chooseSlot,
  flowKeyBytes,
} from './placement.js';
import type { FlowKey } from './placement.js';
import { isSlotFree, keyAddrWord, keyPortWord, stateWord } from './slot.js';
import { EdgeRig, UPLINK, VM_ADDR, expectForward } from './test-fixtures.js';

const fields = (k: FlowKey): Record<string, number> => ({
  vm_addr: k.vmAddr, remote_addr: k.remoteAddr, vm_port: k.vmPort, remote_port: k.remotePort, protocol: k.protocol,
});

describe('placement — against BMv2', () => {
  it('derives the four candidate slots from the hashes BMv2 computed in the lab', () => {
    for (const v of loadLabHashVectors()) {
      const key = { vmAddr: v.src, remoteAddr: v.dst, vmPort: v.sport, remotePort: v.dport, protocol: v.proto };
      const b0 = 2 * (v.crc32 % CT_REGION0_BUCKETS);
      const b1 = CT_REGION0_SIZE + 2 * (v.crc16 % CT_REGION1_BUCKETS);
      expect(candidateSlots(key)).toEqual([b0, b0 + 1, b1, b1 + 1]);
      expect(candidateSlotsFor(STATEFUL_EDGE_PLACEMENT, fields(key))).toEqual(candidateSlots(key));
    }
  });

  it('orders the key VM side first whatever the direction of the packet', () => {
    const out = canonicalFlowKey(1, 2, 3, 4, 6, 0);
    const back = canonicalFlowKey(2, 1, 4, 3, 6, 1);
    expect(back).toEqual(out);
    expect([...flowKeyBytes(out)]).toEqual([0, 0, 0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 6]);
  });
});

describe('placement — the pure computation equals the data plane', () => {
  const arbKey = fc.record({
    vmAddr: fc.integer({ min: 0, max: 0xffffffff }),
    remoteAddr: fc.integer({ min: 0, max: 0xffffffff }),
    vmPort: fc.integer({ min: 0, max: 0xffff }),
    remotePort: fc.integer({ min: 0, max: 0xffff }),
    protocol: fc.constantFrom(6, 17),
  });

  it('the fast path equals the spec-driven path, and stays inside its regions and buckets', () => {
    fc.assert(
      fc.property(arbKey, (key) => {
        const [a, a1, b, b1] = candidateSlots(key);
        expect([a, a1, b, b1]).toEqual(candidateSlotsFor(STATEFUL_EDGE_PLACEMENT, fields(key)));
        expect(a % 2).toBe(0);
        expect(a1).toBe(a + 1);
        expect(a1).toBeLessThan(CT_REGION0_SIZE);
        expect(b).toBeGreaterThanOrEqual(CT_REGION0_SIZE);
        expect(b % 2).toBe(0);
        expect(b1).toBe(b + 1);
        expect(b1).toBeLessThan(CT_SLOTS);
      }),
      { numRuns: 2000 },
    );
  });

  it('the model stores each new flow where chooseSlot says, over every candidate and collisions', () => {
    const rig = new EdgeRig();
    const env = rig.env;
    env.nowNsValue = 1_000_000_000n;
    const counts = [0, 0, 0, 0];
    let collisions = 0;
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    // A live foreign flow (other VM, ESTABLISHED, seen now) that makes a slot taken.
    const occupy = (slot: number, n: number): void => {
      env.registerWrite('ct_key_addr', slot, keyAddrWord(0x0b000000 + n, 0x0c000000 + n));
      env.registerWrite('ct_key_port', slot, keyPortWord(n & 0xffff, 1, 6));
      env.registerWrite('ct_state', slot, stateWord(99, CtState.ESTABLISHED, 0, 0, 0));
      env.registerWrite('ct_last_seen', slot, 1_000_000n);
    };
    for (let i = 0; i < 1500; i++) {
      rig.vmPort = 1024 + (rnd() % 60000);
      rig.remotePort = 1 + (rnd() % 65535);
      const remote = rnd() >>> 0;
      const key: FlowKey = { vmAddr: VM_ADDR, remoteAddr: remote, vmPort: rig.vmPort, remotePort: rig.remotePort, protocol: 6 };
      const cands = candidateSlots(key);
      // Taken candidates: none, the first, the first bucket, or all four (a collision).
      const taken = [0, 1, 1, 2, 2, 2, 4, 4][rnd() % 8] ?? 0;
      for (let c = 0; c < taken; c++) occupy(cands[c] ?? 0, i * 4 + c);

      const expected = chooseSlot(cands, (slot) => {
        const port = env.registerRead('ct_key_port', slot);
        const st = env.registerRead('ct_state', slot);
        return {
          matches: env.registerRead('ct_key_addr', slot) === keyAddrWord(key.vmAddr, key.remoteAddr) && port === keyPortWord(key.vmPort, key.remotePort, 6),
          free: isSlotFree({ protocol: Number(port & 0xffn), state: Number((st >> 40n) & 0xffn), lastSeenUs: env.registerRead('ct_last_seen', slot) }, env.nowNsValue / 1000n),
        };
      });
      const collisionsBefore = env.counter('ct_collisions', 7).packets;
      const e = rig.pipe.process({ ingressPort: 1, payload: rig.tcpOutTo(remote, { seq: rnd(), flags: TCP_SYN }) }, env);
      expectForward(e, UPLINK);

      if (expected.kind === 'collision') {
        collisions++;
        expect(env.counter('ct_collisions', 7).packets).toBe(collisionsBefore + 1);
        for (const s of cands) expect(env.registerRead('ct_key_addr', s)).not.toBe(keyAddrWord(key.vmAddr, key.remoteAddr));
      } else {
        expect(expected.kind).toBe('insert');
        counts[expected.candidate] = (counts[expected.candidate] ?? 0) + 1;
        expect(env.registerRead('ct_key_addr', expected.slot)).toBe(keyAddrWord(key.vmAddr, key.remoteAddr));
        expect(env.registerRead('ct_key_port', expected.slot)).toBe(keyPortWord(key.vmPort, key.remotePort, 6));
      }
    }
    // Both hash choices are exercised (candidates 0-1 are crc32's bucket, 2-3 crc16's).
    expect(counts[0]).toBeGreaterThan(100);
    expect(counts[1]).toBeGreaterThan(100);
    expect(counts[2]).toBeGreaterThan(100);
    expect(collisions).toBeGreaterThan(100);
  });

  it('a later packet of a flow stored in its second choice is found there even after the first frees up', () => {
    const rig = new EdgeRig();
    const [s0, s1, s2] = candidateSlots(rig.key);
    for (const s of [s0, s1]) {
      rig.env.registerWrite('ct_key_port', s, keyPortWord(s & 0xffff, 1, 6));
      rig.env.registerWrite('ct_state', s, stateWord(99, CtState.SYN_SENT, 0, 0, 0));
    }
    rig.handshake(10, 20);
    expect(rig.slot(s2).state).toBe(CtState.ESTABLISHED);
    rig.env.registerWrite('ct_key_port', s0, 0n); // the first choice's bucket empties
    expectForward(rig.out({ seq: 11, ack: 21, flags: 0x10, payload: 1 }), UPLINK);
    expect(rig.slot(s2).pktsOut).toBe(3);
    expect(rig.slot(s0).protocol).toBe(0);
  });
});
