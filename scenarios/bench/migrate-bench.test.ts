/**
 * The pause-window sync's complexity, counted (not timed): on both sim profiles, a migration
 * whose VM has 100 flows changing between the last pre-copy round and the freeze makes the same
 * switch requests in its pause whether the VM has 10^3 or 10^4 tracked flows — O(changed), not
 * O(flows) — and each pause really moved the state (the bench checks the destination holds every
 * flow as frozen and the counters are conserved, and throws otherwise).
 */
import { describe, expect, it } from 'vitest';
import { measureMigrations } from './migrate-bench.js';
import { migrateRows } from './migrate-report.js';
import { totalRequests } from './switch-request-counter.js';

describe.each(['full', 'bmv2'] as const)('bench migrate — profile %s', (profile) => {
  it('bench migrate — a pause with 100 changed flows makes the same O(100) requests at 10^3 and 10^4 tracked flows', async () => {
    const r = await measureMigrations({ profiles: [profile], sizes: [1_000, 10_000], shares: [], counts: [100], repeats: 1, stopAndCopy: false }, () => undefined);
    expect(r.pauses.map((p) => [p.flows, p.changed, p.finalSlots])).toEqual([[1_000, 100, 100], [10_000, 100, 100]]);
    // Retried in-band requests are the machine's load (an answer later than the timeout), not the algorithm's.
    const [small, big] = r.pauses.map((p) => ({ requests: totalRequests(p.requests) - p.retries, ops: p.targetOps - p.retries }));
    // The same within a request or two: under load a request may split or a clock be read again
    // (walkthrough 21: 107 against 106 with the same 101 operations); O(tracked) would be hundreds.
    expect(Math.abs((big?.requests ?? 0) - (small?.requests ?? 0))).toBeLessThanOrEqual(2);
    expect(Math.abs((big?.ops ?? 0) - (small?.ops ?? 0))).toBeLessThanOrEqual(2);
    // O(changed): a few requests per changed flow plus a constant, far below one per tracked flow.
    expect(big?.requests).toBeLessThanOrEqual(2 * 100 + 40);
    expect(big?.ops).toBeLessThanOrEqual(12 * 100 + 40);
    // The pause's minimum, nearly: in-band, one read per changed slot at the source and one
    // conditional write at the destination, one log packet per nine changes, the tracker and the
    // two clocks; over P4Runtime a constant — the freeze, the counters (read at the source, added
    // at the destination), the pinholes, the slots' words in one Read, and the activation.
    const pause = r.pauses[1] as (typeof r.pauses)[number];
    expect(pause.requests.packetOuts - pause.retries).toBeLessThanOrEqual(2 * 100 + Math.ceil(100 / 9) + 3);
    expect(pause.requests.writes + pause.requests.reads).toBeLessThanOrEqual(10);
    // Over P4Runtime, the floor beside each pause: the freeze, one Read of the 100 slots' cells,
    // one Write of them with the activation — checked at the destination and undone by the bench.
    const floors = r.minimums.map((m) => [m.path, m.flows, m.changed, m.requests.writes, m.requests.reads, m.requests.updates, m.targetOps]);
    const words = 9;
    expect(floors).toEqual(profile === 'full' ? [1_000, 10_000].map((flows) => ['p4runtime', flows, 100, 2, 1, 1 + words * 100 + 1, 2 * words * 100]) : []);
    const rows = migrateRows(r);
    if (profile === 'full') expect(rows.filter((x) => x.case === 'pause-window sync / minimum requests').map((x) => x.variant)).toEqual(['full / flows=1000 / changed=100', 'full / flows=10000 / changed=100']);
    expect(rows.filter((x) => x.case === 'pause-window sync').map((x) => x.variant)).toEqual([`${profile} / flows=1000 / changed=100`, `${profile} / flows=10000 / changed=100`]);
    expect(rows.find((x) => x.case.startsWith('pause-window sync on real BMv2'))?.value).toBe('NOT RUN');
  }, 600_000);
});

describe('bench migrate — nothing left to move', () => {
  it('bench migrate — a pause with no flow changed since the last round moves no slot, makes a constant few requests, and reports the snapshot\'s throughput', async () => {
    const r = await measureMigrations({ profiles: ['full'], sizes: [1_000], shares: [], counts: [0], repeats: 1, stopAndCopy: false }, () => undefined);
    expect(r.pauses.map((p) => [p.flows, p.changed, p.finalSlots])).toEqual([[1_000, 0, 0]]);
    const pause = r.pauses[0] as (typeof r.pauses)[number];
    // The freeze, the counters' Read and the activation over P4Runtime; the tracker and the clock in-band.
    expect(pause.requests.writes + pause.requests.reads).toBeLessThanOrEqual(4);
    expect(pause.requests.packetOuts - pause.retries).toBeLessThanOrEqual(3);
    expect(pause.delta).toEqual({ slots: 0, ms: 0 });
    const throughput = migrateRows(r).find((x) => x.case === 'pre-copy throughput');
    expect(throughput?.value).toBeGreaterThan(0);
    expect(throughput?.note).toContain('no delta round (nothing changed)');
  }, 300_000);
});
