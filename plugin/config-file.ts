/**
 * The edge plugin's configuration file (`carryover plugin --config FILE`): JSON, validated at the
 * edge with errors that name the file, the field and what was expected. Paths inside it are
 * relative to the file. The result feeds `parseEdgePluginOptions`, whose own errors are re-raised
 * with the file's name.
 *
 * @example
 * {
 *   "switch": { "address": "127.0.0.1:9559", "deviceId": 1, "electionId": "10", "role": "", "grpcClient": "http2" },
 *   "tls": { "ca": "ca.pem", "cert": "plugin.pem", "key": "plugin.key" },
 *   "p4info": "stateful_edge.p4info.txtpb",
 *   "deviceConfig": "stateful_edge.json",
 *   "replacePipeline": false,
 *   "registerAccess": "probe",
 *   "inband": { "window": 64, "timeoutMs": 250, "maxAttempts": 5 },
 *   "pinholeIdleTimeout": "30s",
 *   "pinholeExpiry": { "pollMs": 1000 },
 *   "pinholeIdleTimeReport": "auto",
 *   "pipelineWatchMs": 5000,
 *   "healthIntervalMs": 10000,
 *   "logLevel": "info",
 *   "migration": {
 *     "listen": "0.0.0.0:50051", "device": "edge-1",
 *     "tls": { "ca": "site-ca.pem", "cert": "edge-1.pem", "key": "edge-1.key" },
 *     "trustedCallers": ["controller-a"], "coordinators": { "dc-a": "dc-a.pub.pem" }
 *   }
 * }
 *
 * A file named `.yaml` or `.yml` is read as YAML with the same fields.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CredentialsOption, LogLevel } from 'p4runtime-ts';
import { parse as parseYaml } from 'yaml';
import type { EdgePluginOptions } from './edge-plugin-options.js';
import { EdgePluginError } from './errors.js';
import type { RegisterAccessMode } from './state-access/index.js';

/** The daemon's migration protocol: where it listens, its mTLS material, whom it trusts (paths absolute). */
export interface MigrationProtocolConfig {
  readonly listen: string;
  /** This device's name, as coordinators' tickets name it. */
  readonly device: string;
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Caller identities (certificate CN or subjectAltName) allowed to call. */
  readonly trustedCallers: readonly string[];
  /** Coordinator name → its Ed25519 public key (PEM file). */
  readonly coordinators: Readonly<Record<string, string>>;
  /** Coordinators whose signature every ticket must carry (two domains: both). */
  readonly requiredSigners: readonly string[] | undefined;
  readonly maxMessageBytes: number | undefined;
  readonly deltaIntervalMs: number | undefined;
  /** How long a source may stay frozen before each health report warns of it (ms; default DEFAULT_FROZEN_WARN_MS). */
  readonly frozenWarnMs: number;
  /**
   * Where snapshots find the VM's slots: `auto` (default) scans the slot group until the index is
   * reconciled (in the background from the start); `index` trusts the index learned from digests,
   * with no scan at all — right for a daemon started with the switch's pipeline, before any flow.
   */
  readonly snapshotSource: 'auto' | 'index' | undefined;
  /** The longest the switch takes to deliver a new-flow digest (EdgeDeviceApiOptions.newFlowDigestDelayMs; default 400, BMv2's). */
  readonly newFlowDigestDelayMs: number | undefined;
}

/** What the file holds beyond the plugin options: how the daemon runs. */
export interface EdgePluginConfig {
  readonly options: EdgePluginOptions;
  readonly healthIntervalMs: number;
  readonly logLevel: LogLevel;
  /** Serve the migration protocol (absent: the device API is in-process only). */
  readonly migration: MigrationProtocolConfig | undefined;
}

export const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
/** A pause takes milliseconds and a grace period about a second: a source frozen 10 s lost its controller. */
export const DEFAULT_FROZEN_WARN_MS = 10_000;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

class FieldError extends EdgePluginError {}

