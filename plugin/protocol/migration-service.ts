/**
 * The daemon's migration protocol: the plugin's device API (createDeviceApi, the same one used in
 * process) served over mutual TLS as the configuration says — the coordinators' public keys read
 * from their files, tickets verified against them.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import type { MigrationProtocolConfig } from '../config-file.js';
import { migrationServiceGaps } from '../contract/index.js';
import { asDeviceFailure } from '../device-api/device-failure.js';
import { createDeviceApi } from '../device-api/edge-device-api.js';
import { readControls, unfinishedMark } from '../device-api/vm-control-entry.js';
import type { EdgeDeviceApi } from '../device-api/edge-device-api.js';
import type { EdgePlugin } from '../edge-plugin.js';
import { EdgePluginError } from '../errors.js';
import { TicketVerifier } from '../security/migration-ticket.js';
import { listenMigrationProtocol } from './migration-server.js';
import { caIssuerProblem, loadMutualTls, pemHolds, tlsIdentityProblem } from './tls-material.js';
import type { MigrationServer, PendingMigrationServer } from './migration-server.js';

/** A running migration service: the device API and its server. */
export interface MigrationService {
  readonly api: EdgeDeviceApi;
  readonly server: MigrationServer;
  stop(): Promise<void>;
}

/**
 * Checks what `c` names before anything touches the switch: each coordinator's file an Ed25519
 * public key, the TLS files read, the certificate and key a pair, the certificate valid now and
 * for serving. Returns the ticket verifier. A `tls.ca` that did not issue this daemon's own
 * certificate is only warned of: it is the CA of the callers, which may be another than the
 * daemon's issuer, and only peer-to-peer transfers between daemons need it to be both.
 * @throws EdgePluginError BAD_OPTIONS naming the file and the fix.
 */
export function checkMigrationConfig(c: MigrationProtocolConfig, logger: Logger = silentLogger): TicketVerifier {
  const trusted: Record<string, string> = {};
  for (const [name, path] of Object.entries(c.coordinators)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new EdgePluginError('BAD_OPTIONS', `migration.coordinators.${name}: cannot read the public key file ${path} (${(e as Error).message})`, { cause: e });
    }
    const problem = ticketKeyProblem(text);
    if (problem) throw new EdgePluginError('BAD_OPTIONS', `migration.coordinators.${name}: ${path} ${problem}; give ${name}'s Ed25519 public key in PEM (openssl pkey -in ${name}.key -pubout -out ${name}.pub.pem)`);
    trusted[name] = text;
  }
  let tickets: TicketVerifier;
  try {
    tickets = new TicketVerifier({ trusted, ...(c.requiredSigners ? { required: c.requiredSigners } : {}) });
  } catch (e) {
    throw new EdgePluginError('BAD_OPTIONS', `migration.coordinators: ${(e as Error).message}; each must be an Ed25519 public key in PEM`, { cause: e });
  }
  const t = loadMutualTls(c.tls, 'migration.tls');
  try {
    createSecureContext({ ca: t.ca });
  } catch (e) {
    throw new EdgePluginError('BAD_OPTIONS', `migration.tls.ca: ${c.tls.ca} is not a usable CA certificate (${(e as Error).message}); give the PEM certificate of the CA that signs the coordinators' client certificates`, { cause: e });
  }
  try {
    createSecureContext({ cert: t.cert, key: t.key });
  } catch (e) {
    throw new EdgePluginError('BAD_OPTIONS', `migration.tls: the certificate ${c.tls.cert} and the key ${c.tls.key} cannot be used together (${(e as Error).message}); give this plugin's PEM certificate and its own private key`, { cause: e });
  }
  const problem = tlsIdentityProblem(t.cert, t.key, 'server');
  if (problem) throw new EdgePluginError('BAD_OPTIONS', `migration.tls.cert: ${c.tls.cert}: ${problem}`);
  const foreign = caIssuerProblem(t.cert, t.ca);
  if (foreign) logger.warn(`migration.tls.ca does not hold the issuer of this daemon's own certificate: callers are verified against it and served, but peer-to-peer transfers between daemons issued like this one are refused (each verifies the other against its tls.ca); if migrations run peer to peer, add the issuer's certificate to tls.ca (PEM files concatenate)`, { ca: c.tls.ca, cert: c.tls.cert, issuer: foreign });
  return tickets;
}

