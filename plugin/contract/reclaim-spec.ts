/**
 * `@migrate_reclaim("field", value, idle)` on a slot group's first register (p4/README.md "Slot
 * reclaim"): when the pipeline may hand an occupied slot to another flow — the named field holds
 * `value`, or the `@migrate_clock` field is more than `idle` clock units old. Without it a
 * destination assumes any slot may be taken at any time and writes every flow conditionally.
 */
import type { RegisterInfo } from 'p4runtime-ts';
import { arity, contractError, intArg, onlyOne, stringArg } from './annotation-reader.js';

/** When the data plane reuses an occupied slot (a group's `reclaim`). */
export interface ReclaimSpec {
  /** The field whose `freeValue` frees the slot (e.g. a connection state CLOSED). */
  readonly field: string;
  readonly freeValue: bigint;
  /** The shortest idle time, in the clock field's unit, after which the slot may be reused. */
  readonly idle: bigint;
}

const FORM = '@migrate_reclaim("field", value, idle) with idle in the unit of @migrate_clock';

/**
 * Reads `@migrate_reclaim` from the group's first register; `fields` are the group's field names
 * and `clock` whether the group declares `@migrate_clock` (the idle time is in its unit).
 */
export function readReclaim(head: RegisterInfo, fields: ReadonlySet<string>, clock: boolean): ReclaimSpec | undefined {
  const a = onlyOne(head, 'migrate_reclaim');
  if (!a) return undefined;
  arity(head, a, 3, 3, FORM);
  const field = stringArg(head, a, 0, FORM);
  if (!fields.has(field)) {
    throw contractError(head, 'migrate_reclaim', `@migrate_reclaim names field '${field}', which no @migrate_layout of the group declares; name the field whose value frees a slot`);
  }
  if (!clock) {
    throw contractError(head, 'migrate_reclaim', `@migrate_reclaim gives an idle time but the group declares no @migrate_clock to measure it by; add @migrate_clock("field", "unit")`);
  }
  const idle = intArg(head, a, 2, FORM);
  if (idle === 0) throw contractError(head, 'migrate_reclaim', `@migrate_reclaim idle time is 0: every slot would be reclaimable at once; give the shortest idle timeout of the pipeline`);
  return Object.freeze({ field, freeValue: BigInt(intArg(head, a, 1, FORM)), idle: BigInt(idle) });
}
