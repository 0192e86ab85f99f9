/**
 * Per-migration change logs on the sim over real gRPC, through both register-access backends:
 * `full` (P4Runtime RegisterEntry, target ops = register cells) and `bmv2` (in-band, target ops =
 * request packets), and `full` through P4Runtime alone (no in-band service). Each migration sees only its own VM's changes; finding and reading a round's
 * changed slots costs O(changed) whatever the table holds; deltas carry their log position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from 'p4runtime-ts';
import type { DigestList } from 'p4runtime-ts';
import { P4RuntimeRegisterAccess, decodeSlotFields, slotNoticeDigests } from '../../plugin/index.js';
import type { RegisterAccess } from '../../plugin/index.js';
import { answerFlows, fillSlots, openFlows, startTracking } from '../dataplane-rig.js';
import { eventually, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

const vmOf = (access: RegisterAccess, words: readonly bigint[]): number => Number(decodeSlotFields(access.group, words).vm_id);

// `full, P4Runtime only`: the P4Runtime backend without the pipeline's in-band service (a program
// without @migrate_inband), so the tracker, the flip and the log go through RegisterEntry Reads
// and Writes — the path the plugin takes on a target that reads registers but serves no in-band.
const VARIANTS = [['full', 'as chosen'], ['bmv2', 'as chosen'], ['full', 'P4Runtime only']] as const;

describe.each(VARIANTS)('change logs — per-migration tracking on profile %s, register access %s', (profile, variant) => {
  let rig: EdgeRig;
  let access: RegisterAccess;

  beforeAll(async () => {
    rig = await startEdgeRig({ profile });
    access = variant === 'P4Runtime only' ? new P4RuntimeRegisterAccess(rig.sw, rig.plugin.group, 'test: P4Runtime only') : rig.plugin.registerAccess;
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('change logs — reports 4 trackers and refuses a tracker past them, changing nothing', async () => {
    expect(access.capabilities()).toMatchObject({ trackers: 4, conditional: variant === 'P4Runtime only' ? 'read-compare-write' : 'inband' });
    await expect(access.flipTracker(4, 0n)).rejects.toMatchObject({ code: 'VALUE_RANGE', message: /tracker 4 is outside 0\.\.3/ });
    await expect(access.readChangedSlots(-1, 0n)).rejects.toMatchObject({ code: 'VALUE_RANGE' });
  });

  it('change logs — two concurrent migrations from one switch each see only their own VM\'s changes, rounds apart', async () => {
    const a = await startTracking(rig.sw, access, 7, 0);
    const b = await startTracking(rig.sw, access, 8, 1);
    expect(openFlows(rig.sim, 7, 30, 20_000)).toBe(30);
    expect(openFlows(rig.sim, 8, 12, 20_000)).toBe(12);
    expect(openFlows(rig.sim, 21, 50, 20_000)).toBe(50); // untracked churn
    // Retrying the flip of A (its answer lost, say) flips nothing more.
    const a1 = await access.flipTracker(0, a.epoch);
    expect(await access.flipTracker(0, a.epoch)).toMatchObject({ epoch: a1.epoch, start: a1.start });
    const ca = await access.readChangedSlots(0, a.start, a1.start);
    expect(ca).toMatchObject({ overflow: false, from: a.start, to: a.start + 30n });
    expect(ca.slots).toHaveLength(30);
    const sa = await access.readSlots({ indices: [...ca.slots] });
    for (const s of sa) expect(vmOf(access, s.words)).toBe(7);
    // B's log, read to its head, holds B's 12 flows, untouched by A's flip.
    const cb = await access.readChangedSlots(1, b.start);
    expect(cb.slots).toHaveLength(12);
    for (const s of await access.readSlots({ indices: [...cb.slots] })) expect(vmOf(access, s.words)).toBe(8);
    expect((await access.readTracker(1)).epoch).toBe(b.epoch);

    // Round 2 of A: the same slots change again (SYN+ACKs) and are logged again, once each.
    expect(answerFlows(rig.sim, 7, 30, 20_000)).toBe(30);
    expect(answerFlows(rig.sim, 7, 30, 20_000)).toBe(30); // retransmitted: same slots, no new entries
    const a2 = await access.flipTracker(0, a1.epoch);
    const ca2 = await access.readChangedSlots(0, a1.start, a2.start);
    expect(ca2.entries).toHaveLength(30);
    expect(ca2.slots).toEqual(ca.slots);
    // Nothing changed for B since: an empty read costs one request (its tracker: changes, head, round).
    const before = access.stats().targetOps;
    expect((await access.readChangedSlots(1, cb.to)).entries).toEqual([]);
    expect(access.stats().targetOps - before).toBeLessThanOrEqual(3);
  });

  it('change logs — a ring overflow is reported, so the caller falls back to a per-VM read', async () => {
    const t = await startTracking(rig.sw, access, 21, 2);
    const size = access.group.changeLog?.logSize ?? 0;
    expect(openFlows(rig.sim, 21, size + 5, 30_000)).toBe(size + 5);
    const r = await access.readChangedSlots(2, t.start);
    expect(r.overflow).toBe(true);
    expect(r.from).toBe(t.start + 5n);
    expect(r.entries).toHaveLength(size);
  }, 60_000);

  it('sequenced deltas — every log position from the start mark to the head is in the pushed stream, with its slot', async () => {
    const lists: DigestList[] = [];
    const sub = (await slotNoticeDigests(rig.sw, access.group, { maxListSize: 100, maxTimeoutNs: 1_000_000n, ackTimeoutNs: 1_000_000n })).subscribe((l) => lists.push(l));
    try {
      const t = await startTracking(rig.sw, access, 300, 3);
      expect(openFlows(rig.sim, 300, 20, 40_000)).toBe(20);
      expect(answerFlows(rig.sim, 300, 20, 40_000)).toBe(20);
      const deltas = () => lists.filter((l) => l.digest.endsWith('ct_delta_t')).flatMap((l) => l.entries).filter((e) => e.tracker === 3n);
      const arrived = await eventually(() => deltas().length === 40);
      expect(arrived, `${deltas().length} deltas of tracker 3; lists: ${lists.map((l) => `${l.digest}:${l.entries.length}`).join(" ")}`).toBe(true);
      const log = await access.readChangedSlots(3, t.start);
      expect(log.entries).toHaveLength(20);
      for (const e of log.entries) {
        const pushed = deltas().filter((d) => d.seq === e.seq);
        // Two changes per slot in one round: both carry the slot's one entry, in order.
        expect(pushed.map((d) => Number(d.slot))).toEqual([e.slot, e.slot]);
        expect(pushed.every((d) => d.epoch === t.epoch && d.vm_id === 300n)).toBe(true);
      }
      // Untracked VMs' new flows come as ct_new_t, carrying slot and VM (VM 21's migration ended).
      await rig.sw.write(rig.sw.table('vm_migration').delete({ match: { vm_id: 21 } }));
      expect(openFlows(rig.sim, 21, 3, 50_000)).toBe(3);
      expect(await eventually(() => lists.some((l) => l.digest.endsWith('ct_new_t') && l.entries.some((e) => e.vm_id === 21n)))).toBe(true);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe.each(['full', 'bmv2'] as const)('change logs — O(changed) cost on profile %s', (profile) => {
  let rig: EdgeRig;
  beforeAll(async () => {
    rig = await startEdgeRig({ profile, plugin: { logger: silentLogger } });
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
  });

  /** Target ops to find and read one round's 100 changed slots of VM 7 with `flows` in the table. */
  async function round(port: number): Promise<{ ops: number; slots: number }> {
    const access = rig.plugin.registerAccess;
    const t = await startTracking(rig.sw, access, 7, 0);
    expect(openFlows(rig.sim, 7, 100, port)).toBe(100);
    const ops0 = access.stats().targetOps;
    const next = await access.flipTracker(0, t.epoch);
    const changed = await access.readChangedSlots(0, t.start, next.start);
    const read = await access.readSlots({ indices: [...changed.slots] });
    const ops = access.stats().targetOps - ops0;
    expect(changed.overflow).toBe(false);
    expect(read).toHaveLength(100);
    for (const r of read) expect(Number(decodeSlotFields(access.group, r.words).vm_id)).toBe(7);
    return { ops, slots: read.length };
  }

  it('complexity — with 100 changed slots, 10^5 tracked flows cost no more than 10^4 (within 1.5×), little beyond reading the slots', async () => {
    const g = rig.plugin.registerAccess.group;
    fillSlots(rig.sim, g, 8, 10_000, 0n);
    const small = await round(1_000);
    fillSlots(rig.sim, g, 8, 90_000, 0n);
    const big = await round(2_000);
    expect(big.ops).toBeLessThanOrEqual(small.ops * 1.5);
    // Reading 100 slots is 100 requests in-band, 100 × 9 cells over P4Runtime.
    const slotCost = profile === 'bmv2' ? 100 : 100 * g.words.length;
    expect(big.ops).toBeGreaterThanOrEqual(slotCost);
    expect(big.ops).toBeLessThanOrEqual(slotCost * 1.25);
  }, 120_000);
});

