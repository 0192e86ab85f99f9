/**
 * Options of a simulated switch: `SimSwitchOptions` as callers write them, the defaults, and the
 * one parser that validates them at the edge and returns a frozen object.
 */
import { P4RuntimeError, silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { createRealScheduler } from './clock.js';
import type { Scheduler } from './clock.js';
import type { SimProgram } from './program.js';
import { SIM_PROFILE_NAMES } from './profiles.js';
import type { SimProfileName } from './profiles.js';

/** How the gRPC server authenticates. */
export type SimCredentials =
  | { readonly kind: 'insecure' }
  /** Server certificate only; clients are not authenticated. */
  | { readonly kind: 'tls'; readonly certPem: string; readonly keyPem: string }
  /** Mutual TLS: clients must present a certificate signed by `caPem`. */
  | { readonly kind: 'mtls'; readonly caPem: string; readonly certPem: string; readonly keyPem: string };

/** Options of `startSimSwitch`. Every field is optional. */
export interface SimSwitchOptions {
  /** `host:port` to listen on; port 0 picks a free one. Default `127.0.0.1:0`. */
  readonly listen?: string;
  /** The P4Runtime device id this switch answers to. Default 1. */
  readonly deviceId?: bigint | number | string;
  /** Which target to behave like. Default `full`. */
  readonly profile?: SimProfileName;
  /** Force the behavioural model by name, whatever the pushed pipeline says. */
  readonly program?: string;
  /** The port meaning "to/from the controller". Default: 255 (full, bmv2), 320 (stratum-tofino). */
  readonly cpuPort?: number;
  readonly credentials?: SimCredentials;
  readonly logger?: Logger;
  /** Clock and timers for idle-timeout scans, digest timeouts and injected delays. Default: real time. */
  readonly scheduler?: Scheduler;
  /** Override the profile's idle-timeout scan interval (ms). */
  readonly idleScanIntervalMs?: number;
  /** Extra programs for this switch only (in addition to the registered ones). */
  readonly programs?: readonly SimProgram[];
  /** Entities per ReadResponse on profiles that stream large results. Default 1000. */
  readonly readChunkSize?: number;
  /**
   * Refuse padded bytestrings (INVALID_ARGUMENT naming the shortest form) instead of accepting
   * values that fit, as every profile does by default. Default false.
   */
  readonly canonicalBytestrings?: boolean;
}

/** Parsed, validated, frozen options. */
export interface ParsedSimSwitchOptions {
  readonly listen: string;
  readonly host: string;
  readonly port: number;
  readonly deviceId: bigint;
  readonly profile: SimProfileName;
  readonly program: string | undefined;
  readonly cpuPort: number | undefined;
  readonly credentials: SimCredentials;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly idleScanIntervalMs: number | undefined;
  readonly programs: readonly SimProgram[];
  readonly readChunkSize: number;
  readonly canonicalBytestrings: boolean;
}

/** The defaults `parseSimSwitchOptions` fills in. */
export const DEFAULT_SIM_SWITCH_OPTIONS = Object.freeze({
  listen: '127.0.0.1:0',
  deviceId: 1n,
  profile: 'full' as SimProfileName,
  credentials: Object.freeze({ kind: 'insecure' }) as SimCredentials,
  readChunkSize: 1000,
  canonicalBytestrings: false,
});

function bad(field: string, got: unknown, expected: string): P4RuntimeError {
  const shown = typeof got === 'bigint' ? `${got}n` : JSON.stringify(got) ?? String(got);
  return new P4RuntimeError('BAD_OPTIONS', `sim option '${field}': got ${shown}; expected ${expected}`);
}

/** Splits `host:port` / `[v6]:port`; throws BAD_OPTIONS naming the form expected. */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw bad('listen', listen, "'host:port' with port 0..65535, e.g. 127.0.0.1:0 or [::1]:9559");
  return { host: m[1] ?? '', port };
}

function pem(field: string, v: unknown): string {
  if (typeof v !== 'string' || !v.includes('-----BEGIN ')) throw bad(field, typeof v === 'string' ? `${v.slice(0, 30)}…` : v, 'a PEM string (-----BEGIN …-----)');
  return v;
}

