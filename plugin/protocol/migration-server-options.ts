/**
 * serveMigrationProtocol's options: what a plugin serves the migration protocol with, validated
 * once at the edge (parseMigrationServerOptions) into a frozen object.
 */
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi } from '../device-api/device-api.js';
import { EdgePluginError } from '../errors.js';
import type { TicketVerifier } from '../security/migration-ticket.js';
import { loadMutualTls, tlsIdentityProblem } from './tls-material.js';
import type { MutualTls } from './tls-material.js';

/** Options of listenMigrationProtocol: everything but the device API, which may come later. */
export interface MigrationListenOptions {
  /** This device's name: what tickets must name as a source or destination. */
  readonly device: string;
  /** `host:port` to listen on. Default `127.0.0.1:0` (an ephemeral port). */
  readonly listen?: string;
  readonly tls: MutualTls;
  /** Caller identities (certificate CN or subjectAltName) allowed to call. */
  readonly trustedCallers: readonly string[];
  /** Verifies tickets against the trusted coordinator keys (and remembers them to refuse replays). */
  readonly tickets: TicketVerifier;
  /** Largest message accepted or sent. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  readonly logger?: Logger;
  /**
   * Throws (a DeviceApiFailure) while the device cannot serve, e.g. its plugin is degraded: every
   * admitted call is then refused with that reason rather than failing half-way. Default: always serves.
   */
  readonly serving?: () => void;
}

/** Options of serveMigrationProtocol. */
export interface MigrationServerOptions extends MigrationListenOptions {
  /** The device API served. */
  readonly api: DeviceApi;
}

/** Defaults of the optional options. */
export const DEFAULT_MIGRATION_SERVER_OPTIONS = Object.freeze({ listen: '127.0.0.1:0', maxMessageBytes: 64 * 1024 * 1024 });

/** Options after validation. */
export type ParsedMigrationServerOptions = Required<Omit<MigrationListenOptions, 'tls'>> & { readonly tls: ReturnType<typeof loadMutualTls> };

/** Validates the options (PEM loaded). @throws EdgePluginError BAD_OPTIONS naming the field. */
export function parseMigrationServerOptions(o: MigrationListenOptions): ParsedMigrationServerOptions {
  const bad = (field: string, why: string): never => {
    throw new EdgePluginError('BAD_OPTIONS', `MigrationServerOptions.${field}: ${why}`);
  };
  if (typeof o.device !== 'string' || o.device === '') bad('device', 'expected the device name tickets name');
  if (!Array.isArray(o.trustedCallers) || o.trustedCallers.length === 0) bad('trustedCallers', 'expected at least one caller identity (certificate CN or subjectAltName); a plugin that trusts nobody serves nobody');
  const maxMessageBytes = o.maxMessageBytes ?? DEFAULT_MIGRATION_SERVER_OPTIONS.maxMessageBytes;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024) bad('maxMessageBytes', `expected an integer >= 1024, got ${String(maxMessageBytes)}`);
  const tls = loadMutualTls(o.tls, 'MigrationServerOptions.tls');
  // Checked here: a TLS handshake refused later names neither file.
  const problem = tlsIdentityProblem(tls.cert, tls.key, 'server');
  if (problem) bad('tls', `cert ${shownPem(o.tls.cert)} and key ${shownPem(o.tls.key)}: ${problem}`);
  return Object.freeze({
    device: o.device,
    listen: o.listen ?? DEFAULT_MIGRATION_SERVER_OPTIONS.listen,
    tls,
    trustedCallers: Object.freeze([...o.trustedCallers]),
    tickets: o.tickets,
    maxMessageBytes,
    logger: o.logger ?? silentLogger,
    serving: o.serving ?? ((): void => undefined),
  });
}

/** A PEM source as a message names it: its path, or that it was given inline. */
function shownPem(src: unknown): string {
  return typeof src === 'string' && !src.includes('-----BEGIN') ? src : '(given inline)';
}
