import { describe, expect, it } from 'vitest';
import { QEMU_SKIP_REASON } from '../testing/qemu-pair.js';
import { benchQemuDowntime } from './downtime-bench.js';

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
    expect(r.qemuVersion).toMatch(/^\d+\.\d+\.\d+/);
  }, 180_000);
});