describe('change logs — where the pipeline also serves the log in-band (full profile, P4Runtime backend)', () => {
  let rig: EdgeRig;
  beforeAll(async () => {
    rig = await startEdgeRig({ profile: 'full', plugin: { logger: silentLogger } });
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('change logs — a short read goes in LOG_READ packets, a long one in one Read of the cells; both give the same entries', async () => {
    const access = rig.plugin.registerAccess;
    expect(access.capabilities()).toMatchObject({ backend: 'p4runtime', conditional: 'inband' });
    const t = await startTracking(rig.sw, access, 8, 1);
    expect(openFlows(rig.sim, 8, 400, 20_000)).toBe(400);
    const head = (await access.readTracker(1)).head;
    expect(head - t.start).toBe(400n);
    let reads = 0;
    const readChunks = rig.sw.readChunks.bind(rig.sw);
    rig.sw.readChunks = (q) => {
      reads++;
      return readChunks(q);
    };
    const outs = (): number => rig.sim.dataplane.stats()?.packetOuts ?? 0;
    try {
      let o = outs();
      const short = await access.readChangedSlots(1, t.start, t.start + 100n);
      expect(short.entries).toHaveLength(100);
      expect({ reads, packets: outs() - o }).toEqual({ reads: 0, packets: Math.ceil(100 / access.group.words.length) });
      o = outs();
      const long = await access.readChangedSlots(1, t.start, head);
      expect(long.entries).toHaveLength(400);
      expect({ reads, packets: outs() - o }).toEqual({ reads: 1, packets: 0 });
      expect(long.entries.slice(0, 100)).toEqual(short.entries);
      expect(long.overflow).toBe(false);
    } finally {
      Reflect.deleteProperty(rig.sw, 'readChunks');
    }
  }, 60_000);
});
