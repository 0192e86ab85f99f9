/**
 * `carryover hw-test`: validate a switch. Parses the flags into HwTestOptions, runs the suite with
 * progress on stderr, prints the Markdown report (or JSON with --json) on stdout, and writes the
 * report files asked for. Exit status: 0 no check failed, 1 a check failed (or the run broke),
 * 2 bad flags or a refusal (the target's pipeline is missing or not the expected one).
 */
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseFlags } from '../plugin/cli-flags.js';
import { createLogger } from 'p4runtime-ts';
import type { LogLevel } from 'p4runtime-ts';
import { HwTestError, badOption } from './errors.js';
import { HW_TEST_GROUP_IDS } from './group-ids.js';
import { DEFAULT_HW_TEST_OPTIONS } from './options.js';
import type { HwTestOptions, HwTestProgress, HwTestTls } from './options.js';
import { HW_TEST_PROFILE_NAMES } from './profiles.js';
import type { HwTestProfileName } from './profiles.js';
import { renderJson } from './report/json.js';
import { renderJunit } from './report/junit.js';
import { renderMarkdown } from './report/markdown.js';
import { summaryLine } from './report/types.js';
import { runHwTest } from './run-hw-test.js';

/** Where the command writes (tests pass their own). */
export interface HwTestCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (line: string) => void;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Interrupted by Ctrl-C (the shell's 128 + SIGINT), after the cleanup ran. */
const EXIT_INTERRUPTED = 130;

const d = DEFAULT_HW_TEST_OPTIONS;
const HELP = `usage: carryover hw-test --target HOST:PORT --profile ${HW_TEST_PROFILE_NAMES.join('|')} --p4info FILE [options]

Validates a P4Runtime switch running stateful_edge: P4Runtime conformance, the pipeline's
behaviour against the model, slot placement, and state access through every backend.
Every write is reverted at the end.

required:
  --target HOST:PORT       the switch's P4Runtime server
  --profile NAME           what the switch is: ${HW_TEST_PROFILE_NAMES.join(', ')}
  --p4info FILE            the P4Info p4c wrote (text or binary)

options:
  --device-id N            P4Runtime device id (default ${d.deviceId})
  --device-config FILE     the target binary (BMv2: the JSON p4c-bm2-ss wrote); lets the cookie be checked
  --push-pipeline          push the pipeline when the target's is missing or different (needs --device-config);
                           without it hw-test refuses such a target (exit 2)
  --cpu-port N             the switch's CPU port (default ${d.cpuPort}, the P4 program's CPU_PORT)
  --election-id N          our election id (default: from the clock); at least 2
  --tls-ca FILE            verify the switch's certificate with this CA (TLS)
  --tls-cert FILE          our client certificate …
  --tls-key FILE           … and key (mutual TLS, with --tls-ca)
  --fixture FILE           a JSON object over the default fixture (ports, addresses, VM ids hw-test
                           installs), e.g. {"vms":[{"addr":"10.250.0.5","port":11,"vmId":1001},
                           {"addr":"10.250.0.6","port":12,"vmId":1002}],"uplinkPort":110}
  --groups LIST            comma-separated: ${HW_TEST_GROUP_IDS.join(', ')} (default: all but migration)
  --peer HOST:PORT         a second switch running the same pipeline: adds the migration group (a VM's
                           flows moved to the peer and back, a rollback, traffic checked on both)
  --peer-device-id N       the peer's device id (default: --device-id); --push-pipeline and --cpu-port apply to it too
  --peer-tls-ca FILE       the peer's TLS, as --tls-* for the target (default: the target's --tls-* flags)
  --peer-tls-cert FILE     …
  --peer-tls-key FILE      …
  --peer-plaintext         the peer speaks P4Runtime without TLS (a target with --tls-* flags, a peer without)
  --migration-flows N      TCP flows the migration group moves (default ${d.migrationFlows})
  --flows N                flows in the workload (default ${d.flows})
  --seed N                 workload seed (default ${d.seed})
  --report FILE            write the Markdown report here too
  --junit FILE             write a JUnit XML report here
  --json                   print the report as JSON instead of Markdown
  --connect-timeout MS     how long to wait for the switch to answer arbitration (default ${d.connectTimeoutMs})
  --log-level LEVEL        debug | info | warn | error (default error; logs go to stderr)
  -h, --help               this help

exit status: 0 no check failed; 1 a check failed, or the run broke off (the target did not answer,
the fixture could not be installed); 2 bad flags or refused target; 130 interrupted (Ctrl-C: the
running group finishes, then every write is reverted and the report printed; a second Ctrl-C stops
at once)`;

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw badOption(flag, `got '${v}'; expected a non-negative integer`);
  return Number(v);
}

