/**
 * The whole migration contract of one program, read from its P4Info alone (p4/README.md): slot
 * groups, migration control, VM map, migratable tables, per-VM counters and the in-band service.
 * Reading validates every cross-reference, so a P4Info that breaks the contract fails here, once,
 * with an error naming the entity, the annotation and the fix — never later at migration time.
 */
import type { P4Schema } from 'p4runtime-ts';
import { EdgePluginError } from '../errors.js';
import { readInband } from './inband-format.js';
import type { InbandSpec } from './inband-format.js';
import { readMigratableTables } from './migratable-tables.js';
import type { MigratableTableSpec } from './migratable-tables.js';
import { readSlotGroups } from './slot-group.js';
import type { SlotGroupSpec } from './slot-group.js';
import { readVmCounters } from './vm-counters.js';
import type { VmCounterSpec } from './vm-counters.js';
import { readMigrationControl, readVmMap } from './vm-control.js';
import type { MigrationControlSpec, VmMapSpec } from './vm-control.js';

/** Everything the P4Info says about migrating a VM's state. */
export interface MigrationContract {
  /** pkg_info.name of the program ('' when unset). */
  readonly program: string;
  readonly groups: readonly SlotGroupSpec[];
  readonly control: MigrationControlSpec | undefined;
  readonly vmMap: VmMapSpec | undefined;
  readonly tables: readonly MigratableTableSpec[];
  readonly counters: readonly VmCounterSpec[];
  readonly inband: InbandSpec | undefined;
}

/**
 * Reads and validates the migration contract of a P4Info.
 * @throws EdgePluginError CONTRACT_INVALID / CONTRACT_MISSING naming the entity, the annotation and the fix.
 * @example
 * const contract = readMigrationContract(P4Schema.fromFile('p4/stateful_edge.p4info.txtpb'));
 * contract.groups[0]?.placement.choices.length // 2
 */
export function readMigrationContract(schema: P4Schema): MigrationContract {
  const groups = readSlotGroups(schema);
  return Object.freeze({
    program: schema.programName,
    groups: Object.freeze(groups),
    control: readMigrationControl(schema),
    vmMap: readVmMap(schema),
    tables: Object.freeze(readMigratableTables(schema)),
    counters: Object.freeze(readVmCounters(schema)),
    inband: readInband(schema, groups),
  });
}

/** A slot group by name (or the only one when `name` is omitted); CONTRACT_MISSING when absent. */
export function slotGroup(contract: MigrationContract, name?: string): SlotGroupSpec {
  const g = name === undefined ? (contract.groups.length === 1 ? contract.groups[0] : undefined) : contract.groups.find((x) => x.name === name);
  if (g) return g;
  const have = contract.groups.map((x) => `'${x.name}'`).join(', ') || 'none';
  const want = name === undefined ? 'exactly one slot group' : `slot group '${name}'`;
  throw new EdgePluginError('CONTRACT_MISSING', `program '${contract.program}' needs ${want} (declared: ${have}); annotate its registers with @migrate_group("${name ?? 'group'}", word)`, { annotation: '@migrate_group' });
}

/**
 * What the migration device API needs from the P4Info beyond what the plugin itself needs, missing
 * in `contract` for `group`: each item names the entity and the annotation that declares it. An
 * empty list when the program can serve migrations. (A program without these still runs the
 * plugin's pinholes; only serving migrations needs them, and only Prepare would otherwise say so.)
 * @example
 * migrationServiceGaps(contract, slotGroup(contract)); // [] for stateful_edge
 */
export function migrationServiceGaps(contract: MigrationContract, group: SlotGroupSpec): string[] {
  const gaps: string[] = [];
  // Every migration call reads or writes the VM's control entry.
  if (!contract.control) gaps.push('a migration control table (@migrate_control("vm_id", "set_migration") on vm_migration; p4/README.md "Migration control")');
  // Coordinators name the VM by its address; the VM map turns it into this switch's VM id.
  if (!contract.vmMap) gaps.push('a VM map (@migrate_vm_map("vm_addr", "set_vm", "vm_id") on vm_table; p4/README.md "The VM map")');
  // Prepare picks and flips a change-log tracker; deltas are read from its log.
  if (!group.changeLog) gaps.push(`change logs for slot group '${group.name}' (@migrate_changelog("${group.name}", "head", "round", "mark"); p4/README.md "Change logs")`);
  // The per-VM slot index learns which VM a slot holds from these digests only.
  if (!group.newFlow && !group.delta) gaps.push(`a new-flow or delta digest for slot group '${group.name}' (@migrate_new_flow("ct_new_t") or @migrate_delta("ct_delta_t"); p4/README.md "New-flow notifications")`);
  return gaps;
}
