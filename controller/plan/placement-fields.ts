/**
 * A placement must hash fields of the flow key the sources' slot group declares. The migration
 * finds a stranger only when it splits the first batch, after PREPARED; checking the plan against
 * the P4Info the controller knows for each source refuses it before anything is touched.
 */
import { P4Schema, suggest } from 'p4runtime-ts';
import { placementFieldLacking, readMigrationContract, slotGroup } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { Inventory } from '../inventory/inventory.js';
import type { MigrationPlan } from './plan-migration.js';

/** The flow key field names of the P4Info at `p4info`, or undefined when it declares no single slot group (reported elsewhere). */
function flowKeyOf(p4info: string): { program: string; names: string[] } | undefined {
  try {
    const contract = readMigrationContract(P4Schema.fromFile(p4info));
    return { program: contract.program, names: slotGroup(contract).key.map((k) => k.name) };
  } catch {
    // An unreadable or contract-less P4Info is refused with its own message when the device is reached.
    return undefined;
  }
}

/**
 * Refuses a plan whose placement hashes a field the sources' flow key lacks. A source's P4Info is
 * its inventory `p4info`, else `defaultP4info` (also for a source behind a plugin daemon, whose
 * program the controller learns only when it connects).
 * @throws ControllerError BAD_CONFIG naming the inventory file, `placement.NAME.fields`, the field and the known ones.
 */
export function checkPlacementFields(inv: Inventory, plan: MigrationPlan, defaultP4info: string): void {
  const p = plan.placement;
  if (!p) return;
  const seen = new Set<string>();
  for (const src of plan.sources) {
    const p4info = src.p4info ?? defaultP4info;
    if (seen.has(p4info)) continue;
    seen.add(p4info);
    const key = flowKeyOf(p4info);
    const lacking = key && placementFieldLacking(p.fields, key.names);
    if (!key || !lacking) continue;
    const near = suggest(lacking.field, key.names);
    const hint = near.length > 0 ? `; did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : '';
    throw new ControllerError('BAD_CONFIG', `${inv.source}: placement.${p.name}.fields: ${lacking.reason.replace(/^the placement /, '')}; that is the slot group key of program '${key.program}' (${p4info}), which source ${src.name} runs: list only its fields${hint}`);
  }
}
