/**
 * The group registry: every check group in run order. A new group (e.g. the migration group once
 * the engine exists) is one file exporting a HwTestGroup plus one line here.
 */
import type { HwTestGroupId } from '../group-ids.js';
import { conformanceGroup } from './conformance.js';
import { differentialGroup } from './differential.js';
import type { HwTestGroup } from './group.js';
import { migrationGroup } from './migration.js';
import { placementGroup } from './placement.js';
import { stateAccessGroup } from './state-access.js';

/** Every group, in run order. */
export const HW_TEST_GROUPS: readonly HwTestGroup[] = Object.freeze([conformanceGroup, differentialGroup, placementGroup, stateAccessGroup, migrationGroup]);

/** The group with this id. */
export function hwTestGroup(id: HwTestGroupId): HwTestGroup {
  const g = HW_TEST_GROUPS.find((x) => x.id === id);
  if (!g) throw new Error(`no hw-test group '${id}' in the registry`);
  return g;
}
