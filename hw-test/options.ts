/**
 * Options of a hw-test run: `HwTestOptions` as callers write them (the CLI builds them from its
 * flags), the defaults, and the one parser that validates everything at the edge — files read,
 * addresses and numbers checked — and returns a frozen `ParsedHwTestOptions`. Every error names
 * the flag, what was given and the fix.
 */
import { readFileSync } from 'node:fs';
import { P4Schema, P4RuntimeError, silentLogger } from 'p4runtime-ts';
import type { CredentialsOption, Logger } from 'p4runtime-ts';
import type { SimProgram } from '../sim/index.js';
import { bmv2JsonDifferences, listDifferences } from '../plugin/index.js';
import { pemHolds } from '../controller/index.js';
import { badOption } from './errors.js';
import { parseFixtureSpec } from './fixture-spec.js';
import type { FixtureSpec } from './fixture-spec.js';
import { HW_TEST_GROUP_IDS, isHwTestGroupId } from './group-ids.js';
import type { HwTestGroupId } from './group-ids.js';
import { HW_TEST_PROFILE_NAMES } from './profiles.js';
import type { HwTestProfileName } from './profiles.js';

/** TLS material for the P4Runtime channel: file paths (or PEM text). */
export interface HwTestTls {
  /** CA that signed the target's certificate (--tls-ca); alone: server-authenticated TLS. */
  readonly ca?: string;
  /** Our client certificate and key (--tls-cert/--tls-key), for mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
}

/** One progress event (the CLI prints them to stderr). */
export type HwTestProgress =
  | { readonly kind: 'group'; readonly group: HwTestGroupId; readonly title: string }
  | { readonly kind: 'check'; readonly group: string; readonly id: string; readonly name: string; readonly status: string; readonly durationMs: number }
  | { readonly kind: 'note'; readonly message: string };

/** What a caller passes to `runHwTest`. Only `target`, `profile` and `p4info` are required. */
export interface HwTestOptions {
  /** The P4Runtime server, HOST:PORT (--target). */
  readonly target: string;
  /** --device-id; default 0 (simple_switch_grpc's default). */
  readonly deviceId?: bigint | number | string;
  /** --profile: which target kind the switch is. */
  readonly profile: HwTestProfileName;
  /** --p4info: path to the P4Info (text or binary), or a schema. */
  readonly p4info: string | P4Schema;
  /** --device-config: path to the target's binary (BMv2: the JSON p4c-bm2-ss wrote), or its bytes. */
  readonly deviceConfig?: string | Uint8Array;
  /** --cpu-port: the switch's CPU port (BMv2: its --cpu-port); the P4 program expects 255. */
  readonly cpuPort?: number;
  /** --push-pipeline: push the pipeline when the target's is missing or different. */
  readonly pushPipeline?: boolean;
  readonly tls?: HwTestTls;
  /** --election-id: our election id (default: derived from the clock); at least 2. */
  readonly electionId?: bigint | number | string;
  /** --groups: which groups to run (default: all but migration); --peer adds migration. */
  readonly groups?: readonly (HwTestGroupId | string)[];
  /** --peer HOST:PORT: a second switch running the same pipeline, for the migration group. */
  readonly peer?: string;
  /** --peer-device-id: the peer's P4Runtime device id (default: --device-id). */
  readonly peerDeviceId?: bigint | number | string;
  /** --peer-tls-ca/--peer-tls-cert/--peer-tls-key: the peer's TLS material (default: the target's, `tls`). */
  readonly peerTls?: HwTestTls;
  /** --peer-plaintext: the peer speaks P4Runtime without TLS, whatever the target does. */
  readonly peerPlaintext?: boolean;
  /** --migration-flows: TCP flows the migration group establishes and moves (default 64). */
  readonly migrationFlows?: number;
  /** --flows: flows in the workload (default 200). */
  readonly flows?: number;
  /** --seed: workload seed (default 1). */
  readonly seed?: number;
  /** Idle timeout of the test's dyn_acl entry (ms) and how long to wait for its notification. */
  readonly idleTimeoutMs?: number;
  readonly idleWaitMs?: number;
  /** How long to wait for a digest list and for one in-band answer. */
  readonly digestWaitMs?: number;
  readonly inbandTimeoutMs?: number;
  /** In-band requests in flight at most (the lab: ≤ 64 on BMv2). */
  readonly inbandWindow?: number;
  /** Differing slots spelled out in a diff before "… and N more". */
  readonly maxDiffs?: number;
  /** The reference model (default: the sim's stateful_edge model); tests pass deliberately wrong ones. */
  readonly model?: SimProgram;
  /**
   * The target is the sim, whose own model is the reference: the differential group then proves
   * the harness, not a target, and says so in its report ("self-check").
   */
  readonly selfCheck?: boolean;
  readonly fixture?: Partial<FixtureSpec>;
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
  readonly onProgress?: (event: HwTestProgress) => void;
  /** Aborted: no further group starts; every write made so far is reverted and the report says where it stopped. */
  readonly signal?: AbortSignal;
}

/** Options after validation: files read, defaults filled, frozen. */
export interface ParsedHwTestOptions {
  readonly target: string;
  readonly deviceId: bigint;
  readonly profile: HwTestProfileName;
  readonly p4infoSource: string;
  readonly schema: P4Schema;
  readonly deviceConfig: Uint8Array | undefined;
  readonly deviceConfigSource: string | undefined;
  readonly cpuPort: number;
  readonly pushPipeline: boolean;
  readonly credentials: CredentialsOption;
  readonly electionId: bigint | undefined;
  readonly groups: readonly HwTestGroupId[];
  readonly peer: string | undefined;
  readonly peerDeviceId: bigint;
  /** The peer's channel credentials: --peer-tls-* when given, else the target's. */
  readonly peerCredentials: CredentialsOption;
  readonly migrationFlows: number;
  readonly flows: number;
  readonly seed: number;
  readonly idleTimeoutMs: number;
  readonly idleWaitMs: number;
  readonly digestWaitMs: number;
  readonly inbandTimeoutMs: number;
  readonly inbandWindow: number;
  readonly maxDiffs: number;
  readonly model: SimProgram | undefined;
  readonly selfCheck: boolean;
  readonly fixture: FixtureSpec;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  readonly onProgress: (event: HwTestProgress) => void;
  readonly signal: AbortSignal | undefined;
}

/** Defaults of every optional field. */
export const DEFAULT_HW_TEST_OPTIONS = Object.freeze({
  deviceId: 0n,
  cpuPort: 255,
  pushPipeline: false,
  flows: 200,
  migrationFlows: 64,
  seed: 1,
  idleTimeoutMs: 300,
  // BMv2 scans for idle entries about once a second: a 300 ms entry is reported after ≈1.1 s.
  idleWaitMs: 3500,
  // A list of one digest arrives at once on BMv2; fuller lists wait 200–330 ms.
  digestWaitMs: 2000,
  inbandTimeoutMs: 500,
  inbandWindow: 64,
  maxDiffs: 10,
  connectTimeoutMs: 10_000,
});

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function hostPort(flag: string, v: unknown): string {
  const m = typeof v === 'string' ? HOST_PORT.exec(v.trim()) : null;
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw badOption(flag, `got ${JSON.stringify(v)}; expected HOST:PORT with a port 1..65535, e.g. ${flag} 127.0.0.1:9559`);
  return (v as string).trim();
}

function bigintOf(flag: string, v: unknown, min: bigint, max: bigint, example: string): bigint {
  let b: bigint;
  try {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error();
    if (typeof v === 'string' && !/^\d+$/.test(v.trim())) throw new Error();
    b = BigInt(v as string | number | bigint);
  } catch {
    throw badOption(flag, `got ${JSON.stringify(typeof v === 'bigint' ? `${v}` : v)}; expected a whole number, e.g. ${flag} ${example}`);
  }
  if (b < min || b > max) throw badOption(flag, `${b} is outside ${min}..${max}; e.g. ${flag} ${example}`);
  return b;
}

function intOf(flag: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badOption(flag, `got ${JSON.stringify(v)}; expected an integer ${min}..${max}`);
  return v;
}

function readBytes(flag: string, path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw badOption(flag, `cannot read ${what} '${path}' (${(e as Error).message}); give a readable file`);
  }
}

