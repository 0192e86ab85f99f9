/**
 * P4Schema: an index over a P4Info. Every entity can be found by id, full name, alias, or a unique
 * dotted suffix of its full name (`acl` for `ingress.acl`); misses fail with "did you mean".
 * Construction validates the P4Info (ids, prefixes, references, widths, digest types) so the rest
 * of the library can trust what it reads here.
 */
import { readFileSync } from 'node:fs';
import { P4RuntimeError } from '../errors.js';
import { p4, toBigInt } from '../proto/index.js';
import type { LongLike } from '../proto/index.js';
import { findAnnotation, parseAnnotations } from './annotations.js';
import type { Annotation } from './annotations.js';
import { suggest } from './did-you-mean.js';
import { parseP4InfoText } from './text-format.js';
import { ID_PREFIX, KIND_LABEL } from './types.js';
import type {
  ActionInfo,
  ActionProfileInfo,
  ActionRefInfo,
  ActionScope,
  ControllerHeaderInfo,
  ControllerMetadataInfo,
  CounterInfo,
  CounterUnit,
  DigestInfo,
  DigestMember,
  DirectCounterInfo,
  DirectMeterInfo,
  EntityByKind,
  EntityKind,
  MatchFieldInfo,
  MatchType,
  MemberType,
  MeterInfo,
  MeterUnit,
  ParamInfo,
  RegisterInfo,
  SchemaEntity,
  TableInfo,
  ValueSetInfo,
} from './types.js';

type P4InfoMsg = p4.config.v1.P4Info;
type PreambleProps = p4.config.v1.Preamble.$Properties;
type TypeSpec = p4.config.v1.P4DataTypeSpec.$Properties;

const TEXT_EXTENSIONS = ['.txtpb', '.txt', '.pb.txt', '.textproto', '.textpb', '.prototxt', '.pbtxt'];
const BINARY_EXTENSIONS = ['.pb', '.bin', '.binpb'];

/** Hex form of an id, as P4Info tools print them. */
function hexId(id: number): string {
  return `0x${id.toString(16).padStart(8, '0')}`;
}

/** "a table" / "an action": the article for a kind label. */
function a(label: string): string {
  return /^[aeiou]/.test(label) ? `an ${label}` : `a ${label}`;
}

function invalid(message: string): P4RuntimeError {
  return new P4RuntimeError('SCHEMA_INVALID', message);
}

function longToNumber(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return Number(toBigInt(v as LongLike, true));
}