/** Reads and validates a plugin configuration file. @throws EdgePluginError BAD_OPTIONS naming file and field. */
export function loadEdgePluginConfig(path: string): EdgePluginConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new EdgePluginError('BAD_OPTIONS', `plugin config ${path}: cannot read it (${(e as Error).message}); pass an existing JSON or YAML file with --config`, { cause: e });
  }
  const yaml = /\.ya?ml$/i.test(path);
  let raw: Json;
  try {
    raw = (yaml ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (e) {
    throw new EdgePluginError('BAD_OPTIONS', `plugin config ${path}: not valid ${yaml ? 'YAML' : 'JSON'} (${(e as Error).message})`, { cause: e });
  }
  return parseEdgePluginConfig(raw, path);
}

/** Validates a parsed configuration object; `source` names it in errors and anchors relative paths. */
export function parseEdgePluginConfig(raw: unknown, source: string): EdgePluginConfig {
  const base = dirname(resolve(source));
  const fail = (field: string, expected: string, got?: unknown): never => {
    const shown = got === undefined ? 'nothing' : JSON.stringify(got);
    throw new FieldError('BAD_OPTIONS', `plugin config ${source}: field '${field}': expected ${expected}, got ${shown}`);
  };
  const obj = (v: unknown, field: string, keys: readonly string[]): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(field, 'an object', v);
    for (const k of Object.keys(v)) if (!keys.includes(k)) fail(`${field === '' ? '' : `${field}.`}${k}`, `one of the known fields (${keys.join(', ')}) — is it misspelt?`, (v as Record<string, unknown>)[k]);
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, field: string): string => (typeof v === 'string' && v !== '' ? v : fail(field, 'a non-empty string', v));
  const int = (v: unknown, field: string, min: number, max: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(field, `an integer ${min}..${max}`, v));
  const bigish = (v: unknown, field: string): bigint => {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(v)) return BigInt(v);
    return fail(field, 'a non-negative integer (a string for values above 2^53)', v);
  };
  const file = (v: unknown, field: string): string => resolve(base, str(v, field));

  const top = obj(raw, '', ['switch', 'tls', 'p4info', 'deviceConfig', 'replacePipeline', 'group', 'registerAccess', 'inband', 'pinholeIdleTimeout', 'pinholeExpiry', 'pinholeIdleTimeReport', 'connectTimeoutMs', 'pipelineWatchMs', 'healthIntervalMs', 'logLevel', 'migration']);
  const sw = obj(top['switch'] ?? fail('switch', 'an object with address and deviceId'), 'switch', ['address', 'deviceId', 'electionId', 'role', 'grpcClient', 'openStreamsAhead']);
  const address = str(sw['address'], 'switch.address');
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address) || Number(address.slice(address.lastIndexOf(':') + 1)) > 65_535) fail('switch.address', "'host:port' with a port 1..65535, e.g. 127.0.0.1:9559", address);
  const deviceId = bigish(sw['deviceId'], 'switch.deviceId');
  let credentials: CredentialsOption = { kind: 'insecure' };
  if (top['tls'] !== undefined) {
    const tls = obj(top['tls'], 'tls', ['ca', 'cert', 'key', 'serverName']);
    const ca = tls['ca'] === undefined ? undefined : file(tls['ca'], 'tls.ca');
    const serverName = tls['serverName'] === undefined ? undefined : str(tls['serverName'], 'tls.serverName');
    if ((tls['cert'] === undefined) !== (tls['key'] === undefined)) fail(tls['cert'] === undefined ? 'tls.cert' : 'tls.key', 'both tls.cert and tls.key for mutual TLS, or neither', tls['cert'] ?? tls['key']);
    if (tls['cert'] !== undefined) {
      if (ca === undefined) fail('tls.ca', 'the CA that signed the switch certificate (required with tls.cert)');
      credentials = { kind: 'mtls', ca: ca as string, cert: file(tls['cert'], 'tls.cert'), key: file(tls['key'], 'tls.key'), ...(serverName ? { serverName } : {}) };
    } else {
      credentials = { kind: 'tls', ...(ca ? { ca } : {}), ...(serverName ? { serverName } : {}) };
    }
  }
  const modes: readonly RegisterAccessMode[] = ['probe', 'p4runtime', 'inband'];
  const registerAccess = top['registerAccess'] === undefined ? undefined : (modes.includes(top['registerAccess'] as RegisterAccessMode) ? (top['registerAccess'] as RegisterAccessMode) : fail('registerAccess', `one of ${modes.join(', ')}`, top['registerAccess']));
  let inband: EdgePluginOptions['inband'];
  if (top['inband'] !== undefined) {
    const ib = obj(top['inband'], 'inband', ['window', 'timeoutMs', 'maxAttempts']);
    inband = {
      ...(ib['window'] !== undefined ? { window: int(ib['window'], 'inband.window', 1, 4096) } : {}),
      ...(ib['timeoutMs'] !== undefined ? { timeoutMs: int(ib['timeoutMs'], 'inband.timeoutMs', 1, 600_000) } : {}),
      ...(ib['maxAttempts'] !== undefined ? { maxAttempts: int(ib['maxAttempts'], 'inband.maxAttempts', 1, 100) } : {}),
    };
  }
  const replacePipeline = (v: unknown): boolean => {
    if (typeof v !== 'boolean') return fail('replacePipeline', 'true or false (default false: the daemon pushes deviceConfig only to a switch with no pipeline and refuses one running another program; true replaces that program at start, clearing every table entry — port_role, vm_table — register and counter)', v);
    if (v && top['deviceConfig'] === undefined) return fail('replacePipeline', 'false or absent without deviceConfig (there is nothing to push): add deviceConfig, or remove replacePipeline', v);
    return v;
  };
  const levels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const logLevel = top['logLevel'] === undefined ? 'info' : levels.includes(top['logLevel'] as LogLevel) ? (top['logLevel'] as LogLevel) : fail('logLevel', `one of ${levels.join(', ')}`, top['logLevel']);
  const options: EdgePluginOptions = {
    address,
    deviceId,
    ...(sw['electionId'] !== undefined ? { electionId: sw['electionId'] === 0 || sw['electionId'] === '0' ? fail('switch.electionId', 'an integer 1 .. 2^128-1: P4Runtime reserves election id 0 (a client with it is never primary)', sw['electionId']) : bigish(sw['electionId'], 'switch.electionId') } : {}),
    ...(sw['role'] !== undefined ? { role: typeof sw['role'] === 'string' ? sw['role'] : fail('switch.role', 'a string', sw['role']) } : {}),
    ...(sw['grpcClient'] !== undefined ? { grpcClient: sw['grpcClient'] === 'http2' || sw['grpcClient'] === 'grpc-js' ? sw['grpcClient'] : fail('switch.grpcClient', "'http2' (p4runtime-ts' own gRPC client, the default) or 'grpc-js'", sw['grpcClient']) } : {}),
    ...(sw['openStreamsAhead'] !== undefined ? { openStreamsAhead: typeof sw['openStreamsAhead'] === 'boolean' ? sw['openStreamsAhead'] : fail('switch.openStreamsAhead', 'true or false (default true)', sw['openStreamsAhead']) } : {}),
    credentials,
    p4info: file(top['p4info'], 'p4info'),
    ...(top['deviceConfig'] !== undefined ? { deviceConfig: file(top['deviceConfig'], 'deviceConfig') } : {}),
    ...(top['replacePipeline'] !== undefined ? { replacePipeline: replacePipeline(top['replacePipeline']) } : {}),
    ...(top['group'] !== undefined ? { group: str(top['group'], 'group') } : {}),
    ...(registerAccess ? { registerAccess } : {}),
    ...(inband ? { inband } : {}),
    ...(top['pinholeIdleTimeout'] !== undefined ? { pinholeIdleTimeout: typeof top['pinholeIdleTimeout'] === 'string' || typeof top['pinholeIdleTimeout'] === 'number' ? top['pinholeIdleTimeout'] : fail('pinholeIdleTimeout', "a duration such as '30s' or nanoseconds", top['pinholeIdleTimeout']) } : {}),
    ...(top['pinholeExpiry'] !== undefined ? { pinholeExpiry: top['pinholeExpiry'] === 'notify' ? ('notify' as const) : { pollMs: int(obj(top['pinholeExpiry'], 'pinholeExpiry', ['pollMs'])['pollMs'], 'pinholeExpiry.pollMs', 10, 3_600_000) } } : {}),
    ...(top['pinholeIdleTimeReport'] !== undefined ? { pinholeIdleTimeReport: top['pinholeIdleTimeReport'] === 'auto' || top['pinholeIdleTimeReport'] === 'spec' ? top['pinholeIdleTimeReport'] : fail('pinholeIdleTimeReport', "'auto' or 'spec'", top['pinholeIdleTimeReport']) } : {}),
    ...(top['connectTimeoutMs'] !== undefined ? { connectTimeoutMs: int(top['connectTimeoutMs'], 'connectTimeoutMs', 1, 3_600_000) } : {}),
    ...(top['pipelineWatchMs'] !== undefined ? { pipelineWatchMs: top['pipelineWatchMs'] === 0 ? 0 : int(top['pipelineWatchMs'], 'pipelineWatchMs', 100, 3_600_000) } : {}),
  };
  const healthIntervalMs = top['healthIntervalMs'] === undefined ? DEFAULT_HEALTH_INTERVAL_MS : int(top['healthIntervalMs'], 'healthIntervalMs', 100, 86_400_000);
  let migration: MigrationProtocolConfig | undefined;
  if (top['migration'] !== undefined) {
    const m = obj(top['migration'], 'migration', ['listen', 'device', 'tls', 'trustedCallers', 'coordinators', 'requiredSigners', 'maxMessageBytes', 'deltaIntervalMs', 'snapshotSource', 'newFlowDigestDelayMs', 'frozenWarnMs']);
    const listen = str(m['listen'], 'migration.listen');
    const port = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen)?.[2];
    if (port === undefined || Number(port) > 65535) fail('migration.listen', "'host:port' with a port 0..65535 (0: any free one), e.g. 0.0.0.0:50051", listen);
    const t = obj(m['tls'] ?? fail('migration.tls', 'an object with ca, cert and key (the migration protocol runs only over mutual TLS)'), 'migration.tls', ['ca', 'cert', 'key']);
    const names = (v: unknown, field: string): string[] => (Array.isArray(v) && v.length > 0 ? v.map((x, i) => str(x, `${field}[${i}]`)) : fail(field, 'a non-empty list of names', v));
    const coordinators = obj(m['coordinators'] ?? fail('migration.coordinators', 'an object naming each trusted coordinator and its Ed25519 public key file'), 'migration.coordinators', Object.keys((m['coordinators'] ?? {}) as object));
    if (Object.keys(coordinators).length === 0) fail('migration.coordinators', 'at least one trusted coordinator', coordinators);
    const requiredSigners = m['requiredSigners'] === undefined ? undefined : names(m['requiredSigners'], 'migration.requiredSigners');
    for (const r of requiredSigners ?? []) if (!(r in coordinators)) fail('migration.requiredSigners', `names of coordinators listed in migration.coordinators (${Object.keys(coordinators).join(', ')})`, r);
    migration = Object.freeze({
      listen,
      device: str(m['device'], 'migration.device'),
      tls: Object.freeze({ ca: file(t['ca'], 'migration.tls.ca'), cert: file(t['cert'], 'migration.tls.cert'), key: file(t['key'], 'migration.tls.key') }),
      trustedCallers: Object.freeze(names(m['trustedCallers'], 'migration.trustedCallers')),
      coordinators: Object.freeze(Object.fromEntries(Object.entries(coordinators).map(([k, v]) => [k, file(v, `migration.coordinators.${k}`)]))),
      requiredSigners: requiredSigners ? Object.freeze(requiredSigners) : undefined,
      maxMessageBytes: m['maxMessageBytes'] === undefined ? undefined : int(m['maxMessageBytes'], 'migration.maxMessageBytes', 1024, 2 ** 31 - 1),
      deltaIntervalMs: m['deltaIntervalMs'] === undefined ? undefined : int(m['deltaIntervalMs'], 'migration.deltaIntervalMs', 1, 60_000),
      snapshotSource: m['snapshotSource'] === undefined ? undefined : m['snapshotSource'] === 'auto' || m['snapshotSource'] === 'index' ? m['snapshotSource'] : fail('migration.snapshotSource', 'auto or index', m['snapshotSource']),
      newFlowDigestDelayMs: m['newFlowDigestDelayMs'] === undefined ? undefined : int(m['newFlowDigestDelayMs'], 'migration.newFlowDigestDelayMs', 0, 60_000),
      frozenWarnMs: m['frozenWarnMs'] === undefined ? DEFAULT_FROZEN_WARN_MS : int(m['frozenWarnMs'], 'migration.frozenWarnMs', 100, 86_400_000),
    });
  }
  return Object.freeze({ options: Object.freeze(options), healthIntervalMs, logLevel, migration });
}
