/**
 * A migration plan's destinations as the plugin's batch splitter sees them (plugin
 * device-api/split-batch.ts holds the one rule: a path device's state to its counterpart, edge
 * flows by placement, per-VM counters to the first destination, table entries everywhere with
 * their direct counters at the first). The engine splits over its destinations; a destination
 * domain's controller splits over its own.
 */
import { splitBatch as splitForPlan } from '../../plugin/index.js';
import type { KeyFieldSpec, SplitPlan, StateBatch } from '../../plugin/index.js';
import type { PlacementPlan } from '../plan/plan-migration.js';

export type { KeyFieldSpec } from '../../plugin/index.js';

/** The plan's destinations, edges, counterparts and placement, by device name. */
export function splitPlanOf(plan: PlacementPlan): SplitPlan {
  const p = plan.placement;
  return {
    destinations: plan.destinations.map((d) => d.name),
    placement: p ? { algorithm: p.algorithm, fields: p.fields, devices: p.devices } : undefined,
    ...(plan.edgeDestinations ? { edges: plan.edgeDestinations.map((d) => d.name) } : {}),
    ...(plan.counterparts ? { counterparts: plan.counterparts } : {}),
  };
}

/** `batch` from `source` split by destination name (see the plugin's splitBatch). */
export function splitBatch(plan: PlacementPlan, keyFields: KeyFieldSpec, batch: StateBatch, source?: string): Map<string, StateBatch> {
  return splitForPlan(splitPlanOf(plan), keyFields, batch, source);
}
