/**
 * Undoing or finishing a migration this plugin does not remember: it was started by a controller
 * (with its in-process plugins) that has since died, or by this daemon before it restarted. The
 * switch still holds what the migration left, and the VM's migration control entry
 * (p4/README.md "Migration control") says which side of it this switch was:
 *
 * | entry            | this switch was                                   | undo                                   |
 * |------------------|---------------------------------------------------|----------------------------------------|
 * | `staged = 1`     | a destination, state staged, never activated       | the VM's slots and entries cleared, the VM marked not here |
 * | `track` or `freeze` | a source (or a destination prepared, nothing staged) | normal operation restored (no entry) |
 * | `track`, `active = 0` | a destination prepared on a switch the VM had left | the mark "not here" put back |
 * | none, or neither | nothing of a migration in progress — or, for an abort told `mayBeActive`, a destination activated | nothing — or, told so, the VM's live state cleaned as after a commit |
 *
 * Slots are cleared conditionally (only where they still hold what was read), so a flow that took
 * a slot meanwhile stays. A destination's cells of the VM's counters are set to zero with the rest
 * of its state there (vm-removal.ts): without the migration's record nothing says how much was
 * added, and the VM does not run there.
 */
import { fieldValue } from '../contract/index.js';
import type { EdgePlugin } from '../edge-plugin.js';
import { resolveVmId } from '../vm-state.js';
import type { SlotRecord, VmSlotIndex } from '../state-access/index.js';
import { readControl, restoreControl, unfinishedMark, writeControl } from './vm-control-entry.js';
import type { PriorControl } from './vm-control-entry.js';
import { NOT_HERE, removeVmHere } from './vm-removal.js';
import { setEntryPhase } from './table-entry-transfer.js';
import { activateWithCounters } from './atomic-activation.js';
import { countersAfter, readVmCounters } from './vm-counter-transfer.js';
import type { VmCounters } from './vm-counter-transfer.js';
import { EdgePluginError } from '../errors.js';

/** What an unremembered undo or cleanup did at one switch. */
export interface UnrememberedOutcome {
  /**
   * What the control entry said this switch was; `vm-state` for a cleanup, which reads no mark:
   * the VM's live state, a source's after a commit or an active destination's (walkthrough 15
   * saw a destination's cleanup logged as `source`).
   */
  readonly found: 'destination-staged' | 'destination-prepared' | 'source' | 'vm-state' | 'nothing';
  readonly slotsCleared: number;
  readonly entriesRemoved: number;
}

/** The switch and its slot index. */
interface Side {
  readonly plugin: EdgePlugin;
  readonly index: VmSlotIndex;
}

/** The VM's id here, or undefined when the VM map does not hold it (nothing of it can be here). */
async function vmIdHere(plugin: EdgePlugin, vm: string): Promise<number | undefined> {
  try {
    return await resolveVmId({ sw: plugin.session, contract: plugin.contract, group: plugin.group, access: plugin.registerAccess }, vm);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'VM_UNKNOWN') return undefined;
    throw e;
  }
}

/** The VM's slots here, found by a scan filtered by VM: without the migration's record the index may not know every slot. */
async function slotsOfVm(plugin: EdgePlugin, vmId: number): Promise<SlotRecord[]> {
  const g = plugin.group;
  const slots = await plugin.registerAccess.readSlots('all', { occupiedOnly: true, where: { [g.vm.name]: BigInt(vmId) } });
  return slots.filter((s) => Number(fieldValue(s.words, g.vm)) === vmId);
}

const NOTHING: UnrememberedOutcome = Object.freeze({ found: 'nothing', slotsCleared: 0, entriesRemoved: 0 });

/** The VM's control entry here and its flags; undefined without a control table or the VM in the VM map (no migration could have changed anything here). */
async function controlHere(plugin: EdgePlugin, vm: string): Promise<{ control: NonNullable<EdgePlugin['contract']['control']>; vmId: number; mark: ReturnType<typeof unfinishedMark>; entry: PriorControl } | undefined> {
  const control = plugin.contract.control;
  const vmId = control ? await vmIdHere(plugin, vm) : undefined;
  if (!control || vmId === undefined) return undefined;
  const entry = await readControl(plugin.session, control, vmId);
  return { control, vmId, mark: unfinishedMark(control, entry), entry };
}

/**
 * Undoes what an unremembered migration left for `vm` at this switch, as its control entry tells
 * (see the table above). Safe to repeat: a second call finds nothing.
 */
