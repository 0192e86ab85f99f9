/**
 * hw-test's migration group between two sims: every check passes on both profiles, and the run
 * leaves both switches' whole state as it found them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import type { SimProfileName, SimSwitch } from '../sim/index.js';
import { outcomes } from './report/types.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { snapshotSim } from './testing/sim-snapshot.js';
import { P4INFO_PATH, startEdgeSim, statefulEdgeDeviceConfig } from './testing/sim-target.js';

const CHANGE_LOG_REGISTERS = new Set(P4Schema.fromFile(P4INFO_PATH).registers.filter((r) => ['ct_trk_log', 'ct_trk_head', 'ct_trk_round', 'ct_mark', 'ct_trk_changes'].includes(r.alias)).map((r) => r.id));

/**
 * A sim's state to compare before and after a run; on profile bmv2 without the digest
 * configurations, which hw-test leaves configured there (digest-restore.ts).
 */
function state(sim: SimSwitch, profile: SimProfileName): string {
  const text = snapshotSim(sim, CHANGE_LOG_REGISTERS);
  if (profile !== 'bmv2') return text;
  const { digests: _left, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return JSON.stringify(rest);
}

const sims: SimSwitch[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

/** A sim running stateful_edge already (hw-test leaves a pipeline it pushed loaded, so state is compared from here). */
async function startLoaded(profile: SimProfileName): Promise<SimSwitch> {
  const sim = await startEdgeSim(profile);
  sims.push(sim);
  const sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 2n });
  try {
    await sw.ensurePipeline({ schema: P4Schema.fromFile(P4INFO_PATH), deviceConfig: statefulEdgeDeviceConfig() });
  } finally {
    await sw.close();
  }
  return sim;
}

describe('hw-test — migration group', () => {
  for (const profile of ['bmv2', 'full', 'stratum-tofino'] as const) {
    it(`${profile}: a VM's flows move to the peer and back, a rollback in between, every check passes and both switches end as they began`, async () => {
      // Stratum's register reads sync from hardware (the sim's profile waits 2 ms a cell): fewer flows.
      const flows = profile === 'stratum-tofino' ? 8 : 24;
      const target = await startLoaded(profile);
      const peer = await startLoaded(profile);
      const before = [state(target, profile), state(peer, profile)];
      const r = await runAgainstSim(target, profile, { peer: peer.address, peerDeviceId: peer.deviceId, groups: ['migration'], migrationFlows: flows, pushPipeline: true });
      const o = outcomes(r);
      const migration = r.groups.find((g) => g.id === 'migration');
      expect(migration?.checks.filter((c) => c.status !== 'PASS').map((c) => `${c.id}: ${c.detail} ${c.diff.join('; ')}`)).toEqual([]);
      expect(migration?.checks.map((c) => c.id)).toEqual(['setup', 'commit', 'flows-moved', 'counters-conserved', 'source-cleaned', 'traffic-after', 'rollback', 'round-trip']);
      // The last wave of traffic (every other flow) came after pre-copy stopped: the pause carried it.
      const detail = (id: string): string => migration?.checks.find((c) => c.id === id)?.detail ?? '';
      expect(detail('commit')).toMatch(new RegExp(`^snapshot of ${flows} slots, \\d+ delta rounds?\\b.*; pause-window sync: ${flows / 2} slots in .*; committed, ${flows} slots deleted at the source$`));
      expect(detail('rollback')).toMatch(new RegExp(`pause-window sync: ${flows / 2} slots .*rolled back: PEER_REJECTED: rolled back on purpose after activation; the target holds nothing, the peer's ${flows} flows are as at the freeze`));
      expect(o['cleanup/undo']).toBe('PASS');
      expect([state(target, profile), state(peer, profile)]).toEqual(before);
      const undoDetail = r.groups.find((g) => g.id === 'cleanup')?.checks[0]?.detail ?? '';
      if (profile === 'bmv2') for (const d of ['pinhole_t', 'ct_delta_t', 'ct_new_t']) expect(undoDetail).toContain(`digest ${d} is left configured: deleting a DigestEntry corrupts BMv2 simple_switch_grpc (PI)`);
      else expect(undoDetail).not.toContain('left configured');
    }, 120_000);
  }

  it('a peer that refuses the move: the commit check fails with the reason, the rest are not run, and both switches end as they began', async () => {
    const target = await startLoaded('bmv2');
    const peer = await startLoaded('bmv2');
    const before = [state(target, 'bmv2'), state(peer, 'bmv2')];
    const r = await runAgainstSim(target, 'bmv2', {
      peer: peer.address,
      peerDeviceId: peer.deviceId,
      groups: ['migration'],
      migrationFlows: 8,
      // Once both sides are set up, the peer refuses the next Write: the move's first step there.
      onProgress: (e) => e.kind === 'check' && e.id === 'setup' && peer.faults.failNext('Write', { code: 8, message: 'injected: no room', count: 2 }),
    });
    const checks = r.groups.find((g) => g.id === 'migration')?.checks ?? [];
    expect(checks.map((c) => [c.id, c.status])).toEqual([['setup', 'PASS'], ['commit', 'FAIL'], ['flows-moved', 'FAIL'], ['counters-conserved', 'FAIL'], ['source-cleaned', 'FAIL'], ['traffic-after', 'FAIL'], ['rollback', 'FAIL'], ['round-trip', 'FAIL']]);
    expect(checks[1]?.detail).toMatch(/rolled back: CAPACITY_EXCEEDED: prepare at peer: .*RESOURCE_EXHAUSTED.*no room; after the rollback the target holds its 8 flows and admits their traffic, the peer holds none/);
    expect(checks[2]?.detail).toBe('not run: commit failed');
    expect(outcomes(r)['cleanup/undo']).toBe('PASS');
    expect([state(target, 'bmv2'), state(peer, 'bmv2')]).toEqual(before);
  }, 120_000);

  it('a peer running another pipeline is refused before anything is written to either switch', async () => {
    const target = await startLoaded('bmv2');
    const peer = await startEdgeSim('bmv2');
    sims.push(peer);
    const before = snapshotSim(target);
    await expect(runAgainstSim(target, 'bmv2', { peer: peer.address, peerDeviceId: peer.deviceId, pushPipeline: false })).rejects.toThrow(/refusing to run: the peer 127\.0\.0\.1:\d+ \(device 0\) has no forwarding pipeline/);
    expect(snapshotSim(target)).toBe(before);
    expect(snapshotSim(peer)).toBe('no pipeline');
  }, 60_000);
});



describe('hw-test — the peer is the target itself under another address', () => {
  it('localhost for 127.0.0.1: the peer bids with the target session\'s election id, is refused as a duplicate, and the run stops naming --peer', async () => {
    const target = await startLoaded('bmv2');
    const port = target.address.split(':').at(-1) ?? '';
    const before = state(target, 'bmv2');
    const run = runAgainstSim(target, 'bmv2', { peer: `localhost:${port}`, peerDeviceId: target.deviceId, pushPipeline: false });
    await expect(run).rejects.toThrow(new RegExp(`^--peer: localhost:${port} device 0 already holds this run's election id \\d+: it is the target itself under another address`));
    expect(state(target, 'bmv2')).toBe(before);
  }, 60_000);
});
