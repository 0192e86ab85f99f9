/**
 * The source QEMU's migration capabilities the trigger depends on: `events` (status changes as
 * they happen) and `pause-before-switchover` (QEMU stops the VM and waits in `pre-switchover`, the
 * window carryover syncs in). Read with `query-migrate-capabilities`; set by attach() only while
 * no migration runs (QEMU refuses a change during one), and put back when the trigger closes.
 */
import type { QmpClient } from '../qmp/index.js';
import { QemuTriggerError } from './errors.js';
import { setCapabilities } from './qemu-queries.js';

/** The capabilities the pause window needs. */
export const PAUSE_CAPABILITIES = ['events', 'pause-before-switchover'] as const;

/** Every migration capability this QEMU knows, with its state (`query-migrate-capabilities`). */
export async function migrationCapabilities(client: QmpClient, timeoutMs: number): Promise<ReadonlyMap<string, boolean>> {
  const caps = await client.execute<{ capability: string; state: boolean }[]>('query-migrate-capabilities', undefined, { timeoutMs });
  return new Map(caps.map((c) => [c.capability, c.state]));
}

/** What attach() did to the capabilities: what to put back on close, and whether there will be a pause window. */
export interface PreparedCapabilities {
  readonly restore: Readonly<Record<string, boolean>> | undefined;
  readonly pauseWindow: boolean;
}

/**
 * Switches the pause capabilities on when no migration runs (`inProgress` false); with one under
 * way, checks they are on already — `events` is required, `pause-before-switchover` too unless
 * `requirePauseWindow` is false (then the migration is followed without a window).
 * @throws QemuTriggerError CAPABILITY_UNAVAILABLE naming the status and the fix.
 */
export async function preparePauseCapabilities(source: QmpClient, status: string, inProgress: boolean, requirePauseWindow: boolean, timeoutMs: number): Promise<PreparedCapabilities> {
  const state = await migrationCapabilities(source, timeoutMs);
  if (!inProgress) {
    const off = PAUSE_CAPABILITIES.filter((c) => state.get(c) !== true);
    if (off.length === 0) return { restore: undefined, pauseWindow: true };
    await setCapabilities(source, Object.fromEntries(off.map((c) => [c, true])), timeoutMs);
    return { restore: Object.fromEntries(off.map((c) => [c, state.get(c) ?? false])), pauseWindow: true };
  }
  if (state.get('events') !== true) {
    throw new QemuTriggerError('CAPABILITY_UNAVAILABLE', `a migration is already ${status} on ${source.description} without the 'events' capability, and capabilities cannot change while it runs; attach the trigger before starting the migration`);
  }
  if (state.get('pause-before-switchover') === true) return { restore: undefined, pauseWindow: true };
  if (requirePauseWindow) {
    throw new QemuTriggerError('CAPABILITY_UNAVAILABLE', `a migration is already ${status} on ${source.description} without 'pause-before-switchover', so there will be no pause window; attach before starting the migration, or pass requirePauseWindow: false to follow it without one`);
  }
  return { restore: undefined, pauseWindow: false };
}
