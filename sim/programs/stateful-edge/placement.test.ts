// The controller's placement (plugin/contract, from annotations) is checked against this model in
// scenarios/test/contract-placement.test.ts; here the model is checked against BMv2's hashes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BMV2_HASH_VECTORS } from '../../../p4/testdata/bmv2-hash-vectors.js';
import { CT_REGION0_BUCKETS, CT_REGION0_SIZE, CT_REGION1_BUCKETS, CT_SLOTS, CtState } from './layout.js';
import { candidateSlots, canonicalFlowKey, flowKeyBytes } from './placement.js';
import { keyPortWord, stateWord } from './slot.js';
import { EdgeRig, UPLINK, arbFlowKey as arbKey, expectForward } from './test-fixtures.js';

describe('placement — against BMv2', () => {
  it('derives the four candidate slots from the hashes BMv2 computed in the lab', () => {
    for (const v of BMV2_HASH_VECTORS) {
      const key = { vmAddr: v.src, remoteAddr: v.dst, vmPort: v.sport, remotePort: v.dport, protocol: v.proto };
      const b0 = 2 * (v.crc32 % CT_REGION0_BUCKETS);
      const b1 = CT_REGION0_SIZE + 2 * (v.crc16 % CT_REGION1_BUCKETS);
      expect(candidateSlots(key)).toEqual([b0, b0 + 1, b1, b1 + 1]);
    }
  });

  it('orders the key VM side first whatever the direction of the packet', () => {
    const out = canonicalFlowKey(1, 2, 3, 4, 6, 0);
    const back = canonicalFlowKey(2, 1, 4, 3, 6, 1);
    expect(back).toEqual(out);
    expect([...flowKeyBytes(out)]).toEqual([0, 0, 0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 6]);
  });
});

describe('placement — regions and buckets', () => {

  it('stays inside its regions and buckets', () => {
    fc.assert(
      fc.property(arbKey, (key) => {
        const [a, a1, b, b1] = candidateSlots(key);
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

  it('a later packet of a flow stored in its second choice is found there even after the first frees up', () => {
    const rig = new EdgeRig();
    const [s0, s1, s2] = candidateSlots(rig.key);
    for (const s of [s0, s1]) {
      rig.env.registerWrite('ct_key_port', s, keyPortWord(s & 0xffff, 1, 6));
      rig.env.registerWrite('ct_state', s, stateWord(99, CtState.SYN_SENT, 0, 0, 0, 0, 0));
    }
    rig.handshake(10, 20);
    expect(rig.slot(s2).state).toBe(CtState.ESTABLISHED);
    rig.env.registerWrite('ct_key_port', s0, 0n); // the first choice's bucket empties
    expectForward(rig.out({ seq: 11, ack: 21, flags: 0x10, payload: 1 }), UPLINK);
    expect(rig.slot(s2).pktsOut).toBe(3);
    expect(rig.slot(s0).protocol).toBe(0);
  });
});
