/**
 * Activation with the counters in one Write, where the switch applies a batch atomically in its
 * data plane. The P4Runtime spec lets a server reorder the updates of a batch unless it is
 * DATAPLANE_ATOMIC (§12.2, "Batching and Ordering of Updates"), and no packet may see the VM
 * active before its counters hold the sources' values (a packet counted in between would be
 * overwritten). So: DATAPLANE_ATOMIC where the switch supports it — the pause then ends with one
 * Write instead of two — and otherwise the counters are written with the final batch and
 * activation follows (PI, hence BMv2, answers UNIMPLEMENTED for any atomicity but CONTINUE_ON_ERROR).
 */
import type { P4Switch, P4Update } from 'p4runtime-ts';
import type { MigrationControlSpec } from '../contract/index.js';
import { controlUpdate, isRestored, restoreUpdate } from './vm-control-entry.js';
import type { ControlFlags, PriorControl } from './vm-control-entry.js';
import type { VmCounters } from './vm-counter-transfer.js';

/**
 * Whether the switch takes a DATAPLANE_ATOMIC Write: probed with one that sets the VM's control
 * entry to what it already is (`flags`), so the answer changes nothing either way.
 */
export async function probeDataplaneAtomic(sw: P4Switch, c: MigrationControlSpec, vmId: number, flags: ControlFlags): Promise<boolean> {
  try {
    await sw.write(controlUpdate(sw, c, vmId, flags, 'modify'), { atomicity: 'DATAPLANE_ATOMIC' });
    return true;
  } catch {
    // UNIMPLEMENTED (PI, BMv2) or anything else: the ordered path is always correct.
    return false;
  }
}

/**
 * Writes the VM's counter cells (`cells`, absolute values) and the final batch's slot words
 * (`slots`, register MODIFYs of held flows: held-slots.ts), and restores its control entry, in one
 * DATAPLANE_ATOMIC Write. A retry after a lost
 * answer finds the entry already restored and writes nothing (the rest went with it: the batch
 * was atomic).
 */
export async function activateWithCounters(sw: P4Switch, c: MigrationControlSpec, vmId: number, prior: PriorControl, cells: VmCounters, retry: boolean, slots: readonly P4Update[] = []): Promise<void> {
  if (retry && (await isRestored(sw, c, vmId, prior))) return;
  // concat, not spread: the slots may be thousands of updates, and spread steps an iterator.
  const updates = Object.entries(cells).map(([name, v]) => sw.counter(name).modify(vmId, v)).concat(slots);
  updates.push(restoreUpdate(sw, c, vmId, prior));
  await sw.write(updates, { atomicity: 'DATAPLANE_ATOMIC' });
}
