/**
 * N:1 at one destination, on a sim over real gRPC: two sources' final batches, each with the VM's
 * counter values at its freeze, arrive at once — as they do peer to peer, where each source plugin
 * sends its own. The destination must add both (field walkthrough 10 on real BMv2: one source's
 * counts lost in 4 of 8 committed 2:1 migrations, and a rollback that could not take back what was
 * never kept). Both profiles: activation as one atomic Write (`full`), and counters written at
 * import (`bmv2`, no atomic Writes).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StateBatch } from '../../plugin/index.js';
import type { SimProfileName } from '../../sim/index.js';
import { DST_ID, startMigrationPair } from '../migration-fixture.js';
import type { MigrationPair } from '../migration-fixture.js';

/** A final batch from `source` carrying only its counter values (no flows changed). */
const finalBatch = (migrationId: string, source: string, tx: bigint, rx: bigint): StateBatch => ({
  migrationId, source, round: 99, slots: [], removed: [], coversSeq: { from: 10n, to: 10n },
  counters: { vm_tx: { packets: tx, bytes: tx * 100n }, vm_rx: { packets: rx, bytes: rx * 100n } },
});

describe.each<SimProfileName>(['full', 'bmv2'])('N:1 counters at the destination (%s)', (profile) => {
  let pair: MigrationPair | undefined;
  afterEach(async () => {
    await pair?.stop();
    pair = undefined;
  });

  const cells = (p: MigrationPair): { tx: bigint; rx: bigint } => ({ tx: p.dst.sim.state.counter('vm_tx', DST_ID).packets, rx: p.dst.sim.state.counter('vm_rx', DST_ID).packets });

  it(`N:1 counters (${profile}) — two sources' final batches imported at once: after activation the destination holds what it held plus both; an abort then takes both back`, async () => {
    const p = (pair = await startMigrationPair(profile));
    const m = { migrationId: 'm-n1', vm: '10.0.0.5' };
    await p.dstApi.prepare(m);
    // Staged with an empty snapshot from each source first, as pre-copy would.
    for (const s of ['edge-a', 'edge-c']) await p.dstApi.importStaged(m, { migrationId: m.migrationId, source: s, round: 0, slots: [], removed: [], coversSeq: { from: 0n, to: 0n } });
    const before = cells(p);
    p.dstApi.pauseStarted(m);
    await Promise.all([p.dstApi.importStaged(m, finalBatch(m.migrationId, 'edge-a', 131_972n, 161_069n)), p.dstApi.importStaged(m, finalBatch(m.migrationId, 'edge-c', 2_584n, 2_584n))]);
    await p.dstApi.activate(m);
    expect(cells(p)).toEqual({ tx: before.tx + 131_972n + 2_584n, rx: before.rx + 161_069n + 2_584n });
    // Aborted after activation (the VM never ran there): both sources' values taken back, none twice.
    await p.dstApi.abort(m);
    expect(cells(p)).toEqual(before);
  }, 120_000);

  it(`N:1 counters (${profile}) — aborted while both final imports are still under way: nothing is left added, and the control entry is put back`, async () => {
    const p = (pair = await startMigrationPair(profile));
    const m = { migrationId: 'm-n1-abort', vm: '10.0.0.5' };
    await p.dstApi.prepare(m);
    for (const s of ['edge-a', 'edge-c']) await p.dstApi.importStaged(m, { migrationId: m.migrationId, source: s, round: 0, slots: [], removed: [], coversSeq: { from: 0n, to: 0n } });
    const before = cells(p);
    const imports = Promise.allSettled([p.dstApi.importStaged(m, finalBatch(m.migrationId, 'edge-a', 500n, 700n)), p.dstApi.importStaged(m, finalBatch(m.migrationId, 'edge-c', 30n, 40n))]);
    await p.dstApi.abort(m);
    await imports;
    expect(cells(p)).toEqual(before);
    expect(p.dst.sim.state.tableEntries('vm_migration')).toEqual([]);
  }, 120_000);
});