/** The common part of every indexed entity. */
class Entity implements SchemaEntity {
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
function lookupMember<T extends { id: number; name: string }>(items: readonly T[], x: string | number, what: string, owner: string): T {
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

function listMembers(items: readonly { id: number; name: string }[]): string {
  return items.length === 0 ? 'none' : items.map((i) => `${i.name} (${i.id})`).join(', ');
}

class ActionImpl extends Entity implements ActionInfo {
  declare readonly kind: 'action';
  constructor(pre: Entity, readonly params: readonly ParamInfo[]) {
    super('action', pre.id, pre.name, pre.alias, pre.annotations, pre.brief);
  }
  param(nameOrId: string | number): ParamInfo {
    return lookupMember(this.params, nameOrId, 'parameter', this.label);
  }
}

class TableImpl extends Entity implements TableInfo {
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

function unique<T>(xs: readonly T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

function describeCandidates(cands: readonly string[], entities: readonly SchemaEntity[]): string {
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

class ControllerHeaderImpl extends Entity implements ControllerHeaderInfo {
  declare readonly kind: 'controller_header';
  constructor(pre: Entity, readonly metadata: readonly ControllerMetadataInfo[]) {
    super('controller_header', pre.id, pre.name, pre.alias, pre.annotations, pre.brief);
  }
  metadataField(nameOrId: string | number): ControllerMetadataInfo {
    return lookupMember(this.metadata, nameOrId, 'metadata field', this.label);
  }
}

/** A plain entity with extra readonly fields merged in. */
function plainEntity<T extends SchemaEntity>(pre: Entity, extra: Omit<T, Exclude<keyof SchemaEntity, 'kind'>>): T & Entity {
  return Object.assign(pre, extra) as unknown as T & Entity;
}

interface NameIndex {
  readonly list: SchemaEntity[];
  readonly full: Map<string, SchemaEntity>;
  readonly alias: Map<string, SchemaEntity[]>;
  readonly suffix: Map<string, SchemaEntity[]>;
}

const ALL_KINDS: readonly EntityKind[] = Object.keys(ID_PREFIX) as EntityKind[];
const KIND_BY_PREFIX = new Map<number, EntityKind>(ALL_KINDS.map((k) => [ID_PREFIX[k], k]));

/**
 * An index over one P4Info: look-ups by id, full name, alias or unique suffix, each failing with a
 * message that names the program and suggests near names.
 * @example
 * const schema = P4Schema.fromFile('build/inband.p4info.txtpb');
 * const acl = schema.table('acl');           // ingress.acl
 * acl.action('allow').param('port').bitwidth // 9
 */
export class P4Schema {
  /** The P4Info message itself (for SetForwardingPipelineConfig). */
  readonly p4info: P4InfoMsg;
  /** pkg_info.name, '' when the program did not set one. */
  readonly programName: string;
  readonly tables: readonly TableInfo[];
  readonly actions: readonly ActionInfo[];
  readonly actionProfiles: readonly ActionProfileInfo[];
  readonly counters: readonly CounterInfo[];
  readonly directCounters: readonly DirectCounterInfo[];
  readonly meters: readonly MeterInfo[];
  readonly directMeters: readonly DirectMeterInfo[];
  readonly controllerHeaders: readonly ControllerHeaderInfo[];
  readonly valueSets: readonly ValueSetInfo[];
  readonly registers: readonly RegisterInfo[];
  readonly digests: readonly DigestInfo[];

  private readonly ids = new Map<number, SchemaEntity>();
  private readonly index = new Map<EntityKind, NameIndex>();

  private constructor(p4info: P4InfoMsg) {
    this.p4info = p4info;
    this.programName = p4info.pkgInfo?.name ?? '';
    const b = new Builder(p4info, this.programLabel());
    this.actions = b.actions;
    this.tables = b.tables;
    this.actionProfiles = b.actionProfiles;
    this.counters = b.counters;
    this.directCounters = b.directCounters;
    this.meters = b.meters;
    this.directMeters = b.directMeters;
    this.controllerHeaders = b.controllerHeaders;
    this.valueSets = b.valueSets;
    this.registers = b.registers;
    this.digests = b.digests;
    for (const k of ALL_KINDS) this.index.set(k, { list: [], full: new Map(), alias: new Map(), suffix: new Map() });
    for (const e of b.all) {
      const ix = this.index.get(e.kind) as NameIndex;
      ix.list.push(e);
      ix.full.set(e.name, e);
      push(ix.alias, e.alias, e);
      const parts = e.name.split('.');
      for (let i = 1; i < parts.length; i++) push(ix.suffix, parts.slice(i).join('.'), e);
      this.ids.set(e.id, e);
    }
    Object.freeze(this);
  }

  /** Indexes a P4Info message (or its plain properties) after validating it. */
  static fromP4Info(p4info: P4InfoMsg | p4.config.v1.P4Info.$Properties): P4Schema {
    const msg = p4info instanceof p4.config.v1.P4Info ? p4info : p4.config.v1.P4Info.fromObject(p4info as Record<string, unknown>);
    return new P4Schema(msg);
  }

  /** Indexes a binary-encoded P4Info. */
  static fromBinary(bytes: Uint8Array, source = '<binary>'): P4Schema {
    let msg: P4InfoMsg;
    try {
      msg = p4.config.v1.P4Info.decode(bytes);
    } catch (e) {
      throw new P4RuntimeError('SCHEMA_INVALID', `${source}: not a binary P4Info: ${(e as Error).message}`, { cause: e });
    }
    return new P4Schema(msg);
  }

  /** Indexes a P4Info in protobuf text format (p4c's `*.p4info.txtpb`). */
  static fromText(text: string, source = '<text>'): P4Schema {
    return new P4Schema(parseP4InfoText(text, { source }));
  }

  /** Reads a P4Info file: `.txtpb`/`.txt`/`.pb.txt` as text, `.pb`/`.bin` as binary, else by content. */
  static fromFile(path: string): P4Schema {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      throw new P4RuntimeError('SCHEMA_INVALID', `cannot read P4Info file '${path}': ${(e as Error).message}`, { cause: e });
    }
    const lower = path.toLowerCase();
    const asText = TEXT_EXTENSIONS.some((x) => lower.endsWith(x))
      ? true
      : BINARY_EXTENSIONS.some((x) => lower.endsWith(x))
        ? false
        : looksLikeText(data);
    try {
      return asText ? P4Schema.fromText(data.toString('utf8'), path) : P4Schema.fromBinary(data, path);
    } catch (e) {
      if (e instanceof P4RuntimeError && !e.message.includes(path)) {
        throw new P4RuntimeError(e.code, `${path}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  }

  /** A table by name, alias, suffix or id. */
  table(x: string | number): TableInfo {
    return this.get('table', x);
  }
  /** An action by name, alias, suffix or id. */
  action(x: string | number): ActionInfo {
    return this.get('action', x);
  }
  /** An action profile by name, alias, suffix or id. */
  actionProfile(x: string | number): ActionProfileInfo {
    return this.get('action_profile', x);
  }
  /** An indexed counter by name, alias, suffix or id. */
  counter(x: string | number): CounterInfo {
    return this.get('counter', x);
  }
  /** A direct counter by name, alias, suffix or id. */
  directCounter(x: string | number): DirectCounterInfo {
    return this.get('direct_counter', x);
  }
  /** An indexed meter by name, alias, suffix or id. */
  meter(x: string | number): MeterInfo {
    return this.get('meter', x);
  }
  /** A direct meter by name, alias, suffix or id. */
  directMeter(x: string | number): DirectMeterInfo {
    return this.get('direct_meter', x);
  }
  /** A register by name, alias, suffix or id. */
  register(x: string | number): RegisterInfo {
    return this.get('register', x);
  }
  /** A digest by name, alias, suffix or id. */
  digest(x: string | number): DigestInfo {
    return this.get('digest', x);
  }
  /** A controller header (`packet_in` / `packet_out`) by name or id. */
  controllerHeader(x: string | number): ControllerHeaderInfo {
    return this.get('controller_header', x);
  }
  /** A parser value set by name, alias, suffix or id. */
  valueSet(x: string | number): ValueSetInfo {
    return this.get('value_set', x);
  }

  /** Any entity of `kind`, typed; throws SCHEMA_LOOKUP with "did you mean". */
  get<K extends EntityKind>(kind: K, x: string | number): EntityByKind[K] {
    const hit = this.resolve(kind, x, true);
    return hit as EntityByKind[K];
  }

  /** Any entity of `kind`, or undefined (never throws for a miss). */
  find(kind: EntityKind, x: string | number): SchemaEntity | undefined {
    return this.resolve(kind, x, false);
  }

  /** Any entity by id, whatever its kind; throws SCHEMA_LOOKUP when absent. */
  byId(id: number): SchemaEntity {
    const e = this.ids.get(id);
    if (e) return e;
    const k = KIND_BY_PREFIX.get(id >>> 24);
    const hint = k ? `; its prefix 0x${(id >>> 24).toString(16).padStart(2, '0')} would make it ${a(KIND_LABEL[k])}` : '';
    throw new P4RuntimeError('SCHEMA_LOOKUP', `no entity with id ${hexId(id)} (${id}) in P4Info${this.programLabel()}${hint}`);
  }

  private programLabel(): string {
    return this.programName ? ` of program ${this.programName}` : '';
  }

  private resolve(kind: EntityKind, x: string | number, raise: boolean): SchemaEntity | undefined {
    const label = KIND_LABEL[kind];
    if (typeof x === 'number') {
      const e = this.ids.get(x);
      if (e && e.kind === kind) return e;
      if (!raise) return undefined;
      if (e) throw new P4RuntimeError('SCHEMA_LOOKUP', `id ${hexId(x)} is the ${KIND_LABEL[e.kind]} '${e.name}', not ${a(label)}`);
      throw new P4RuntimeError('SCHEMA_LOOKUP', `no ${label} with id ${hexId(x)} (${x}) in P4Info${this.programLabel()}`);
    }
    if (typeof x !== 'string') {
      if (!raise) return undefined;
      throw new P4RuntimeError('SCHEMA_LOOKUP', `${a(label)} is named by a string or a numeric id, got ${typeof x}`);
    }
    const ix = this.index.get(kind) as NameIndex;
    const full = ix.full.get(x);
    if (full) return full;
    for (const m of [ix.alias, ix.suffix]) {
      const hits = m.get(x);
      if (hits && hits.length === 1) return hits[0];
      if (hits && hits.length > 1) {
        if (!raise) return undefined;
        throw new P4RuntimeError('SCHEMA_LOOKUP', `${label} name '${x}' is ambiguous in P4Info${this.programLabel()}: ${hits.map((h) => h.name).join(', ')}; use the full name`);
      }
    }
    if (!raise) return undefined;
    const cands = suggest(x, ix.list.flatMap((e) => [e.name, e.alias]));
    let msg = `no ${label} '${x}' in P4Info${this.programLabel()}`;
    for (const k of ALL_KINDS) {
      const other = k === kind ? undefined : this.resolve(k, x, false);
      if (other) {
        msg += `: '${x}' is the ${KIND_LABEL[k]} ${other.name}`;
        break;
      }
    }
    if (cands.length > 0) msg += `; did you mean ${describeCandidates(cands, ix.list)}?`;
    else if (ix.list.length === 0) msg += ` (it has no ${label}s)`;
    else if (ix.list.length <= 12) msg += ` (${label}s: ${ix.list.map((e) => e.alias || e.name).join(', ')})`;
    throw new P4RuntimeError('SCHEMA_LOOKUP', msg);
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function looksLikeText(data: Buffer): boolean {
  const head = data.subarray(0, 512);
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20)) return false;
  return true;
}

const MATCH_TYPES: Readonly<Record<number, MatchType>> = { 2: 'exact', 3: 'lpm', 4: 'ternary', 5: 'range', 6: 'optional' };
const SCOPES: Readonly<Record<number, ActionScope>> = { 0: 'table_and_default', 1: 'table_only', 2: 'default_only' };
const COUNTER_UNITS: Readonly<Record<number, CounterUnit>> = { 0: 'unspecified', 1: 'bytes', 2: 'packets', 3: 'both' };
const METER_UNITS: Readonly<Record<number, MeterUnit>> = { 0: 'unspecified', 1: 'bytes', 2: 'packets' };

/** Builds and validates every entity; throws SCHEMA_INVALID naming the entity at the first problem. */
class Builder {
  readonly all: Entity[] = [];
  readonly actions: ActionInfo[] = [];
  readonly tables: TableImpl[] = [];
  readonly actionProfiles: ActionProfileInfo[] = [];
  readonly counters: CounterInfo[] = [];
  readonly directCounters: DirectCounterInfo[] = [];
  readonly meters: MeterInfo[] = [];
  readonly directMeters: DirectMeterInfo[] = [];
  readonly controllerHeaders: ControllerHeaderInfo[] = [];
  readonly valueSets: ValueSetInfo[] = [];
  readonly registers: RegisterInfo[] = [];
  readonly digests: DigestInfo[] = [];
  private readonly ids = new Map<number, Entity>();
  private readonly names = new Map<string, Entity>();
  private readonly typeInfo: p4.config.v1.P4TypeInfo.$Properties;

  constructor(
    private readonly info: P4InfoMsg,
    private readonly programLabel: string,
  ) {
    this.typeInfo = info.typeInfo ?? {};
    for (const a of info.actions) {
      const pre = this.preamble('action', a.preamble);
      const params = this.members<p4.config.v1.Action.Param.$Properties, ParamInfo & { typeName?: string | undefined }>(a.params ?? [], 'parameter', pre, (x) => ({
        id: x.id ?? 0,
        name: x.name ?? '',
        bitwidth: x.bitwidth ?? 0,
        annotations: parseAnnotations(x.annotations, x.structuredAnnotations, `parameter '${x.name ?? ''}' of ${pre.label}`),
        typeName: x.typeName?.name ?? undefined,
      }));
      this.add(new ActionImpl(pre, params), this.actions);
    }
    for (const t of info.tables) {
      const pre = this.preamble('table', t.preamble);
      const fields = this.matchFields(t.matchFields ?? [], pre);
      const table = new TableImpl(
        pre,
        fields,
        longToNumber(t.size),
        (t.idleTimeoutBehavior ?? 0) === p4.config.v1.Table.IdleTimeoutBehavior.NOTIFY_CONTROL,
        t.constDefaultActionId ?? 0,
        t.implementationId ?? 0,
        t.isConstTable ?? false,
        this.programLabel,
      );
      this.add(table, this.tables);
    }
    for (const ap of info.actionProfiles) {
      const pre = this.preamble('action_profile', ap.preamble);
      this.add(
        plainEntity<ActionProfileInfo>(pre, {
          kind: 'action_profile',
          tableIds: Object.freeze([...(ap.tableIds ?? [])]),
          withSelector: ap.withSelector ?? false,
          size: longToNumber(ap.size),
          maxGroupSize: ap.maxGroupSize ?? 0,
        }),
        this.actionProfiles,
      );
    }
    for (const c of info.counters) {
      const pre = this.preamble('counter', c.preamble);
      this.add(plainEntity<CounterInfo>(pre, { kind: 'counter', size: longToNumber(c.size), unit: COUNTER_UNITS[c.spec?.unit ?? 0] ?? 'unspecified' }), this.counters);
    }
    for (const c of info.directCounters) {
      const pre = this.preamble('direct_counter', c.preamble);
      this.add(
        plainEntity<DirectCounterInfo>(pre, { kind: 'direct_counter', tableId: c.directTableId ?? 0, unit: COUNTER_UNITS[c.spec?.unit ?? 0] ?? 'unspecified' }),
        this.directCounters,
      );
    }
    for (const m of info.meters) {
      const pre = this.preamble('meter', m.preamble);
      this.add(plainEntity<MeterInfo>(pre, { kind: 'meter', size: longToNumber(m.size), unit: METER_UNITS[m.spec?.unit ?? 0] ?? 'unspecified' }), this.meters);
    }
    for (const m of info.directMeters) {
      const pre = this.preamble('direct_meter', m.preamble);
      this.add(
        plainEntity<DirectMeterInfo>(pre, { kind: 'direct_meter', tableId: m.directTableId ?? 0, unit: METER_UNITS[m.spec?.unit ?? 0] ?? 'unspecified' }),
        this.directMeters,
      );
    }
    for (const h of info.controllerPacketMetadata) {
      const pre = this.preamble('controller_header', h.preamble);
      const md = this.members<p4.config.v1.ControllerPacketMetadata.Metadata.$Properties, ControllerMetadataInfo & { typeName?: string | undefined }>(h.metadata ?? [], 'metadata field', pre, (x) => ({
        id: x.id ?? 0,
        name: x.name ?? '',
        bitwidth: x.bitwidth ?? 0,
        annotations: parseAnnotations(x.annotations, x.structuredAnnotations, `metadata field '${x.name ?? ''}' of ${pre.label}`),
        typeName: x.typeName?.name ?? undefined,
      }));
      this.add(new ControllerHeaderImpl(pre, md), this.controllerHeaders);
    }
    for (const v of info.valueSets) {
      const pre = this.preamble('value_set', v.preamble);
      this.add(plainEntity<ValueSetInfo>(pre, { kind: 'value_set', match: this.matchFields(v.match ?? [], pre), size: v.size ?? 0 }), this.valueSets);
    }
    for (const r of info.registers) {
      const pre = this.preamble('register', r.preamble);
      if (!r.typeSpec) throw invalid(`${pre.label} has no type_spec`);
      const leaves = this.flatten(r.typeSpec, [], pre, 0);
      const only = leaves.length === 1 && leaves[0]?.path.length === 0 ? leaves[0] : undefined;
      const bitwidth = only && (only.type === 'bit' || only.type === 'int') ? only.bitwidth : 0;
      this.add(
        plainEntity<RegisterInfo>(pre, { kind: 'register', size: r.size ?? 0, bitwidth, signed: only?.type === 'int', typeSpec: r.typeSpec }),
        this.registers,
      );
    }
    for (const d of info.digests) {
      const pre = this.preamble('digest', d.preamble);
      if (!d.typeSpec) throw invalid(`${pre.label} has no type_spec`);
      const members = this.flatten(d.typeSpec, [], pre, 0);
      this.add(plainEntity<DigestInfo>(pre, { kind: 'digest', members: Object.freeze(members), typeSpec: d.typeSpec }), this.digests);
    }
    this.link();
    for (const e of this.all) Object.freeze(e);
  }

  private add<T>(e: T & Entity, list: T[]): void {
    const prior = this.ids.get(e.id);
    if (prior) throw invalid(`id ${hexId(e.id)} is used by both ${prior.label} and ${e.label}`);
    const key = `${e.kind}\u0000${e.name}`;
    const same = this.names.get(key);
    if (same) throw invalid(`two ${KIND_LABEL[e.kind]}s are named '${e.name}' (ids ${hexId(same.id)} and ${hexId(e.id)})`);
    this.ids.set(e.id, e);
    this.names.set(key, e);
    this.all.push(e);
    list.push(e);
  }

  private preamble(kind: EntityKind, p: PreambleProps | null | undefined): Entity {
    const label = KIND_LABEL[kind];
    const id = p?.id ?? 0;
    const name = p?.name ?? '';
    if (!p || id === 0) throw invalid(`${a(label)}${name ? ` '${name}'` : ''} has no preamble id (0 is not a valid P4 object id)`);
    if (!name) throw invalid(`${label} ${hexId(id)} has no name`);
    const prefix = id >>> 24;
    if (prefix !== ID_PREFIX[kind]) {
      const other = KIND_BY_PREFIX.get(prefix);
      throw invalid(
        `${label} '${name}' has id ${hexId(id)} whose prefix 0x${prefix.toString(16).padStart(2, '0')} ${other ? `marks ${a(KIND_LABEL[other])}` : 'is not a known kind'}; ${label}s use prefix 0x${ID_PREFIX[kind].toString(16).padStart(2, '0')} (P4Ids.Prefix)`,
      );
    }
    const owner = `${label} '${name}'`;
    return new Entity(kind, id, name, p.alias || name, parseAnnotations(p.annotations, p.structuredAnnotations, owner), p.doc?.brief || undefined);
  }

  /** Builds member infos, checking ids and names are unique and widths positive. */
  private members<S, T extends { id: number; name: string; bitwidth: number; typeName?: string | undefined }>(
    src: readonly S[],
    what: string,
    owner: Entity,
    conv: (s: S) => T,
  ): readonly Omit<T, 'typeName'>[] {
    const out: Omit<T, 'typeName'>[] = [];
    const ids = new Set<number>();
    const names = new Set<string>();
    for (const s of src) {
      const m = conv(s);
      if (!m.name) throw invalid(`${owner.label} has ${a(what)} with no name (id ${m.id})`);
      if (ids.has(m.id)) throw invalid(`${owner.label} has two ${what}s with id ${m.id}`);
      if (names.has(m.name)) throw invalid(`${owner.label} has two ${what}s named '${m.name}'`);
      ids.add(m.id);
      names.add(m.name);
      if (!(m.bitwidth > 0) && !this.isStringType(m.typeName)) {
        throw invalid(`${what} '${m.name}' of ${owner.label} has bitwidth ${m.bitwidth}; expected a positive width`);
      }
      const { typeName: _t, ...rest } = m;
      out.push(Object.freeze(rest));
    }
    return Object.freeze(out);
  }

  private matchFields(src: readonly p4.config.v1.MatchField.$Properties[], owner: Entity): readonly MatchFieldInfo[] {
    return this.members(src, 'match field', owner, (f) => {
      let matchType: MatchType;
      if (f.otherMatchType) matchType = 'other';
      else {
        const mt = MATCH_TYPES[f.matchType ?? 0];
        if (!mt) throw invalid(`match field '${f.name ?? ''}' of ${owner.label} has no match type (got ${f.matchType ?? 'unset'})`);
        matchType = mt;
      }
      const info: MatchFieldInfo & { typeName?: string | undefined } = {
        id: f.id ?? 0,
        name: f.name ?? '',
        bitwidth: f.bitwidth ?? 0,
        matchType,
        ...(f.otherMatchType ? { otherMatchType: f.otherMatchType } : {}),
        annotations: parseAnnotations(f.annotations, f.structuredAnnotations, `match field '${f.name ?? ''}' of ${owner.label}`),
        typeName: f.typeName?.name ?? undefined,
      };
      return info;
    });
  }

  /** A user type translated to a string (`@p4runtime_translation(uri, string)`) has bitwidth 0 in P4Info. */
  private isStringType(typeName: string | undefined): boolean {
    if (!typeName) return false;
    const nt = this.typeInfo.newTypes?.[typeName];
    return !!nt?.translatedType?.sdnString;
  }

  /** Resolves cross-references: table actions, const default, direct resources, implementations. */
  private link(): void {
    for (const d of [...this.directCounters, ...this.directMeters]) {
      const t = this.ids.get(d.tableId);
      if (!t || t.kind !== 'table') throw invalid(`${KIND_LABEL[d.kind]} '${d.name}' names direct_table_id ${hexId(d.tableId)}, which is not a table in the P4Info`);
    }
    for (const t of this.tables) {
      const src = this.info.tables.find((x) => x.preamble?.id === t.id);
      const refs: ActionRefInfo[] = [];
      for (const r of src?.actionRefs ?? []) {
        const a = this.ids.get(r.id ?? 0);
        if (!a || a.kind !== 'action') throw invalid(`${t.label} refers to action id ${hexId(r.id ?? 0)}, which is ${a ? `the ${a.label}` : 'not in the P4Info'}`);
        if (refs.some((x) => x.action.id === a.id)) throw invalid(`${t.label} lists ${a.label} twice in action_refs`);
        refs.push(
          Object.freeze({
            action: a as unknown as ActionInfo,
            scope: SCOPES[r.scope ?? 0] ?? 'table_and_default',
            annotations: parseAnnotations(r.annotations, r.structuredAnnotations, `action ref '${a.name}' of ${t.label}`),
          }),
        );
      }
      t.actionRefs = Object.freeze(refs);
      t.actions = Object.freeze(refs.map((r) => r.action));
      if (t.constDefaultActionId !== 0 && !refs.some((r) => r.action.id === t.constDefaultActionId)) {
        throw invalid(`${t.label} has const_default_action_id ${hexId(t.constDefaultActionId)}, which is not one of its actions`);
      }
      for (const rid of src?.directResourceIds ?? []) {
        const r = this.ids.get(rid);
        if (!r) throw invalid(`${t.label} lists direct resource id ${hexId(rid)}, which is not in the P4Info`);
        if (r.kind === 'direct_counter') t.directCounter = r as unknown as DirectCounterInfo;
        else if (r.kind === 'direct_meter') t.directMeter = r as unknown as DirectMeterInfo;
        else throw invalid(`${t.label} lists direct resource id ${hexId(rid)}, which is the ${r.label}, not a direct counter or meter`);
        if ((r as unknown as DirectCounterInfo).tableId !== t.id) {
          throw invalid(`${t.label} lists ${r.label} as a direct resource, but that one names table id ${hexId((r as unknown as DirectCounterInfo).tableId)}`);
        }
      }
      if (t.implementationId !== 0) {
        const impl = this.ids.get(t.implementationId);
        if (!impl || impl.kind !== 'action_profile') throw invalid(`${t.label} has implementation_id ${hexId(t.implementationId)}, which is not an action profile in the P4Info`);
      }
    }
    for (const ap of this.actionProfiles) {
      for (const tid of ap.tableIds) {
        const t = this.ids.get(tid);
        if (!t || t.kind !== 'table') throw invalid(`action profile '${ap.name}' lists table id ${hexId(tid)}, which is not a table in the P4Info`);
      }
    }
  }

  /** Flattens a type spec to its leaves through type_info (struct / header / tuple / new type). */
  private flatten(spec: TypeSpec, path: readonly string[], owner: Entity, depth: number): DigestMember[] {
    if (depth > 32) throw invalid(`${owner.label}: type nesting deeper than 32 levels (recursive type_info?)`);
    const leaf = (type: MemberType, bitwidth: number): DigestMember[] => {
      if ((type === 'bit' || type === 'int' || type === 'varbit') && !(bitwidth > 0)) {
        throw invalid(`${owner.label}: member '${path.join('.') || 'value'}' has bitwidth ${bitwidth}; expected a positive width`);
      }
      return [Object.freeze({ name: path.length === 0 ? 'value' : path.join('.'), bitwidth, type, path: Object.freeze([...path]) })];
    };
    const missing = (what: string, name: string): P4RuntimeError =>
      invalid(`${owner.label} uses ${what} '${name}', which is missing from type_info`);
    const bs = spec.bitstring;
    if (bs) return this.flattenBitstring(bs, leaf);
    if (spec.bool) return leaf('bool', 0);
    if (spec.struct) {
      const name = spec.struct.name ?? '';
      const st = this.typeInfo.structs?.[name];
      if (!st) throw missing('struct', name);
      return (st.members ?? []).flatMap((m) => {
        if (!m.typeSpec) throw invalid(`${owner.label}: struct '${name}' member '${m.name ?? ''}' has no type_spec`);
        return this.flatten(m.typeSpec, [...path, m.name ?? ''], owner, depth + 1);
      });
    }
    if (spec.header) {
      const name = spec.header.name ?? '';
      const h = this.typeInfo.headers?.[name];
      if (!h) throw missing('header', name);
      return (h.members ?? []).flatMap((m) => {
        const sub = [...path, m.name ?? ''];
        const subLeaf = (type: MemberType, bitwidth: number): DigestMember[] => {
          if (!(bitwidth > 0)) throw invalid(`${owner.label}: member '${sub.join('.')}' has bitwidth ${bitwidth}; expected a positive width`);
          return [Object.freeze({ name: sub.join('.'), bitwidth, type, path: Object.freeze(sub) })];
        };
        if (!m.typeSpec) throw invalid(`${owner.label}: header '${name}' member '${m.name ?? ''}' has no type_spec`);
        return this.flattenBitstring(m.typeSpec, subLeaf);
      });
    }
    if (spec.tuple) {
      return (spec.tuple.members ?? []).flatMap((m, i) => this.flatten(m, [...path, String(i)], owner, depth + 1));
    }
    if (spec.newType) {
      const name = spec.newType.name ?? '';
      const nt = this.typeInfo.newTypes?.[name];
      if (!nt) throw missing('type', name);
      if (nt.originalType) return this.flatten(nt.originalType, path, owner, depth + 1);
      if (nt.translatedType?.sdnBitwidth) return leaf('bit', nt.translatedType.sdnBitwidth);
      return leaf('other', 0);
    }
    if (spec.serializableEnum) {
      const name = spec.serializableEnum.name ?? '';
      const se = this.typeInfo.serializableEnums?.[name];
      if (!se) throw missing('serializable enum', name);
      return leaf('other', se.underlyingType?.bitwidth ?? 0);
    }
    if (spec.enum) {
      const name = spec.enum.name ?? '';
      if (!this.typeInfo.enums?.[name]) throw missing('enum', name);
      return leaf('other', 0);
    }
    if (spec.headerUnion) {
      const name = spec.headerUnion.name ?? '';
      if (!this.typeInfo.headerUnions?.[name]) throw missing('header union', name);
      return leaf('other', 0);
    }
    if (spec.error || spec.headerStack || spec.headerUnionStack) return leaf('other', 0);
    throw invalid(`${owner.label} has an empty type_spec`);
  }

  private flattenBitstring(
    bs: p4.config.v1.P4BitstringLikeTypeSpec.$Properties,
    leaf: (type: MemberType, bitwidth: number) => DigestMember[],
  ): DigestMember[] {
    if (bs.bit) return leaf('bit', bs.bit.bitwidth ?? 0);
    if (bs.int) return leaf('int', bs.int.bitwidth ?? 0);
    if (bs.varbit) return leaf('varbit', bs.varbit.maxBitwidth ?? 0);
    return leaf('bit', 0);
  }
}
