/**
 * Options of a P4Runtime switch connection: what the caller passes (`P4SwitchOptions`), the
 * defaults, and the one validating parser that turns them into a frozen `ResolvedP4SwitchOptions`.
 * Everything that can be wrong with the options is reported here, before any socket is opened.
 */
import { readFileSync } from 'node:fs';
import { P4RuntimeError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { Logger } from '../logger.js';
import type { P4Schema } from '../schema/index.js';
import { systemClock } from './clock.js';
import type { Clock } from './clock.js';
import type { P4RuntimeTransport } from './transport.js';

/** PEM material: the PEM text itself (string or bytes), or a path to a PEM file. */
export type PemSource = string | Uint8Array;

/** How the channel is secured. */
export type CredentialsOption =
  | { readonly kind: 'insecure' }
  /** Server authentication only; without `ca` the system roots are used. */
  | { readonly kind: 'tls'; readonly ca?: PemSource; readonly serverName?: string }
  /** Mutual TLS: we verify the server against `ca` and present `cert`/`key`. */
  | { readonly kind: 'mtls'; readonly ca: PemSource; readonly cert: PemSource; readonly key: PemSource; readonly serverName?: string };

/** Credentials after parsing: PEM material loaded into Buffers. */
export type ResolvedCredentials =
  | { readonly kind: 'insecure' }
  | { readonly kind: 'tls'; readonly ca: Buffer | undefined; readonly serverName: string | undefined }
  | { readonly kind: 'mtls'; readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer; readonly serverName: string | undefined };

/** How the StreamChannel is re-established after it breaks. */
export interface ReconnectPolicy {
  readonly enabled: boolean;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** Attempts after a break before giving up for good; `Infinity` keeps trying. */
  readonly maxAttempts: number;
}

/** What to do when the target answers "Election id already exists". */
export type ElectionIdConflictPolicy = 'fail' | 'bid-higher';

/** Options of `P4Switch.connect`. Only `address` and `deviceId` are required. */
export interface P4SwitchOptions {
  /** `host:port`, `[ipv6]:port`, or `unix:/path`. */
  readonly address: string;
  readonly deviceId: bigint | number;
  /** 1 .. 2^128-1. Default: derived from the clock (ms × 1000 + a per-process counter). */
  readonly electionId?: bigint | number;
  /** Role name sent in `Role.name`; unset means the default (full-access) role. */
  readonly role?: string;
  readonly credentials?: CredentialsOption;
  /** Largest message we accept; large reads need far more than gRPC's 4 MiB default. */
  readonly maxReceiveMessageBytes?: number;
  readonly maxSendMessageBytes?: number;
  /** Interval of HTTP/2 keepalive pings; 0 disables them. */
  readonly keepaliveMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Largest number of updates sent in one WriteRequest; larger writes are split. */
  readonly writeBatchSize?: number;
  /** WriteRequests in flight at once when a write is split (1 keeps strict order). */
  readonly writeConcurrency?: number;
  /** How long `connect` waits for the first arbitration answer. */
  readonly connectTimeoutMs?: number;
  /** Deadline of unary RPCs (Write, pipeline, Capabilities); 0 means none. */
  readonly rpcTimeoutMs?: number;
  readonly onElectionIdConflict?: ElectionIdConflictPolicy;
  readonly reconnect?: Partial<ReconnectPolicy>;
  /** Ack each DigestList as soon as it has been delivered to subscribers. */
  readonly autoAckDigests?: boolean;
  /** The P4Info to address entities by name before (or instead of) `ensurePipeline`. */
  readonly schema?: P4Schema;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /**
   * The gRPC client under the session when no `transport` is injected: `'http2'` (default),
   * p4runtime-ts' own gRPC over node:http2 — one connection, no resolver, balancer, retries or
   * interceptors, about half the client CPU per call; or `'grpc-js'`, a @grpc/grpc-js channel.
   */
  readonly grpcClient?: GrpcClientKind;
  /**
   * With the `'http2'` client, Write and Read calls take a stream whose request headers were sent
   * ahead (one kept open per method once the method has been called): the call's own frames are
   * then its message alone, and the server has set the call up before it arrives. Default true.
   */
  readonly openStreamsAhead?: boolean;
  /** Injected transport (tests, in-process targets); by default a gRPC connection to `address`. */
  readonly transport?: P4RuntimeTransport;
}

/** Which gRPC client implementation carries the calls. */
export type GrpcClientKind = 'http2' | 'grpc-js';

/** Options after validation: every field present, ids as bigint, PEM loaded. */
export interface ResolvedP4SwitchOptions {
  readonly address: string;
  readonly deviceId: bigint;
  readonly electionId: bigint;
  readonly role: string;
  readonly credentials: ResolvedCredentials;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly writeBatchSize: number;
  readonly writeConcurrency: number;
  readonly connectTimeoutMs: number;
  readonly rpcTimeoutMs: number;
  readonly onElectionIdConflict: ElectionIdConflictPolicy;
  readonly reconnect: ReconnectPolicy;
  readonly autoAckDigests: boolean;
  readonly schema: P4Schema | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly grpcClient: GrpcClientKind;
  readonly openStreamsAhead: boolean;
  readonly transport: P4RuntimeTransport | undefined;
}

/** Defaults of every optional field. */
export const DEFAULT_P4SWITCH_OPTIONS = Object.freeze({
  role: '',
  credentials: Object.freeze({ kind: 'insecure' }) as ResolvedCredentials,
  maxReceiveMessageBytes: 256 * 1024 * 1024,
  maxSendMessageBytes: 64 * 1024 * 1024,
  // gRPC C++ servers (BMv2, Stratum) answer pings more frequent than every 5 minutes on an idle
  // connection with GOAWAY "too_many_pings"; 6 minutes stays clear of that.
  keepaliveMs: 360_000,
  keepaliveTimeoutMs: 20_000,
  writeBatchSize: 1000,
  writeConcurrency: 1,
  connectTimeoutMs: 10_000,
  rpcTimeoutMs: 60_000,
  onElectionIdConflict: 'fail' as ElectionIdConflictPolicy,
  reconnect: Object.freeze({ enabled: true, initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2, maxAttempts: Infinity }),
  autoAckDigests: true,
  grpcClient: 'http2' as GrpcClientKind,
  openStreamsAhead: true,
});

const MAX_U64 = (1n << 64n) - 1n;
const MAX_U128 = (1n << 128n) - 1n;
let electionCounter = 0n;

/** A fresh election id from the clock: later processes bid higher, ids in one process never repeat. */
export function defaultElectionId(clock: Clock = systemClock): bigint {
  electionCounter = (electionCounter + 1n) % 1000n;
  return BigInt(Math.floor(clock.now())) * 1000n + electionCounter;
}

function bad(field: string, message: string): P4RuntimeError {
  return new P4RuntimeError('BAD_OPTIONS', `P4SwitchOptions.${field}: ${message}`);
}

function toBig(field: string, v: unknown, min: bigint, max: bigint, what: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else throw bad(field, `expected ${what} as a bigint or safe integer, got ${String(v)}; pass e.g. ${min === 0n ? '0' : '1'}n`);
  if (b < min || b > max) throw bad(field, `${b} is outside ${what} range ${min}..${max}`);
  return b;
}

function positiveInt(field: string, v: unknown, allowZero = false, allowInfinity = false): number {
  if (allowInfinity && v === Infinity) return Infinity;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (allowZero ? 0 : 1)) {
    throw bad(field, `expected an integer ${allowZero ? '>= 0' : '>= 1'}, got ${String(v)}`);
  }
  return v;
}

