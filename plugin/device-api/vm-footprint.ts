/**
 * What a switch holds of one VM now, read and never written: its id in the switch's VM map,
 * whether its migration control entry says it runs here, its occupied slots (from the slot index
 * when that is complete: no scan), and the migrations of it under way here. `carryover migrate
 * --check` asks every device of a plan before anything is prepared.
 */
import type { EdgePlugin } from '../edge-plugin.js';
import { EdgePluginError } from '../errors.js';
import type { VmSlotIndex } from '../state-access/index.js';
import { resolveVmId } from '../vm-state.js';
import type { VmFootprint } from './device-api.js';
import type { Migration } from './migration-record.js';
import { controlOf, readControl, runsHere, unfinishedMark } from './vm-control-entry.js';

/** What vmFootprint reads through. */
export interface FootprintSide {
  readonly name: string;
  readonly plugin: EdgePlugin;
  readonly index: VmSlotIndex;
  /** This device's migrations under way, by id. */
  readonly migrations: ReadonlyMap<string, Migration>;
}

/** The VM's footprint on this switch (reads the VM map and the control table; the slots from the index). */
export async function vmFootprint(s: FootprintSide, vm: string): Promise<VmFootprint> {
  // Only a complete index without a gap counts; otherwise a number would be a guess.
  const indexComplete = s.index.complete && s.index.gap === undefined;
  const { plugin } = s;
  const sw = plugin.session;
  let vmId: number;
  try {
    vmId = await resolveVmId({ sw, contract: plugin.contract, group: plugin.group, access: plugin.registerAccess }, vm);
  } catch (e) {
    // Not in the map is an answer (a destination not laid out yet); anything else is a failure.
    if (e instanceof EdgePluginError && e.code === 'VM_UNKNOWN') return { device: s.name, runsHere: false, controlled: false, indexComplete, migrations: [] };
    throw e;
  }
  const control = controlOf(plugin.contract.control);
  const entry = await readControl(sw, control, vmId);
  const migrations = [...s.migrations].filter(([, x]) => x.vmId === vmId).map(([id]) => id);
  const unfinished = migrations.length === 0 ? unfinishedMark(control, entry) : undefined;
  return {
    device: s.name,
    vmId,
    runsHere: runsHere(control, entry),
    controlled: entry !== undefined,
    ...(indexComplete ? { slots: s.index.slotsOf(vmId).length } : {}),
    indexComplete,
    migrations,
    ...(unfinished ? { unfinished } : {}),
  };
}
