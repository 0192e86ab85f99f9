/**
 * The schema's entities (p4-schema.ts) as built from a P4Info (p4info-builder.ts): a preamble's
 * id, names and annotations, and per kind what look-ups inside it (a table's actions and match
 * fields, an action's params, a controller header's metadata) find by name or id, failing with
 * "did you mean".
 */
import { P4RuntimeError } from '../errors.js';
import { toBigInt } from '../proto/index.js';
import type { LongLike } from '../proto/index.js';
import { findAnnotation } from './annotations.js';
import type { Annotation } from './annotations.js';
import { suggest } from './did-you-mean.js';
import { ID_PREFIX, KIND_LABEL } from './types.js';
import type {
  ActionInfo,
  ActionRefInfo,
  ControllerHeaderInfo,
  ControllerMetadataInfo,
  DirectCounterInfo,
  DirectMeterInfo,
  EntityKind,
  MatchFieldInfo,
  ParamInfo,
  SchemaEntity,
  TableInfo,
} from './types.js';

/** Hex form of an id, as P4Info tools print them. */
export function hexId(id: number): string {
  return `0x${id.toString(16).padStart(8, '0')}`;
}

/** "a table" / "an action": the article for a kind label. */
export function a(label: string): string {
  return /^[aeiou]/.test(label) ? `an ${label}` : `a ${label}`;
}

/** A SCHEMA_INVALID error with `message`. */
export function invalid(message: string): P4RuntimeError {
  return new P4RuntimeError('SCHEMA_INVALID', message);
}

/** A P4Info integer (number, Long or string; absent = 0) as a number. */
export function longToNumber(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return Number(toBigInt(v as LongLike, true));
}

/** The common part of every indexed entity. */
export class Entity implements SchemaEntity {
  readonly brief?: string;
  constructor(
    readonly kind: EntityKind,
    readonly id: number,
    readonly name: string,
    readonly alias: string,
    readonly annotations: readonly Annotation[],
    brief: string | undefined,
  ) {
    if (brief) this.brief = brief;
  }

  annotation(name: string): Annotation | undefined {
    return findAnnotation(this.annotations, name);
  }

  /** `table 'ingress.acl'` — how errors name this entity. */
  get label(): string {
    return `${KIND_LABEL[this.kind]} '${this.name}'`;
  }
}

/** Looks up a member (match field, param, metadata) by id, exact name, or unique dotted suffix. */
export function lookupMember<T extends { id: number; name: string }>(items: readonly T[], x: string | number, what: string, owner: string): T {
  if (typeof x === 'number') {
    const hit = items.find((i) => i.id === x);
    if (hit) return hit;
    throw new P4RuntimeError('SCHEMA_LOOKUP', `no ${what} with id ${x} in ${owner} (${what}s: ${listMembers(items)})`);
  }
  const exact = items.find((i) => i.name === x);
  if (exact) return exact;
  const bySuffix = items.filter((i) => i.name.endsWith(`.${x}`));
  if (bySuffix.length === 1 && bySuffix[0]) return bySuffix[0];
  if (bySuffix.length > 1) {
    throw new P4RuntimeError('SCHEMA_LOOKUP', `${what} '${x}' of ${owner} is ambiguous: ${bySuffix.map((i) => `'${i.name}'`).join(', ')}; use the full name`);
  }
  const cands = suggest(x, items.flatMap((i) => [i.name, i.name.slice(i.name.lastIndexOf('.') + 1)]));
  const full = [...new Set(cands.map((c) => items.find((i) => i.name === c || i.name.endsWith(`.${c}`))?.name ?? c))];
  const hint = full.length > 0 ? `; did you mean ${full.map((c) => `'${c}'`).join(' or ')}?` : '';
  throw new P4RuntimeError('SCHEMA_LOOKUP', `no ${what} '${x}' in ${owner}${hint} (${what}s: ${listMembers(items)})`);
}

/** Members as `name (id)`, comma-separated, or 'none'. */
export function listMembers(items: readonly { id: number; name: string }[]): string {
  return items.length === 0 ? 'none' : items.map((i) => `${i.name} (${i.id})`).join(', ');
}

/** An action: its params by name or id. */
export class ActionImpl extends Entity implements ActionInfo {
  declare readonly kind: 'action';
  constructor(pre: Entity, readonly params: readonly ParamInfo[]) {
    super('action', pre.id, pre.name, pre.alias, pre.annotations, pre.brief);
  }
  param(nameOrId: string | number): ParamInfo {
    return lookupMember(this.params, nameOrId, 'parameter', this.label);
  }
}

