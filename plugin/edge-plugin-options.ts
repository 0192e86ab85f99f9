/**
 * Options of the edge plugin: what a host process (or the daemon's config file) passes, the
 * defaults, and the one parser that validates them at the edge — loading the P4Info and device
 * config files here, so a bad path or a P4Info that breaks the contract fails before any socket.
 */
import { readFileSync } from 'node:fs';
import { P4Schema, P4Switch, parseDurationNs, silentLogger, systemClock } from 'p4runtime-ts';
import type { Clock, CredentialsOption, DurationInput, GrpcClientKind, Logger } from 'p4runtime-ts';
import { bmv2JsonDifferences, listDifferences } from './bmv2-json-check.js';
import { EdgePluginError } from './errors.js';
import type { IdleTimeReport } from './idle-time.js';
import type { RegisterAccessMode } from './state-access/index.js';
import { DEFAULT_INBAND_OPTIONS, parseInbandOptions } from './state-access/index.js';
import type { InbandOptions } from './state-access/index.js';

/** How the learn digest is configured on the device (DigestEntry). */
export interface LearnDigestOptions {
  readonly maxListSize: number;
  readonly maxTimeout: DurationInput;
  readonly ackTimeout: DurationInput;
}

/** Options of `createEdgePlugin`. `p4info` is required, and `address` and `deviceId` unless a `session` is lent. */
export interface EdgePluginOptions {
  /** The switch's P4Runtime address, `host:port` (default with `session`: the session's). */
  readonly address?: string;
  /** Default with `session`: the session's. */
  readonly deviceId?: bigint | number;
  /**
   * An open P4Runtime session to run on instead of connecting: a controller (or hw-test) that
   * holds primacy lends its session, so the plugin neither competes for it nor closes it. It must
   * be primary when start() runs. The options that configure a connection (electionId, role,
   * credentials, grpcClient, openStreamsAhead) are refused beside it.
   */
  readonly session?: P4Switch;
  /** Default: derived from the clock by p4runtime-ts (later processes bid higher). */
  readonly electionId?: bigint | number;
  /** P4Runtime role; unset = the default full-access role. */
  readonly role?: string;
  readonly credentials?: CredentialsOption;
  /** The P4Info: a P4Schema, or the path of a P4Info file (text or binary). */
  readonly p4info: P4Schema | string;
  /** The device config pushed with the P4Info (bytes, or a file path); unset = never push. */
  readonly deviceConfig?: Uint8Array | string;
  /**
   * Whether `deviceConfig` replaces another program the switch runs at start (default false: it is
   * pushed only to a switch with none; one running the same program — same cookie, or the same
   * P4Info from another build — is used as it is; another program is refused, PIPELINE_MISMATCH,
   * its state untouched). true pushes over another program, clearing every table entry, register
   * and counter the switch holds. Never applies after a reconnect: another program then degrades.
   */
  readonly replacePipeline?: boolean;
  /**
   * false: never push `deviceConfig`, even to a switch with none (refused instead, PIPELINE_MISMATCH
   * saying so) — for a check that must read only (`carryover migrate --check`). Default true.
   */
  readonly pushPipeline?: boolean;
  /** While degraded by the switch's pipeline (none it can push, or another program), how often it is checked again (ms). */
  readonly pipelineRecheckMs?: number;
  /**
   * While running, how often the switch's pipeline cookie is read (ms; 0: never). A pipeline pushed
   * by another client — your controller in its own role, whose arbitration this session never hears
   * of — clears every register, table entry and digest configuration: the plugin then checks the
   * pipeline as after a reconnect and rebuilds what it learned from the switch. Default 5000.
   */
  readonly pipelineWatchMs?: number;
  /** The slot group the plugin serves; default: the program's only group. */
  readonly group?: string;
  readonly logger?: Logger;
  /** Clock and timers (in-band timeouts); tests pass virtual time. */
  readonly scheduler?: Clock;
  /** Probe the device (default) or force a register-access backend. */
  readonly registerAccess?: RegisterAccessMode;
  readonly inband?: Partial<InbandOptions>;
  /** Idle timeout of learned pinholes (dyn_acl entries), e.g. '30s'. */
  readonly pinholeIdleTimeout?: DurationInput;
  /**
   * How idle pinholes are found: `'notify'` (the target's idle-timeout notifications) or
   * `{ pollMs }` — read the table's `time_since_last_hit` every pollMs and delete what has been
   * idle for its timeout, for targets that send no notifications (Tofino behind Stratum).
   */
  readonly pinholeExpiry?: 'notify' | { readonly pollMs: number };
  /**
   * How the switch fills `time_since_last_hit`, which a moved pinhole's remaining lifetime is read
   * from (idle-time.ts): `'auto'` (default; unwraps BMv2's remaining time, which its PI target
   * computes in 32 bits) or `'spec'` (as reported: a target with sub-millisecond values).
   */
  readonly pinholeIdleTimeReport?: IdleTimeReport;
  readonly learnDigest?: Partial<LearnDigestOptions>;
  /** How long start() waits to become primary. */
  readonly connectTimeoutMs?: number;
  /** The gRPC client for P4Runtime: p4runtime-ts' own `'http2'` (default) or `'grpc-js'`. */
  readonly grpcClient?: GrpcClientKind;
  /** With `'http2'`, Write and Read calls take a stream opened ahead (p4runtime-ts' openStreamsAhead). Default true. */
  readonly openStreamsAhead?: boolean;
}

