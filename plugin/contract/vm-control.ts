/**
 * The per-VM tables of the contract (p4/README.md "Migration control", "The VM map"): the table
 * whose entry holds a VM's migration flags, and the table mapping a VM's address to its
 * switch-local id.
 */
import type { ActionInfo, MatchFieldInfo, P4Schema, TableInfo } from 'p4runtime-ts';
import { arity, contractError, onlyOne, stringArg } from './annotation-reader.js';

/** The four flags of the migration control action, in the contract's meaning. */
export const MIGRATION_FLAGS = ['track', 'freeze', 'staged', 'active'] as const;
export type MigrationFlag = (typeof MIGRATION_FLAGS)[number];

/** `@migrate_control("key", "action")`: one entry per VM carrying its migration flags. */
export interface MigrationControlSpec {
  /** Table alias. */
  readonly table: string;
  /** Exact key field holding the VM id. */
  readonly keyField: string;
  readonly keyBits: number;
  /** Action alias whose bit<1> parameters are the flags. */
  readonly action: string;
  /** Parameter name of each flag (named exactly like the flag). */
  readonly flags: Readonly<Record<MigrationFlag, string>>;
  /** The action's `tracker` parameter: which change log the VM's changes go to (absent: none). */
  readonly tracker: { readonly param: string; readonly bits: number } | undefined;
}

/** `@migrate_vm_map("key", "action", "param")`: VM address → switch-local VM id. */
export interface VmMapSpec {
  readonly table: string;
  /** Exact key field holding the VM address. */
  readonly keyField: string;
  readonly keyBits: number;
  readonly action: string;
  /** Action parameter holding the VM id. */
  readonly vmIdParam: string;
  readonly vmIdBits: number;
}

/** An exact key field of a table, or a contract error naming the table and annotation. */
export function exactKeyField(t: TableInfo, annotation: string, name: string): MatchFieldInfo {
  const f = t.matchFields.find((m) => m.name === name);
  if (!f) throw contractError(t, annotation, `@${annotation} names key field '${name}', which the table does not have (keys: ${t.matchFields.map((m) => m.name).join(', ') || 'none'}); name one of them`);
  if (f.matchType !== 'exact') throw contractError(t, annotation, `key field '${name}' is ${f.matchType}; @${annotation} needs an exact key field`);
  return f;
}

/** One of a table's actions by alias or name, or a contract error listing the allowed ones. */
export function tableAction(t: TableInfo, annotation: string, name: string): ActionInfo {
  const a = t.actions.find((x) => x.alias === name || x.name === name);
  if (!a) throw contractError(t, annotation, `@${annotation} names action '${name}', which the table does not allow (actions: ${t.actions.map((x) => x.alias).join(', ')}); name one of them`);
  return a;
}

const CONTROL_FORM = '@migrate_control("vm key field", "action with bit<1> track, freeze, staged, active")';
const MAP_FORM = '@migrate_vm_map("address key field", "action", "vm id parameter")';

/** Reads the migration control table, if the P4Info declares one (at most one). */
export function readMigrationControl(schema: P4Schema): MigrationControlSpec | undefined {
  let found: MigrationControlSpec | undefined;
  for (const t of schema.tables) {
    const a = onlyOne(t, 'migrate_control');
    if (!a) continue;
    if (found) throw contractError(t, 'migrate_control', `table '${found.table}' is already the migration control table; declare @migrate_control on one table only`);
    arity(t, a, 2, 2, CONTROL_FORM);
    const key = exactKeyField(t, 'migrate_control', stringArg(t, a, 0, CONTROL_FORM));
    const action = tableAction(t, 'migrate_control', stringArg(t, a, 1, CONTROL_FORM));
    const flags = {} as Record<MigrationFlag, string>;
    for (const flag of MIGRATION_FLAGS) {
      const p = action.params.find((x) => x.name === flag);
      if (!p) throw contractError(t, 'migrate_control', `action '${action.alias}' has no parameter '${flag}'; the control action needs bit<1> parameters ${MIGRATION_FLAGS.join(', ')}`);
      if (p.bitwidth !== 1) throw contractError(t, 'migrate_control', `parameter '${flag}' of action '${action.alias}' is ${p.bitwidth} bits; flags are bit<1>`);
      flags[flag] = p.name;
    }
    const tp = action.params.find((x) => x.name === 'tracker');
    const tracker = tp ? Object.freeze({ param: tp.name, bits: tp.bitwidth }) : undefined;
    found = Object.freeze({ table: t.alias, keyField: key.name, keyBits: key.bitwidth, action: action.alias, flags: Object.freeze(flags), tracker });
  }
  return found;
}

/** Reads the VM map table, if the P4Info declares one (at most one). */
export function readVmMap(schema: P4Schema): VmMapSpec | undefined {
  let found: VmMapSpec | undefined;
  for (const t of schema.tables) {
    const a = onlyOne(t, 'migrate_vm_map');
    if (!a) continue;
    if (found) throw contractError(t, 'migrate_vm_map', `table '${found.table}' is already the VM map; declare @migrate_vm_map on one table only`);
    arity(t, a, 3, 3, MAP_FORM);
    const key = exactKeyField(t, 'migrate_vm_map', stringArg(t, a, 0, MAP_FORM));
    const action = tableAction(t, 'migrate_vm_map', stringArg(t, a, 1, MAP_FORM));
    const paramName = stringArg(t, a, 2, MAP_FORM);
    const p = action.params.find((x) => x.name === paramName);
    if (!p) throw contractError(t, 'migrate_vm_map', `action '${action.alias}' has no parameter '${paramName}' (parameters: ${action.params.map((x) => x.name).join(', ') || 'none'}); name the parameter holding the VM id`);
    found = Object.freeze({ table: t.alias, keyField: key.name, keyBits: key.bitwidth, action: action.alias, vmIdParam: p.name, vmIdBits: p.bitwidth });
  }
  return found;
}
