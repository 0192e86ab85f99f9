/**
 * The few QMP queries and settings the trigger needs, with their answers typed and checked:
 * `query-migrate`, `migrate-set-capabilities`, and the destination's `query-status`.
 */
import type { Clock } from 'p4runtime-ts';
import { QmpError } from '../qmp/index.js';
import type { QmpClient } from '../qmp/index.js';

/** What `query-migrate` says, in the fields carryover uses. */
export interface MigrationInfo {
  /** `none` when no migration ever ran. */
  readonly status: string;
  readonly downtimeMs: number | undefined;
  readonly totalTimeMs: number | undefined;
  readonly transferredBytes: number | undefined;
  readonly errorDesc: string | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Runs `query-migrate`; `seq` orders the answer against events (see QmpClient.executeOrdered). */
export async function queryMigration(client: QmpClient, timeoutMs: number): Promise<{ info: MigrationInfo; seq: number }> {
  const { value, seq } = await client.executeOrdered<Record<string, unknown>>('query-migrate', undefined, { timeoutMs });
  if (typeof value !== 'object' || value === null) throw new QmpError('PROTOCOL', `query-migrate answered ${JSON.stringify(value)}, not an object`, { command: 'query-migrate' });
  const ram = (typeof value.ram === 'object' && value.ram !== null ? value.ram : {}) as Record<string, unknown>;
  return {
    seq,
    info: {
      status: typeof value.status === 'string' ? value.status : 'none',
      downtimeMs: num(value.downtime),
      totalTimeMs: num(value['total-time']),
      transferredBytes: num(ram.transferred),
      errorDesc: typeof value['error-desc'] === 'string' ? value['error-desc'] : undefined,
    },
  };
}

/**
 * `query-migrate` once QEMU has finished its own accounting. QEMU announces `completed` before it
 * computes `downtime` and `total-time` (both read 0 until then) and sets the run state
 * `postmigrate` right after computing them, so this waits for the source to leave
 * `finish-migrate` (polling every `pollMs`, at most `timeoutMs`) before asking.
 */
export async function finalMigrationInfo(client: QmpClient, clock: Clock, timeoutMs: number, pollMs = 5): Promise<MigrationInfo> {
  const until = clock.now() + timeoutMs;
  for (;;) {
    const run = await client.execute<{ status: string }>('query-status', undefined, { timeoutMs });
    if (run.status !== 'finish-migrate' || clock.now() >= until) break;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, pollMs));
  }
  return (await queryMigration(client, timeoutMs)).info;
}

/** Sets migration capabilities, e.g. `{ events: true, 'pause-before-switchover': true }`. */
export async function setCapabilities(client: QmpClient, caps: Readonly<Record<string, boolean>>, timeoutMs: number): Promise<void> {
  const capabilities = Object.entries(caps).map(([capability, state]) => ({ capability, state }));
  await client.execute('migrate-set-capabilities', { capabilities }, { timeoutMs });
}

/**
 * The destination's run state after the source completed: `running` once it resumed (waiting up
 * to `waitMs` for its RESUME event), otherwise what it last said, or `unknown (why)`.
 */
export async function destinationStatus(client: QmpClient, waitMs: number, timeoutMs: number): Promise<string> {
  const stop = new AbortController();
  const resumed = client.nextEvent((e) => e.event === 'RESUME', waitMs, 'the destination RESUME event', stop.signal);
  resumed.catch(() => undefined);
  try {
    const first = await client.execute<{ status: string }>('query-status', undefined, { timeoutMs });
    if (first.status === 'running') return first.status;
    try {
      await resumed;
    } catch {
      return first.status;
    }
    return (await client.execute<{ status: string }>('query-status', undefined, { timeoutMs })).status;
  } catch (e) {
    return `unknown (${QmpError.from(e).message})`;
  } finally {
    stop.abort();
  }
}
