/**
 * `carryover federation --config SITE.yaml`: this domain's controller serving its peer domains
 * (the destination side of cross-domain migrations) until SIGINT/SIGTERM. The inventory's
 * `federation` section says where and with which certificate, `peers` whom it trusts, `devices`
 * what it drives; incoming migrations are journalled in its journal directory.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { ControllerError } from '../errors.js';
import { loadInventory } from '../inventory/load-inventory.js';
import { serveFederation } from './federation-server.js';
import { parseFlags } from '../../plugin/cli-flags.js';

/** Where the command writes and what stops it (tests pass their own). */
export interface FederationCommandIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Resolves with the signal that stops the service (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<string>;
  readonly logSink?: (record: Readonly<Record<string, unknown>>) => void;
}

const DEFAULT_P4INFO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'p4', 'stateful_edge.p4info.txtpb');

const HELP = `usage: carryover federation --config SITE.yaml [--listen HOST:PORT]

Serves this domain's controller to its peer domains: a peer's controller proposes a migration to
one of this domain's hosts; this controller plans and negotiates its own destination devices,
cosigns the migration's ticket, stages the pre-copy state, and inside the pause activates — or
rolls back, with the reason, on either side's failure. Mutual TLS: each peer's certificate must
be issued by the CA listed for it under 'peers' and name its identity.

  --config FILE       the inventory: domain, controller (tls, signingKey), federation (listen, tls),
                      peers (address, ca, identity, ticketKey), devices
  --listen HOST:PORT  overrides federation.listen`;

function signals(): Promise<string> {
  return new Promise((ok) => {
    process.once('SIGINT', () => ok('SIGINT'));
    process.once('SIGTERM', () => ok('SIGTERM'));
  });
}

/** Runs `carryover federation`; resolves with the exit code (0 stopped, 1 failed to serve, 2 bad config). */
export async function runFederationCommand(argv: string[], io: FederationCommandIo = { stdout: (l) => process.stdout.write(`${l}\n`), stderr: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let v: { config?: string | undefined; listen?: string | undefined; help?: boolean | undefined };
  try {
    v = parseFlags({ args: argv, options: { config: { type: 'string' }, listen: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (e) {
    io.stderr(`carryover federation: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (v.help) {
    io.stdout(HELP);
    return 0;
  }
  if (!v.config) {
    io.stderr(`carryover federation: --config FILE is required\n\n${HELP}`);
    return 2;
  }
  let inventory;
  try {
    inventory = loadInventory(v.config);
  } catch (e) {
    io.stderr(`carryover federation: ${(e as Error).message}`);
    return 2;
  }
  const logger: Logger = createLogger({ level: 'info', fields: { component: 'federation' }, ...(io.logSink ? { sink: io.logSink } : {}) });
  const stop = io.stopSignal ?? signals();
  let server;
  try {
    server = await serveFederation({ inventory, defaultP4info: DEFAULT_P4INFO, ...(v.listen ? { listen: v.listen } : {}), logger });
  } catch (e) {
    const err = ControllerError.from(e);
    io.stderr(`carryover federation: ${err.message}`);
    return err.code === 'BAD_CONFIG' ? 2 : 1;
  }
  io.stdout(`carryover federation: domain ${inventory.domain} serving peers on ${server.address} (mutual TLS; peers ${[...inventory.peers.values()].map((p) => `${p.name} as ${p.identity}`).join(', ')}); stop with SIGINT/SIGTERM`);
  const sig = await stop;
  io.stdout(`carryover federation: ${sig}, stopping (migrations in progress stay in the journal)`);
  await server.stop();
  return 0;
}