/** Why a coordinator's key file cannot verify tickets (an Ed25519 public key in PEM), or undefined when it can. */
function ticketKeyProblem(text: string): string | undefined {
  // createPublicKey also takes a certificate (whose key is no Ed25519 one) and a private key.
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return `holds ${pemHolds(text)}: a coordinator's private key does not belong on a plugin host, only its public half`;
  if (!text.includes('-----BEGIN PUBLIC KEY-----')) return `holds ${pemHolds(text)}, not a PUBLIC KEY`;
  let type: string | undefined;
  try {
    type = createPublicKey(text).asymmetricKeyType;
  } catch (e) {
    return `does not parse as a public key (${(e as Error).message})`;
  }
  return type === 'ed25519' ? undefined : `holds a public key of type ${type ?? 'unknown'}, not Ed25519 (tickets are signed with Ed25519)`;
}

/**
 * Refuses a plugin whose P4Info lacks what serving migrations needs (migrationServiceGaps), before
 * it starts: else its program would be pushed and served, and only the first Prepare would refuse.
 * @throws EdgePluginError CONTRACT_MISSING naming the P4Info, what it lacks and the fix.
 */
export function checkServedContract(plugin: EdgePlugin): void {
  const gaps = migrationServiceGaps(plugin.contract, plugin.group);
  if (gaps.length === 0) return;
  throw new EdgePluginError('CONTRACT_MISSING', `p4info ${plugin.options.p4infoSource}: serving migrations (the migration section) needs ${gaps.join('; ')}, which this P4Info lacks; give the P4Info of a program with the migration contract (p4/README.md "The migration contract"; stateful_edge's is p4/stateful_edge.p4info.txtpb), or remove the migration section to run the plugin without serving migrations`);
}

/**
 * Binds the migration protocol's listener as `c` configures, for `plugin` before it starts (a
 * listen address that cannot be bound then fails before the switch is touched); calls are refused
 * until startMigrationService gives it the device API. `tickets` from checkMigrationConfig.
 * @throws EdgePluginError BAD_OPTIONS naming migration.listen and the fix.
 */
export function listenMigrationService(plugin: EdgePlugin, c: MigrationProtocolConfig, logger: Logger, tickets: TicketVerifier): Promise<PendingMigrationServer> {
  return listenMigrationProtocol({
    device: c.device, listen: c.listen, tls: c.tls, trustedCallers: c.trustedCallers, tickets, logger,
    ...(c.maxMessageBytes !== undefined ? { maxMessageBytes: c.maxMessageBytes } : {}),
    // A degraded plugin (session lost, the switch running another program) refuses with why.
    serving: () => {
      try {
        plugin.assertServing('migration call');
      } catch (e) {
        throw asDeviceFailure(e, `device ${c.device}`);
      }
    },
  });
}

/**
 * Serves the device API of a started plugin on `server` (listenMigrationService's, bound for it).
 * @throws what the device API's start throws (the slot index's digests refused by the switch).
 */
export async function startMigrationService(plugin: EdgePlugin, c: MigrationProtocolConfig, logger: Logger, server: PendingMigrationServer): Promise<MigrationService> {
  const api = createDeviceApi(plugin, { name: c.device, ...(c.deltaIntervalMs !== undefined ? { deltaIntervalMs: c.deltaIntervalMs } : {}), ...(c.snapshotSource ? { snapshotSource: c.snapshotSource } : {}),
    ...(c.newFlowDigestDelayMs !== undefined ? { newFlowDigestDelayMs: c.newFlowDigestDelayMs } : {}),
    // A trusted index needs no background scan of the slot group (which would compete with migrations for the switch).
    ...(c.snapshotSource === 'index' ? { reconcile: false } : {}) });
  try {
    await api.ready();
    await warnUnfinished(plugin, c.device, logger);
    server.serve(api);
    return {
      api,
      server,
      stop: async () => {
        await server.stop();
        api.stop();
      },
    };
  } catch (e) {
    api.stop();
    throw e;
  }
}

/**
 * At start the daemon remembers no migration: a control entry still marking one (a source left
 * frozen when the daemon stopped mid-pause, a destination left staged) is one that did not finish.
 * Said once, loudly: a frozen VM's traffic is dropped until `carryover recover` undoes it.
 */
async function warnUnfinished(plugin: EdgePlugin, device: string, logger: Logger): Promise<void> {
  const control = plugin.contract.control;
  if (!control) return;
  try {
    for (const [vmId, entry] of await readControls(plugin.session, control)) {
      const mark = unfinishedMark(control, entry);
      if (mark) logger.warn('a migration that did not finish left its mark on this switch; if the controller that started it still runs, its rollback retries this plugin and undoes it, else run carryover recover with that controller\'s journal', { device, vmId, mark, ...(mark === 'frozen' ? { effect: 'the VM\'s traffic is dropped here until then' } : {}) });
    }
  } catch (e) {
    logger.debug('control entries not read at start', { device, error: e instanceof Error ? e.message : String(e) });
  }
}
