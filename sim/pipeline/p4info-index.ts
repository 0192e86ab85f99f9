/**
 * The switch's own view of a P4Info: validated once when a pipeline is pushed, then indexed by
 * id and by name for every Write, Read, packet and digest. A P4Info that breaks a rule is
 * rejected with INVALID_ARGUMENT naming the object and the rule.
 *
 * This is deliberately independent of p4runtime-ts' client-side schema: the server must judge
 * what clients send on its own terms.
 */
import { p4, toBigInt } from 'p4runtime-ts/proto';
import type { LongLike } from 'p4runtime-ts/proto';
import { fail } from '../p4rt/status.js';

type P4InfoProps = p4.config.v1.P4Info.$Properties;

import type { MatchKind, MatchFieldInfo, ParamInfo, ActionInfo, ActionScope, TableInfo, CounterInfo, DirectCounterInfo, CellType, RegisterInfo, DigestMember, DigestInfo, ControllerMetadataInfo, ControllerHeaderInfo, P4ObjectKind } from './p4info-types.js';

export type { MatchKind, MatchFieldInfo, ParamInfo, ActionInfo, ActionScope, TableInfo, CounterInfo, DirectCounterInfo, CellType, RegisterInfo, DigestMember, DigestInfo, ControllerMetadataInfo, ControllerHeaderInfo, P4ObjectKind } from './p4info-types.js';

const MATCH_KINDS: Readonly<Record<number, MatchKind>> = {
  [p4.config.v1.MatchField.MatchType.EXACT]: 'EXACT',
  [p4.config.v1.MatchField.MatchType.LPM]: 'LPM',
  [p4.config.v1.MatchField.MatchType.TERNARY]: 'TERNARY',
  [p4.config.v1.MatchField.MatchType.RANGE]: 'RANGE',
  [p4.config.v1.MatchField.MatchType.OPTIONAL]: 'OPTIONAL',
};

const SCOPES: Readonly<Record<number, ActionScope>> = {
  [p4.config.v1.ActionRef.Scope.TABLE_AND_DEFAULT]: 'TABLE_AND_DEFAULT',
  [p4.config.v1.ActionRef.Scope.TABLE_ONLY]: 'TABLE_ONLY',
  [p4.config.v1.ActionRef.Scope.DEFAULT_ONLY]: 'DEFAULT_ONLY',
};

const num = (v: LongLike | null | undefined): number => Number(toBigInt(v ?? 0, true));
const hexId = (id: number): string => `0x${id.toString(16).padStart(8, '0')}`;

/** The validated, indexed P4Info of one pipeline. */
export class P4InfoIndex {
  readonly tables = new Map<number, TableInfo>();
  readonly actions = new Map<number, ActionInfo>();
  readonly counters = new Map<number, CounterInfo>();
  readonly directCounters = new Map<number, DirectCounterInfo>();
  readonly registers = new Map<number, RegisterInfo>();
  readonly digests = new Map<number, DigestInfo>();
  readonly controllerHeaders = new Map<string, ControllerHeaderInfo>();
  /** Every id in the P4Info and the kind of object it names. */
  readonly kinds = new Map<number, P4ObjectKind>();
  readonly pkgName: string;
  private readonly names = new Map<string, Map<string, number>>();

  private constructor(readonly p4info: P4InfoProps) {
    this.pkgName = p4info.pkgInfo?.name ?? '';
  }

  /** Validates and indexes a P4Info; throws SimError(INVALID_ARGUMENT) naming every problem found (up to 10). */
  static build(p4info: P4InfoProps): P4InfoIndex {
    const ix = new P4InfoIndex(p4info);
    const problems: string[] = [];
    ix.load(problems);
    if (problems.length > 0) {
      const shown = problems.slice(0, 10);
      const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : '';
      throw fail.invalid(`P4Info rejected: ${shown.join('; ')}${more}`);
    }
    return ix;
  }