/** Validates options at the edge and returns them frozen with defaults filled in. */
export function parseSimSwitchOptions(options: SimSwitchOptions = {}): ParsedSimSwitchOptions {
  if (typeof options !== 'object' || options === null) throw bad('options', options, 'an object');
  const listen = options.listen ?? DEFAULT_SIM_SWITCH_OPTIONS.listen;
  if (typeof listen !== 'string') throw bad('listen', listen, "a 'host:port' string");
  const { host, port } = parseListenAddress(listen);

  let deviceId: bigint;
  const rawId = options.deviceId ?? DEFAULT_SIM_SWITCH_OPTIONS.deviceId;
  try {
    if (typeof rawId === 'number' && !Number.isSafeInteger(rawId)) throw new Error();
    deviceId = BigInt(rawId);
  } catch {
    throw bad('deviceId', rawId, 'an unsigned 64-bit integer (number, bigint or decimal string)');
  }
  if (deviceId < 0n || deviceId >= 1n << 64n) throw bad('deviceId', rawId, 'an unsigned 64-bit integer (0 .. 2^64-1)');

  const profile = options.profile ?? DEFAULT_SIM_SWITCH_OPTIONS.profile;
  if (!SIM_PROFILE_NAMES.includes(profile)) throw bad('profile', profile, `one of ${SIM_PROFILE_NAMES.join(', ')}`);

  if (options.program !== undefined && (typeof options.program !== 'string' || options.program.trim() === '')) throw bad('program', options.program, 'a non-empty program name, e.g. l2_echo');
  if (options.cpuPort !== undefined && !(Number.isInteger(options.cpuPort) && options.cpuPort >= 0 && options.cpuPort <= 0xffffffff)) {
    throw bad('cpuPort', options.cpuPort, 'an integer port number 0 .. 2^32-1');
  }

  const c = options.credentials ?? DEFAULT_SIM_SWITCH_OPTIONS.credentials;
  let credentials: SimCredentials;
  if (c.kind === 'insecure') credentials = Object.freeze({ kind: 'insecure' });
  else if (c.kind === 'tls') credentials = Object.freeze({ kind: 'tls', certPem: pem('credentials.certPem', c.certPem), keyPem: pem('credentials.keyPem', c.keyPem) });
  else if (c.kind === 'mtls') {
    credentials = Object.freeze({ kind: 'mtls', caPem: pem('credentials.caPem', c.caPem), certPem: pem('credentials.certPem', c.certPem), keyPem: pem('credentials.keyPem', c.keyPem) });
  } else throw bad('credentials.kind', (c as { kind?: unknown }).kind, "'insecure', 'tls' or 'mtls'");

  const scheduler = options.scheduler ?? createRealScheduler();
  for (const fn of ['now', 'wallNs', 'setTimer', 'clearTimer', 'sleep'] as const) {
    if (typeof (scheduler as unknown as Record<string, unknown>)[fn] !== 'function') throw bad('scheduler', `{ … no ${fn}() }`, 'a Scheduler (now, wallNs, setTimer, clearTimer, sleep)');
  }
  if (options.idleScanIntervalMs !== undefined && !(options.idleScanIntervalMs > 0 && Number.isFinite(options.idleScanIntervalMs))) {
    throw bad('idleScanIntervalMs', options.idleScanIntervalMs, 'a positive number of milliseconds');
  }
  const readChunkSize = options.readChunkSize ?? DEFAULT_SIM_SWITCH_OPTIONS.readChunkSize;
  if (!(Number.isInteger(readChunkSize) && readChunkSize >= 1)) throw bad('readChunkSize', readChunkSize, 'an integer >= 1');
  const canonicalBytestrings = options.canonicalBytestrings ?? DEFAULT_SIM_SWITCH_OPTIONS.canonicalBytestrings;
  if (typeof canonicalBytestrings !== 'boolean') throw bad('canonicalBytestrings', canonicalBytestrings, 'true or false');
  const programs = options.programs ?? [];
  for (const p of programs) {
    if (typeof p?.name !== 'string' || typeof p.instantiate !== 'function') throw bad('programs', p?.name, 'SimProgram objects (name, instantiate)');
  }

  return Object.freeze({
    listen,
    host,
    port,
    deviceId,
    profile,
    program: options.program?.trim(),
    cpuPort: options.cpuPort,
    credentials,
    logger: options.logger ?? silentLogger,
    scheduler,
    idleScanIntervalMs: options.idleScanIntervalMs,
    programs: Object.freeze([...programs]),
    readChunkSize,
    canonicalBytestrings,
  });
}
