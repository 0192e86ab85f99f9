/**
 * `carryover hw-test` end to end against a sim: flags in, progress on stderr, the report on
 * stdout, both report files written and readable, and the exit status the docs promise.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SimSwitch } from '../sim/index.js';
import { runHwTestCommand } from './cli.js';
import type { HwTestReport } from './report/types.js';
import { parseXml } from './testing/xml.js';
import type { XmlElement } from './testing/xml.js';
import { P4INFO_PATH, startEdgeSim, statefulEdgeDeviceConfig } from './testing/sim-target.js';

const dir = mkdtempSync(join(tmpdir(), 'hw-test-cli-'));
const deviceConfig = join(dir, 'stateful_edge.json');
writeFileSync(deviceConfig, statefulEdgeDeviceConfig());

let sim: SimSwitch | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runHwTestCommand(argv, { stdout: (t) => out.push(t), stderr: (l) => err.push(l) });
  return { code, out: out.join(''), err: err.join('\n') };
}

const all = (e: XmlElement, name: string): XmlElement[] => [...(e.name === name ? [e] : []), ...e.children.flatMap((c) => all(c, name))];

describe('carryover hw-test — command line', () => {
  it('passes every applicable check of a bmv2 target, exits 0, writes Markdown and JUnit that parse', async () => {
    sim = await startEdgeSim('bmv2');
    const md = join(dir, 'report.md');
    const xml = join(dir, 'report.xml');
    const r = await run(['--target', sim.address, '--device-id', '0', '--profile', 'bmv2', '--p4info', P4INFO_PATH, '--device-config', deviceConfig, '--push-pipeline', '--flows', '30', '--report', md, '--junit', xml]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('== 1. P4Runtime conformance');
    expect(r.err).toMatch(/ {3}UNSUPPORTED {2}registers: P4Runtime RegisterEntry read \(\d+ ms\)/);
    expect(r.err).toContain('carryover hw-test: 29 passed, 0 failed, 5 unsupported');
    const markdown = readFileSync(md, 'utf8');
    expect(r.out).toBe(markdown);
    expect(markdown).toContain('**29 passed, 0 failed, 5 unsupported**');
    const root = parseXml(readFileSync(xml, 'utf8'));
    expect(root.attrs).toMatchObject({ tests: '34', failures: '0', skipped: '5', errors: '0' });
    expect(all(root, 'testcase')).toHaveLength(34);
    expect(all(root, 'skipped').map((s) => s.attrs.message?.split(' — ')[0])).toEqual([
      'UNIMPLEMENTED: Register reads are not supported yet',
      'UNIMPLEMENTED: Register writes are not supported yet',
      'UNIMPLEMENTED: Register reads are not supported yet',
      'UNIMPLEMENTED: Register reads are not supported yet',
      'only the in-band backend read the state on this target; nothing to compare',
    ]);
    // The checks' deliberate failures (duplicate election id, failing updates) are not logged as errors.
    expect(r.err).not.toMatch(/"level"/);
  });

  it('exits 1 when a check fails, with the target\'s code in the JUnit failure; --json prints the report object', async () => {
    sim = await startEdgeSim('bmv2');
    const xml = join(dir, 'fail.xml');
    // A BMv2 declared spec-complete: its UNIMPLEMENTED register answers are failures now.
    const r = await run(['--target', sim.address, '--device-id', '0', '--profile', 'full', '--p4info', P4INFO_PATH, '--device-config', deviceConfig, '--push-pipeline', '--groups', 'conformance', '--junit', xml, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as HwTestReport & { summaryLine: string };
    expect(j.summary).toMatchObject({ failed: 2 });
    const failures = all(parseXml(readFileSync(xml, 'utf8')), 'failure');
    expect(failures.map((f) => [f.attrs.type, f.attrs.message?.split(' — ')[0]])).toEqual([
      ['UNIMPLEMENTED', 'UNIMPLEMENTED: Register reads are not supported yet'],
      ['UNIMPLEMENTED', 'UNIMPLEMENTED: Register writes are not supported yet'],
    ]);
  });

  it('exits 2 on bad flags, naming the flag', async () => {
    expect(await run(['--target', '127.0.0.1:9559', '--profile', 'bmv2'])).toMatchObject({ code: 2, err: expect.stringMatching(/--p4info: missing; give the P4Info p4c wrote/) });
    expect(await run(['--target', 'x', '--profile', 'bmv2', '--p4info', P4INFO_PATH])).toMatchObject({ code: 2, err: expect.stringMatching(/--target: got "x"; expected HOST:PORT/) });
    expect(await run(['--nope'])).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--nope'.*see 'carryover hw-test --help'/) });
  });

  it('exits 2 on a --report or --junit path it could not write, before connecting (nothing answers at --target: it never tried)', async () => {
    const base = ['--target', '127.0.0.1:9', '--profile', 'bmv2', '--p4info', P4INFO_PATH, '--connect-timeout', '300'];
    expect(await run([...base, '--report', join(dir, 'absent', 'r.md')])).toMatchObject({ code: 2, err: expect.stringMatching(/--report: cannot write '.*absent\/r\.md' \(.*ENOENT.*\); give a file in a writable directory/) });
    expect(await run([...base, '--junit', dir])).toMatchObject({ code: 2, err: expect.stringMatching(/--junit: cannot write .*it is a directory/) });
  });

  it('exits 1 when nothing answers at --target', async () => {
    const r = await run(['--target', '127.0.0.1:9', '--profile', 'bmv2', '--p4info', P4INFO_PATH, '--connect-timeout', '300']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot open a P4Runtime session with the target 127\.0\.0\.1:9 \(device 0\): UNAVAILABLE: .*check --target, --device-id and the --tls-\* flags/);
  });

  it('exits 130 when interrupted (Ctrl-C): the running group finishes, nothing after it starts, the report is printed; the run leaves no SIGINT listener behind', async () => {
    sim = await startEdgeSim('bmv2');
    const before = process.listeners('SIGINT');
    const out: string[] = [];
    const err: string[] = [];
    let groups = 0;
    const code = await runHwTestCommand(['--target', sim.address, '--device-id', '0', '--profile', 'bmv2', '--p4info', P4INFO_PATH, '--device-config', deviceConfig, '--push-pipeline', '--flows', '30', '--json'], {
      stdout: (t) => out.push(t),
      stderr: (l) => {
        err.push(l);
        // The first group starts: Ctrl-C (SIGINT as the process sees it, without a real signal).
        if (l.startsWith('== ') && ++groups === 1) process.emit('SIGINT');
      },
    });
    expect(code, err.join('\n')).toBe(130);
    expect(err.join('\n')).toMatch(/carryover hw-test: interrupted; finishing the current group/);
    expect(err.at(-1)).toMatch(/^carryover hw-test: \d+ passed, \d+ failed, \d+ unsupported.*\(interrupted: not every group ran\)$/);
    const report = JSON.parse(out.join('')) as HwTestReport;
    expect(report.notes.join('\n')).toMatch(/interrupted before group \S+: it and the groups after it were not run/);
    expect(process.listeners('SIGINT')).toEqual(before);
  });

  it('--help lists every flag and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const f of ['--connect-timeout', '--flows', '--seed', '--target', '--device-id', '--profile', '--p4info', '--device-config', '--cpu-port', '--push-pipeline', '--tls-ca', '--tls-cert', '--tls-key', '--report', '--junit', '--json', '--peer', '--peer-device-id', '--peer-tls-ca', '--peer-tls-cert', '--peer-tls-key', '--migration-flows', '--election-id', '--groups']) {
      expect(r.out).toContain(f);
    }
  });
});
