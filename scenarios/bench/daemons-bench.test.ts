import { describe, expect, it } from 'vitest';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { runDaemonsBench } from './daemons-bench.js';

describe.skipIf(!opensslAvailable())('bench daemons (needs openssl)', () => {
  it('bench daemons — every migration through the two daemon processes commits with the VM\'s flows; rows for the pipelined pause, one call per step, peer to peer and their ratios', async () => {
    const rows = await runDaemonsBench({ rounds: 1 }, { runs: 4, flows: 10, profile: 'full' });
    expect(rows.map((r) => r.variant)).toEqual(['pipelined (default)', 'one call per step (pipelinedPause: false)', 'peer to peer (--transfer peer-to-peer)', 'full', 'full']);
    expect(rows[0]?.note).toMatch(/^min [\d.]+, max [\d.]+; 1 migrations of 10 flows, sim full, daemons as child processes; calls in the pause: FreezeFinal, ImportActivate$/);
    for (const r of rows) expect(typeof r.value === 'number' && r.value > 0).toBe(true);
    expect(rows[3]?.value).toBeCloseTo((rows[0]?.value as number) / (rows[1]?.value as number), 1);
    expect(rows[4]?.value).toBeCloseTo((rows[2]?.value as number) / (rows[0]?.value as number), 1);
  }, 240_000);
});
