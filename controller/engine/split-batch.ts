/**
 * Which part of a source's batch each destination receives: a path device's state goes to its
 * counterpart; each edge flow goes to the destination edge its path hits (the placement function
 * in 1:N, else the only one); per-VM counters go to one
 * destination only (the first: in 1:N they would otherwise be counted once per destination);
 * table entries go to every destination, their direct counters only to the first. The engine
 * splits over its destinations; a destination domain's controller splits over its own.
 */
import type { StateBatch } from '../../plugin/index.js';
import { destinationOf } from '../plan/plan-migration.js';
import type { PlacementPlan } from '../plan/plan-migration.js';

/** The slot group's key fields (name and width), as the source's capabilities list them. */
export type KeyFieldSpec = readonly { readonly name: string; readonly bits: number }[];

/**
 * `batch` from `source` split by destination name: a path device's batch goes whole to its
 * counterpart; an edge's is split over the destination edges (each present, possibly empty).
 */
export function splitBatch(plan: PlacementPlan, keyFields: KeyFieldSpec, batch: StateBatch, source?: string): Map<string, StateBatch> {
  const counterpart = source === undefined ? undefined : plan.counterparts?.get(source);
  const names = counterpart !== undefined ? [counterpart] : (plan.edgeDestinations ?? plan.destinations).map((d) => d.name);
  const byDest = new Map<string, StateBatch['slots'][number][]>(names.map((d) => [d, []]));
  for (const rec of batch.slots) {
    const key = keyFields.map((f) => ({ name: f.name, bits: f.bits, value: rec.fields[f.name] ?? 0n }));
    byDest.get(destinationOf(plan, key, source).name)?.push(rec);
  }
  const primary = names[0];
  const { counters, tableEntries, ...rest } = batch;
  return new Map(names.map((d) => {
    const entries = tableEntries && (d === primary ? tableEntries : tableEntries.map(({ counter: _c, ...e }) => e));
    return [d, { ...rest, slots: byDest.get(d) ?? [], ...(counters && d === primary ? { counters } : {}), ...(entries ? { tableEntries: entries } : {}) }];
  }));
}
