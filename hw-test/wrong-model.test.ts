/**
 * A deliberately wrong model makes the differential group FAIL with a readable diff: which slot,
 * which register and field, what the model expected and what the target holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SimSwitch } from '../sim/index.js';
import { renderMarkdown } from './report/markdown.js';
import { outcomes } from './report/types.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { startEdgeSim } from './testing/sim-target.js';
import { DOUBLE_COUNTING_MODEL, SWAPPED_WAYS_MODEL } from './testing/wrong-models.js';

let sim: SimSwitch | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('hw-test — differential group against a wrong model', () => {
  it('fails conntrack-slots with the first differing slots spelled out field by field', async () => {
    sim = await startEdgeSim('full');
    const r = await runAgainstSim(sim, 'full', { groups: ['differential'], model: SWAPPED_WAYS_MODEL, maxDiffs: 3 });
    const o = outcomes(r);
    expect(o['differential/inject-workload']).toBe('PASS');
    expect(o['differential/conntrack-slots']).toBe('FAIL');
    // The model still chose the same slots; only where it stored them differs, so counters agree.
    expect(o['differential/counters']).toBe('PASS');
    expect(o['cleanup/undo']).toBe('PASS');
    const c = r.groups[0]?.checks.find((x) => x.id === 'conntrack-slots');
    expect(c?.detail).toMatch(/^\d+ of \d+ slots differ between the model and the target/);
    const diff = c?.diff ?? [];
    // Each flow shows up twice: its slot (target has it, model not) and the neighbour (the reverse).
    expect(diff[0]).toMatch(/^slot \d+: model (empty|10\.250\.0\.[56]:\d+ ↔ 198\.18\.0\.\d+:\d+ tcp [A-Z_]+, vm 100[12]); target (empty|10\.250\.0\.[56]:\d+ ↔ 198\.18\.0\.\d+:\d+ tcp [A-Z_]+, vm 100[12])$/);
    expect(diff).toContainEqual(expect.stringMatching(/^ {2}ct_key_addr\.vm_addr: model (0\.0\.0\.0, target 10\.250\.0\.[56]|10\.250\.0\.[56], target 0\.0\.0\.0)$/));
    expect(diff).toContainEqual(expect.stringMatching(/^ {2}ct_state\.state: model [A-Z_]+ \(\d\), target [A-Z_]+ \(\d\)$/));
    expect(diff.filter((l) => l.startsWith('slot '))).toHaveLength(3);
    expect(diff.at(-1)).toMatch(/^… and \d+ more slot\(s\) differ$/);
    const md = renderMarkdown(r);
    expect(md).toContain('## Differences');
    expect(md).toContain(diff[0]);
  });

  it('fails change-logs when the changes the target numbers are not the changes the model counts', async () => {
    sim = await startEdgeSim('full');
    const right = outcomesAndDetail(await runAgainstSim(sim, 'full', { groups: ['differential'] }));
    expect(right.outcome).toBe('PASS');
    // The workload tracks VMs: the pass names how many numbered changes both sides agreed on.
    expect(right.detail).toMatch(/, [1-9]\d* numbered changes: the same slots in the same order$/);
    await sim.stop();
    sim = await startEdgeSim('full');
    const r = await runAgainstSim(sim, 'full', { groups: ['differential'], model: DOUBLE_COUNTING_MODEL });
    const wrong = outcomesAndDetail(r);
    expect(wrong.outcome).toBe('FAIL');
    expect(wrong.diff).toContainEqual(expect.stringMatching(/^tracker \d+: model counted (\d+) changes, target \d+$/));
    // Only the count differs: the slots and what the logs hold agree.
    expect(outcomes(r)['differential/conntrack-slots']).toBe('PASS');
  });
});

/** The change-logs check of a run: its outcome, detail and diff. */
function outcomesAndDetail(r: Awaited<ReturnType<typeof runAgainstSim>>): { outcome: string | undefined; detail: string | undefined; diff: readonly string[] } {
  const c = r.groups.find((g) => g.id === 'differential')?.checks.find((x) => x.id === 'change-logs');
  return { outcome: outcomes(r)['differential/change-logs'], detail: c?.detail, diff: c?.diff ?? [] };
}
