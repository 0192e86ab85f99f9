/**
 * Undoing one migration at one switch (edge-device-api.ts, abort): whatever this migration placed
 * here is cleared only where the slot still holds what it wrote (CLEAR_IF), its table entries
 * removed, the counter values it added taken back, and the VM's control entry put back as it was
 * before prepare — which unfreezes a source. Each step is safe to repeat.
 */
import type { DestinationSide } from './destination-import.js';
import { addCounters } from './destination-import.js';
import { countersInTurn } from './migration-record.js';
import type { Migration } from './migration-record.js';
import { removeTableEntries, setEntryPhase } from './table-entry-transfer.js';
import { controlOf, restoreControl } from './vm-control-entry.js';

/** Undoes migration `x` at this switch, source or destination. */
export async function undoMigration(d: DestinationSide, x: Migration): Promise<void> {
  x.ended.next();
  const placed = [...x.placed.values()];
  const cleared = placed.length === 0 ? [] : await d.plugin.registerAccess.clearSlotsIf(placed.map((p) => ({ index: p.slot, words: p.words })));
  // Indexed when placed: forgotten when cleared, or a rolled-back VM's slots stay in the index.
  for (const c of cleared) if (c.applied) d.index.forget(c.index);
  x.placed.clear();
  x.pendingSlots.clear();
  await removeTableEntries(d.plugin, x.vmId, x.entries.values());
  x.entries.clear();
  setEntryPhase(d.plugin, x.vmId, 'normal');
  // After any counter work still under way: what it added is taken back too.
  const failed = await countersInTurn(x, () => addCounters(d, x, Object.fromEntries(Object.entries(x.added).map(([k, v]) => [k, { ...v }])), -1n)).then(() => undefined, (e: unknown) => ({ e }));
  // The control entry is put back even when the counters could not be: a destination left staged
  // would drop the VM's packets, and a source left frozen would hold its traffic.
  await restoreControl(d.plugin.session, controlOf(d.plugin.contract.control), x.vmId, x.prior);
  if (failed) throw failed.e;
}