function loadSchema(v: unknown): { schema: P4Schema; source: string } {
  if (v instanceof P4Schema) return { schema: v, source: `<P4Schema ${v.programName || 'unnamed'}>` };
  if (typeof v !== 'string' || v.trim() === '') throw badOption('--p4info', 'missing; give the P4Info file p4c wrote, e.g. --p4info stateful_edge.p4info.txtpb');
  try {
    return { schema: P4Schema.fromFile(v), source: v };
  } catch (e) {
    const msg = e instanceof P4RuntimeError ? e.message : String(e);
    throw badOption('--p4info', `${msg}; give the P4Info (text or binary) that p4c-bm2-ss --p4runtime-files wrote`);
  }
}

function hasTls(tls: HwTestTls | undefined): tls is HwTestTls {
  return tls !== undefined && (tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined);
}

/** Channel credentials from TLS flags; `flags` is their prefix (`--tls-` for the target, `--peer-tls-` for the peer). */
function credentialsOf(tls: HwTestTls | undefined, flags = '--tls-', whose = 'target'): CredentialsOption {
  if (!hasTls(tls)) return { kind: 'insecure' };
  const [ca, cert, key] = [`${flags}ca`, `${flags}cert`, `${flags}key`];
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw badOption(tls.cert === undefined ? cert : key, `${cert} and ${key} go together: give both files for mutual TLS, or neither`);
  // Checked here, so a swapped or wrong file is named with what it holds instead of OpenSSL's "no start line" at connect.
  const pem = (flag: string, p: string, holds: 'certificate' | 'private key', role: string): string => {
    const text = p.includes('-----BEGIN') ? p : Buffer.from(readBytes(flag, p, 'the PEM file')).toString('utf8');
    const ok = holds === 'certificate' ? text.includes('-----BEGIN CERTIFICATE-----') : /-----BEGIN (EC |RSA |ENCRYPTED )?PRIVATE KEY-----/.test(text);
    if (!ok) {
      const where = p.includes('-----BEGIN') ? 'the PEM text given' : `'${p}'`;
      const swapped = flag === cert || flag === key ? ` (are ${cert} and ${key} swapped?)` : '';
      throw badOption(flag, `${where} holds ${pemHolds(text)}; expected a PEM file holding a ${holds} (${role})${swapped}`);
    }
    return p;
  };
  const caRole = `the CA that signed the ${whose}'s certificate`;
  if (tls.cert !== undefined && tls.key !== undefined) {
    if (tls.ca === undefined) throw badOption(ca, `mutual TLS (${cert}/${key}) also needs the CA that signed the ${whose}'s certificate: add ${ca} FILE`);
    return { kind: 'mtls', ca: pem(ca, tls.ca, 'certificate', caRole), cert: pem(cert, tls.cert, 'certificate', 'our client certificate'), key: pem(key, tls.key, 'private key', `the key of ${cert}`) };
  }
  return { kind: 'tls', ca: pem(ca, tls.ca as string, 'certificate', caRole) };
}

