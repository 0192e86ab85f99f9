/**
 * Builds and validates a P4Info's entities for P4Schema (p4-schema.ts): ids and their prefixes,
 * names, references between entities, widths, digest types flattened into members. The first
 * problem throws SCHEMA_INVALID naming the entity and what is wrong.
 */
import type { P4RuntimeError } from '../errors.js';
import { p4 } from '../proto/index.js';
import { parseAnnotations } from './annotations.js';
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
  EntityKind,
  MatchFieldInfo,
  MatchType,
  MemberType,
  MeterInfo,
  MeterUnit,
  ParamInfo,
  RegisterInfo,
  ValueSetInfo,
} from './types.js';
import {
  ActionImpl,
  ControllerHeaderImpl,
  Entity,
  KIND_BY_PREFIX,
  TableImpl,
  a,
  hexId,
  invalid,
  longToNumber,
  plainEntity,
} from './schema-entities.js';

type P4InfoMsg = p4.config.v1.P4Info;
type PreambleProps = p4.config.v1.Preamble.$Properties;
type TypeSpec = p4.config.v1.P4DataTypeSpec.$Properties;

const MATCH_TYPES: Readonly<Record<number, MatchType>> = { 2: 'exact', 3: 'lpm', 4: 'ternary', 5: 'range', 6: 'optional' };
const SCOPES: Readonly<Record<number, ActionScope>> = { 0: 'table_and_default', 1: 'table_only', 2: 'default_only' };
const COUNTER_UNITS: Readonly<Record<number, CounterUnit>> = { 0: 'unspecified', 1: 'bytes', 2: 'packets', 3: 'both' };
const METER_UNITS: Readonly<Record<number, MeterUnit>> = { 0: 'unspecified', 1: 'bytes', 2: 'packets' };

/** Builds and validates every entity; throws SCHEMA_INVALID naming the entity at the first problem. */
export class Builder {
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
