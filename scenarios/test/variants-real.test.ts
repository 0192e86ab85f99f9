/**
 * Opt-in, against the real p4c 1.2.4.8 and BMv2 simple_switch_grpc 1.15.5 (CARRYOVER_P4C,
 * CARRYOVER_BMV2; without them these tests are reported skipped, the variable named in the title):
 * stateful_edge built with p4/include/defines.p4's -D options — a 64-bit last_seen cell
 * (`-DCT_LAST_SEEN_BITS=64`), and twice the slots with the hashes swapped.
 *
 * - p4c compiles the first, and its P4Info is the one the sim derives for it (variantP4InfoText;
 *   real-tools.test.ts checks the second);
 * - on BMv2, `carryover hw-test` passes against both as against the committed build (its model
 *   reads each build's geometry from the P4Info);
 * - on BMv2, an in-band write keeps all 64 bits of the slot's last_seen in that build: the cell
 *   really is as wide as the P4Info says. Against the committed build the plugin refuses the same
 *   value before anything is sent (it does not fit 48 bits).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P4Schema } from 'p4runtime-ts';
import { afterAll, describe, expect, it } from 'vitest';
import { runHwTest } from '../../hw-test/index.js';
import { createEdgePlugin } from '../../plugin/index.js';
import { p4cDefines, variantP4InfoText } from '../../sim/programs/stateful-edge/index.js';
import { LARGER_VARIANT as LARGER, WIDE_SEEN_VARIANT as WIDE } from '../../sim/programs/stateful-edge/test-variants.js';
import { compileP4, realToolsFromEnv, startBmv2 } from '../real-tools.js';
import type { Bmv2Process, CompileOutput } from '../real-tools.js';
import type { CtGeometry } from '../../sim/programs/stateful-edge/index.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const tools = realToolsFromEnv();
const out = mkdtempSync(join(tmpdir(), 'carryover-variants-'));
const COMMITTED_P4INFO = join(repo, 'p4', 'stateful_edge.p4info.txtpb');
const COMMITTED_JSON = join(repo, 'p4', 'stateful_edge.json');
const started: Bmv2Process[] = [];
afterAll(async () => {
  for (const b of started.splice(0)) await b.stop();
  rmSync(out, { recursive: true, force: true });
});

const built = new Map<string, CompileOutput>();
/** A variant, compiled once by the real p4c. */
function compiled(name: string, g: CtGeometry): CompileOutput {
  const got = built.get(name) ?? compileP4(tools.p4c ?? '', join(repo, 'p4', 'stateful_edge.p4'), out, p4cDefines(g), name);
  built.set(name, got);
  return got;
}
const wide = (): CompileOutput => compiled('stateful_edge_wide_seen', WIDE);

/** A BMv2 of ours, stopped after the file's tests. */
async function bmv2(): Promise<Bmv2Process> {
  const b = await startBmv2(tools.bmv2 ?? '');
  started.push(b);
  return b;
}

/** Writes slot 77's last_seen in-band (its other words zero) on a BMv2 running `p4info` + `json`; returns the word read back. */
async function lastSeenRoundTrip(p4info: string, json: string, value: bigint): Promise<bigint> {
  const sw = await bmv2();
  const plugin = createEdgePlugin({ address: sw.address, deviceId: 0, electionId: 10n, p4info: P4Schema.fromText(p4info, 'stateful_edge build'), deviceConfig: new TextEncoder().encode(json), inband: { window: 8 } });
  try {
    await plugin.start();
    const access = plugin.registerAccess;
    expect(access.capabilities().backend).toBe('inband');
    const word = plugin.group.words.findIndex((w) => w.register === 'ct_last_seen');
    const words = plugin.group.words.map((_, i) => (i === word ? value : 0n));
    await access.writeSlots([{ index: 77, words, mask: 1 << word }]);
    const [slot] = await access.readSlots({ indices: [77] });
    return slot?.words[word] ?? -1n;
  } finally {
    await plugin.stop();
  }
}

describe.skipIf(!tools.p4c)(`real p4c — stateful_edge with a 64-bit last_seen cell (${tools.p4cMissing ?? `CARRYOVER_P4C=${tools.p4c}`})`, () => {
  it('real p4c — -DCT_LAST_SEEN_BITS=64 compiles, and its P4Info is the one the sim derives for the variant', () => {
    expect(wide().p4info).toBe(variantP4InfoText(readFileSync(COMMITTED_P4INFO, 'utf8'), WIDE));
  });

  it('real p4c — a last_seen cell narrower than the timestamp is refused by defines.p4\'s check', () => {
    expect(() => compileP4(tools.p4c ?? '', join(repo, 'p4', 'stateful_edge.p4'), out, ['-DCT_LAST_SEEN_BITS=40'], 'stateful_edge_bad_seen')).toThrow(/CT_LAST_SEEN_BITS must be 48\.\.64/);
  });
});

const both = tools.p4c && tools.bmv2;
describe.skipIf(!both)(`real BMv2 — stateful_edge variants (${tools.p4cMissing ?? tools.bmv2Missing ?? `CARRYOVER_P4C=${tools.p4c}, CARRYOVER_BMV2=${tools.bmv2}`})`, () => {
  it.each([
    ['a 64-bit last_seen cell', 'stateful_edge_wide_seen', WIDE],
    ['twice the slots, hashes swapped', 'stateful_edge_larger', LARGER],
  ] as const)('real BMv2 — hw-test passes against a variant (%s): 0 failed, UNSUPPORTED only what needs P4Runtime register access', async (_what, name, g) => {
    const sw = await bmv2();
    const build = compiled(name, g);
    const p4info = join(out, `${name}.hw.p4info.txtpb`);
    const json = join(out, `${name}.hw.json`);
    writeFileSync(p4info, build.p4info);
    writeFileSync(json, build.json);
    const report = await runHwTest({ target: sw.address, deviceId: 0, profile: 'bmv2', p4info, deviceConfig: json, pushPipeline: true, cpuPort: 255 });
    const notPass = report.groups.flatMap((c) => c.checks.filter((x) => x.status === 'FAIL').map((x) => `${c.id}/${x.id}: ${x.message} — ${x.detail}`));
    expect(report.summary.failed, notPass.join('\n')).toBe(0);
    const unsupported = report.groups.flatMap((c) => c.checks.filter((x) => x.status === 'UNSUPPORTED').map((x) => `${c.id}/${x.id}`));
    expect(unsupported.sort()).toEqual(['conformance/register-entry-read', 'conformance/register-entry-write', 'state-access/backend-p4runtime', 'state-access/backends-agree', 'state-access/migration-ops-p4runtime'].sort());
  }, 300_000);

  it('real BMv2 — an in-band write keeps all 64 bits of last_seen in the variant; the committed build\'s plugin refuses the value (48 bits)', async () => {
    const value = (0xabn << 56n) | 0x1234_5678_9abcn;
    expect(await lastSeenRoundTrip(wide().p4info, wide().json, value)).toBe(value);
    expect(await lastSeenRoundTrip(wide().p4info, wide().json, value >> 8n)).toBe(value >> 8n);
    await expect(lastSeenRoundTrip(readFileSync(COMMITTED_P4INFO, 'utf8'), readFileSync(COMMITTED_JSON, 'utf8'), value)).rejects.toThrow(/word 5 \(ct_last_seen\) = \d+ does not fit 48 bits/);
  }, 120_000);
});
