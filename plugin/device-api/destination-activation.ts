/**
 * A destination's activation (edge-device-api.ts): the VM runs here from now on, untracked, under
 * its control entry as it was before the migration. What the final batch left for this moment —
 * the counters' cells and held flows' changed words, where the switch applies one Write atomically
 * (atomic-activation.ts) — goes in the same Write; otherwise the entry alone is restored.
 */
import { slotWriteUpdates } from '../state-access/index.js';
import { activateWithCounters } from './atomic-activation.js';
import type { DestinationSide } from './destination-import.js';
import type { Migration } from './migration-record.js';
import { setEntryPhase } from './table-entry-transfer.js';
import { ControlEntryGone, controlGone, controlOf, readControl, removeControl, restoreControl } from './vm-control-entry.js';
import { addInto } from './vm-counter-transfer.js';
import { anyP4RuntimeCode } from '../errors.js';

/** Activates migration `x` at this destination; a retry after a lost answer writes nothing twice. */
export async function activateDestination(d: DestinationSide, x: Migration): Promise<void> {
  const sw = d.plugin.session;
  const control = controlOf(d.plugin.contract.control);
  const cells = x.pendingCells;
  const retry = x.activationTried;
  x.activationTried = true;
  // Staged here, a first activation must find the staged entry: gone, the switch lost what was
  // staged with it (a restart, or a pipeline pushed) — going on would activate without it.
  const mustFind = !retry && x.imported;
  try {
    if (cells || x.pendingSlots.size > 0) {
      await activateWithCounters(sw, control, x.vmId, undefined, cells ?? {}, retry, slotWriteUpdates(sw, d.plugin.group, x.pendingSlots.values()));
      addInto(x.added, x.pendingAdded);
      x.pendingCells = undefined;
      x.pendingAdded = {};
      x.pendingSlots.clear();
    } else if (mustFind) {
      await removeControl(sw, control, x.vmId);
    } else {
      await restoreControl(sw, control, x.vmId, undefined);
    }
  } catch (e) {
    // The atomic Write refused for a NOT_FOUND (nothing of it applied): the entry it removes is
    // gone. A lost answer is another failure, and the retry tells it (activateWithCounters).
    if (mustFind && !(e instanceof ControlEntryGone) && anyP4RuntimeCode(e, 'NOT_FOUND') && (await readControl(sw, control, x.vmId).then((c) => c === undefined, () => false))) {
      throw new ControlEntryGone(controlGone(x.vmId, 'activation'), { cause: e });
    }
    throw e;
  }
  setEntryPhase(d.plugin, x.vmId, 'normal');
}
