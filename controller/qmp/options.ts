/**
 * Options of a QMP client: what the caller passes, the defaults, and the one validating parser
 * that turns them into a frozen `ResolvedQmpClientOptions` before any socket is opened.
 */
import { silentLogger } from 'p4runtime-ts';
import type { Clock, Logger } from 'p4runtime-ts';
import { monotonicClock } from '../monotonic-time.js';
import { QmpError } from './errors.js';
import { socketTransport } from './transport.js';
import type { QmpEndpoint, QmpTransport } from './transport.js';

/** Options of `QmpClient.connect`. One of `address` or `transport` is required. */
export interface QmpClientOptions {
  /** `unix:/path`, an absolute path (a Unix socket), `tcp:host:port` or `host:port`. */
  readonly address?: string;
  /** Injected transport (tests, other byte streams); overrides `address`. */
  readonly transport?: QmpTransport;
  /** How long connect waits for the socket, the greeting and `qmp_capabilities` together. */
  readonly connectTimeoutMs?: number;
  /** Default reply timeout of a command; a command may pass its own. */
  readonly commandTimeoutMs?: number;
  /** Largest message accepted; a monitor sending more is refused as PROTOCOL. */
  readonly maxMessageBytes?: number;
  /** Prefix of command ids (ids are `${prefix}-${n}`), to tell clients apart in QEMU's traces. */
  readonly idPrefix?: string;
  readonly logger?: Logger;
  /** Clock and timers (timeouts, events' `receivedAt`); default monotonicClock; tests pass virtual time. */
  readonly clock?: Clock;
}

/** Options after validation: every field present. */
export interface ResolvedQmpClientOptions {
  readonly transport: QmpTransport;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly idPrefix: string;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Defaults of every optional field. */
export const DEFAULT_QMP_CLIENT_OPTIONS = Object.freeze({
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 10_000,
  // query-qmp-schema, the largest reply QEMU 7.2 sends, is about 200 KB.
  maxMessageBytes: 16 * 1024 * 1024,
  idPrefix: 'carryover',
});

function bad(field: string, message: string): QmpError {
  return new QmpError('BAD_OPTIONS', `QmpClientOptions.${field}: ${message}`);
}

function positiveInt(field: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw bad(field, `expected an integer >= 1, got ${String(v)}`);
  return v;
}

/** Parses a monitor address into an endpoint, or throws BAD_OPTIONS saying what is accepted. */
export function parseQmpAddress(address: string): QmpEndpoint {
  const hint = 'write "unix:/run/vm.qmp", "/run/vm.qmp", "tcp:127.0.0.1:4444" or "127.0.0.1:4444"';
  if (address.startsWith('unix:')) {
    const path = address.slice('unix:'.length);
    if (path.length === 0) throw bad('address', `"${address}" has no socket path; ${hint}`);
    return { kind: 'unix', path };
  }
  if (address.startsWith('/') || address.startsWith('./')) return { kind: 'unix', path: address };
  const rest = address.startsWith('tcp:') ? address.slice('tcp:'.length) : address;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d+)$/.exec(rest);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw bad('address', `"${address}" is neither a socket path nor host:port with a port 1..65535; ${hint}`);
  return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * Validates options at the edge and returns them frozen with defaults filled in.
 * @example
 * const opts = parseQmpClientOptions({ address: 'unix:/run/vm1.qmp', commandTimeoutMs: 5000 });
 */
export function parseQmpClientOptions(options: QmpClientOptions): ResolvedQmpClientOptions {
  if (typeof options !== 'object' || options === null) throw bad('(root)', 'expected an options object, e.g. { address: "unix:/run/vm.qmp" }');
  let transport = options.transport;
  if (transport === undefined) {
    if (typeof options.address !== 'string' || options.address.length === 0) {
      throw bad('address', `missing; pass the monitor's address (QEMU's -qmp option), e.g. "unix:/run/vm.qmp"`);
    }
    transport = socketTransport(parseQmpAddress(options.address));
  } else if (typeof transport.open !== 'function') {
    throw bad('transport', 'expected an object with open() and description');
  }
  const idPrefix = options.idPrefix ?? DEFAULT_QMP_CLIENT_OPTIONS.idPrefix;
  if (typeof idPrefix !== 'string' || !/^[\w.-]{1,40}$/.test(idPrefix)) throw bad('idPrefix', `expected 1-40 letters, digits, '.', '_' or '-', got ${JSON.stringify(idPrefix)}`);
  return Object.freeze({
    transport,
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs, DEFAULT_QMP_CLIENT_OPTIONS.connectTimeoutMs),
    commandTimeoutMs: positiveInt('commandTimeoutMs', options.commandTimeoutMs, DEFAULT_QMP_CLIENT_OPTIONS.commandTimeoutMs),
    maxMessageBytes: positiveInt('maxMessageBytes', options.maxMessageBytes, DEFAULT_QMP_CLIENT_OPTIONS.maxMessageBytes),
    idPrefix,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? monotonicClock,
  });
}