/** Validated, frozen options. */
export interface ParsedEdgePluginOptions {
  readonly address: string;
  readonly deviceId: bigint | number;
  /** A lent session (never closed by the plugin), or undefined: the plugin connects. */
  readonly session: P4Switch | undefined;
  readonly electionId: bigint | number | undefined;
  readonly role: string | undefined;
  readonly credentials: CredentialsOption | undefined;
  readonly schema: P4Schema;
  /** Where the P4Info came from, for logs. */
  readonly p4infoSource: string;
  readonly deviceConfig: Uint8Array | undefined;
  readonly replacePipeline: boolean;
  readonly pushPipeline: boolean;
  readonly pipelineRecheckMs: number;
  readonly pipelineWatchMs: number;
  readonly group: string | undefined;
  readonly logger: Logger;
  readonly scheduler: Clock;
  readonly registerAccess: RegisterAccessMode;
  readonly inband: InbandOptions;
  readonly pinholeIdleTimeoutNs: bigint;
  readonly pinholeExpiry: 'notify' | { readonly pollMs: number };
  readonly pinholeIdleTimeReport: IdleTimeReport;
  readonly learnDigest: { readonly maxListSize: number; readonly maxTimeoutNs: bigint; readonly ackTimeoutNs: bigint };
  readonly connectTimeoutMs: number;
  readonly grpcClient: GrpcClientKind;
  readonly openStreamsAhead: boolean;
}

/** Defaults of every optional field. */
export const DEFAULT_EDGE_PLUGIN_OPTIONS = Object.freeze({
  registerAccess: 'probe' as RegisterAccessMode,
  inband: DEFAULT_INBAND_OPTIONS,
  pinholeIdleTimeout: '30s' as DurationInput,
  pinholeExpiry: 'notify' as 'notify' | { readonly pollMs: number },
  pinholeIdleTimeReport: 'auto' as IdleTimeReport,
  // A list flushes when full or 1 ms after its first digest; the lab saw BMv2 honour 1 ms coarsely
  // (≈200–330 ms) and never deliver with 100 µs, so do not go below 1 ms.
  learnDigest: Object.freeze({ maxListSize: 100, maxTimeout: '1ms', ackTimeout: '1s' }) as LearnDigestOptions,
  connectTimeoutMs: 10_000,
  // A push clears the switch: never over another program unless asked for.
  replacePipeline: false,
  pipelineRecheckMs: 5_000,
  pipelineWatchMs: 5_000,
  grpcClient: 'http2' as GrpcClientKind,
  openStreamsAhead: true,
});

function bad(field: string, got: unknown, expected: string, cause?: unknown): EdgePluginError {
  const shown = typeof got === 'bigint' ? `${got}n` : typeof got === 'string' ? JSON.stringify(got) : got instanceof Uint8Array ? `<${got.length} bytes>` : String(got);
  return new EdgePluginError('BAD_OPTIONS', `EdgePluginOptions.${field}: got ${shown}; expected ${expected}`, { cause });
}

function duration(field: string, v: DurationInput, positive: boolean): bigint {
  let ns: bigint;
  try {
    ns = parseDurationNs(v, `EdgePluginOptions.${field}`);
  } catch (e) {
    throw bad(field, v, "a duration such as '30s', '250ms' or a bigint of nanoseconds", e);
  }
  if (positive && ns <= 0n) throw bad(field, v, 'a positive duration');
  return ns;
}

