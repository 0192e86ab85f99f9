/**
 * Removing a VM's state from a switch it no longer runs on (a source after the commit, or a
 * destination rolled back without the migration's record): its slots cleared where they still
 * hold what was read (a flow that took a slot meanwhile stays), its migratable-table entries
 * removed, its per-VM counter cells zeroed (what they counted moved with it; left here they would be
 * added again were it to come back), and the VM marked not here, so its late packets are dropped
 * rather than tracked anew.
 */
import type { EdgePlugin } from '../edge-plugin.js';
import type { SlotRecord, VmSlotIndex } from '../state-access/index.js';
import { exportTableEntries, removeTableEntries, setEntryPhase } from './table-entry-transfer.js';
import { controlOf, writeControl } from './vm-control-entry.js';
import { zeroVmCounters } from './vm-counter-transfer.js';
import type { ControlFlags } from './vm-control-entry.js';

/** The control entry of a VM that does not run on this switch. */
export const NOT_HERE: ControlFlags = Object.freeze({ track: 0, freeze: 0, staged: 0, active: 0, tracker: 0 });

/** What removeVmHere did. */
export interface VmRemoval {
  readonly slotsCleared: number;
  /** Slots that held another flow by the time they were cleared. */
  readonly slotsSkipped: number;
  readonly entriesRemoved: number;
  /** The per-VM counters whose cell for the VM was zeroed. */
  readonly countersZeroed: readonly string[];
}

/** Removes VM `vmId`'s state here: `slots` (as read) cleared conditionally, entries removed, counters zeroed, the VM marked not here. */
export async function removeVmHere(side: { readonly plugin: EdgePlugin; readonly index: VmSlotIndex }, vmId: number, slots: readonly SlotRecord[]): Promise<VmRemoval> {
  const { plugin } = side;
  const out = slots.length === 0 ? [] : await plugin.registerAccess.clearSlotsIf(slots.map((s) => ({ index: s.index, words: s.words })));
  for (const o of out) if (o.applied) side.index.forget(o.index);
  const slotsCleared = out.filter((o) => o.applied).length;
  const entriesRemoved = await removeTableEntries(plugin, vmId, await exportTableEntries(plugin, vmId));
  setEntryPhase(plugin, vmId, 'normal');
  // Marked not here first: a late packet is then dropped before it is counted, so nothing is
  // counted after the zeroing.
  await writeControl(plugin.session, controlOf(plugin.contract.control), vmId, NOT_HERE);
  const countersZeroed = await zeroVmCounters(plugin, vmId);
  return { slotsCleared, slotsSkipped: out.length - slotsCleared, entriesRemoved, countersZeroed };
}
