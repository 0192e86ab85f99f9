/**
 * Tables whose entries are operational state (p4/README.md "Migratable tables"):
 * `@migrate_table("vm key")` marks them, their idle timeout and direct counter come from the
 * P4Info, and `@migrate_learn("digest", "action")` says entries are learned from a digest whose
 * members are named like the table's key fields.
 */
import type { P4Schema } from 'p4runtime-ts';
import { arity, contractError, onlyOne, stringArg } from './annotation-reader.js';
import { exactKeyField, tableAction } from './vm-control.js';

/** How a migratable table's entries are learned from a digest. */
export interface LearnSpec {
  /** Digest alias. */
  readonly digest: string;
  readonly digestId: number;
  /** Action alias inserted for each learned key (it takes no parameters). */
  readonly action: string;
}

/** One migratable table. */
export interface MigratableTableSpec {
  /** Table alias. */
  readonly table: string;
  readonly tableId: number;
  /** The exact key field tying an entry to a VM (rewritten on import). */
  readonly vmKeyField: string;
  /** Every key field, in P4Info order. */
  readonly keyFields: readonly { readonly name: string; readonly bits: number; readonly matchType: string }[];
  /** True when the table reports idle entries (NOTIFY_CONTROL). */
  readonly idleTimeout: boolean;
  /** Alias of the table's direct counter, if it has one. */
  readonly directCounter: string | undefined;
  readonly learn: LearnSpec | undefined;
}

const TABLE_FORM = '@migrate_table("vm key field")';
const LEARN_FORM = '@migrate_learn("digest", "action")';

/** Reads every table marked @migrate_table. */
export function readMigratableTables(schema: P4Schema): MigratableTableSpec[] {
  const out: MigratableTableSpec[] = [];
  for (const t of schema.tables) {
    const a = onlyOne(t, 'migrate_table');
    const learnA = onlyOne(t, 'migrate_learn');
    if (!a) {
      if (learnA) throw contractError(t, 'migrate_learn', `@migrate_learn is only meaningful on a migratable table; add ${TABLE_FORM} naming the VM key field`);
      continue;
    }
    arity(t, a, 1, 1, TABLE_FORM);
    const vmKey = exactKeyField(t, 'migrate_table', stringArg(t, a, 0, TABLE_FORM));
    let learn: LearnSpec | undefined;
    if (learnA) {
      arity(t, learnA, 2, 2, LEARN_FORM);
      const digestName = stringArg(t, learnA, 0, LEARN_FORM);
      const d = schema.digests.find((x) => x.alias === digestName || x.name === digestName);
      if (!d) throw contractError(t, 'migrate_learn', `@migrate_learn names digest '${digestName}', which the P4Info does not declare (digests: ${schema.digests.map((x) => x.alias).join(', ') || 'none'})`);
      for (const k of t.matchFields) {
        if (k.matchType !== 'exact') throw contractError(t, 'migrate_learn', `key field '${k.name}' is ${k.matchType}; a learned table needs exact keys only (the digest gives one value per field)`);
        const m = d.members.find((x) => x.name === k.name);
        if (!m) throw contractError(t, 'migrate_learn', `digest '${d.alias}' has no member '${k.name}'; its members must be named exactly like the table's key fields (${t.matchFields.map((x) => x.name).join(', ')})`);
        if (m.bitwidth !== k.bitwidth) throw contractError(t, 'migrate_learn', `digest '${d.alias}' member '${k.name}' is ${m.bitwidth} bits but the key field is ${k.bitwidth}; make the widths equal`);
      }
      const action = tableAction(t, 'migrate_learn', stringArg(t, learnA, 1, LEARN_FORM));
      if (action.params.length > 0) {
        throw contractError(t, 'migrate_learn', `action '${action.alias}' takes parameters (${action.params.map((p) => p.name).join(', ')}), which a digest cannot supply; learn with an action without parameters`);
      }
      learn = Object.freeze({ digest: d.alias, digestId: d.id, action: action.alias });
    }
    out.push(
      Object.freeze({
        table: t.alias,
        tableId: t.id,
        vmKeyField: vmKey.name,
        keyFields: Object.freeze(t.matchFields.map((k) => Object.freeze({ name: k.name, bits: k.bitwidth, matchType: k.matchType }))),
        idleTimeout: t.idleTimeout,
        directCounter: t.directCounter?.alias,
        learn,
      }),
    );
  }
  return out;
}
