/**
 * What hw-test needs from the P4Info before it touches a target: the migration contract (read and
 * validated by the plugin's reader), one slot group with a dirty bitmap and an in-band service,
 * the VM map and migration control, and stateful_edge's tables the fixture and checks write.
 */
import type { P4Schema } from 'p4runtime-ts';
import { readMigrationContract } from '../plugin/index.js';
import type { MigrationContract } from '../plugin/index.js';
import { badOption } from './errors.js';

const TABLES = ['port_role', 'vm_table', 'vm_migration', 'static_acl', 'dyn_acl'];

/** Reads the contract of `schema`, or throws BAD_OPTIONS naming --p4info and what is missing. */
export function readTestedContract(schema: P4Schema, source: string): MigrationContract {
  let contract: MigrationContract;
  try {
    contract = readMigrationContract(schema);
  } catch (e) {
    throw badOption('--p4info', `${source} breaks the migration contract: ${e instanceof Error ? e.message : String(e)}`);
  }
  const need = (ok: boolean, what: string): void => {
    if (!ok) throw badOption('--p4info', `${source} lacks ${what}; hw-test validates stateful_edge (p4/stateful_edge.p4) and its contract (p4/README.md) — give that program's P4Info`);
  };
  const g = contract.groups[0];
  need(contract.groups.length === 1 && g !== undefined, 'exactly one slot group (@migrate_group)');
  need(g?.dirty !== undefined, 'a dirty bitmap for the slot group (@migrate_dirty / @migrate_epoch)');
  need(contract.inband !== undefined, 'the in-band service (@migrate_inband on packet_in and packet_out)');
  need(contract.vmMap !== undefined, 'a VM map (@migrate_vm_map)');
  need(contract.control !== undefined, 'a migration control table (@migrate_control)');
  for (const t of TABLES) need(schema.find('table', t) !== undefined, `table '${t}'`);
  return contract;
}
