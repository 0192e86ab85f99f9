/**
 * Which part of a source's batch each destination receives: each flow goes to the destination its
 * path hits (the placement function in 1:N, else the only one); per-VM counters go to one
 * destination only (the first: in 1:N they would otherwise be counted once per destination);
 * table entries go to every destination, their direct counters only to the first. The engine
 * splits over its destinations; a destination domain's controller splits over its own.
 */
import type { StateBatch } from '../../plugin/index.js';
import { destinationOf } from '../plan/plan-migration.js';
import type { PlacementPlan } from '../plan/plan-migration.js';

/** The slot group's key fields (name and width), as the source's capabilities list them. */
export type KeyFieldSpec = readonly { readonly name: string; readonly bits: number }[];

/** `batch` split by destination name (every destination present, possibly with nothing). */
export function splitBatch(plan: PlacementPlan, keyFields: KeyFieldSpec, batch: StateBatch): Map<string, StateBatch> {
  const names = plan.destinations.map((d) => d.name);
  const byDest = new Map<string, StateBatch['slots'][number][]>(names.map((d) => [d, []]));
  for (const rec of batch.slots) {
    const key = keyFields.map((f) => ({ name: f.name, bits: f.bits, value: rec.fields[f.name] ?? 0n }));
    byDest.get(destinationOf(plan, key).name)?.push(rec);
  }
  const primary = names[0];
  const { counters, tableEntries, ...rest } = batch;
  return new Map(names.map((d) => {
    const entries = tableEntries && (d === primary ? tableEntries : tableEntries.map(({ counter: _c, ...e }) => e));
    return [d, { ...rest, slots: byDest.get(d) ?? [], ...(counters && d === primary ? { counters } : {}), ...(entries ? { tableEntries: entries } : {}) }];
  }));
}