  /** A readable name for an id: `table 'ingress.acl' (0x02000001)`, or `id 0x... (unknown)`. */
  describe(id: number): string {
    const kind = this.kinds.get(id);
    if (kind === undefined) return `id ${hexId(id)} (not in the P4Info)`;
    const name =
      this.tables.get(id)?.name ?? this.actions.get(id)?.name ?? this.counters.get(id)?.name ?? this.directCounters.get(id)?.name ??
      this.registers.get(id)?.name ?? this.digests.get(id)?.name ?? '';
    return `${kind} '${name}' (${hexId(id)})`;
  }

  /** Id of the object of `kind` with this full name or alias, or undefined. */
  idOf(kind: P4ObjectKind, name: string): number | undefined {
    return this.names.get(kind)?.get(name);
  }

  /** The table by name or alias; throws a plain Error (a program bug) when absent. */
  tableByName(name: string): TableInfo {
    const t = this.tables.get(this.idOf('table', name) ?? 0);
    if (!t) throw new Error(`no table '${name}' in the P4Info (tables: ${[...this.tables.values()].map((x) => x.name).join(', ')})`);
    return t;
  }

  /** The action by name or alias; throws a plain Error when absent. */
  actionByName(name: string): ActionInfo {
    const a = this.actions.get(this.idOf('action', name) ?? 0);
    if (!a) throw new Error(`no action '${name}' in the P4Info`);
    return a;
  }

  private nameIt(kind: P4ObjectKind, id: number, name: string, alias: string, problems: string[]): void {
    let m = this.names.get(kind);
    if (!m) {
      m = new Map();
      this.names.set(kind, m);
    }
    if (name === '') problems.push(`${kind} ${hexId(id)} has an empty name`);
    for (const n of new Set([name, alias])) {
      if (n === '') continue;
      const other = m.get(n);
      if (other !== undefined && other !== id) problems.push(`${kind} name '${n}' is used by both ${hexId(other)} and ${hexId(id)}`);
      else m.set(n, id);
    }
  }

  private claimId(kind: P4ObjectKind, id: number | null | undefined, name: string, problems: string[]): number {
    const v = id ?? 0;
    if (v === 0) {
      problems.push(`${kind} '${name}' has id 0 (reserved: "invalid id")`);
      return 0;
    }
    const prev = this.kinds.get(v);
    if (prev !== undefined) problems.push(`id ${hexId(v)} is used by a ${prev} and by ${kind} '${name}' (ids share one number space)`);
    else this.kinds.set(v, kind);
    return v;
  }