export async function undoUnremembered(side: Side, vm: string): Promise<UnrememberedOutcome> {
  const { plugin } = side;
  const here = await controlHere(plugin, vm);
  if (!here) return NOTHING;
  const { control, vmId, mark, entry } = here;
  if (mark === 'staged') {
    const r = await removeVmHere(side, vmId, await slotsOfVm(plugin, vmId));
    return { found: 'destination-staged', slotsCleared: r.slotsCleared, entriesRemoved: r.entriesRemoved };
  }
  if (mark === 'frozen' || mark === 'tracked') {
    // Tracked with `active` 0: a destination prepared on a switch the VM had left (a source is
    // active); its mark "not here" goes back, not normal operation.
    const prepared = mark === 'tracked' && (entry?.[control.flags.active] ?? 1n) === 0n;
    if (prepared) {
      await writeControl(plugin.session, control, vmId, NOT_HERE);
      return { found: 'destination-prepared', slotsCleared: 0, entriesRemoved: 0 };
    }
    await restoreControl(plugin.session, control, vmId, undefined);
    return { found: 'source', slotsCleared: 0, entriesRemoved: 0 };
  }
  return NOTHING;
}

/**
 * An abort of a migration this plugin has no record of (never prepared here, already undone, or
 * started before a controller or daemon restart): undoUnremembered — unless a migration the
 * plugin does remember holds the same VM (`heldVmIds`), whose control entry that is. With
 * `mayBeActive` (a destination once the pause began, AbortOptions), a VM whose entry marks
 * nothing may be active here: an activation deletes the mark. Its live state is cleaned as after
 * a commit (cleanUnremembered) — the rollback keeps the VM at its source, so nothing of it may
 * stay live here (a daemon restarted after the activation answered done and left it active).
 */
export async function abortUnremembered(side: Side, vm: string, heldVmIds: readonly number[], mayBeActive = false): Promise<UnrememberedOutcome> {
  if (heldVmIds.length > 0) {
    const vmId = await vmIdHere(side.plugin, vm).catch(() => undefined);
    if (vmId === undefined || heldVmIds.includes(vmId)) return NOTHING;
  }
  const r = await undoUnremembered(side, vm);
  if (r.found !== 'nothing' || !mayBeActive) return r;
  return cleanUnremembered(side, vm);
}

/**
 * Deletes the VM's state at this switch without the migration's record (the VM runs elsewhere
 * now): its slots cleared conditionally, its entries removed, the VM marked not here.
 */
export async function cleanUnremembered(side: Side, vm: string): Promise<UnrememberedOutcome> {
  const vmId = await vmIdHere(side.plugin, vm);
  if (vmId === undefined) return { found: 'nothing', slotsCleared: 0, entriesRemoved: 0 };
  const r = await removeVmHere(side, vmId, await slotsOfVm(side.plugin, vmId));
  return { found: 'vm-state', slotsCleared: r.slotsCleared, entriesRemoved: r.entriesRemoved };
}

/**
 * Activates what an unremembered migration staged for `vm` at this switch, the VM now running here
 * (its hypervisor completed the move while the controller was stopped): the control entry goes,
 * so the staged flows and entries are live. `carried`, the sources' counter values the final batch
 * brought (as the coordinator journalled them), is added with the activation in one
 * DATAPLANE_ATOMIC Write where the switch takes one: there the final batch left them for the
 * activation, and a VM still staged has not had them. A switch without atomic Writes added them
 * with the final batch (atomic-activation.ts), so it gets the entry alone. Safe to repeat: once
 * the entry is gone nothing is written, counters included.
 */
export async function activateUnremembered(side: Side, vm: string, carried?: VmCounters): Promise<UnrememberedOutcome> {
  const { plugin } = side;
  const here = await controlHere(plugin, vm);
  if (here?.mark !== 'staged') return NOTHING;
  const { control, vmId } = here;
  if (!carried || Object.keys(carried).length === 0 || !(await activatedWithCarried(plugin, control, vmId, carried))) await restoreControl(plugin.session, control, vmId, undefined);
  setEntryPhase(plugin, vmId, 'normal');
  return { found: 'destination-staged', slotsCleared: 0, entriesRemoved: 0 };
}

/**
 * The VM's cells here plus `carried`, and its control entry restored, in one DATAPLANE_ATOMIC
 * Write; false (nothing written) where the switch answers UNIMPLEMENTED: it has no atomic Writes,
 * so the final batch's counters were added when it arrived.
 */
async function activatedWithCarried(plugin: EdgePlugin, control: NonNullable<EdgePlugin['contract']['control']>, vmId: number, carried: VmCounters): Promise<boolean> {
  const cells = countersAfter(await readVmCounters(plugin, vmId), carried);
  if (!cells) throw new EdgePluginError('CONTRACT_MISSING', `the counter values carried for VM id ${vmId} name a counter this switch's program does not have (${Object.keys(carried).join(', ')}); nothing was written`);
  try {
    await activateWithCounters(plugin.session, control, vmId, undefined, cells, false);
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'UNIMPLEMENTED') return false;
    throw e;
  }
}
