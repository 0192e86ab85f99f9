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
