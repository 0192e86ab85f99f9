/**
 * The trigger's QEMU monitors: opened from the options (or taken as given), and the destination's
 * checked to be a QEMU waiting for the incoming migration before anything changes at the source.
 */
import { QmpClient } from '../qmp/index.js';
import { QemuTriggerError } from './errors.js';
import type { MonitorOption, ResolvedQemuTriggerOptions } from './options.js';

/**
 * Refuses a destination monitor that is not a QEMU waiting for the incoming migration, before
 * anything changes at the source: a wrong socket (the source's own, another VM's) would make the
 * run-state check after completion and the VM's own downtime report on the wrong VM.
 */
export async function checkDestination(destination: QmpClient, timeoutMs: number): Promise<void> {
  const { status } = await destination.execute<{ status: string }>('query-status', undefined, { timeoutMs });
  if (status === 'inmigrate') return;
  throw new QemuTriggerError('BAD_OPTIONS', `QemuTriggerOptions.destination: the QEMU behind ${destination.description} is '${status}', not waiting for an incoming migration ('inmigrate': started with -incoming); give the destination QEMU's monitor, or leave destination out`);
}

/** The monitor `m` names, connected (and added to `owned`, which the trigger closes), or `m` itself when it is a client. */
export async function openMonitor(opts: ResolvedQemuTriggerOptions, m: MonitorOption, owned: QmpClient[]): Promise<QmpClient> {
  if (m instanceof QmpClient) return m;
  const options = typeof m === 'string' ? { address: m } : m;
  const client = await QmpClient.connect({ logger: opts.logger, clock: opts.clock, commandTimeoutMs: opts.commandTimeoutMs, ...options });
  owned.push(client);
  return client;
}
