import { describe, expect, it } from 'vitest';
import { remainingIdleNs, sinceLastHitNs, unwrapBmv2RemainingNs } from './idle-time.js';

// Read from simple_switch_grpc 1.15.5 (entries of 3, 10, 60 and 120 s, read 0.06 s and 2.5 s after insertion).
const BMV2_READS = [
  { idleTimeoutNs: 10_000_000_000n, elapsedNs: 8_596_934_592n, sinceMs: 7 },
  { idleTimeoutNs: 60_000_000_000n, elapsedNs: 55_839_574_848n, sinceMs: 5 },
  { idleTimeoutNs: 120_000_000_000n, elapsedNs: 115_968_116_992n, sinceMs: 4 },
  { idleTimeoutNs: 10_000_000_000n, elapsedNs: 6_748_967_296n, sinceMs: 2_454 },
  { idleTimeoutNs: 120_000_000_000n, elapsedNs: 116_638_149_696n, sinceMs: 4_969 },
  { idleTimeoutNs: 3_000_000_000n, elapsedNs: 2_478_000_000n, sinceMs: 2_478 },
  { idleTimeoutNs: 3_000_000_000n, elapsedNs: 3_000_000_000n, sinceMs: 3_000 },
];

describe('idle time — time_since_last_hit as the target means it', () => {
  it('idle time — BMv2 values (remaining time wrapped at 2^32 ns) unwrap to the real time since the last hit', () => {
    for (const r of BMV2_READS) expect(sinceLastHitNs(r, 'auto')).toBe(BigInt(r.sinceMs) * 1_000_000n);
    expect(remainingIdleNs(BMV2_READS[2] ?? { idleTimeoutNs: 0n }, 'auto')).toBe(119_996_000_000n);
  });

  it('idle time — a spec value is taken as reported: whole ms (both readings agree), sub-ms, or beyond 2^32 ns', () => {
    expect(sinceLastHitNs({ idleTimeoutNs: 60_000_000_000n, elapsedNs: 1_500_000_000n }, 'auto')).toBe(1_500_000_000n);
    expect(sinceLastHitNs({ idleTimeoutNs: 60_000_000_000n, elapsedNs: 1_500_000_123n }, 'auto')).toBe(1_500_000_123n);
    expect(sinceLastHitNs({ idleTimeoutNs: 60_000_000_000n, elapsedNs: 40_000_000_000n }, 'auto')).toBe(40_000_000_000n);
    expect(sinceLastHitNs({ idleTimeoutNs: 120_000_000_000n, elapsedNs: 115_968_116_992n }, 'spec')).toBe(115_968_116_992n);
    expect(sinceLastHitNs({ idleTimeoutNs: 60_000_000_000n }, 'auto')).toBeUndefined();
    expect(remainingIdleNs({ idleTimeoutNs: 10n, elapsedNs: 20n }, 'spec')).toBe(0n);
  });

  it('idle time — unwrapping refuses what BMv2 cannot have produced (not a multiple of 64 ns, 2^32 ns or more, beyond the timeout)', () => {
    expect(unwrapBmv2RemainingNs(1_234_567n, 10n ** 12n)).toBeUndefined();
    expect(unwrapBmv2RemainingNs(1n << 32n, 10n ** 12n)).toBeUndefined();
    expect(unwrapBmv2RemainingNs(64n, 10_000_000_000n)).toBeUndefined();
    for (let ms = 0n; ms <= 300_000n; ms += 997n) expect(unwrapBmv2RemainingNs((ms * 1_000_000n) % (1n << 32n), 300_000_000_000n)).toBe(ms * 1_000_000n);
  });
});
