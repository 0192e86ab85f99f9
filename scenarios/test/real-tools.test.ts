/**
 * Opt-in checks against the real p4c 1.2.4.8 and BMv2 simple_switch_grpc 1.15.5: set
 * CARRYOVER_P4C (path of p4c-bm2-ss) and CARRYOVER_BMV2 (path of simple_switch_grpc). Without them
 * these tests are reported skipped, with the variable named in the test's title.
 *
 * - every P4 program compiles, and the committed P4Info and BMv2 JSON of p4/ are p4c's current
 *   output (the JSON compared with p4c's install paths made neutral);
 * - `carryover hw-test` against a BMv2 this test starts on 127.0.0.1 (pipeline pushed with
 *   VERIFY_AND_COMMIT) passes, hard traffic included: 0 failed, and UNSUPPORTED only for BMv2's
 *   missing P4Runtime register access.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runHwTest } from '../../hw-test/index.js';
import type { HwTestOptions, HwTestReport } from '../../hw-test/index.js';
import { TestPki, opensslAvailable } from '../../plugin/testing/test-pki.js';
import { compileP4, normaliseBmv2Json, realToolsFromEnv, startBmv2 } from '../real-tools.js';
import { p4cDefines, variantP4InfoText } from '../../sim/programs/stateful-edge/index.js';
import { LARGER_VARIANT as larger } from '../../sim/programs/stateful-edge/test-variants.js';
import type { Bmv2Process } from '../real-tools.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const tools = realToolsFromEnv();
const out = mkdtempSync(join(tmpdir(), 'carryover-p4c-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A P4Info text with its ids blanked: for programs whose committed ids are hand-chosen. */
// Comment lines are not P4Info content (the sim's file names its generator; p4c names the proto).
const withoutIds = (text: string): string[] => text.replace(/\b(id|direct_table_id|direct_resource_ids): \d+/g, '$1: _').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).sort();

describe.skipIf(!tools.p4c)(`real p4c — compiles every program, the committed outputs are its own (${tools.p4cMissing ?? `CARRYOVER_P4C=${tools.p4c}`})`, () => {
  it('real p4c — p4/stateful_edge.p4 compiles to exactly the committed P4Info and BMv2 JSON', () => {
    const got = compileP4(tools.p4c ?? '', join(repo, 'p4', 'stateful_edge.p4'), out);
    expect(got.p4info).toBe(readFileSync(join(repo, 'p4', 'stateful_edge.p4info.txtpb'), 'utf8'));
    expect(normaliseBmv2Json(got.json)).toEqual(normaliseBmv2Json(readFileSync(join(repo, 'p4', 'stateful_edge.json'), 'utf8')));
  });

  it('real p4c — a variant (-D: larger table, swapped hashes) compiles, and its P4Info is the one the sim derives for it', () => {
    const got = compileP4(tools.p4c ?? '', join(repo, 'p4', 'stateful_edge.p4'), out, p4cDefines(larger), 'stateful_edge_larger');
    expect(got.p4info).toBe(variantP4InfoText(readFileSync(join(repo, 'p4', 'stateful_edge.p4info.txtpb'), 'utf8'), larger));
  });

  it('real p4c — a variant whose sizes do not add up is refused by defines.p4\'s checks', () => {
    expect(() => compileP4(tools.p4c ?? '', join(repo, 'p4', 'stateful_edge.p4'), out, ['-DCT_SLOTS=1000'], 'stateful_edge_bad')).toThrow(/CT_SLOTS must be CT_REGION0_SIZE \+ CT_REGION1_SIZE/);
  });

  it('real p4c — the sim\'s l2_echo.p4 compiles, and its P4Info names what the committed one names (ids there are the sim\'s own)', () => {
    const dir = join(repo, 'sim', 'programs', 'l2-echo');
    const got = compileP4(tools.p4c ?? '', join(dir, 'l2_echo.p4'), out);
    expect(withoutIds(got.p4info)).toEqual(withoutIds(readFileSync(join(dir, 'l2_echo.p4info.txtpb'), 'utf8')));
  });
});

/** hw-test against a real BMv2 at `address` running the committed build, pushed by the run. */
function onBmv2(address: string): HwTestOptions {
  return { target: address, deviceId: 0, profile: 'bmv2', p4info: join(repo, 'p4', 'stateful_edge.p4info.txtpb'), deviceConfig: join(repo, 'p4', 'stateful_edge.json'), pushPipeline: true, cpuPort: 255 };
}

