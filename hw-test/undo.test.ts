/**
 * hw-test leaves a target as it found it: the sim's whole forwarding state — tables, direct
 * counters, every register and counter cell, digest configurations — read past P4Runtime before
 * and after a full run is identical, with state of "someone else" already on the switch (entries,
 * counters, a digest configuration, a foreign flow in a workload flow's first candidate slot, a
 * non-zero epoch and dirty bits).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import type { SimProfileName, SimSwitch } from '../sim/index.js';
import { readMigrationContract } from '../plugin/index.js';
import { parseHwTestOptions } from './options.js';
import { outcomes } from './report/types.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { snapshotSim } from './testing/sim-snapshot.js';
import { STATEFUL_EDGE_P4INFO_PATH } from '../plugin/testing/stateful-edge-p4info.js';

const CHANGE_LOG_REGISTERS = new Set(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH).registers.filter((r) => ['ct_trk_log', 'ct_trk_head', 'ct_trk_round', 'ct_mark', 'ct_trk_changes'].includes(r.alias)).map((r) => r.id));
import { P4INFO_PATH, startEdgeSim, statefulEdgeDeviceConfig } from './testing/sim-target.js';
import { workloadFlows, workloadPackets } from './workload-run.js';

let sim: SimSwitch | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

/** Loads the pipeline and puts foreign state on the switch; returns the slot pre-occupied. */
async function prepare(s: SimSwitch, profile: SimProfileName): Promise<number> {
  const schema = P4Schema.fromFile(P4INFO_PATH);
  const sw = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 2n });
  try {
    await sw.ensurePipeline({ schema, deviceConfig: statefulEdgeDeviceConfig() });
    const foreign = { vm_id: 7, vm_addr: '10.9.9.9', remote_addr: '192.0.2.1', vm_port: 1234, remote_port: 53, protocol: 17 };
    await sw.write([
      sw.table('vm_table').insert({ match: { vm_addr: '10.9.9.9' }, action: 'set_vm', params: { vm_id: 7, port: 9 } }),
      sw.table('dyn_acl').insert({ match: foreign, action: 'pinhole_allow', idleTimeout: '1h' }),
      sw.counter('vm_tx').modify(1001, { bytes: 5000n, packets: 50n }),
      sw.counter('drops').modify(5, { bytes: 777n, packets: 7n }),
      sw.digest('pinhole_t').configure({ maxListSize: 5, maxTimeoutNs: '50ms', ackTimeoutNs: '2s' }),
    ]);
    await sw.write(sw.directCounter('dyn_acl').modify(foreign, { bytes: 100n, packets: 1n }));
  } finally {
    await sw.close();
  }
  // A foreign flow in the first candidate slot of the workload's first TCP flow: the run's flow
  // must go to its second candidate, on the target and in the model alike.
  const contract = readMigrationContract(schema);
  const group = contract.groups[0];
  if (!group) throw new Error('no slot group');
  const o = parseHwTestOptions({ target: s.address, profile: 'full', p4info: P4INFO_PATH, flows: 30 });
  const flow = workloadFlows(group, o.fixture, workloadPackets(o)).find((f) => f.protocol === 6);
  const slot = flow?.candidates[0];
  if (slot === undefined) throw new Error('the workload has no TCP flow');
  const words = [0x0a090909c0000201n, (5555n << 24n) | (80n << 8n) | 6n, (7n << 48n) | (3n << 40n), 11n, 12n, 13n, 14n, 15n, 16n];
  group.words.forEach((w, i) => s.state.registerWrite(w.register, slot, words[i] ?? 0n));
  s.state.registerWrite('ct_epoch', 0, 7n);
  // Epoch 7 writes into buffer 1. A bit in buffer 0 is never touched by the run; a bit in buffer 1
  // only where a register write can put it back (in-band access can clear a word, not set bits).
  s.state.registerWrite('ct_dirty', 3, 0b1010n);
  if (profile === 'full') s.state.registerWrite('ct_dirty', 5120 + Math.floor(slot / 64), 1n << BigInt(slot % 64));
  return slot;
}

describe('hw-test — undo', () => {
  for (const profile of ['full', 'bmv2'] as const) {
    it(`${profile}: the switch's whole state after a run equals the state before it`, async () => {
      sim = await startEdgeSim(profile);
      const slot = await prepare(sim, profile);
      // Change logs only move forward (heads, rounds, entries, marks, change counts): a run leaves them advanced, as noted in its report.
      const before = snapshotSim(sim, CHANGE_LOG_REGISTERS);
      expect((JSON.parse(before) as { digests: unknown[] }).digests).toHaveLength(1);
      const r = await runAgainstSim(sim, profile, { pushPipeline: false });
      const after = snapshotSim(sim, CHANGE_LOG_REGISTERS);
      const o = outcomes(r);
      expect(o['cleanup/undo']).toBe('PASS');
      expect(o['differential/conntrack-slots']).toBe('PASS');
      expect(o['placement/target-placement']).toBe('PASS');
      expect(o['conformance/digest']).toBe('PASS');
      // The run did write: the foreign slot was probed, entries were inserted and counters moved.
      expect(r.groups.find((g) => g.id === 'cleanup')?.checks[0]?.detail).toMatch(/^\d+ writes recorded/);
      expect(sim.state.registerRead('ct_key_addr', slot)).toBe(0x0a090909c0000201n);
      expect(after).toBe(before);
    });
  }
});

describe('hw-test — an interrupted run', () => {
  it('abort signal: no group starts after it, every write made so far is reverted, the report says where it stopped', async () => {
    sim = await startEdgeSim('full');
    await prepare(sim, 'full');
    const before = snapshotSim(sim, CHANGE_LOG_REGISTERS);
    const stop = new AbortController();
    // Interrupted while the second group runs: it finishes, nothing after it starts.
    let groupsStarted = 0;
    const r = await runAgainstSim(sim, 'full', {
      pushPipeline: false,
      signal: stop.signal,
      onProgress: (e) => {
        if (e.kind === 'group' && ++groupsStarted === 2) stop.abort();
      },
    });
    expect(groupsStarted).toBe(2);
    expect(r.notes.join('\n')).toMatch(/interrupted before group \S+: it and the groups after it were not run/);
    expect(r.groups.map((g) => g.id).at(-1)).toBe('cleanup');
    expect(r.groups).toHaveLength(3);
    expect(outcomes(r)['cleanup/undo']).toBe('PASS');
    expect(snapshotSim(sim, CHANGE_LOG_REGISTERS)).toBe(before);
  });

  it('a refused target was never written: no cleanup group is reported', async () => {
    sim = await startEdgeSim('bmv2');
    const checks: string[] = [];
    const run = runAgainstSim(sim, 'bmv2', { pushPipeline: false, onProgress: (e) => e.kind === 'check' && checks.push(`${e.group}/${e.id}`) });
    await expect(run).rejects.toThrow(/refusing to run/);
    expect(checks).toEqual([]);
  });
});