function groupsOf(v: readonly string[] | undefined, peer: string | undefined): readonly HwTestGroupId[] {
  if (v === undefined) return Object.freeze(HW_TEST_GROUP_IDS.filter((g) => g !== 'migration' || peer !== undefined));
  if (!Array.isArray(v) || v.length === 0) throw badOption('--groups', `expected a comma-separated list of ${HW_TEST_GROUP_IDS.join(', ')}`);
  const out: HwTestGroupId[] = [];
  for (const g of v) {
    const name = String(g).trim();
    if (!isHwTestGroupId(name)) throw badOption('--groups', `unknown group '${name}'; choose from ${HW_TEST_GROUP_IDS.join(', ')}`);
    if (!out.includes(name)) out.push(name);
  }
  // --peer asks for the migration group whatever else was selected.
  if (peer !== undefined && !out.includes('migration')) out.push('migration');
  if (peer === undefined && out.includes('migration')) throw badOption('--groups', 'the migration group moves state between two switches: add --peer HOST:PORT (a second switch running the same pipeline)');
  // Run order is the registry's, whatever order the caller listed.
  return Object.freeze(HW_TEST_GROUP_IDS.filter((g) => out.includes(g)));
}

/** Refuses a device config that is not the P4Info's: a BMv2 JSON of another build, or (profile bmv2) not a BMv2 JSON at all. */
function checkDeviceConfig(schema: P4Schema, p4infoSource: string, config: Uint8Array, configSource: string, profile: HwTestProfileName): void {
  const diffs = bmv2JsonDifferences(schema, config);
  if (diffs === undefined) {
    if (profile === 'bmv2') throw badOption('--device-config', `${configSource} is not a BMv2 JSON; give the JSON p4c-bm2-ss wrote (the target is bmv2)`);
    return;
  }
  if (diffs.length === 0) return;
  throw badOption('--device-config', `${configSource} and --p4info ${p4infoSource} are not from the same p4c run: ${listDifferences(diffs)}; give the P4Info and the JSON one p4c-bm2-ss run wrote`);
}

