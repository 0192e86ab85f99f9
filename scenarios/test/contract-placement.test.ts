/**
 * The controller's view of stateful_edge — read from the P4Info annotations alone by the
 * plugin's contract reader — against the sim's model of the data plane, which hard-codes the P4's
 * constants: the same slot layout, the same placement for random flows on both hash choices, the
 * same collision rule, the same in-band format.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INBAND_OP, candidateSlotsFor, chooseSlot, fieldValue, readMigrationContract, slotGroup } from '../../plugin/index.js';
import { TCP_SYN } from '../../sim/programs/stateful-edge/frame.js';
import * as L from '../../sim/programs/stateful-edge/layout.js';
import { candidateSlots } from '../../sim/programs/stateful-edge/placement.js';
import { arbFlowKey as arbKey } from '../../sim/programs/stateful-edge/test-fixtures.js';
import type { FlowKey } from '../../sim/programs/stateful-edge/placement.js';
import { isSlotFree, keyAddrWord, keyPortWord, stateWord } from '../../sim/programs/stateful-edge/slot.js';
import { EdgeRig, UPLINK, VM_ADDR, expectForward } from '../../sim/programs/stateful-edge/test-fixtures.js';
import { SCHEMA } from '../edge-rig.js';

const contract = readMigrationContract(SCHEMA);
const ct = slotGroup(contract, 'conntrack');
const fields = (k: FlowKey): Record<string, number> => ({ vm_addr: k.vmAddr, remote_addr: k.remoteAddr, vm_port: k.vmPort, remote_port: k.remotePort, protocol: k.protocol });

describe('contract placement — annotations versus the data-plane model', () => {
  it('reads the model\'s slot group: size, words in order, widths, dirty bitmap', () => {
    expect(ct.slots).toBe(L.CT_SLOTS);
    expect(ct.words.map((w) => ({ register: w.register, bits: w.bits }))).toEqual(L.CT_WORDS.map((w) => ({ register: w.register, bits: w.bits })));
    expect(ct.dirty).toMatchObject({ register: L.Names.registers.dirty, epochRegister: L.Names.registers.epoch, words: L.DIRTY_WORDS, wordsPerBuffer: L.DIRTY_WORDS_PER_BUFFER, slotsPerWord: 64 });
    expect(ct.placement.ways).toBe(L.CT_WAYS);
    expect(ct.placement.choices.map((c) => [c.base, c.max])).toEqual([[0, L.CT_REGION0_SIZE], [L.CT_REGION0_SIZE, L.CT_REGION1_SIZE]]);
    expect(ct.collisionCounter).toBe(L.Names.counters.collisions);
    expect(ct.delta?.digest).toBe(L.Names.digests.delta);
  });

  it('decodes the model\'s slot words into the fields the model wrote', () => {
    const words = [keyAddrWord(0x0a000005, 0xc0000201), keyPortWord(40000, 443, 6), stateWord(7, L.CtState.ESTABLISHED, 1, 7, 14, 500, 600)];
    const get = (n: string): bigint => fieldValue(words, ct.fields.get(n) ?? ct.valid);
    expect([get('vm_addr'), get('remote_addr'), get('vm_port'), get('remote_port'), get('protocol')]).toEqual([0x0a000005n, 0xc0000201n, 40000n, 443n, 6n]);
    expect([get('vm_id'), get('state'), get('flags'), get('ws_out'), get('ws_in'), get('win_out'), get('win_in')]).toEqual([7n, 3n, 1n, 7n, 14n, 500n, 600n]);
  });

  it('computes the model\'s four candidates for random flows, both hash choices', () => {
    fc.assert(
      fc.property(arbKey, (key) => {
        const ours = candidateSlotsFor(ct.placement, fields(key));
        expect(ours).toEqual(candidateSlots(key));
        expect(ours[1]).toBeLessThan(L.CT_REGION0_SIZE); // crc32's bucket
        expect(ours[2]).toBeGreaterThanOrEqual(L.CT_REGION0_SIZE); // crc16's bucket
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the model on where each new flow lands, through free, taken and colliding candidates', () => {
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
    // A live foreign flow (another VM, ESTABLISHED, seen now) makes a slot taken.
    const occupy = (slot: number, n: number): void => {
      env.registerWrite('ct_key_addr', slot, keyAddrWord(0x0b000000 + n, 0x0c000000 + n));
      env.registerWrite('ct_key_port', slot, keyPortWord(n & 0xffff, 1, 6));
      env.registerWrite('ct_state', slot, stateWord(99, L.CtState.ESTABLISHED, 0, 0, 0, 0, 0));
      env.registerWrite('ct_last_seen', slot, 1_000_000n);
    };
    for (let i = 0; i < 1500; i++) {
      rig.vmPort = 1024 + (rnd() % 60000);
      rig.remotePort = 1 + (rnd() % 65535);
      const remote = rnd() >>> 0;
      const key: FlowKey = { vmAddr: VM_ADDR, remoteAddr: remote, vmPort: rig.vmPort, remotePort: rig.remotePort, protocol: 6 };
      // The controller's candidates, from the annotations.
      const cands = candidateSlotsFor(ct.placement, fields(key));
      // Taken candidates: none, the first, the first bucket, three, or all four (a collision).
      const taken = [0, 1, 2, 2, 3, 3, 4, 4][rnd() % 8] ?? 0;
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
    // Every candidate position and the collision path were exercised (0-1 crc32's bucket, 2-3 crc16's).
    for (const c of counts) expect(c).toBeGreaterThan(100);
    expect(collisions).toBeGreaterThan(100);
  });

  it('uses the model\'s in-band format: headers, word fields and op codes', () => {
    const ib = contract.inband;
    expect(ib?.requestFields).toEqual(L.PACKET_OUT_FIELDS.map((f) => ({ name: f.name, bits: f.bits })));
    expect(ib?.answerFields).toEqual(L.PACKET_IN_FIELDS.map((f) => ({ name: f.name, bits: f.bits })));
    expect(INBAND_OP).toEqual(L.InbandOp);
  });
});
