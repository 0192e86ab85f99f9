/**
 * Reading `@migrate_*` annotations off P4Info entities with errors that name the entity, the
 * annotation and the expected form (p4/README.md "The migration contract"). p4runtime-ts has
 * already parsed the strings (integers arrive as bigint); this layer checks arity and types.
 */
import { KIND_LABEL } from 'p4runtime-ts';
import type { Annotation, SchemaEntity } from 'p4runtime-ts';
import { EdgePluginError } from '../errors.js';


/** How errors name an entity: `register 'ct_key_addr'` (its P4Info alias). */
export function entityLabel(e: Pick<SchemaEntity, 'kind' | 'alias' | 'name'>): string {
  return `${KIND_LABEL[e.kind] ?? e.kind} '${e.alias || e.name}'`;
}

/** A contract error about one annotation on one entity. */
export function contractError(
  e: Pick<SchemaEntity, 'kind' | 'alias' | 'name'>,
  annotation: string,
  problem: string,
  code: 'CONTRACT_INVALID' | 'CONTRACT_MISSING' = 'CONTRACT_INVALID',
  cause?: unknown,
): EdgePluginError {
  const label = entityLabel(e);
  return new EdgePluginError(code, `${label}: ${problem}`, { entity: label, annotation: `@${annotation}`, cause });
}

/** Every annotation named `name` on an entity. */
export function annotationsNamed(e: SchemaEntity, name: string): Annotation[] {
  return e.annotations.filter((a) => a.name === name);
}

/** The one annotation named `name`, or undefined; more than one is an error. */
export function onlyOne(e: SchemaEntity, name: string): Annotation | undefined {
  const found = annotationsNamed(e, name);
  if (found.length > 1) throw contractError(e, name, `@${name} appears ${found.length} times; write it once`);
  return found[0];
}

/** The annotation named `name`; its absence is a CONTRACT_MISSING error that says what to add. */
export function required(e: SchemaEntity, name: string, form: string, why: string): Annotation {
  const a = onlyOne(e, name);
  if (!a) throw contractError(e, name, `has no @${name}; ${why}: add ${form}`, 'CONTRACT_MISSING');
  return a;
}

/** Checks the number of positional arguments. */
export function arity(e: SchemaEntity, a: Annotation, min: number, max: number, form: string): void {
  const n = a.args.length;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw contractError(e, a.name, `@${a.name} has ${n} argument(s), expected ${want}; write ${form} (found ${a.raw})`);
  }
}

/** Positional argument `i` as a non-empty string. */
export function stringArg(e: SchemaEntity, a: Annotation, i: number, form: string): string {
  const v = a.args[i];
  if (typeof v !== 'string' || v.trim() === '') {
    throw contractError(e, a.name, `@${a.name} argument ${i + 1} must be a non-empty string, found ${v === undefined ? 'nothing' : String(v)}; write ${form}`);
  }
  return v.trim();
}

/** Positional argument `i` as a non-negative safe integer. */
export function intArg(e: SchemaEntity, a: Annotation, i: number, form: string): number {
  const v = a.args[i];
  if (typeof v !== 'bigint' || v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw contractError(e, a.name, `@${a.name} argument ${i + 1} must be a non-negative integer, found ${v === undefined ? 'nothing' : JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}; write ${form}`);
  }
  return Number(v);
}
