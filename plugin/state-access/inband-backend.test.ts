import { silentLogger } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { INBAND_OP, readMigrationContract, slotGroup } from '../contract/index.js';
import type { InbandSpec, SlotGroupSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import { InbandResponderDouble } from '../testing/inband-responder.js';
import type { ResponderFate, SeenRequest } from '../testing/inband-responder.js';
import { ManualClock, driveUntilSettled } from '../testing/manual-clock.js';
import { resizedStatefulEdge } from '../testing/stateful-edge-p4info.js';
import { InbandRegisterAccess } from './inband-backend.js';
import { parseInbandOptions } from './inband-client.js';
import type { InbandOptions } from './inband-client.js';

// The same program at 256 slots: a whole-group scan stays small, the code path is the same.
const contract = readMigrationContract(resizedStatefulEdge(192, 64));
const group: SlotGroupSpec = slotGroup(contract);
const spec = contract.inband as InbandSpec;
const TIMEOUT = 100;

function rig(options: Partial<InbandOptions> = {}, fate?: (req: SeenRequest, nth: number) => ResponderFate, responderGroup: SlotGroupSpec = group) {
  const clock = new ManualClock();
  const double = new InbandResponderDouble(spec, responderGroup, () => clock.now());
  if (fate) double.fate = fate;
  const access = new InbandRegisterAccess({
    group,
    spec,
    channel: double,
    options: parseInbandOptions({ timeoutMs: TIMEOUT, ...options }),
    clock,
    logger: silentLogger,
    counters: async (counter, index) => ({ counter, index, bytes: 10n * BigInt(index), packets: BigInt(index) }),
    reason: 'test',
  });
  // Deterministic contents: every third slot occupied, owned by VM 1 or 2.
  let seed = 7;
  const rnd = (): bigint => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return BigInt(seed);
  };
  for (let i = 0; i < group.slots; i += 3) {
    double.setSlot(i, group.words.map((w, n) => (n === 1 ? (rnd() << 8n) | 6n : n === 2 ? (BigInt(1 + (i % 2)) << 48n) | (rnd() & 0xffffffffn) : (rnd() << 32n) | rnd())));
  }
  const drive = <T>(p: Promise<T>): Promise<T> => driveUntilSettled(p, clock, TIMEOUT / 4, 20_000);
  return { clock, double, access, drive };
}

const occupied = (d: InbandResponderDouble): number[] => Array.from({ length: group.slots }, (_, i) => i).filter((i) => (d.slot(i)[1] ?? 0n) & 0xffn);