/** A table: its match fields and action references by name or id. */
export class TableImpl extends Entity implements TableInfo {
  declare readonly kind: 'table';
  actionRefs: readonly ActionRefInfo[] = [];
  actions: readonly ActionInfo[] = [];
  directCounter: DirectCounterInfo | undefined;
  directMeter: DirectMeterInfo | undefined;
  readonly requiresPriority: boolean;
  constructor(
    pre: Entity,
    readonly matchFields: readonly MatchFieldInfo[],
    readonly size: number,
    readonly idleTimeout: boolean,
    readonly constDefaultActionId: number,
    readonly implementationId: number,
    readonly isConst: boolean,
    private readonly programLabel: string,
  ) {
    super('table', pre.id, pre.name, pre.alias, pre.annotations, pre.brief);
    this.requiresPriority = matchFields.some((f) => f.matchType === 'ternary' || f.matchType === 'range' || f.matchType === 'optional');
  }
  matchField(nameOrId: string | number): MatchFieldInfo {
    return lookupMember(this.matchFields, nameOrId, 'match field', this.label);
  }
  action(nameOrId: string | number): ActionInfo {
    const allowed = this.actions;
    const list = allowed.map((a) => a.alias || a.name).join(', ') || 'none';
    if (typeof nameOrId === 'number') {
      const hit = allowed.find((a) => a.id === nameOrId);
      if (hit) return hit;
      throw new P4RuntimeError('SCHEMA_LOOKUP', `action id ${hexId(nameOrId)} is not an action of ${this.label}${this.programLabel}; allowed: ${list}`);
    }
    const hit =
      allowed.find((a) => a.name === nameOrId) ??
      unique(allowed.filter((a) => a.alias === nameOrId)) ??
      unique(allowed.filter((a) => a.name.endsWith(`.${nameOrId}`)));
    if (hit) return hit;
    const cands = suggest(nameOrId, allowed.flatMap((a) => [a.name, a.alias]));
    const hint = cands.length > 0 ? `; did you mean ${describeCandidates(cands, allowed)}?` : '';
    throw new P4RuntimeError('SCHEMA_LOOKUP', `'${nameOrId}' is not an action of ${this.label}${this.programLabel}${hint} (allowed: ${list})`);
  }
}

/** The only element, or undefined when there are none or several. */
export function unique<T>(xs: readonly T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

/** Candidate names as `'alias' (full.name)`, each entity once, joined with 'or'. */
export function describeCandidates(cands: readonly string[], entities: readonly SchemaEntity[]): string {
  const seen = new Set<SchemaEntity>();
  const parts: string[] = [];
  for (const c of cands) {
    const e = entities.find((x) => x.name === c) ?? entities.find((x) => x.alias === c);
    if (!e || seen.has(e)) continue;
    seen.add(e);
    parts.push(e.alias && e.alias !== e.name ? `'${e.alias}' (${e.name})` : `'${e.name}'`);
  }
  return parts.join(' or ');
}

/** A controller header (packet-in/out metadata): its fields by name or id. */
export class ControllerHeaderImpl extends Entity implements ControllerHeaderInfo {
  declare readonly kind: 'controller_header';
  constructor(pre: Entity, readonly metadata: readonly ControllerMetadataInfo[]) {
    super('controller_header', pre.id, pre.name, pre.alias, pre.annotations, pre.brief);
  }
  metadataField(nameOrId: string | number): ControllerMetadataInfo {
    return lookupMember(this.metadata, nameOrId, 'metadata field', this.label);
  }
}

/** A plain entity with extra readonly fields merged in. */
export function plainEntity<T extends SchemaEntity>(pre: Entity, extra: Omit<T, Exclude<keyof SchemaEntity, 'kind'>>): T & Entity {
  return Object.assign(pre, extra) as unknown as T & Entity;
}

/** Every entity kind. */
export const ALL_KINDS: readonly EntityKind[] = Object.keys(ID_PREFIX) as EntityKind[];
/** The kind each id prefix (the id's top byte) stands for. */
export const KIND_BY_PREFIX = new Map<number, EntityKind>(ALL_KINDS.map((k) => [ID_PREFIX[k], k]));
