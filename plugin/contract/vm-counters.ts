/**
 * Per-VM indirect counters (p4/README.md "Per-VM counters"): `@migrate_counter("vm_id")` on a
 * counter says it is indexed by the VM id and the VM's cell migrates with the VM.
 */
import type { P4Schema } from 'p4runtime-ts';
import { arity, contractError, onlyOne, stringArg } from './annotation-reader.js';

/** One per-VM counter. */
export interface VmCounterSpec {
  /** Counter alias. */
  readonly counter: string;
  readonly counterId: number;
  readonly size: number;
  readonly unit: string;
}

const FORM = '@migrate_counter("vm_id")';

/** Reads every counter marked @migrate_counter. */
export function readVmCounters(schema: P4Schema): VmCounterSpec[] {
  const out: VmCounterSpec[] = [];
  for (const c of schema.counters) {
    const a = onlyOne(c, 'migrate_counter');
    if (!a) continue;
    arity(c, a, 1, 1, FORM);
    const index = stringArg(c, a, 0, FORM);
    if (index !== 'vm_id') throw contractError(c, 'migrate_counter', `@migrate_counter("${index}"): per-VM counters are indexed by the VM id; write ${FORM}`);
    if (c.size < 1) throw contractError(c, 'migrate_counter', 'the counter has no cells; give it one per VM id');
    out.push(Object.freeze({ counter: c.alias, counterId: c.id, size: c.size, unit: c.unit }));
  }
  for (const d of schema.directCounters) {
    if (onlyOne(d, 'migrate_counter')) throw contractError(d, 'migrate_counter', 'a direct counter migrates with its table entries; put @migrate_counter on indirect counters only');
  }
  return out;
}