describe('in-band backend — reads', () => {
  it('reads every slot exactly once, equal to the pipeline registers, never exceeding the window', async () => {
    const { double, access, drive } = rig({ window: 8 });
    const all = await drive(access.readSlots('all'));
    expect(all.map((r) => r.index)).toEqual(Array.from({ length: 256 }, (_, i) => i));
    for (const r of all) expect(r.words).toEqual(double.slot(r.index));
    expect(double.seen.filter((s) => s.op === INBAND_OP.READ_SLOT)).toHaveLength(256);
    expect(double.maxInSwitch).toBeLessThanOrEqual(8);
    expect(access.stats()).toMatchObject({ requests: 256, retries: 0, maxInFlight: 8, inFlight: 0 });
  });

  it('filters occupied slots of one VM and reads index ranges', async () => {
    const { double, access, drive } = rig();
    const vm2 = await drive(access.readSlots('all', { occupiedOnly: true, where: { vm_id: 2n } }));
    const expected = occupied(double).filter((i) => (double.slot(i)[2] ?? 0n) >> 48n === 2n);
    expect(vm2.map((r) => r.index)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(20);
    const ranged = await drive(access.readSlots({ ranges: [{ start: 250, count: 6 }, { start: 0, count: 2 }] }));
    expect(ranged.map((r) => r.index)).toEqual([0, 1, 250, 251, 252, 253, 254, 255]);
    await expect(access.readSlots({ ranges: [{ start: 250, count: 7 }] })).rejects.toMatchObject({ code: 'VALUE_RANGE', message: /index 256 is outside 0\.\.255/ });
  });
});

describe('in-band backend — loss, late answers, timeouts', () => {
  it('retries lost requests and lost answers until every slot is read, within the window', async () => {
    // Every 5th request and every 7th answer vanish, retries included.
    const fate = (_r: SeenRequest, nth: number): ResponderFate => (nth % 5 === 4 ? 'drop-request' : nth % 7 === 6 ? 'drop-answer' : 'answer');
    const { double, access, drive } = rig({ window: 16, maxAttempts: 6 }, fate);
    const all = await drive(access.readSlots('all'));
    expect(all).toHaveLength(256);
    for (const r of all) expect(r.words).toEqual(double.slot(r.index));
    const s = access.stats();
    expect(s.retries).toBeGreaterThan(50);
    expect(s.timeouts).toBe(s.retries);
    expect(s.maxInFlight).toBeLessThanOrEqual(16);
    expect(double.maxInSwitch).toBeLessThanOrEqual(16);
    expect(double.seen.length).toBe(256 + s.retries);
  });

  it('takes a late answer of an earlier attempt and ignores duplicates and strangers', async () => {
    // The first request for slot 3 is answered 1.5 timeouts late (after its retry went out);
    // every answer for slot 9 comes twice.
    const fate = (r: SeenRequest, nth: number): ResponderFate =>
      r.index === 3 && nth < 16 ? { delayMs: TIMEOUT * 1.5 } : r.index === 9 ? 'duplicate' : 'answer';
    const { clock, double, access } = rig({ window: 16 }, fate);
    const p = access.readSlots({ ranges: [{ start: 0, count: 16 }] });
    let settled = false;
    void p.finally(() => (settled = true));
    for (let step = 0; step < 40 && !settled; step++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(TIMEOUT / 4);
      double.releaseDelayed();
      double.stray(0xdeadbeef);
    }
    const got = await p;
    // Let the late answer arrive after the request was settled by its retry.
    for (let step = 0; step < 4; step++) {
      clock.advance(TIMEOUT / 4);
      double.releaseDelayed();
      await new Promise((r) => setImmediate(r));
    }
    expect(got.map((r) => r.index)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(got[3]?.words).toEqual(double.slot(3));
    expect(double.seen.filter((r) => r.index === 3)).toHaveLength(2);
    const s = access.stats();
    expect(s.duplicateAnswers).toBe(2); // slot 9's second answer, and slot 3's second (late or retried) one
    expect(s.strayAnswers).toBeGreaterThan(0);
    expect(s.inFlight).toBe(0);
  });

  it('fails after maxAttempts with an error naming the slot and the attempts', async () => {
    const { double, access, drive } = rig({ maxAttempts: 3 }, (r) => (r.index === 5 ? 'drop-request' : 'answer'));
    const err = await drive(access.readSlots({ ranges: [{ start: 0, count: 8 }] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgePluginError);
    expect(err).toMatchObject({ code: 'INBAND_TIMEOUT' });
    expect((err as Error).message).toMatch(/READ_SLOT slot 5 of group 'conntrack': no answer after 3 attempt\(s\) of 100 ms each/);
    expect(double.seen.filter((r) => r.index === 5)).toHaveLength(3);
  });

  it('reports BAD_INDEX answers as INBAND_REJECTED', async () => {
    const { access, drive } = rig({}, undefined, { ...group, slots: 100 });
    await expect(drive(access.readSlots({ indices: [150] }))).rejects.toMatchObject({ code: 'INBAND_REJECTED', message: /READ_SLOT slot 150.*BAD_INDEX/ });
  });

  it('rejects pending requests with CLOSED on close()', async () => {
    const { access } = rig({}, () => 'drop-request');
    const p = access.readSlots({ indices: [1, 2] });
    access.close();
    await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(access.readEpoch()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('in-band backend — writes, dirty bitmap, epoch, counters', () => {
  it('writes the masked words only, and refuses values wider than the register before sending', async () => {
    const { double, access, drive } = rig();
    const before = double.slot(7);
    await drive(access.writeSlots([{ index: 7, words: [1n, 2n, 3n, 0n, 0n, 0n, 0n, 0n, 0n], mask: 0b101 }]));
    expect(double.slot(7)).toEqual([1n, before[1], 3n, ...before.slice(3)]);
    const sent = double.seen.length;
    await expect(access.writeSlots([{ index: 8, words: [0n, 1n << 40n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] }])).rejects.toMatchObject({ code: 'VALUE_RANGE', message: /word 1 \(ct_key_port\) = 1099511627776 does not fit 40 bits/ });
    expect(double.seen.length).toBe(sent);
  });

  it('reads and clears dirty words, keeping the bits when the CLEAR answer is lost', async () => {
    let clears = 0;
    const { double, access, drive } = rig({}, (r) => (r.op === INBAND_OP.CLEAR_DIRTY && clears++ === 0 ? 'drop-answer' : 'answer'));
    // 256 slots in 64-bit words: buffer 0 is words 0..3, buffer 1 words 4..7.
    double.dirty[1] = 0b1010n;
    double.dirty[3] = 1n << 63n;
    double.dirty[5] = 1n;
    const nonZero = await drive(access.readDirtyWords({ buffer: 0 }, { nonZeroOnly: true }));
    expect(nonZero).toEqual([{ index: 1, value: 0b1010n }, { index: 3, value: 1n << 63n }]);
    expect(await drive(access.readDirtyWords({ buffer: 1 }, { nonZeroOnly: true }))).toEqual([{ index: 5, value: 1n }]);
    const cleared = await drive(access.clearDirtyWords(nonZero.map((w) => w.index)));
    expect(cleared).toEqual(nonZero);
    expect([double.dirty[1], double.dirty[3], double.dirty[5]]).toEqual([0n, 0n, 1n]);
    expect(clears).toBe(3); // the lost one, its retry, and word 3's
  });

  it('flips the epoch exactly once when the FLIP answer is lost, and flips again when the request is lost', async () => {
    let flips = 0;
    const lostAnswer = rig({}, (r) => (r.op === INBAND_OP.FLIP_EPOCH && flips++ === 0 ? 'drop-answer' : 'answer'));
    expect(await lostAnswer.drive(lostAnswer.access.flipEpoch(0n))).toBe(1n);
    expect(lostAnswer.double.epoch).toBe(1n);
    expect(flips).toBe(1);

    flips = 0;
    const lostRequest = rig({}, (r) => (r.op === INBAND_OP.FLIP_EPOCH && flips++ === 0 ? 'drop-request' : 'answer'));
    expect(await lostRequest.drive(lostRequest.access.flipEpoch(0n))).toBe(1n);
    expect(lostRequest.double.epoch).toBe(1n);
    expect(flips).toBe(2);
    expect(await lostRequest.drive(lostRequest.access.readEpoch())).toBe(1n);
  });

  it('flips once across a caller retry after the confirmation timed out', async () => {
    // The FLIP lands but its answer is lost, and so is every READ_EPOCH answer after it: the call
    // fails with INBAND_TIMEOUT although the epoch moved. The caller retries from the epoch it saw.
    let flipped = false;
    let blackout = true;
    const fate = (r: SeenRequest): ResponderFate => {
      if (r.op === INBAND_OP.FLIP_EPOCH) {
        flipped = true;
        return 'drop-answer';
      }
      return flipped && blackout ? 'drop-answer' : 'answer';
    };
    const { double, access, drive } = rig({ maxAttempts: 2 }, fate);
    const seen = await drive(access.readEpoch());
    await expect(drive(access.flipEpoch(seen))).rejects.toMatchObject({ code: 'INBAND_TIMEOUT' });
    expect(double.epoch).toBe(1n);
    blackout = false;
    expect(await drive(access.flipEpoch(seen))).toBe(1n);
    expect(double.epoch).toBe(1n);
    expect(double.seen.filter((r) => r.op === INBAND_OP.FLIP_EPOCH)).toHaveLength(1);
  });

  it('refuses to flip from an epoch that is no longer there, changing nothing', async () => {
    const { double, access, drive } = rig();
    double.epoch = 7n;
    await expect(drive(access.flipEpoch(3n))).rejects.toMatchObject({ code: 'STATE_CONFLICT', message: /epoch register 'ct_epoch' from 3: the epoch is 7/ });
    await expect(drive(access.flipEpoch(-1n))).rejects.toMatchObject({ code: 'VALUE_RANGE', message: /from = -1 is not a 32-bit value/ });
    expect(double.epoch).toBe(7n);
    expect(double.seen.filter((r) => r.op === INBAND_OP.FLIP_EPOCH)).toHaveLength(0);
    // The epoch wraps at its width: from 2^32 - 1 the flip goes to 0.
    double.epoch = 0xffff_ffffn;
    expect(await drive(access.flipEpoch(0xffff_ffffn))).toBe(0n);
  });

  it('refuses a batch that writes one slot twice, before sending anything', async () => {
    const { double, access, drive } = rig();
    const before = double.slot(5);
    const words = (v: bigint): bigint[] => group.words.map(() => v);
    const err = await drive(access.writeSlots([{ index: 5, words: words(1n) }, { index: 6, words: words(2n) }, { index: 5, words: words(3n) }])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALUE_RANGE', message: /write of slot 5: the slot appears twice in one batch of group 'conntrack' \(writes #0 and #2\); .* merge them into one write/ });
    expect(double.seen).toHaveLength(0);
    expect(double.slot(5)).toEqual(before);
  });

  it('reads counters through the P4Runtime source on every backend', async () => {
    const { access } = rig();
    expect(await access.readCounter('vm_tx', 4)).toEqual({ counter: 'vm_tx', index: 4, bytes: 40n, packets: 4n });
    expect(access.capabilities()).toEqual({ backend: 'inband', reason: 'test', group: 'conntrack', slots: 256, window: 64 });
  });
});

describe('in-band options', () => {
  it('rejects a window, timeout or attempt count out of range, naming the field', () => {
    expect(() => parseInbandOptions({ window: 0 })).toThrow(/inband\.window: got 0; expected an integer in 1\.\.65536/);
    expect(() => parseInbandOptions({ timeoutMs: -1 })).toThrow(/inband\.timeoutMs: got -1; expected a positive number/);
    expect(() => parseInbandOptions({ maxAttempts: 1.5 })).toThrow(/inband\.maxAttempts/);
    expect(parseInbandOptions()).toEqual({ window: 64, timeoutMs: 250, maxAttempts: 5 });
  });
});