/**
 * Validates hw-test options, reads the P4Info and device config, fills defaults; throws
 * HwTestError('BAD_OPTIONS') naming the flag and the fix.
 * @example
 * const o = parseHwTestOptions({ target: '127.0.0.1:9559', profile: 'bmv2', p4info: 'p4/stateful_edge.p4info.txtpb' });
 */
export function parseHwTestOptions(o: HwTestOptions): ParsedHwTestOptions {
  if (typeof o !== 'object' || o === null) throw badOption('options', 'expected an object like { target: "127.0.0.1:9559", profile: "bmv2", p4info: "stateful_edge.p4info.txtpb" }');
  const d = DEFAULT_HW_TEST_OPTIONS;
  if (o.target === undefined) throw badOption('--target', 'missing; give the P4Runtime server of the switch, e.g. --target 127.0.0.1:9559');
  const target = hostPort('--target', o.target);
  if (!HW_TEST_PROFILE_NAMES.includes(o.profile)) throw badOption('--profile', `got ${JSON.stringify(o.profile)}; expected one of ${HW_TEST_PROFILE_NAMES.join(', ')} (what kind of switch the target is)`);
  const { schema, source } = loadSchema(o.p4info);
  let deviceConfig: Uint8Array | undefined;
  let deviceConfigSource: string | undefined;
  if (typeof o.deviceConfig === 'string') {
    deviceConfig = readBytes('--device-config', o.deviceConfig, 'the device config');
    deviceConfigSource = o.deviceConfig;
  } else if (o.deviceConfig instanceof Uint8Array) {
    deviceConfig = o.deviceConfig;
    deviceConfigSource = `<${o.deviceConfig.length} bytes>`;
  } else if (o.deviceConfig !== undefined) {
    throw badOption('--device-config', 'expected a file path (BMv2: the JSON p4c-bm2-ss wrote)');
  }
  if (deviceConfig !== undefined) checkDeviceConfig(schema, source, deviceConfig, deviceConfigSource ?? '', o.profile);
  const pushPipeline = o.pushPipeline ?? d.pushPipeline;
  if (typeof pushPipeline !== 'boolean') throw badOption('--push-pipeline', 'expected a flag (true or false)');
  if (pushPipeline && deviceConfig === undefined) {
    throw badOption('--push-pipeline', 'needs --device-config FILE: the target cannot load a pipeline without its binary (BMv2: the JSON p4c-bm2-ss wrote)');
  }
  const peer = o.peer === undefined ? undefined : hostPort('--peer', o.peer);
  const deviceId = o.deviceId === undefined ? d.deviceId : bigintOf('--device-id', o.deviceId, 0n, (1n << 64n) - 1n, '0');
  const peerDeviceId = o.peerDeviceId === undefined ? deviceId : bigintOf('--peer-device-id', o.peerDeviceId, 0n, (1n << 64n) - 1n, '0');
  if (peer !== undefined && peer === target && peerDeviceId === deviceId) {
    throw badOption('--peer', `${peer} device ${deviceId} is the target itself; give a second switch (or, on a server that serves several devices, another --peer-device-id)`);
  }
  const credentials = credentialsOf(o.tls);
  if (hasTls(o.peerTls) && peer === undefined) throw badOption('--peer-tls-ca', 'the --peer-tls-* flags describe the TLS of the --peer switch: add --peer HOST:PORT, or drop them');
  const plaintext = o.peerPlaintext ?? false;
  if (typeof plaintext !== 'boolean') throw badOption('--peer-plaintext', 'expected a flag (true or false)');
  if (plaintext && hasTls(o.peerTls)) throw badOption('--peer-plaintext', 'the peer cannot be reached both in plaintext and with the --peer-tls-* flags: drop one');
  if (plaintext && peer === undefined) throw badOption('--peer-plaintext', 'describes how to reach the --peer switch: add --peer HOST:PORT, or drop it');
  // A peer without TLS flags of its own is reached as the target is (one lab, one CA).
  const peerCredentials: CredentialsOption = plaintext ? { kind: 'insecure' } : hasTls(o.peerTls) ? credentialsOf(o.peerTls, '--peer-tls-', 'peer') : credentials;
  const electionId = o.electionId === undefined ? undefined : bigintOf('--election-id', o.electionId, 2n, (1n << 128n) - 1n, '100');
  const logger = o.logger ?? silentLogger;
  if (o.model !== undefined && (typeof o.model.name !== 'string' || typeof o.model.instantiate !== 'function')) throw badOption('model', 'expected a SimProgram (name, instantiate)');
  const idleTimeoutMs = intOf('idleTimeoutMs', o.idleTimeoutMs, 1, 3_600_000, d.idleTimeoutMs);
  const idleWaitMs = intOf('idleWaitMs', o.idleWaitMs, 1, 3_600_000, d.idleWaitMs);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw badOption('onProgress', 'expected a function');
  return Object.freeze({
    target,
    deviceId,
    profile: o.profile,
    p4infoSource: source,
    schema,
    deviceConfig,
    deviceConfigSource,
    cpuPort: intOf('--cpu-port', o.cpuPort, 0, 511, d.cpuPort),
    pushPipeline,
    credentials,
    electionId,
    groups: groupsOf(o.groups, peer),
    peer,
    peerDeviceId,
    peerCredentials,
    migrationFlows: intOf('--migration-flows', o.migrationFlows, 1, 10_000, d.migrationFlows),
    flows: intOf('--flows', o.flows, 1, 100_000, d.flows),
    seed: intOf('--seed', o.seed, 0, 2 ** 32 - 1, d.seed),
    idleTimeoutMs,
    idleWaitMs,
    digestWaitMs: intOf('digestWaitMs', o.digestWaitMs, 1, 600_000, d.digestWaitMs),
    inbandTimeoutMs: intOf('inbandTimeoutMs', o.inbandTimeoutMs, 1, 60_000, d.inbandTimeoutMs),
    inbandWindow: intOf('inbandWindow', o.inbandWindow, 1, 256, d.inbandWindow),
    maxDiffs: intOf('maxDiffs', o.maxDiffs, 1, 10_000, d.maxDiffs),
    model: o.model,
    selfCheck: o.selfCheck === true,
    fixture: parseFixtureSpec(o.fixture),
    connectTimeoutMs: intOf('--connect-timeout', o.connectTimeoutMs, 1, 600_000, d.connectTimeoutMs),
    logger,
    onProgress: o.onProgress ?? (() => undefined),
    signal: o.signal,
  });
}
