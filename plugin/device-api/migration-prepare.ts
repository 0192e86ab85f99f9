/**
 * Prepare at one device (DeviceApi.prepare): the VM's id resolved, a change-log tracker picked that
 * no migration here or — by the switch's control entries — in another process uses, the control
 * entry set to tracking, the tracker flipped (its count sorts the numbered delta digests heard
 * from before the flip), and the migration's record made. Both roles prepare alike: tracking at a
 * destination is what an abort after activation undoes from.
 */
import type { Clock } from 'p4runtime-ts';
import type { EdgePlugin } from '../edge-plugin.js';
import { resolveVmId } from '../vm-state.js';
import { planFrozenRead } from './frozen-read.js';
import { newMigration } from './migration-record.js';
import type { Migration } from './migration-record.js';
import { tapNumberedDigests } from './numbered-final.js';
import { controlOf, readControls, trackersInUse, writeControl } from './vm-control-entry.js';

/** What prepare reads and changes of its device API. */
export interface PrepareSide {
  readonly plugin: EdgePlugin;
  readonly clock: Clock;
  /** Migrations under way here (their trackers are busy). */
  readonly migrations: ReadonlyMap<string, Migration>;
  /** Migrations activated here, kept for an abort; one of the same VM is dropped (the VM moves on). */
  readonly activated: Map<string, Migration>;
  /** Trackers picked by prepares still on their way. */
  readonly picking: Set<number>;
  /** Whether the freeze reads the final changes with it (frozen-read.ts). */
  readonly frozenReads: boolean;
}

/** Starts tracking `vm` here; resolves with the migration's record. */
export async function prepareTracking(s: PrepareSide, vm: string): Promise<Migration> {
  const { plugin } = s;
  const sw = plugin.session;
  const access = plugin.registerAccess;
  const control = controlOf(plugin.contract.control);
  const vmId = await resolveVmId({ sw, contract: plugin.contract, group: plugin.group, access }, vm);
  // Trackers busy here or, by the switch's control entries, in another process's migration.
  const entries = await readControls(sw, control);
  // A prepare still on its way holds its pick too: two at once must not both take the first free one.
  const busy = new Set([...s.migrations.values()].map((x) => x.tracker).concat([...trackersInUse(control, entries, vmId)], [...s.picking]));
  const tracker = [...Array(access.capabilities().trackers).keys()].find((t) => !busy.has(t)) ?? 0;
  const prior = entries.get(vmId);
  // The VM arrived here before and moves again: that arrival was committed long ago.
  for (const [id, a] of s.activated) if (a.vmId === vmId) s.activated.delete(id);
  // Numbered delta digests, heard from before the flip: the count the flip returns sorts them.
  const tap = tapNumberedDigests(sw, plugin.group);
  s.picking.add(tracker);
  try {
    // A switch the VM left (NOT_HERE, active 0: a destination now) stays so while it is tracked:
    // active here before its first import, the switch admitted and counted the VM's traffic, and a
    // restarted plugin's undo read the entry as a source's and deleted the mark (field walkthrough 18).
    const notHere = prior !== undefined && (prior[control.flags.active] ?? 1n) === 0n;
    await writeControl(sw, control, vmId, { track: 1, freeze: 0, staged: 0, active: notHere ? 0 : 1, tracker });
    const trackedAt = s.clock.now();
    const now = await access.readTracker(tracker);
    const t = await access.flipTracker(tracker, now.epoch);
    const numbered = tap?.start(tracker, vmId, t);
    return newMigration({ vmId, tracker, prior, flip: t, numbered, digestSub: tap?.sub, frozenRead: s.frozenReads ? planFrozenRead(plugin, vmId, tracker) : undefined, trackedAt });
  } catch (e) {
    tap?.sub.unsubscribe();
    throw e;
  } finally {
    s.picking.delete(tracker);
  }
}
