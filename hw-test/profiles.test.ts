/**
 * The conformance suite of issue 3, driven through p4runtime-ts by hw-test: one run per sim
 * profile, asserting every check's outcome — what each profile lacks is UNSUPPORTED with the
 * target's own answer, everything else PASSes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SimProfileName, SimSwitch } from '../sim/index.js';
import { HW_TEST_GROUPS } from './groups/registry.js';
import { outcomes } from './report/types.js';
import type { CheckStatus, HwTestReport } from './report/types.js';
import { runAgainstSim } from './testing/run-against-sim.js';
import { startEdgeSim } from './testing/sim-target.js';

const ALL_CHECKS = [
  'conformance/capabilities', 'conformance/arbitration-primary', 'conformance/arbitration-duplicate-id', 'conformance/arbitration-backup',
  'conformance/pipeline-get', 'conformance/pipeline-set', 'conformance/default-actions', 'conformance/table-write-read',
  'conformance/table-update-errors', 'conformance/table-ternary', 'conformance/counter-read', 'conformance/counter-modify',
  'conformance/direct-counter', 'conformance/digest', 'conformance/idle-timeout', 'conformance/packet-io',
  'conformance/register-entry-read', 'conformance/register-entry-write', 'conformance/inband-slot',
  'differential/inject-workload', 'differential/conntrack-slots', 'differential/dirty-bitmap', 'differential/change-logs', 'differential/counters',
  'state-access/migration-ops-p4runtime', 'state-access/migration-ops-inband',
  'placement/hash-functions', 'placement/contract-placement', 'placement/target-placement',
  'state-access/probe', 'state-access/backend-p4runtime', 'state-access/backend-inband', 'state-access/backends-agree',
  'cleanup/undo',
];

/** The expected outcome table: PASS unless listed. */
const UNSUPPORTED: Readonly<Record<SimProfileName, readonly string[]>> = {
  full: [],
  bmv2: ['conformance/register-entry-read', 'conformance/register-entry-write', 'state-access/backend-p4runtime', 'state-access/migration-ops-p4runtime', 'state-access/backends-agree'],
  'stratum-tofino': ['conformance/idle-timeout'],
};

function expected(profile: SimProfileName): Record<string, CheckStatus> {
  return Object.fromEntries(ALL_CHECKS.map((c) => [c, UNSUPPORTED[profile].includes(c) ? 'UNSUPPORTED' : 'PASS']));
}

function check(r: HwTestReport, key: string) {
  const [g, id] = key.split('/');
  const c = r.groups.find((x) => x.id === g)?.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${key}`);
  return c;
}

/** Every non-PASS check with its detail, so a failing assertion says why. */
function explain(r: HwTestReport): string {
  return r.groups.flatMap((g) => g.checks.filter((c) => c.status !== 'PASS').map((c) => `${g.id}/${c.id} ${c.status}: ${c.code} ${c.message} — ${c.detail}\n${c.diff.join('\n')}`)).join('\n');
}

let sim: SimSwitch | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('hw-test — conformance suite per sim profile', () => {
  it('runs the groups of the registry in order, then the cleanup', async () => {
    sim = await startEdgeSim('full');
    const r = await runAgainstSim(sim, 'full');
    expect(r.groups.map((g) => g.id)).toEqual([...HW_TEST_GROUPS.filter((g) => g.id !== 'migration').map((g) => g.id), 'cleanup']);
    expect(outcomes(r), explain(r)).toEqual(expected('full'));
    expect(r.summary).toEqual({ passed: ALL_CHECKS.length, failed: 0, unsupported: 0, total: ALL_CHECKS.length });
    expect(check(r, 'conformance/capabilities').detail).toContain('1.4.0');
  });

  it('bmv2: RegisterEntry is UNSUPPORTED with BMv2\'s own UNIMPLEMENTED answers; everything else passes', async () => {
    sim = await startEdgeSim('bmv2');
    const r = await runAgainstSim(sim, 'bmv2');
    expect(outcomes(r), explain(r)).toEqual(expected('bmv2'));
    expect(check(r, 'conformance/register-entry-read')).toMatchObject({ code: 'UNIMPLEMENTED', message: 'Register reads are not supported yet' });
    expect(check(r, 'conformance/register-entry-write')).toMatchObject({ code: 'UNIMPLEMENTED', message: 'Register writes are not supported yet' });
    expect(check(r, 'state-access/backend-p4runtime')).toMatchObject({ code: 'UNIMPLEMENTED', message: 'Register reads are not supported yet' });
    expect(check(r, 'conformance/arbitration-duplicate-id')).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'Election id already exists' });
    expect(check(r, 'conformance/arbitration-backup')).toMatchObject({ code: 'PERMISSION_DENIED', message: 'Not primary' });
    expect(check(r, 'conformance/table-update-errors')).toMatchObject({
      code: 'UNKNOWN',
      message: '#1 ALREADY_EXISTS: Match entry exists, use MODIFY if you wish to change action; #2 NOT_FOUND: Cannot find match entry',
    });
    expect(check(r, 'conformance/capabilities').detail).toContain('1.3.0');
    expect(check(r, 'state-access/probe').detail).toMatch(/^inband: /);
  });

  it('stratum-tofino: no idle-timeout notifications is UNSUPPORTED; registers served, both backends agree', async () => {
    sim = await startEdgeSim('stratum-tofino');
    const r = await runAgainstSim(sim, 'stratum-tofino', { idleWaitMs: 700 });
    expect(outcomes(r), explain(r)).toEqual(expected('stratum-tofino'));
    expect(check(r, 'conformance/idle-timeout').detail).toMatch(/no idle-timeout notification .* within 700 ms: Tofino behind Stratum sends none/);
    expect(check(r, 'state-access/probe').detail).toMatch(/^p4runtime: /);
    expect(check(r, 'state-access/backends-agree').detail).toMatch(/identical through both backends/);
  });

  it('a profile that predicts a feature turns its absence into a FAIL, not UNSUPPORTED', async () => {
    // A BMv2-like target declared as spec-complete: RegisterEntry UNIMPLEMENTED is now a failure.
    sim = await startEdgeSim('bmv2');
    const r = await runAgainstSim(sim, 'full', { groups: ['conformance'] });
    expect(check(r, 'conformance/register-entry-read')).toMatchObject({ status: 'FAIL', code: 'UNIMPLEMENTED', message: 'Register reads are not supported yet' });
    expect(check(r, 'conformance/register-entry-write').status).toBe('FAIL');
  });

  it('an unreachable --peer: the run stops before any group, naming the peer and its flags', async () => {
    sim = await startEdgeSim('full');
    const groups: string[] = [];
    const run = runAgainstSim(sim, 'full', { groups: ['placement'], peer: '127.0.0.1:9', connectTimeoutMs: 300, onProgress: (e) => e.kind === 'group' && groups.push(e.group) });
    await expect(run).rejects.toThrow(/^cannot open a P4Runtime session with the peer 127\.0\.0\.1:9 \(device 0\): UNAVAILABLE: .*check --peer, --peer-device-id and the --peer-tls-\* flags \(without them the peer gets the --tls-\* ones\)/);
    expect(groups).toEqual([]);
  });
});