  private load(problems: string[]): void {
    const info = this.p4info;
    for (const a of info.actions ?? []) {
      const name = a.preamble?.name ?? '';
      const id = this.claimId('action', a.preamble?.id, name, problems);
      this.nameIt('action', id, name, a.preamble?.alias ?? '', problems);
      const params: ParamInfo[] = [];
      const paramById = new Map<number, ParamInfo>();
      const paramIndex = new Map<number, number>();
      for (const p of a.params ?? []) {
        const pid = p.id ?? 0;
        const pname = p.name ?? '';
        const bw = p.bitwidth ?? 0;
        if (pid === 0) problems.push(`action '${name}' param '${pname}' has id 0`);
        if (paramById.has(pid)) problems.push(`action '${name}' has two params with id ${pid}`);
        if (bw <= 0) problems.push(`action '${name}' param '${pname}' has bitwidth ${bw}; expected > 0`);
        const pi: ParamInfo = { id: pid, name: pname, bitwidth: bw };
        paramIndex.set(pid, params.length);
        params.push(pi);
        paramById.set(pid, pi);
      }
      this.actions.set(id, { id, name, shortName: a.preamble?.alias || name, params, paramById, paramIndex });
    }

    for (const c of info.counters ?? []) {
      const name = c.preamble?.name ?? '';
      const id = this.claimId('counter', c.preamble?.id, name, problems);
      this.nameIt('counter', id, name, c.preamble?.alias ?? '', problems);
      const size = num(c.size as LongLike);
      if (size <= 0) problems.push(`counter '${name}' has size ${size}; expected > 0`);
      // CounterSpec.Unit: 1 BYTES, 2 PACKETS; 3 BOTH and UNSPECIFIED count both.
      const unit = c.spec?.unit === 1 ? 'bytes' : c.spec?.unit === 2 ? 'packets' : 'both';
      this.counters.set(id, { id, name, shortName: c.preamble?.alias || name, size: Math.max(0, size), unit });
    }

    const directCounterTables = new Map<number, number>();
    for (const c of info.directCounters ?? []) {
      const name = c.preamble?.name ?? '';
      const id = this.claimId('direct counter', c.preamble?.id, name, problems);
      this.nameIt('direct counter', id, name, c.preamble?.alias ?? '', problems);
      const tableId = c.directTableId ?? 0;
      directCounterTables.set(id, tableId);
      this.directCounters.set(id, { id, name, tableId });
    }

    const meterIds = new Set<number>();
    for (const m of info.meters ?? []) {
      const name = m.preamble?.name ?? '';
      meterIds.add(this.claimId('meter', m.preamble?.id, name, problems));
      this.nameIt('meter', m.preamble?.id ?? 0, name, m.preamble?.alias ?? '', problems);
    }
    for (const m of info.directMeters ?? []) {
      const name = m.preamble?.name ?? '';
      meterIds.add(this.claimId('direct meter', m.preamble?.id, name, problems));
      this.nameIt('direct meter', m.preamble?.id ?? 0, name, m.preamble?.alias ?? '', problems);
    }
    for (const ap of info.actionProfiles ?? []) {
      const name = ap.preamble?.name ?? '';
      this.claimId('action profile', ap.preamble?.id, name, problems);
      this.nameIt('action profile', ap.preamble?.id ?? 0, name, ap.preamble?.alias ?? '', problems);
    }
    for (const vs of info.valueSets ?? []) {
      const name = vs.preamble?.name ?? '';
      this.claimId('value set', vs.preamble?.id, name, problems);
      this.nameIt('value set', vs.preamble?.id ?? 0, name, vs.preamble?.alias ?? '', problems);
    }
    for (const ex of info.externs ?? []) {
      for (const inst of ex.instances ?? []) this.claimId('extern', inst.preamble?.id, inst.preamble?.name ?? '', problems);
    }

    for (const t of info.tables ?? []) this.loadTable(t, directCounterTables, problems);

    for (const [dcId, tableId] of directCounterTables) {
      const t = this.tables.get(tableId);
      const dc = this.directCounters.get(dcId);
      if (!t) problems.push(`direct counter '${dc?.name ?? ''}' names direct_table_id ${hexId(tableId)}, which is not a table`);
      else if (t.directCounterId !== dcId) problems.push(`direct counter '${dc?.name ?? ''}' is attached to table '${t.name}' but the table does not list it in direct_resource_ids`);
    }

    for (const r of info.registers ?? []) {
      const name = r.preamble?.name ?? '';
      const id = this.claimId('register', r.preamble?.id, name, problems);
      this.nameIt('register', id, name, r.preamble?.alias ?? '', problems);
      const size = r.size ?? 0;
      if (size <= 0) problems.push(`register '${name}' has size ${size}; expected > 0`);
      this.registers.set(id, { id, name, shortName: r.preamble?.alias || name, size: Math.max(0, size), cell: this.cellType(r.typeSpec, `register '${name}'`, problems) });
    }

    for (const d of info.digests ?? []) {
      const name = d.preamble?.name ?? '';
      const id = this.claimId('digest', d.preamble?.id, name, problems);
      this.nameIt('digest', id, name, d.preamble?.alias ?? '', problems);
      this.digests.set(id, { id, name, shortName: d.preamble?.alias || name, ...this.digestShape(d.typeSpec, `digest '${name}'`, problems) });
    }

    for (const h of info.controllerPacketMetadata ?? []) {
      const name = h.preamble?.name ?? '';
      const id = this.claimId('controller header', h.preamble?.id, name, problems);
      if (this.controllerHeaders.has(name)) problems.push(`two controller headers are named '${name}'`);
      const metadata: ControllerMetadataInfo[] = [];
      const metadataById = new Map<number, ControllerMetadataInfo>();
      for (const m of h.metadata ?? []) {
        const mid = m.id ?? 0;
        const bw = m.bitwidth ?? 0;
        if (mid === 0) problems.push(`controller header '${name}' metadata '${m.name ?? ''}' has id 0`);
        if (metadataById.has(mid)) problems.push(`controller header '${name}' has two metadata with id ${mid}`);
        if (bw <= 0) problems.push(`controller header '${name}' metadata '${m.name ?? ''}' has bitwidth ${bw}; expected > 0`);
        const mi = { id: mid, name: m.name ?? '', bitwidth: bw };
        metadata.push(mi);
        metadataById.set(mid, mi);
      }
      this.controllerHeaders.set(name, { id, name, metadata, metadataById });
    }
  }

