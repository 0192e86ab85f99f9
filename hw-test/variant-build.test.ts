/**
 * hw-test against a build of stateful_edge made with defines.p4's -D options (twice the slots,
 * hashes swapped): the reference model reads the build's geometry from the P4Info hw-test is
 * given, as the sim serving it does, so the differential and placement groups pass. Before, the
 * model ran the committed geometry and every slot comparison failed against such a build.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SimSwitch } from '../sim/index.js';
import { variantP4InfoText } from '../sim/programs/stateful-edge/index.js';
import { LARGER_VARIANT as LARGER } from '../sim/programs/stateful-edge/test-variants.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { P4INFO_PATH, startEdgeSim } from './testing/sim-target.js';

const dir = mkdtempSync(join(tmpdir(), 'carryover-hw-variant-'));
const larger = join(dir, 'stateful_edge_larger.p4info.txtpb');
writeFileSync(larger, variantP4InfoText(readFileSync(P4INFO_PATH, 'utf8'), LARGER));

let sim: SimSwitch | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hw-test — a variant build of stateful_edge', () => {
  it('hw-test — a build with twice the slots and swapped hashes passes every check on a sim running it: the model is built as the P4Info says', async () => {
    sim = await startEdgeSim('full');
    const r = await runAgainstSim(sim, 'full', { p4info: larger });
    const bad = r.groups.flatMap((g) => g.checks.filter((c) => c.status !== 'PASS').map((c) => `${g.id}/${c.id} ${c.status}: ${c.message} — ${c.detail}`));
    expect(bad).toEqual([]);
    const slots = r.groups.find((g) => g.id === 'differential')?.checks.find((c) => c.id === 'conntrack-slots');
    expect(slots?.status).toBe('PASS');
  }, 120_000);
});
