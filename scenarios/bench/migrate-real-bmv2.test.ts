/**
 * Opt-in (CARRYOVER_BMV2 = path of simple_switch_grpc): `bench migrate` on two real BMv2s, small
 * — 10^3 flows established by PacketOut, 10 changed before the freeze, one migration — asserting
 * that it moved the state (the bench checks the destination in-band and the counters, and throws
 * otherwise) and that the minimum-requests floor made exactly its requests. Not timing.
 */
import { describe, expect, it } from 'vitest';
import { realToolsFromEnv } from '../real-tools.js';
import { measureMigrations } from './migrate-bench.js';
import { migrateRows } from './migrate-report.js';

const tools = realToolsFromEnv();

describe.skipIf(!tools.bmv2)(`bench migrate — real BMv2 (${tools.bmv2Missing ?? `CARRYOVER_BMV2=${tools.bmv2}`})`, () => {
  it('bench migrate real BMv2 — 10^3 flows, 10 changed: the migration moves every flow and the counters, and rolls back; the floor is 2 Writes and 20 PacketOuts', async () => {
    const r = await measureMigrations({ profiles: [], bmv2: tools.bmv2, bmv2Sizes: [1_000], shares: [], counts: [10], repeats: 1, stopAndCopy: false }, () => undefined);
    expect(r.pauses.map((p) => [p.profile, p.flows, p.changed, p.finalSlots])).toEqual([['real-bmv2', 1_000, 10, 10]]);
    const floor = { writes: 2, updates: 2, reads: 0, packetOuts: 20 };
    expect(r.minimums.map((m) => [m.flows, m.changed, m.overlap, m.requests])).toEqual([[1_000, 10, true, floor], [1_000, 10, false, floor]]);
    const rows = migrateRows(r);
    expect(rows.filter((x) => x.case === 'goal' && (x.variant ?? '').startsWith('real BMv2')).map((x) => x.note)).toHaveLength(2);
    expect(rows.some((x) => x.case.startsWith('pause-window sync on real BMv2'))).toBe(false);
  }, 300_000);
});