  private loadTable(t: p4.config.v1.Table.$Properties, directCounterTables: ReadonlyMap<number, number>, problems: string[]): void {
    const name = t.preamble?.name ?? '';
    const id = this.claimId('table', t.preamble?.id, name, problems);
    this.nameIt('table', id, name, t.preamble?.alias ?? '', problems);
    const matchFields: MatchFieldInfo[] = [];
    const fieldById = new Map<number, MatchFieldInfo>();
    const fieldByName = new Map<string, MatchFieldInfo>();
    const shortCounts = new Map<string, number>();
    for (const f of t.matchFields ?? []) {
      const fid = f.id ?? 0;
      const fname = f.name ?? '';
      const bw = f.bitwidth ?? 0;
      const mt = f.matchType ?? null;
      const kind: MatchKind = f.otherMatchType ? 'OTHER' : (MATCH_KINDS[mt ?? 0] ?? 'OTHER');
      if (fid === 0) problems.push(`table '${name}' match field '${fname}' has id 0`);
      if (fieldById.has(fid)) problems.push(`table '${name}' has two match fields with id ${fid}`);
      if (bw <= 0) problems.push(`table '${name}' match field '${fname}' has bitwidth ${bw}; expected > 0`);
      if (!f.otherMatchType && MATCH_KINDS[mt ?? 0] === undefined) problems.push(`table '${name}' match field '${fname}' has no match_type (expected EXACT, LPM, TERNARY, RANGE or OPTIONAL)`);
      const mf: MatchFieldInfo = { id: fid, name: fname, bitwidth: bw, kind };
      matchFields.push(mf);
      fieldById.set(fid, mf);
      fieldByName.set(fname, mf);
      const short = fname.split('.').pop() ?? fname;
      shortCounts.set(short, (shortCounts.get(short) ?? 0) + 1);
    }
    for (const mf of matchFields) {
      const short = mf.name.split('.').pop() ?? mf.name;
      if (shortCounts.get(short) === 1 && !fieldByName.has(short)) fieldByName.set(short, mf);
    }
    if ((t.matchFields ?? []).filter((f) => f.matchType === p4.config.v1.MatchField.MatchType.LPM).length > 1) {
      problems.push(`table '${name}' has more than one LPM match field`);
    }
    const actionScopes = new Map<number, ActionScope>();
    for (const ref of t.actionRefs ?? []) {
      const aid = ref.id ?? 0;
      if (!this.actions.has(aid)) problems.push(`table '${name}' action_refs names ${hexId(aid)}, which is not an action in the P4Info`);
      actionScopes.set(aid, SCOPES[ref.scope ?? 0] ?? 'TABLE_AND_DEFAULT');
    }
    const constDefaultActionId = t.constDefaultActionId ?? 0;
    if (constDefaultActionId !== 0 && !actionScopes.has(constDefaultActionId)) {
      problems.push(`table '${name}' const_default_action_id ${hexId(constDefaultActionId)} is not one of its action_refs`);
    }
    let directCounterId = 0;
    let directMeterId = 0;
    for (const rid of t.directResourceIds ?? []) {
      if (directCounterTables.has(rid)) directCounterId = rid;
      else if ((this.p4info.directMeters ?? []).some((m) => m.preamble?.id === rid)) directMeterId = rid;
      else problems.push(`table '${name}' direct_resource_ids names ${hexId(rid)}, which is not a direct counter or direct meter`);
    }
    const size = num(t.size as LongLike);
    if (size < 0) problems.push(`table '${name}' has size ${size}; expected >= 0`);
    const kinds = matchFields.map((f) => f.kind);
    this.tables.set(id, {
      id,
      name,
      shortName: t.preamble?.alias || name,
      matchFields,
      fieldById,
      fieldByName,
      actionScopes,
      constDefaultActionId,
      directCounterId,
      directMeterId,
      implementationId: t.implementationId ?? 0,
      size: Math.max(0, size),
      idleTimeoutNotify: t.idleTimeoutBehavior === p4.config.v1.Table.IdleTimeoutBehavior.NOTIFY_CONTROL,
      isConst: t.isConstTable ?? false,
      needsPriority: kinds.some((k) => k === 'TERNARY' || k === 'RANGE' || k === 'OPTIONAL'),
      exactOnly: kinds.every((k) => k === 'EXACT'),
      hasLpm: kinds.includes('LPM'),
    });
  }