/** Checks `host:port`, `[v6]:port` or `unix:path`. */
function checkAddress(address: unknown): string {
  if (typeof address !== 'string' || address.length === 0) {
    throw bad('address', `expected "host:port" (e.g. "127.0.0.1:9559"), got ${String(address)}`);
  }
  if (address.startsWith('unix:')) return address;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d+)$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw bad('address', `"${address}" is not "host:port" with a port 1..65535; write e.g. "10.1.0.7:9559" or "[::1]:9559"`);
  }
  return address;
}

function loadPem(field: string, src: PemSource | undefined): Buffer {
  if (src === undefined) throw bad(field, 'missing; pass the PEM text or a path to a PEM file');
  if (typeof src !== 'string') return Buffer.from(src);
  if (src.includes('-----BEGIN')) return Buffer.from(src);
  try {
    return readFileSync(src);
  } catch (e) {
    throw new P4RuntimeError('BAD_OPTIONS', `P4SwitchOptions.${field}: cannot read PEM file "${src}" (${(e as Error).message}); pass a readable path or the PEM text`, { cause: e });
  }
}

function parseCredentials(c: CredentialsOption | undefined): ResolvedCredentials {
  if (c === undefined) return DEFAULT_P4SWITCH_OPTIONS.credentials;
  switch (c.kind) {
    case 'insecure':
      return Object.freeze({ kind: 'insecure' });
    case 'tls':
      return Object.freeze({ kind: 'tls', ca: c.ca === undefined ? undefined : loadPem('credentials.ca', c.ca), serverName: c.serverName });
    case 'mtls':
      return Object.freeze({
        kind: 'mtls',
        ca: loadPem('credentials.ca', c.ca),
        cert: loadPem('credentials.cert', c.cert),
        key: loadPem('credentials.key', c.key),
        serverName: c.serverName,
      });
    default:
      throw bad('credentials.kind', `expected 'insecure', 'tls' or 'mtls', got ${String((c as { kind: unknown }).kind)}`);
  }
}

