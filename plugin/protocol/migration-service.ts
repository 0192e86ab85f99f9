/**
 * The daemon's migration protocol: the plugin's device API (createDeviceApi, the same one used in
 * process) served over mutual TLS as the configuration says — the coordinators' public keys read
 * from their files, tickets verified against them.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'p4runtime-ts';
import type { MigrationProtocolConfig } from '../config-file.js';
import { asDeviceFailure } from '../device-api/device-failure.js';
import { createDeviceApi } from '../device-api/edge-device-api.js';
import { readControls, unfinishedMark } from '../device-api/vm-control-entry.js';
import type { EdgeDeviceApi } from '../device-api/edge-device-api.js';
import type { EdgePlugin } from '../edge-plugin.js';
import { EdgePluginError } from '../errors.js';
import { TicketVerifier } from '../security/migration-ticket.js';
import { serveMigrationProtocol } from './migration-server.js';
import { loadMutualTls, tlsIdentityProblem } from './tls-material.js';
import type { MigrationServer } from './migration-server.js';

/** A running migration service: the device API and its server. */
export interface MigrationService {
  readonly api: EdgeDeviceApi;
  readonly server: MigrationServer;
  stop(): Promise<void>;
}

/**
 * Checks what `c` names before anything touches the switch: the coordinators' public keys read and
 * usable, the TLS files read and the certificate and key a pair. Returns the ticket verifier.
 * @throws EdgePluginError BAD_OPTIONS naming the file and the fix.
 */
export function checkMigrationConfig(c: MigrationProtocolConfig): TicketVerifier {
  const trusted: Record<string, string> = {};
  for (const [name, path] of Object.entries(c.coordinators)) {
    try {
      trusted[name] = readFileSync(path, 'utf8');
    } catch (e) {
      throw new EdgePluginError('BAD_OPTIONS', `migration.coordinators.${name}: cannot read the public key file ${path} (${(e as Error).message})`, { cause: e });
    }
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
  return tickets;
}

/**
 * Serves the device API of a started plugin as `c` configures, with `tickets` from
 * checkMigrationConfig (run here when not given).
 * @throws EdgePluginError BAD_OPTIONS naming the key or certificate file that cannot be used.
 */
export async function startMigrationService(plugin: EdgePlugin, c: MigrationProtocolConfig, logger: Logger, tickets: TicketVerifier = checkMigrationConfig(c)): Promise<MigrationService> {
  const api = createDeviceApi(plugin, { name: c.device, ...(c.deltaIntervalMs !== undefined ? { deltaIntervalMs: c.deltaIntervalMs } : {}), ...(c.snapshotSource ? { snapshotSource: c.snapshotSource } : {}),
    ...(c.newFlowDigestDelayMs !== undefined ? { newFlowDigestDelayMs: c.newFlowDigestDelayMs } : {}),
    // A trusted index needs no background scan of the slot group (which would compete with migrations for the switch).
    ...(c.snapshotSource === 'index' ? { reconcile: false } : {}) });
  try {
    await api.ready();
    await warnUnfinished(plugin, c.device, logger);
    const server = await serveMigrationProtocol({
      api, device: c.device, listen: c.listen, tls: c.tls, trustedCallers: c.trustedCallers, tickets, logger,
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
