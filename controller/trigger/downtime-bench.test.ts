import { describe, expect, it } from 'vitest';
import { QEMU_SKIP_REASON } from '../testing/qemu-pair.js';
import { benchQemuDowntime, downtimeParts, medianParts } from './downtime-bench.js';
import type { QemuDowntimeSample } from './downtime-bench.js';

describe.skipIf(QEMU_SKIP_REASON !== undefined)(`QEMU downtime benchmark ${QEMU_SKIP_REASON ? `(skipped: ${QEMU_SKIP_REASON})` : ''}`, () => {
  it('qemu bench — one migration per mode: QEMU downtime measured without and with the trigger, the hold reported for the latter only', async () => {
    const r = await benchQemuDowntime({ runs: 1 });
    expect(r.samples.map((s) => s.mode)).toEqual(['without-trigger', 'with-trigger']);
    for (const s of r.samples) {
      expect(s.qemuDowntimeMs).toBeGreaterThanOrEqual(0);
      expect(s.totalTimeMs).toBeGreaterThan(0); // QEMU had finished its accounting when asked
    }
    expect(r.samples[0]!.heldMs).toBeUndefined();
    expect(r.samples[1]!.heldMs).toBeGreaterThanOrEqual(0);
    expect(r.addedMedianMs).toBe(r.samples[1]!.qemuDowntimeMs - r.samples[0]!.qemuDowntimeMs);
    // The VM's own downtime (source STOP to destination RESUME) holds QEMU's part before the last
    // state left the source, and with the trigger the whole hold (QEMU's clock, one host).
    for (const s of r.samples) expect(s.guestDowntimeMs).toBeGreaterThan(0);
    expect(r.samples[1]!.guestDowntimeMs).toBeGreaterThanOrEqual(r.samples[1]!.heldQemuMs ?? NaN);
    expect(r.guestAddedMedianMs).toBe(r.samples[1]!.guestDowntimeMs! - r.samples[0]!.guestDowntimeMs!);
    expect(r.qemuVersion).toMatch(/^\d+\.\d+\.\d+/);
    // QEMU's own timestamps split each downtime; the hold is the trigger's, by QEMU's clock.
    const [without, withT] = r.samples as [QemuDowntimeSample, QemuDowntimeSample];
    expect(without.parts).toEqual({ holdMs: 0, restMs: without.qemuDowntimeMs, headMs: undefined, tailMs: undefined });
    expect(withT.parts?.holdMs).toBeCloseTo(withT.heldQemuMs ?? NaN, 6);
    expect(withT.parts?.tailMs).toBeGreaterThanOrEqual(0);
    expect(withT.parts?.restMs).toBeCloseTo(withT.qemuDowntimeMs - (withT.heldQemuMs ?? NaN), 6);
  }, 180_000);
});

describe('downtime parts', () => {
  const st = (status: string, qemuAtMs: number) => ({ status, qemuAtMs });
  it('downtime parts — with a hold: head to pre-switchover, hold to device, tail to completed', () => {
    expect(downtimeParts(20, [st('active', 0), st('pre-switchover', 101.5), st('device', 116.5), st('completed', 119.5)])).toEqual({ holdMs: 15, restMs: 5, headMs: 2, tailMs: 3 });
  });
  it('downtime parts — without the trigger: no hold, the whole downtime is QEMU\'s own, not split', () => {
    expect(downtimeParts(3, [st('active', 0), st('completed', 101.7)])).toEqual({ holdMs: 0, restMs: 3, headMs: undefined, tailMs: undefined });
  });
  it('downtime parts — a missing event or timestamp, or statuses out of order, give no parts', () => {
    expect(downtimeParts(3, [st('active', 0), st('device', 100)])).toBeUndefined();
    expect(downtimeParts(3, [st('pre-switchover', 99), st('completed', 101)])).toBeUndefined();
    expect(downtimeParts(3, [st('pre-switchover', 99), st('device', NaN), st('completed', 101)])).toBeUndefined();
    expect(downtimeParts(3, [st('pre-switchover', 105), st('device', 100), st('completed', 101)])).toBeUndefined();
  });
  it('downtime parts — medians per part over the samples that have them', () => {
    const s = (parts: QemuDowntimeSample['parts']): QemuDowntimeSample => ({ mode: 'with-trigger', qemuDowntimeMs: 0, guestDowntimeMs: undefined, heldMs: undefined, heldQemuMs: undefined, totalTimeMs: undefined, parts });
    const p = (holdMs: number, restMs: number, headMs?: number, tailMs?: number) => ({ holdMs, restMs, headMs, tailMs });
    expect(medianParts([s(p(10, 3, 1, 2)), s(undefined), s(p(30, 7, 3, 4)), s(p(20, 11, 2, 9))])).toEqual(p(20, 7, 2, 4));
    expect(medianParts([s(p(0, 3)), s(p(0, 5)), s(p(0, 4))])).toEqual(p(0, 4));
    expect(medianParts([s(undefined)])).toBeUndefined();
  });
});