function parseReconnect(r: Partial<ReconnectPolicy> | undefined): ReconnectPolicy {
  const d = DEFAULT_P4SWITCH_OPTIONS.reconnect;
  const merged = { ...d, ...r };
  if (typeof merged.enabled !== 'boolean') throw bad('reconnect.enabled', `expected true or false, got ${String(merged.enabled)}`);
  const initialDelayMs = positiveInt('reconnect.initialDelayMs', merged.initialDelayMs, true);
  const maxDelayMs = positiveInt('reconnect.maxDelayMs', merged.maxDelayMs, true);
  if (maxDelayMs < initialDelayMs) throw bad('reconnect.maxDelayMs', `${maxDelayMs} is below initialDelayMs ${initialDelayMs}; raise it`);
  if (typeof merged.multiplier !== 'number' || !(merged.multiplier >= 1)) {
    throw bad('reconnect.multiplier', `expected a number >= 1, got ${String(merged.multiplier)}`);
  }
  const maxAttempts = positiveInt('reconnect.maxAttempts', merged.maxAttempts, true, true);
  return Object.freeze({ enabled: merged.enabled, initialDelayMs, maxDelayMs, multiplier: merged.multiplier, maxAttempts });
}

/**
 * Validates `P4SwitchOptions` and fills defaults; throws P4RuntimeError('BAD_OPTIONS') naming the
 * field, what was expected and how to fix it.
 * @example
 * const opts = parseP4SwitchOptions({ address: '127.0.0.1:9559', deviceId: 1 });
 */
export function parseP4SwitchOptions(o: P4SwitchOptions): ResolvedP4SwitchOptions {
  if (typeof o !== 'object' || o === null) throw bad('(root)', 'expected an options object like { address: "127.0.0.1:9559", deviceId: 0 }');
  const clock = o.clock ?? systemClock;
  const d = DEFAULT_P4SWITCH_OPTIONS;
  const role = o.role ?? d.role;
  if (typeof role !== 'string') throw bad('role', `expected a string, got ${String(role)}`);
  const policy = o.onElectionIdConflict ?? d.onElectionIdConflict;
  if (policy !== 'fail' && policy !== 'bid-higher') throw bad('onElectionIdConflict', `expected 'fail' or 'bid-higher', got ${String(policy)}`);
  const autoAck = o.autoAckDigests ?? d.autoAckDigests;
  if (typeof autoAck !== 'boolean') throw bad('autoAckDigests', `expected true or false, got ${String(autoAck)}`);
  const grpcClient = o.grpcClient ?? d.grpcClient;
  if (grpcClient !== 'http2' && grpcClient !== 'grpc-js') throw bad('grpcClient', `expected 'http2' or 'grpc-js', got ${String(grpcClient)}`);
  const openStreamsAhead = o.openStreamsAhead ?? d.openStreamsAhead;
  if (typeof openStreamsAhead !== 'boolean') throw bad('openStreamsAhead', `expected true or false, got ${String(openStreamsAhead)}`);
  return Object.freeze({
    address: checkAddress(o.address),
    deviceId: toBig('deviceId', o.deviceId, 0n, MAX_U64, 'a 64-bit device id'),
    electionId: o.electionId === undefined ? defaultElectionId(clock) : toBig('electionId', o.electionId, 1n, MAX_U128, 'a 128-bit election id'),
    role,
    credentials: parseCredentials(o.credentials),
    maxReceiveMessageBytes: positiveInt('maxReceiveMessageBytes', o.maxReceiveMessageBytes ?? d.maxReceiveMessageBytes),
    maxSendMessageBytes: positiveInt('maxSendMessageBytes', o.maxSendMessageBytes ?? d.maxSendMessageBytes),
    keepaliveMs: positiveInt('keepaliveMs', o.keepaliveMs ?? d.keepaliveMs, true),
    keepaliveTimeoutMs: positiveInt('keepaliveTimeoutMs', o.keepaliveTimeoutMs ?? d.keepaliveTimeoutMs),
    writeBatchSize: positiveInt('writeBatchSize', o.writeBatchSize ?? d.writeBatchSize),
    writeConcurrency: positiveInt('writeConcurrency', o.writeConcurrency ?? d.writeConcurrency),
    connectTimeoutMs: positiveInt('connectTimeoutMs', o.connectTimeoutMs ?? d.connectTimeoutMs),
    rpcTimeoutMs: positiveInt('rpcTimeoutMs', o.rpcTimeoutMs ?? d.rpcTimeoutMs, true),
    onElectionIdConflict: policy,
    reconnect: parseReconnect(o.reconnect),
    autoAckDigests: autoAck,
    schema: o.schema,
    logger: o.logger ?? silentLogger,
    clock,
    grpcClient,
    openStreamsAhead,
    transport: o.transport,
  });
}
