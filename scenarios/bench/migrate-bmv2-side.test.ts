/**
 * The real-BMv2 path of `bench migrate`, run on sims driven exactly as a BMv2 is (no side
 * channel): flows established by PacketOut, the checks' reads in-band, a real migration moved,
 * checked and rolled back, and the minimum-requests floor making exactly its requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateSlotsFor } from '../../plugin/index.js';
import { measurePause, parseMigrateBenchOptions } from './migrate-bench.js';
import { numberedFlowKey } from '../../sim/workload/index.js';
import { BENCH_VMS, pickSpread } from './migrate-flows.js';
import { measureMinimumOn } from './migrate-minimum.js';
import { MigrateBenchFailure, MigrateRig } from './migrate-rig.js';

describe('bench migrate — the real-BMv2 path on sims (PacketOut in, in-band reads out)', () => {
  let rig: MigrateRig;
  beforeAll(async () => {
    rig = await MigrateRig.start({ profile: 'bmv2', packetPath: true, inbandWindow: 64, inbandTimeoutMs: 1_000, deltaIntervalMs: 5, injectBatch: 200 });
    await rig.populate(300);
  }, 120_000);
  afterAll(() => rig?.stop());

  it('bench migrate — flows established by PacketOut are found in their candidate slots at the source, none at the destination', async () => {
    expect(rig.tracked).toHaveLength(300);
    const at = await rig.src.packetSide?.locate(0, rig.tracked);
    expect(at?.size).toBe(300);
    for (const [i, r] of at ?? []) expect(candidateSlotsFor(rig.group.placement, numberedFlowKey(BENCH_VMS[0] ?? { name: '', addr: '', addrNum: 0, port: 0, srcId: 0, dstId: 0 }, i))).toContain(r.index);
    expect((await rig.dst.packetSide?.locate(0, rig.tracked))?.size).toBe(0);
  });

  it('bench migrate — a migration with 10 changed moves every flow and conserves the counters (checked in-band), then rolls back', async () => {
    const p = await measurePause(rig, 0, parseMigrateBenchOptions({ repeats: 1 }), 10, () => undefined);
    expect([p.flows, p.changed, p.finalSlots]).toEqual([300, 10, 10]);
    await rig.checkRolledBack('after', 0);
  }, 120_000);

  it('bench migrate — the checks see a destination that does not hold the flows', async () => {
    const before = await rig.destinationCounters(0);
    await expect(rig.checkMoved('nothing moved', before, 0)).rejects.toThrow(MigrateBenchFailure);
  });

  it('bench migrate — the minimum-requests floor is exactly 2 Writes and 2 PacketOuts per changed slot, and leaves nothing behind', async () => {
    for (const overlap of [true, false]) {
      const m = await measureMinimumOn(rig, 0, pickSpread(rig.tracked, 10), overlap);
      expect(m.requests).toEqual({ writes: 2, updates: 2, reads: 0, packetOuts: 20 });
    }
    await rig.checkRolledBack('after the floor', 0);
    expect((await rig.dst.packetSide?.locate(0, rig.tracked))?.size).toBe(0);
  }, 60_000);

  it('bench migrate — a floor whose activation fails is named, and clears its copies and entries so the next floor runs', async () => {
    const dst = rig.dst.plugin.session;
    const write = dst.write.bind(dst);
    let calls = 0;
    // The floor's destination writes: its staged entry (prepare), then the activation — refused.
    dst.write = async (updates, options) => {
      if (++calls === 2) throw new Error('injected: the destination refused the activation');
      return write(updates, options);
    };
    try {
      const e = await measureMinimumOn(rig, 0, pickSpread(rig.tracked, 10), true).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(MigrateBenchFailure);
      expect(String(e)).toMatch(/minimum for 10 changed: injected: the destination refused the activation/);
    } finally {
      dst.write = write;
    }
    expect((await rig.dst.packetSide?.locate(0, rig.tracked))?.size).toBe(0);
    const again = await measureMinimumOn(rig, 0, pickSpread(rig.tracked, 10), true);
    expect(again.requests).toEqual({ writes: 2, updates: 2, reads: 0, packetOuts: 20 });
  }, 60_000);
});