  private bitWidthOf(spec: p4.config.v1.P4BitstringLikeTypeSpec.$Properties | null | undefined): number | string {
    if (spec?.bit) return spec.bit.bitwidth ?? 0;
    if (spec?.int) return `int<${spec.int.bitwidth ?? 0}>`;
    if (spec?.varbit) return `varbit<${spec.varbit.maxBitwidth ?? 0}>`;
    return 'an empty bitstring type';
  }

  private cellType(spec: p4.config.v1.P4DataTypeSpec.$Properties | null | undefined, what: string, problems: string[]): CellType {
    if (spec?.bitstring) {
      const w = this.bitWidthOf(spec.bitstring);
      if (typeof w === 'number') {
        if (w <= 0) problems.push(`${what} has bitwidth ${w}; expected > 0`);
        return { kind: 'bit', bitwidth: w };
      }
      return { kind: 'unsupported', description: w };
    }
    if (spec?.bool) return { kind: 'bool' };
    if (!spec) {
      problems.push(`${what} has no type_spec`);
      return { kind: 'unsupported', description: 'no type' };
    }
    const which = Object.keys(spec).find((k) => (spec as Record<string, unknown>)[k] != null) ?? 'unknown';
    return { kind: 'unsupported', description: which };
  }

  private digestShape(spec: p4.config.v1.P4DataTypeSpec.$Properties | null | undefined, what: string, problems: string[]): Pick<DigestInfo, 'shape' | 'members'> {
    if (spec?.bitstring) {
      const w = this.bitWidthOf(spec.bitstring);
      if (typeof w !== 'number' || w <= 0) problems.push(`${what} must be bit<W> with W > 0, got ${String(w)}`);
      return { shape: 'bitstring', members: [{ name: 'value', bitwidth: typeof w === 'number' ? w : 0 }] };
    }
    if (spec?.struct) {
      const sname = spec.struct.name ?? '';
      const st = this.p4info.typeInfo?.structs?.[sname];
      if (!st) {
        problems.push(`${what} names struct '${sname}', which is not in type_info.structs`);
        return { shape: 'struct', members: [] };
      }
      const members: DigestMember[] = [];
      for (const m of st.members ?? []) {
        const w = m.typeSpec?.bitstring ? this.bitWidthOf(m.typeSpec.bitstring) : 'a non-bitstring type';
        if (typeof w !== 'number' || w <= 0) problems.push(`${what}: struct '${sname}' member '${m.name ?? ''}' must be bit<W>, got ${String(w)}`);
        members.push({ name: m.name ?? '', bitwidth: typeof w === 'number' ? w : 0 });
      }
      return { shape: 'struct', members };
    }
    if (spec?.tuple) {
      const members = (spec.tuple.members ?? []).map((m, i) => {
        const w = m.bitstring ? this.bitWidthOf(m.bitstring) : 'a non-bitstring type';
        if (typeof w !== 'number' || w <= 0) problems.push(`${what}: tuple member ${i} must be bit<W>, got ${String(w)}`);
        return { name: `f${i}`, bitwidth: typeof w === 'number' ? w : 0 };
      });
      return { shape: 'tuple', members };
    }
    problems.push(`${what} has an unsupported type_spec (the sim supports bit<W>, structs and tuples of bit<W>)`);
    return { shape: 'bitstring', members: [] };
  }
}