// Real BMv2 runs the committed BMv2 JSON (p4c's output, checked above when CARRYOVER_P4C is set).
describe.skipIf(!tools.bmv2)(`real BMv2 — hw-test with the hard traffic passes (${tools.bmv2Missing ?? `CARRYOVER_BMV2=${tools.bmv2}`})`, () => {
  let bmv2: Bmv2Process | undefined;
  afterAll(async () => {
    await bmv2?.stop();
  });

  it('real BMv2 — 0 failed; UNSUPPORTED exactly the checks that need P4Runtime register access, which BMv2 answers UNIMPLEMENTED', async () => {
    bmv2 = await startBmv2(tools.bmv2 ?? '');
    const report: HwTestReport = await runHwTest(onBmv2(bmv2.address));
    const notPass = report.groups.flatMap((g) => g.checks.filter((c) => c.status !== 'PASS').map((c) => `${g.id}/${c.id} ${c.status} ${c.code}: ${c.message} — ${c.detail}\n${c.diff.join('\n')}`));
    expect(report.summary.failed, notPass.join('\n')).toBe(0);
    const unsupported = report.groups.flatMap((g) => g.checks.filter((c) => c.status === 'UNSUPPORTED').map((c) => `${g.id}/${c.id}`));
    expect(unsupported.sort()).toEqual(['conformance/register-entry-read', 'conformance/register-entry-write', 'state-access/backend-p4runtime', 'state-access/backends-agree', 'state-access/migration-ops-p4runtime'].sort());
    const reg = report.groups.flatMap((g) => g.checks).filter((c) => c.id.startsWith('register-entry-'));
    expect(reg.map((c) => c.code)).toEqual(['UNIMPLEMENTED', 'UNIMPLEMENTED']);
    const inject = report.groups.find((g) => g.id === 'differential')?.checks.find((c) => c.id === 'inject-workload');
    expect(inject?.detail).toMatch(/hard-traffic/);
    expect(inject?.detail).not.toMatch(/self-check/);
  }, 300_000);
});

// Two real BMv2s: the whole suite against the first, and the migration group moving a VM to the second and back.
describe.skipIf(!tools.bmv2)(`real BMv2 — hw-test's migration group between two switches (${tools.bmv2Missing ?? `CARRYOVER_BMV2=${tools.bmv2}`})`, () => {
  const switches: Bmv2Process[] = [];
  afterAll(async () => {
    await Promise.all(switches.map((b) => b.stop()));
  });

  it('real BMv2 --peer — every migration check passes (moved, conserved, cleaned, traffic, rollback, round trip) after the other groups ran, and the undo reverts every write on both', async () => {
    switches.push(await startBmv2(tools.bmv2 ?? ''), await startBmv2(tools.bmv2 ?? ''));
    const [target, peer] = switches as [Bmv2Process, Bmv2Process];
    const report: HwTestReport = await runHwTest({ ...onBmv2(target.address), peer: peer.address });
    const migration = report.groups.find((g) => g.id === 'migration')?.checks ?? [];
    const notPass = migration.filter((c) => c.status !== 'PASS').map((c) => `${c.id} ${c.status}: ${c.detail}\n${c.diff.join('\n')}`);
    expect(notPass, notPass.join('\n')).toEqual([]);
    expect(migration.map((c) => c.id)).toEqual(['setup', 'commit', 'flows-moved', 'counters-conserved', 'source-cleaned', 'traffic-after', 'rollback', 'round-trip']);
    expect(report.summary.failed).toBe(0);
    expect(report.groups.find((g) => g.id === 'cleanup')?.checks[0]?.status).toBe('PASS');
  }, 300_000);
});

// P4Runtime over mutual TLS on the real switch (BMv2's --grpc-server-ssl --grpc-server-with-client-auth).
describe.skipIf(!tools.bmv2 || !opensslAvailable())(`real BMv2 — P4Runtime over mutual TLS (${tools.bmv2Missing ?? (opensslAvailable() ? `CARRYOVER_BMV2=${tools.bmv2}` : 'needs openssl')})`, () => {
  const pki = new TestPki();
  let bmv2: Bmv2Process | undefined;
  afterAll(async () => {
    await bmv2?.stop();
    pki.dispose();
  });

  it('real BMv2 mTLS — hw-test connects with a client certificate and its conformance group passes; without one the switch refuses and hw-test says so', async () => {
    const ca = pki.ca('bmv2-ca');
    const server = pki.issue(ca, { cn: 'localhost', usage: 'server', san: ['DNS:localhost', 'IP:127.0.0.1'] });
    const client = pki.issue(ca, { cn: 'carryover-hw-test', usage: 'client' });
    const caPath = pki.file('bmv2-ca.pem', ca.certPem);
    bmv2 = await startBmv2(tools.bmv2 ?? '', 20_000, { ca: caPath, cert: pki.file('bmv2.pem', server.certPem), key: pki.file('bmv2.key', server.keyPem), clientAuth: true });
    const base = {
      target: bmv2.address, deviceId: 0, profile: 'bmv2' as const, p4info: join(repo, 'p4', 'stateful_edge.p4info.txtpb'),
      deviceConfig: join(repo, 'p4', 'stateful_edge.json'), pushPipeline: true, cpuPort: 255, groups: ['conformance'], connectTimeoutMs: 5_000,
    };
    const refused = await runHwTest({ ...base, tls: { ca: caPath } }).then((r) => r, (e: unknown) => e);
    const refusedText = refused instanceof Error ? refused.message : JSON.stringify(refused);
    expect(refused instanceof Error ? 1 : (refused as HwTestReport).summary.failed).toBeGreaterThan(0);
    expect(refusedText).toMatch(new RegExp(bmv2.address.replace(/\./g, '\\.')));
    const report = await runHwTest({ ...base, tls: { ca: caPath, cert: pki.file('client.pem', client.certPem), key: pki.file('client.key', client.keyPem) } });
    const notPass = report.groups.flatMap((g) => g.checks.filter((c) => c.status === 'FAIL').map((c) => `${g.id}/${c.id}: ${c.message}`));
    expect(report.summary.failed, notPass.join('\n')).toBe(0);
    expect(report.summary.passed).toBeGreaterThan(5);
  }, 300_000);
});