function loadSchema(p: P4Schema | string): { schema: P4Schema; source: string } {
  if (p instanceof P4Schema) return { schema: p, source: p.programName ? `<P4Schema ${p.programName}>` : '<P4Schema>' };
  if (typeof p !== 'string' || p.trim() === '') throw bad('p4info', p, 'a P4Schema or the path of a P4Info file (e.g. p4/stateful_edge.p4info.txtpb)');
  try {
    return { schema: P4Schema.fromFile(p), source: p };
  } catch (e) {
    throw bad('p4info', p, `a readable P4Info file: ${(e as Error).message}`, e);
  }
}

/** `config` when it is no BMv2 JSON or one of the same p4c run as the P4Info; a JSON of another build is refused (a push would run a program the P4Info does not describe). */
function sameBuild(schema: P4Schema, p4infoSource: string, config: Uint8Array | undefined, given: Uint8Array | string | undefined): Uint8Array | undefined {
  const diffs = config === undefined ? undefined : bmv2JsonDifferences(schema, config);
  if (diffs === undefined || diffs.length === 0) return config;
  throw bad('deviceConfig', given, `the BMv2 JSON of the same p4c run as the P4Info ${p4infoSource}; they differ: ${listDifferences(diffs)}`);
}

function loadDeviceConfig(d: Uint8Array | string | undefined): Uint8Array | undefined {
  if (d === undefined) return undefined;
  if (d instanceof Uint8Array) return d;
  if (typeof d !== 'string' || d.trim() === '') throw bad('deviceConfig', d, 'bytes, or the path of the device config file (for BMv2: the JSON p4c-bm2-ss wrote)');
  try {
    return readFileSync(d);
  } catch (e) {
    throw bad('deviceConfig', d, `a readable file: ${(e as Error).message}`, e);
  }
}

/**
 * Validates options over the defaults and returns them frozen; BAD_OPTIONS names the field, what
 * was expected and how to fix it.
 * @example
 * const o = parseEdgePluginOptions({ address: '127.0.0.1:9559', deviceId: 1, p4info: 'p4/stateful_edge.p4info.txtpb' });
 */
