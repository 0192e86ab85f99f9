/**
 * `carryover plugin --config FILE`: the edge plugin as a daemon beside one switch. Starts it
 * (session, pipeline, register-access probe, pinhole control loop), logs its health at an
 * interval as structured records, and stops cleanly on SIGINT/SIGTERM.
 */
import { parseFlags } from './cli-flags.js';
import { createLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { DEFAULT_FROZEN_WARN_MS, loadEdgePluginConfig } from './config-file.js';
import { createEdgePlugin } from './edge-plugin.js';
import { EdgePluginError } from './errors.js';
import { checkMigrationConfig, checkServedContract, listenMigrationService, startMigrationService } from './protocol/migration-service.js';
import type { PendingMigrationServer } from './protocol/migration-server.js';
import type { MigrationService } from './protocol/migration-service.js';
import type { TicketVerifier } from './security/migration-ticket.js';

/** Where the command writes and what stops it (tests pass their own). */
export interface PluginCommandIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Resolves with the signal name that should stop the daemon (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<string>;
  /** How long stopping may take before the command returns anyway (default DEFAULT_STOP_WITHIN_MS). */
  readonly stopWithinMs?: number;
  /** The logger's sink (default: JSON lines on stderr). */
  readonly logSink?: (record: Readonly<Record<string, unknown>>) => void;
}

const HELP = `usage: carryover plugin --config FILE

Runs the edge plugin beside one switch. Before it touches the switch it checks its files, the
P4Info (with a "migration" section: what serving migrations needs) and binds migration.listen:
any of these wrong is exit 2. Then it connects over P4Runtime, becomes primary, checks the
switch's pipeline (if the config names a deviceConfig: pushed only to a switch with none; the same
program, even from another build, used as it is; another program refused unless
"replacePipeline": true, whose push clears every entry, register and counter), probes register access
(P4Runtime RegisterEntry, else in-band), learns dynamic ACL pinholes from digests and removes them
on idle timeout. With a "migration" section it also serves the migration protocol (gRPC, mutual
TLS): trusted callers only, every migration call authorized by a coordinator's ticket. Logs health
every healthIntervalMs; stops on SIGINT/SIGTERM. When the switch comes back after a disconnect its
pipeline is checked again: an empty switch (restarted) gets deviceConfig pushed, with a warning
that your controller must lay out its tables again; another program degrades the daemon (health
"degraded" with the reason; migration calls refused) until the switch runs its program again.

The config file is JSON, or YAML when named .yaml/.yml (paths relative to it):
  { "switch": { "address": "127.0.0.1:9559", "deviceId": 1, "electionId": "10" },
    "p4info": "stateful_edge.p4info.txtpb", "deviceConfig": "stateful_edge.json", "replacePipeline": false,
    "tls": { "ca": "ca.pem", "cert": "plugin.pem", "key": "plugin.key" },
    "registerAccess": "probe", "inband": { "window": 64 }, "pinholeIdleTimeout": "30s",
    "healthIntervalMs": 10000, "logLevel": "info",
    "migration": { "listen": "0.0.0.0:50051", "device": "edge-1",
      "tls": { "ca": "site-ca.pem", "cert": "edge-1.pem", "key": "edge-1.key" },
      "trustedCallers": ["controller-a"], "coordinators": { "dc-a": "dc-a.pub.pem", "dc-b": "dc-b.pub.pem" },
      "requiredSigners": ["dc-a", "dc-b"], "snapshotSource": "auto" } }

switch.grpcClient "grpc-js" carries P4Runtime over a grpc-js channel instead of p4runtime-ts'
own HTTP/2 client (the default, "http2"). switch.openStreamsAhead false stops that client from
keeping a Write and a Read stream opened ahead of the next calls (default true).

snapshotSource "index" trusts the slot index the daemon learns from digests (no scan of the slot
group before the first snapshot): right when the daemon starts with the switch's pipeline, before
any flow; "auto" (the default) scans until the index is reconciled. Either way, after a gap (the
daemon was not primary, or its stream broke: digests went elsewhere) the next snapshot scans first.`;

/** The first SIGINT or SIGTERM; both handlers go with it, so a second signal of either kind ends the process at once. */
function signals(): Promise<string> {
  return new Promise((resolve) => {
    const onInt = (): void => first('SIGINT');
    const onTerm = (): void => first('SIGTERM');
    const first = (s: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(s);
    };
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

/** Runs `carryover plugin`; resolves with the exit code (0 stopped cleanly, 1 failed, 2 bad config). */
export async function runPluginCommand(
  argv: string[],
  io: PluginCommandIo = { stdout: (l) => process.stdout.write(`${l}\n`), stderr: (l) => process.stderr.write(`${l}\n`) },
): Promise<number> {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseFlags({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    io.stderr(`carryover plugin: ${(e as Error).message} (see 'carryover plugin --help')`);
    return 2;
  }
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (!values.config) {
    io.stderr("carryover plugin: --config FILE is required (see 'carryover plugin --help')");
    return 2;
  }
  let config;
  try {
    config = loadEdgePluginConfig(values.config);
  } catch (e) {
    io.stderr(`carryover plugin: ${(e as Error).message}`);
    return 2;
  }
  const logger: Logger = createLogger({ level: config.logLevel, fields: { component: 'plugin' }, ...(io.logSink ? { sink: io.logSink } : {}) });
  let plugin;
  let tickets: TicketVerifier | undefined;
  try {
    // The migration section's files checked before the switch is touched: a bad one is a bad config (exit 2).
    if (config.migration) tickets = checkMigrationConfig(config.migration, logger);
    plugin = createEdgePlugin({ ...config.options, logger });
    if (config.migration) checkServedContract(plugin);
  } catch (e) {
    io.stderr(`carryover plugin: ${values.config}: ${(e as Error).message}`);
    return 2;
  }
  let listener: PendingMigrationServer | undefined;
  if (config.migration && tickets) {
    try {
      // Bound before the switch is touched: an address it cannot listen on must not cost the switch its pipeline.
      listener = await listenMigrationService(plugin, config.migration, logger, tickets);
    } catch (e) {
      io.stderr(`carryover plugin: ${values.config}: ${(e as Error).message}`);
      return 2;
    }
  }
  const stop = io.stopSignal ?? signals();
  const stopWithin = io.stopWithinMs ?? DEFAULT_STOP_WITHIN_MS;
  // A signal while the switch is still being reached stops the daemon then, not after the connect
  // timeout (walkthrough 22 B3: the first SIGTERM seemed ignored while the switch was away).
  const started = plugin.start().then(() => undefined, (e: unknown) => EdgePluginError.from(e));
  const first = await Promise.race([started.then((failed) => ({ failed })), stop.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    io.stdout(`carryover plugin: ${first.signal} while starting against ${config.options.address}, stopping`);
    await within(Promise.all([listener?.stop(), plugin.stop(), started]), stopWithin, io);
    return 0;
  }
  if (first.failed) {
    io.stderr(`carryover plugin: could not start against ${config.options.address}: ${first.failed.message}`);
    await listener?.stop();
    await plugin.stop();
    return 1;
  }
  let service: MigrationService | undefined;
  if (config.migration && listener) {
    try {
      service = await startMigrationService(plugin, config.migration, logger, listener);
    } catch (e) {
      io.stderr(`carryover plugin: ${values.config}: could not serve the migration protocol: ${(e as Error).message}`);
      await listener.stop();
      await plugin.stop();
      return 1;
    }
    io.stdout(`carryover plugin: serving the migration protocol on ${service.server.address} as device '${config.migration.device}' (mutual TLS; trusted callers ${config.migration.trustedCallers.join(', ')}; coordinators ${Object.keys(config.migration.coordinators).join(', ')})`);
  }
  const h = plugin.health();
  io.stdout(`carryover plugin: running against ${config.options.address} (device ${String(config.options.deviceId)}), register access ${h.registerAccess?.backend ?? "unknown"} (${h.registerAccess?.reason ?? ""}); stop with SIGINT/SIGTERM`);
  const report = (): void => {
    const now = plugin.health();
    // With the migration protocol: the slot index (a gap means the next snapshot scans the whole group) and the migrations held.
    const held = service?.api.held();
    const migration = service ? { slotIndex: service.api.slotIndex(), migrations: held } : {};
    const fields = { state: now.state, primary: now.primary, backend: now.registerAccess?.backend, pinholes: now.pinholes, errors: now.errors, ...migration };
    // Anything but running is the operator's business: said at warn, with why.
    if (now.state === 'running') logger.info('health', fields);
    else logger.warn('health', { ...fields, reason: now.reason });
    // A pause lasts milliseconds: a source frozen this long lost its controller (walkthrough 13:
    // the VM's traffic dropped until an operator ran recover, and nothing said so here).
    for (const f of held?.frozen ?? []) {
      if (f.forMs >= (config.migration?.frozenWarnMs ?? DEFAULT_FROZEN_WARN_MS)) logger.warn('a migration has held the VM frozen here without its controller\'s next step: the VM\'s traffic is dropped at this switch; if that controller stopped, run carryover recover with its journal', { migrationId: f.migrationId, vmId: f.vmId, frozenForS: Math.round(f.forMs / 1000) });
    }
  };
  const timer = setInterval(report, config.healthIntervalMs);
  timer.unref();
  const sig = await stop;
  clearInterval(timer);
  report();
  io.stdout(`carryover plugin: ${sig}, stopping`);
  await within((async () => {
    await service?.stop();
    await plugin.stop();
  })(), stopWithin, io);
  return 0;
}

/** How long the daemon waits for its own shutdown (calls in flight to a switch that stopped answering) before it exits anyway. */
export const DEFAULT_STOP_WITHIN_MS = 10_000;

/** Waits for `work`, at most `ms`; past it says so and moves on (the process exits with what it holds). */
async function within(work: Promise<unknown>, ms: number, io: PluginCommandIo): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const outcome = await Promise.race([work.then(() => 'done' as const, () => 'done' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') io.stderr(`carryover plugin: stopping did not finish within ${ms} ms (the switch or a caller does not answer); exiting without waiting for it`);
}