/** The TLS files given by flags `${prefix}ca`, `${prefix}cert`, `${prefix}key`. */
function tlsFlags(values: Record<string, string | boolean | undefined>, prefix: string): HwTestTls {
  const [ca, cert, key] = [str(values[`${prefix}ca`]), str(values[`${prefix}cert`]), str(values[`${prefix}key`])];
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** The --fixture file: a JSON object whose fields replace the default fixture's (checked by parseFixtureSpec). */
function fixtureFile(path: string | undefined): Pick<HwTestOptions, 'fixture'> {
  if (path === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw badOption('--fixture', `cannot read '${path}' as JSON (${(e as Error).message}); give a file holding a JSON object such as {"uplinkPort": 110}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badOption('--fixture', `'${path}' holds ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}; expected a JSON object over the default fixture, such as {"uplinkPort": 110}`);
  return { fixture: parsed as NonNullable<HwTestOptions['fixture']> };
}

/** Turns parsed flags into HwTestOptions (validation of values is parseHwTestOptions'). */
function optionsFrom(values: Record<string, string | boolean | undefined>, onProgress: (e: HwTestProgress) => void, stderr: (l: string) => void): HwTestOptions {
  const target = str(values['target']);
  const profile = str(values['profile']);
  const p4info = str(values['p4info']);
  if (target === undefined) throw badOption('--target', 'missing; give the switch\'s P4Runtime server, e.g. --target 127.0.0.1:9559');
  if (profile === undefined) throw badOption('--profile', `missing; say what the switch is: ${HW_TEST_PROFILE_NAMES.join(', ')}`);
  if (p4info === undefined) throw badOption('--p4info', 'missing; give the P4Info p4c wrote, e.g. --p4info stateful_edge.p4info.txtpb');
  // The checks provoke errors on purpose (duplicate election ids, failing updates): below 'error' the log shows them.
  const level = (str(values['log-level']) ?? 'error') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw badOption('--log-level', `got '${level}'; expected debug, info, warn or error`);
  const tls = tlsFlags(values, 'tls-');
  const peerTls = tlsFlags(values, 'peer-tls-');
  const groups = str(values['groups']);
  return {
    target,
    profile: profile as HwTestProfileName,
    p4info,
    ...(str(values['device-id']) !== undefined ? { deviceId: str(values['device-id']) } : {}),
    ...(str(values['device-config']) !== undefined ? { deviceConfig: str(values['device-config']) } : {}),
    ...(str(values['cpu-port']) !== undefined ? { cpuPort: int('--cpu-port', str(values['cpu-port'])) } : {}),
    ...(str(values['election-id']) !== undefined ? { electionId: str(values['election-id']) } : {}),
    ...(groups !== undefined ? { groups: groups.split(',').map((g) => g.trim()).filter((g) => g !== '') } : {}),
    ...(str(values['peer']) !== undefined ? { peer: str(values['peer']) } : {}),
    ...(str(values['peer-device-id']) !== undefined ? { peerDeviceId: str(values['peer-device-id']) } : {}),
    ...(str(values['migration-flows']) !== undefined ? { migrationFlows: int('--migration-flows', str(values['migration-flows'])) } : {}),
    ...(str(values['flows']) !== undefined ? { flows: int('--flows', str(values['flows'])) } : {}),
    ...(str(values['seed']) !== undefined ? { seed: int('--seed', str(values['seed'])) } : {}),
    ...(str(values['connect-timeout']) !== undefined ? { connectTimeoutMs: int('--connect-timeout', str(values['connect-timeout'])) } : {}),
    pushPipeline: values['push-pipeline'] === true,
    ...fixtureFile(str(values['fixture'])),
    tls,
    ...(Object.keys(peerTls).length > 0 ? { peerTls } : {}),
    ...(values['peer-plaintext'] === true ? { peerPlaintext: true } : {}),
    logger: createLogger({ level, fields: { component: 'hw-test' }, sink: (r) => stderr(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) }),
    onProgress,
  };
}

function progressPrinter(stderr: (l: string) => void): (e: HwTestProgress) => void {
  return (e) => {
    if (e.kind === 'group') stderr(`== ${e.title}`);
    else if (e.kind === 'check') stderr(`   ${e.status.padEnd(12)} ${e.name} (${Math.round(e.durationMs)} ms)`);
    else stderr(`   ${e.message}`);
  };
}

function writeFile(flag: string, path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw badOption(flag, `cannot write '${path}' (${(e as Error).message}); give a writable path`);
  }
}

/** Refuses a report path that could not be written, before the run touches the switch. */
function checkWritable(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new Error('it is a directory');
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    throw badOption(flag, `cannot write '${path}' (${(e as Error).message}); give a file in a writable directory`);
  }
}

/** Runs `carryover hw-test` with `argv` (the arguments after `hw-test`) and resolves with the exit status. */
export async function runHwTestCommand(
  argv: string[],
  io: HwTestCommandIo = { stdout: (t) => process.stdout.write(t), stderr: (l) => process.stderr.write(`${l}\n`) },
): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseFlags({
      args: argv,
      options: {
        target: { type: 'string' },
        'device-id': { type: 'string' },
        profile: { type: 'string' },
        p4info: { type: 'string' },
        'device-config': { type: 'string' },
        'cpu-port': { type: 'string' },
        'push-pipeline': { type: 'boolean' },
        'tls-ca': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'election-id': { type: 'string' },
        groups: { type: 'string' },
        fixture: { type: 'string' },
        peer: { type: 'string' },
        'peer-device-id': { type: 'string' },
        'peer-tls-ca': { type: 'string' },
        'peer-tls-cert': { type: 'string' },
        'peer-tls-key': { type: 'string' },
        'peer-plaintext': { type: 'boolean' },
        'migration-flows': { type: 'string' },
        flows: { type: 'string' },
        seed: { type: 'string' },
        'connect-timeout': { type: 'string' },
        report: { type: 'string' },
        junit: { type: 'string' },
        json: { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    io.stderr(`carryover hw-test: ${e instanceof Error ? e.message : String(e)} (see 'carryover hw-test --help')`);
    return EXIT_USAGE;
  }
  if (values['help']) {
    io.stdout(`${HELP}\n`);
    return EXIT_OK;
  }
  // Ctrl-C: no further group starts and every write is reverted, so an interrupted run does not
  // leave its fixture on the switch (a second Ctrl-C stops at once, leaving it as it is).
  const interrupt = new AbortController();
  const stopAtOnce = (): never => process.exit(EXIT_INTERRUPTED);
  const onSigint = (): void => {
    io.stderr('carryover hw-test: interrupted; finishing the current group, then reverting every write (Ctrl-C again to stop at once and leave the switch as it is)');
    interrupt.abort();
    process.once('SIGINT', stopAtOnce);
  };
  process.once('SIGINT', onSigint);
  try {
    const options = { ...optionsFrom(values, progressPrinter(io.stderr), io.stderr), signal: interrupt.signal };
    const reportPath = str(values['report']);
    const junitPath = str(values['junit']);
    checkWritable('--report', reportPath);
    checkWritable('--junit', junitPath);
    const report = await runHwTest(options);
    const md = renderMarkdown(report);
    if (reportPath !== undefined) writeFile('--report', reportPath, md);
    if (junitPath !== undefined) writeFile('--junit', junitPath, renderJunit(report));
    io.stdout(values['json'] === true ? renderJson(report) : md);
    // Interrupted in the last group, every group still ran (and was finished): say only what is true.
    const cut = report.notes.some((n) => n.startsWith('interrupted before group'));
    io.stderr(`carryover hw-test: ${summaryLine(report.summary)}${interrupt.signal.aborted ? (cut ? ' (interrupted: not every group ran)' : ' (interrupted during the last group; every group ran)') : ''}`);
    if (interrupt.signal.aborted) return EXIT_INTERRUPTED;
    return report.summary.failed === 0 ? EXIT_OK : EXIT_FAILED;
  } catch (e) {
    const err = e instanceof HwTestError ? e : new HwTestError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
    io.stderr(`carryover hw-test: ${err.message}`);
    return err.code === 'BAD_OPTIONS' || err.code === 'REFUSED' ? EXIT_USAGE : EXIT_FAILED;
  } finally {
    // Both: a run that ended after one Ctrl-C must not exit its host process on the next.
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGINT', stopAtOnce);
  }
}
