/**
 * The P4Runtime floor of `bench migrate` on two sims (profile `full`, each in its own process):
 * it copies the slots and leaves nothing behind, and when one of its requests fails it still
 * leaves the pair as the next pause needs it — no copied slot at the destination, no control
 * entry of its own — so the next floor (whose first request INSERTs those entries) runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureP4RuntimeMinimumOn } from './migrate-minimum-p4rt.js';
import { MigrateBenchFailure, MigrateRig } from './migrate-rig.js';

describe('bench migrate — the P4Runtime floor', () => {
  let rig: MigrateRig;
  beforeAll(async () => {
    rig = await MigrateRig.start({ profile: 'full', inbandWindow: 64, deltaIntervalMs: 20 });
    await rig.populate(300);
  }, 120_000);
  afterAll(async () => {
    await rig.stop();
  });

  it('bench migrate — the floor copies 50 slots in three requests, then leaves the destination as it found it', async () => {
    const m = await measureP4RuntimeMinimumOn(rig, 0, 50);
    expect([m.path, m.atomic, m.changed, m.requests.writes, m.requests.reads, m.requests.updates]).toEqual(['p4runtime', true, 50, 2, 1, 1 + 9 * 50 + 1]);
    expect((await rig.dst.worker.fingerprint(rig.vm(0).srcId, [])).flows).toBe(0);
  }, 60_000);

  it('bench migrate — a floor whose Write fails names it, and cleans up so the next floor runs', async () => {
    const dst = rig.dst.plugin.session;
    const write = dst.write.bind(dst);
    let failed = 0;
    dst.write = async (updates, options) => {
      if (options?.atomicity === 'DATAPLANE_ATOMIC' && Array.isArray(updates) && updates.length > 1 && failed++ === 0) {
        // The cells land, then the answer is an error: the worst case for what is left behind.
        await write(updates.slice(0, -1));
        throw new Error('injected: the activation Write failed');
      }
      return write(updates, options);
    };
    try {
      const e = await measureP4RuntimeMinimumOn(rig, 0, 50).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(MigrateBenchFailure);
      expect(String(e)).toMatch(/P4Runtime minimum for 50 changed: injected: the activation Write failed/);
    } finally {
      dst.write = write;
    }
    expect(failed).toBe(1);
    expect((await rig.dst.worker.fingerprint(rig.vm(0).srcId, [])).flows).toBe(0);
    const again = await measureP4RuntimeMinimumOn(rig, 0, 50);
    expect(again.requests.writes).toBe(2);
  }, 60_000);
});