export function parseEdgePluginOptions(options: EdgePluginOptions): ParsedEdgePluginOptions {
  if (typeof options !== 'object' || options === null) throw bad('(root)', options, "an options object like { address: '127.0.0.1:9559', deviceId: 1, p4info: 'prog.p4info.txtpb' }");
  const d = DEFAULT_EDGE_PLUGIN_OPTIONS;
  const session = lentSession(options);
  const address = options.address ?? session?.options.address;
  if (typeof address !== 'string' || !/^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):\d{1,5}$|^unix:/.test(address)) {
    throw bad('address', address, "'host:port' of the switch's P4Runtime server, e.g. '127.0.0.1:9559'");
  }
  const id = options.deviceId ?? session?.options.deviceId;
  if (!((typeof id === 'bigint' && id >= 0n && id < 1n << 64n) || (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0))) {
    throw bad('deviceId', id, 'an unsigned 64-bit device id (number or bigint)');
  }
  if (session && (address !== session.options.address || BigInt(id) !== BigInt(session.options.deviceId))) {
    throw bad('session', `<session with ${session.options.address} device ${session.options.deviceId}>`, `a session with the address and device id given (${address}, device ${id}), or leave those two out`);
  }
  if (options.role !== undefined && typeof options.role !== 'string') throw bad('role', options.role, 'a role name string');
  const { schema, source } = loadSchema(options.p4info);
  const registerAccess = options.registerAccess ?? d.registerAccess;
  if (!['probe', 'p4runtime', 'inband'].includes(registerAccess)) throw bad('registerAccess', registerAccess, "'probe', 'p4runtime' or 'inband'");
  if (options.group !== undefined && (typeof options.group !== 'string' || options.group === '')) throw bad('group', options.group, 'the name of a slot group (@migrate_group)');
  const ld = { ...d.learnDigest, ...options.learnDigest };
  if (!Number.isInteger(ld.maxListSize) || ld.maxListSize < 1) throw bad('learnDigest.maxListSize', ld.maxListSize, 'an integer >= 1');
  const maxTimeoutNs = duration('learnDigest.maxTimeout', ld.maxTimeout, false);
  if (maxTimeoutNs > 0n && maxTimeoutNs < 1_000_000n) {
    throw bad('learnDigest.maxTimeout', ld.maxTimeout, "0 or at least '1ms' (BMv2 never delivers a digest list with a 100 µs timeout)");
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? d.connectTimeoutMs;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1) throw bad('connectTimeoutMs', connectTimeoutMs, 'an integer number of milliseconds >= 1');
  const grpcClient = options.grpcClient ?? d.grpcClient;
  if (grpcClient !== 'http2' && grpcClient !== 'grpc-js') throw bad('grpcClient', grpcClient, "'http2' (p4runtime-ts' own gRPC client) or 'grpc-js'");
  const openStreamsAhead = options.openStreamsAhead ?? d.openStreamsAhead;
  if (typeof openStreamsAhead !== 'boolean') throw bad('openStreamsAhead', openStreamsAhead, 'true or false');
  const scheduler = options.scheduler ?? systemClock;
  if (typeof scheduler.now !== 'function' || typeof scheduler.setTimeout !== 'function' || typeof scheduler.clearTimeout !== 'function') {
    throw bad('scheduler', '{…}', 'a Clock (now, setTimeout, clearTimeout) as p4runtime-ts defines it');
  }
  return Object.freeze({
    address,
    deviceId: id,
    session,
    electionId: options.electionId,
    role: options.role,
    credentials: options.credentials,
    schema,
    p4infoSource: source,
    deviceConfig: sameBuild(schema, source, loadDeviceConfig(options.deviceConfig), options.deviceConfig),
    replacePipeline: parseReplacePipeline(options.replacePipeline ?? d.replacePipeline),
    pushPipeline: options.pushPipeline !== false,
    pipelineRecheckMs: parseRecheckMs(options.pipelineRecheckMs ?? d.pipelineRecheckMs),
    pipelineWatchMs: parseWatchMs(options.pipelineWatchMs ?? d.pipelineWatchMs),
    group: options.group,
    logger: options.logger ?? silentLogger,
    scheduler,
    registerAccess,
    inband: parseInbandOptions(options.inband, 'EdgePluginOptions.inband'),
    pinholeIdleTimeoutNs: duration('pinholeIdleTimeout', options.pinholeIdleTimeout ?? d.pinholeIdleTimeout, true),
    pinholeExpiry: parseExpiry(options.pinholeExpiry ?? d.pinholeExpiry),
    pinholeIdleTimeReport: parseIdleTimeReport(options.pinholeIdleTimeReport ?? d.pinholeIdleTimeReport),
    learnDigest: Object.freeze({ maxListSize: ld.maxListSize, maxTimeoutNs, ackTimeoutNs: duration('learnDigest.ackTimeout', ld.ackTimeout, false) }),
    connectTimeoutMs,
    grpcClient,
    openStreamsAhead,
  });
}

/** The lent session, validated: a P4Switch, and no connection options beside it. */
function lentSession(options: EdgePluginOptions): P4Switch | undefined {
  const s = options.session;
  if (s === undefined) return undefined;
  if (!(s instanceof P4Switch)) throw bad('session', typeof s, "an open P4Switch from p4runtime-ts's P4Switch.connect()");
  for (const f of ['electionId', 'role', 'credentials', 'grpcClient', 'openStreamsAhead'] as const) {
    if (options[f] !== undefined) throw bad(f, options[f], `nothing beside a lent session: the lender's connection (P4Switch.connect options) sets it`);
  }
  return s;
}

function parseExpiry(v: 'notify' | { readonly pollMs: number }): 'notify' | { readonly pollMs: number } {
  if (v === 'notify') return v;
  if (typeof v === 'object' && v !== null && Number.isInteger(v.pollMs) && v.pollMs >= 10) return Object.freeze({ pollMs: v.pollMs });
  throw bad('pinholeExpiry', v, "'notify' or { pollMs: an integer >= 10 } (poll time_since_last_hit where the target sends no idle notifications)");
}

function parseIdleTimeReport(v: unknown): IdleTimeReport {
  if (v === 'auto' || v === 'spec') return v;
  throw bad('pinholeIdleTimeReport', v, "'auto' (default: BMv2's 32-bit remaining time unwrapped) or 'spec' (time_since_last_hit as reported)");
}

function parseReplacePipeline(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  throw bad('replacePipeline', v, 'true or false (default false: a switch running another program is refused; true replaces it at start, clearing every table entry, register and counter)');
}

function parseWatchMs(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && (v === 0 || v >= 100)) return v;
  throw bad('pipelineWatchMs', v, 'an integer number of milliseconds >= 100, or 0 for never');
}

function parseRecheckMs(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 10) return v;
  throw bad('pipelineRecheckMs', v, 'an integer number of milliseconds >= 10');
}
