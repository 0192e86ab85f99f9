/**
 * hw-test's counter restore against a BMv2-like sim: PI writes only the counts of a counter's unit,
 * so the byte count BMv2 keeps in a PACKETS counter is put back by a reset, and the cleanup check
 * compares every count of every cell with the snapshot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import type { SimSwitch } from '../sim/index.js';
import { outcomes } from './report/types.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { P4INFO_PATH, startEdgeSim, statefulEdgeDeviceConfig } from './testing/sim-target.js';

let sim: SimSwitch | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const schema = P4Schema.fromFile(P4INFO_PATH);

/** Loads the pipeline; optionally puts counts in ct_collisions[1001] past P4Runtime (as BMv2's data plane would). */
async function load(s: SimSwitch, collisions?: { bytes: bigint; packets: bigint }): Promise<void> {
  const sw = await P4Switch.connect({ address: s.address, deviceId: s.deviceId, electionId: 2n });
  try {
    await sw.ensurePipeline({ schema, deviceConfig: statefulEdgeDeviceConfig() });
  } finally {
    await sw.close();
  }
  if (collisions) s.state.forwardingState()?.counters.get(schema.counter('ct_collisions').id)?.set(1001, collisions.bytes, collisions.packets);
}

describe('hw-test — counter restore', () => {
  it('bmv2: the bytes BMv2 counts in the PACKETS counter ct_collisions are put back, so a run leaves the cell as it found it', async () => {
    sim = await startEdgeSim('bmv2');
    await load(sim);
    let peak = 0n;
    const r = await runAgainstSim(sim, 'bmv2', {
      pushPipeline: false,
      groups: ['differential'],
      onProgress: (e) => {
        if (e.kind === 'check' && sim) peak = sim.state.counter('ct_collisions', 1001).bytes > peak ? sim.state.counter('ct_collisions', 1001).bytes : peak;
      },
    });
    expect(peak).toBeGreaterThan(0n);
    expect(outcomes(r)['cleanup/undo']).toBe('PASS');
    expect(sim.state.counter('ct_collisions', 1001)).toEqual({ bytes: 0n, packets: 0n });
  });

  it('bmv2: a byte count a PACKETS counter held before the run cannot be written back — the cleanup check FAILs naming the cell, both values and why', async () => {
    sim = await startEdgeSim('bmv2');
    await load(sim, { bytes: 1112n, packets: 0n });
    const r = await runAgainstSim(sim, 'bmv2', { pushPipeline: false, groups: ['differential'] });
    const cleanup = r.groups.find((g) => g.id === 'cleanup')?.checks[0];
    expect(cleanup?.status).toBe('FAIL');
    const text = cleanup?.diff.join('\n') ?? '';
    expect(text).toMatch(/ct_collisions\[1001\] \(unit packets\) held 0 packets \/ 1112 bytes before the run, 0 packets \/ 0 bytes after the restore/);
    expect(text).toMatch(/MODIFY writes only the counts of the counter's unit/);
  });
});
