/**
 * TableEntry on the wire <-> the table store: validates match keys (per match kind, spec §9.1.1),
 * priorities and actions exactly as a P4Runtime server must, and encodes entries back in
 * canonical form for reads.
 */
import type { p4 } from 'p4runtime-ts/proto';
import { canonicalBytes, widthMask } from '../p4rt/bytestring.js';
import { fail } from '../p4rt/status.js';
import { decodeValue, hexId } from './codec-context.js';
import type { CodecContext } from './codec-context.js';
import type { ActionInfo, MatchFieldInfo, MatchKind, TableInfo } from './p4info-index.js';
import { entryKey } from './table-store.js';
import type { ActionCall, FieldMatchValue } from './table-store.js';

type TableEntryProps = p4.v1.TableEntry.$Properties;
type FieldMatchProps = p4.v1.FieldMatch.$Properties;

/** A validated entry key: which table, the match per field (P4Info order), priority, identity. */
export interface DecodedKey {
  readonly table: TableInfo;
  readonly match: (FieldMatchValue | null)[];
  readonly priority: number;
  readonly key: string;
}

const ONEOF_OF: Readonly<Record<Exclude<MatchKind, 'OTHER'>, 'exact' | 'lpm' | 'ternary' | 'range' | 'optional'>> = {
  EXACT: 'exact',
  LPM: 'lpm',
  TERNARY: 'ternary',
  RANGE: 'range',
  OPTIONAL: 'optional',
};

/** The table an entity names, or INVALID_ARGUMENT (in the profile's words) when the id is unknown. */
export function tableOf(ctx: CodecContext, tableId: number | null | undefined): TableInfo {
  const t = ctx.index.tables.get(tableId ?? 0);
  if (!t) {
    throw fail.invalid(ctx.msgs.invalidId(`table id ${hexId(tableId ?? 0)} is not a table in the P4Info (tables: ${[...ctx.index.tables.values()].map((x) => `'${x.name}' ${hexId(x.id)}`).join(', ') || 'none'})`));
  }
  return t;
}

/** Which match type oneof a FieldMatch carries (protobufjs virtual oneof getter, or the set field). */
function matchTypeOf(fm: FieldMatchProps): string | undefined {
  const declared = (fm as { fieldMatchType?: string }).fieldMatchType;
  if (declared) return declared;
  for (const k of ['exact', 'ternary', 'lpm', 'range', 'optional', 'other'] as const) if (fm[k] != null) return k;
  return undefined;
}

function decodeField(ctx: CodecContext, t: TableInfo, f: MatchFieldInfo, fm: FieldMatchProps): FieldMatchValue {
  const what = `table '${t.name}' match field '${f.name}'`;
  const sent = matchTypeOf(fm);
  if (sent === undefined) throw fail.invalid(`${what}: no match type set; expected ${f.kind}`);
  if (sent === 'other' || f.kind === 'OTHER') throw fail.unimplemented(`${what}: architecture-specific match kinds are not supported by the sim`);
  if (sent !== ONEOF_OF[f.kind]) throw fail.invalid(`${what} is ${f.kind}; the request sent ${sent.toUpperCase()} (use the ${ONEOF_OF[f.kind]} field of FieldMatch)`);
  const w = f.bitwidth;
  switch (f.kind) {
    case 'EXACT':
      return { kind: 'EXACT', value: decodeValue(ctx, fm.exact?.value, w, what) };
    case 'OPTIONAL':
      return { kind: 'OPTIONAL', value: decodeValue(ctx, fm.optional?.value, w, what) };
    case 'LPM': {
      const value = decodeValue(ctx, fm.lpm?.value, w, what);
      const plen = fm.lpm?.prefixLen ?? 0;
      if (plen <= 0) throw fail.invalid(`${what}: prefix_len ${plen}; a don't-care LPM match must be omitted, otherwise prefix_len is 1..${w}`);
      if (plen > w) throw fail.invalid(`${what}: prefix_len ${plen} exceeds the field width ${w}`);
      const mask = widthMask(w) ^ widthMask(w - plen);
      if ((value & ~mask) !== 0n) throw fail.invalid(`${what}: value 0x${value.toString(16)} has bits set beyond the /${plen} prefix; clear them`);
      return { kind: 'LPM', value, prefixLen: plen, mask };
    }
    case 'TERNARY': {
      const value = decodeValue(ctx, fm.ternary?.value, w, `${what} value`);
      const mask = decodeValue(ctx, fm.ternary?.mask, w, `${what} mask`);
      if (mask === 0n) throw fail.invalid(`${what}: mask is 0; a don't-care ternary match must be omitted`);
      if ((value & ~mask) !== 0n) throw fail.invalid(`${what}: value 0x${value.toString(16)} has bits outside mask 0x${mask.toString(16)}; clear them`);
      return { kind: 'TERNARY', value, mask };
    }
    case 'RANGE': {
      const low = decodeValue(ctx, fm.range?.low, w, `${what} low`);
      const high = decodeValue(ctx, fm.range?.high, w, `${what} high`);
      if (low > high) throw fail.invalid(`${what}: low 0x${low.toString(16)} is above high 0x${high.toString(16)}`);
      if (low === 0n && high === widthMask(w)) throw fail.invalid(`${what}: the range covers every value; a don't-care range match must be omitted`);
      return { kind: 'RANGE', low, high };
    }
  }
}

/**
 * Validates the key part of a TableEntry (table id, match, priority) for a non-default entry.
 * `forRead` relaxes nothing but the caller may pass partial keys only through the wildcard path.
 */
export function decodeKey(ctx: CodecContext, te: TableEntryProps): DecodedKey {
  const t = tableOf(ctx, te.tableId);
  const match: (FieldMatchValue | null)[] = t.matchFields.map(() => null);
  for (const fm of te.match ?? []) {
    const f = t.fieldById.get(fm.fieldId ?? 0);
    if (!f) {
      throw fail.invalid(ctx.msgs.invalidId(`table '${t.name}' has no match field id ${fm.fieldId ?? 0} (fields: ${t.matchFields.map((x) => `${x.id} '${x.name}'`).join(', ')})`));
    }
    const i = t.matchFields.indexOf(f);
    if (match[i] !== null) throw fail.invalid(`table '${t.name}' match field '${f.name}' appears twice in the match`);
    match[i] = decodeField(ctx, t, f, fm);
  }
  t.matchFields.forEach((f, i) => {
    if (f.kind === 'EXACT' && match[i] === null) throw fail.invalid(`table '${t.name}': exact match field '${f.name}' is missing; exact fields can never be omitted`);
  });
  const priority = te.priority ?? 0;
  if (t.needsPriority && priority <= 0) throw fail.invalid(`table '${t.name}' has ternary, range or optional fields: priority must be > 0, got ${priority}`);
  if (!t.needsPriority && priority !== 0) throw fail.invalid(`table '${t.name}' has only exact/LPM fields: priority must be 0, got ${priority}`);
  return { table: t, match, priority, key: entryKey(match, priority) };
}

/** Validates an action for a table; `asDefault` applies the DEFAULT_ONLY / TABLE_ONLY scopes the other way round. */
export function decodeAction(ctx: CodecContext, t: TableInfo, ta: p4.v1.TableAction.$Properties, asDefault: boolean): ActionCall {
  if (ta.actionProfileMemberId != null || ta.actionProfileGroupId != null || ta.actionProfileActionSet != null) {
    if (t.implementationId !== 0) throw fail.unimplemented(`table '${t.name}': action profiles and selectors are not supported by the sim`);
    throw fail.invalid(`table '${t.name}' is a direct table: send an Action, not an action profile member, group or action set`);
  }
  const a = ta.action;
  if (!a) throw fail.invalid(`table '${t.name}': the TableAction has no action set`);
  const info = ctx.index.actions.get(a.actionId ?? 0);
  if (!info) throw fail.invalid(ctx.msgs.invalidId(`action id ${hexId(a.actionId ?? 0)} is not an action in the P4Info`));
  const scope = t.actionScopes.get(info.id);
  if (scope === undefined) {
    const names = [...t.actionScopes.keys()].map((id) => ctx.index.actions.get(id)?.name ?? hexId(id));
    throw fail.invalid(`action '${info.name}' is not an action of table '${t.name}' (its actions: ${names.join(', ')})`);
  }
  if (asDefault && scope === 'TABLE_ONLY') throw fail.denied(`action '${info.name}' is TABLE_ONLY in table '${t.name}' and cannot be its default action`);
  if (!asDefault && scope === 'DEFAULT_ONLY') throw fail.denied(`action '${info.name}' is DEFAULT_ONLY in table '${t.name}' and cannot be used by an entry`);
  return { actionId: info.id, params: decodeParams(ctx, info, a.params ?? []) };
}

function decodeParams(ctx: CodecContext, info: ActionInfo, params: readonly p4.v1.Action.Param.$Properties[]): bigint[] {
  const out: (bigint | undefined)[] = info.params.map(() => undefined);
  for (const p of params) {
    const pi = info.paramById.get(p.paramId ?? 0);
    if (!pi) throw fail.invalid(ctx.msgs.invalidId(`action '${info.name}' has no parameter id ${p.paramId ?? 0} (params: ${info.params.map((x) => `${x.id} '${x.name}'`).join(', ') || 'none'})`));
    const idx = info.paramIndex.get(pi.id) ?? 0;
    if (out[idx] !== undefined) throw fail.invalid(`action '${info.name}' parameter '${pi.name}' is given twice`);
    out[idx] = decodeValue(ctx, p.value, pi.bitwidth, `action '${info.name}' parameter '${pi.name}'`);
  }
  return out.map((v, i) => {
    if (v === undefined) throw fail.invalid(`action '${info.name}': parameter '${info.params[i]?.name ?? i}' is missing; every parameter needs a value`);
    return v;
  });
}

/** The wire FieldMatch list of a stored match (don't-care fields omitted), canonical bytes. */
export function encodeMatch(t: TableInfo, match: readonly (FieldMatchValue | null)[]): FieldMatchProps[] {
  const out: FieldMatchProps[] = [];
  match.forEach((m, i) => {
    const f = t.matchFields[i];
    if (!m || !f) return;
    const fieldId = f.id;
    switch (m.kind) {
      case 'EXACT':
        out.push({ fieldId, exact: { value: canonicalBytes(m.value) } });
        break;
      case 'OPTIONAL':
        out.push({ fieldId, optional: { value: canonicalBytes(m.value) } });
        break;
      case 'LPM':
        out.push({ fieldId, lpm: { value: canonicalBytes(m.value), prefixLen: m.prefixLen } });
        break;
      case 'TERNARY':
        out.push({ fieldId, ternary: { value: canonicalBytes(m.value), mask: canonicalBytes(m.mask) } });
        break;
      case 'RANGE':
        out.push({ fieldId, range: { low: canonicalBytes(m.low), high: canonicalBytes(m.high) } });
        break;
    }
  });
  return out;
}

/** The wire TableAction of a stored action call. */
export function encodeAction(ctx: CodecContext, call: ActionCall): p4.v1.TableAction.$Properties {
  const info = ctx.index.actions.get(call.actionId);
  return {
    action: {
      actionId: call.actionId,
      params: (info?.params ?? []).map((p, i) => ({ paramId: p.id, value: canonicalBytes(call.params[i] ?? 0n) })),
    },
  };
}

/** `dst=0xa000001, port=0x1..0x5` — a key as people read it, for messages. */
export function describeKey(k: DecodedKey): string {
  const parts: string[] = [];
  k.match.forEach((m, i) => {
    const f = k.table.matchFields[i];
    if (!m || !f) return;
    const name = f.name;
    if (m.kind === 'EXACT' || m.kind === 'OPTIONAL') parts.push(`${name}=0x${m.value.toString(16)}`);
    else if (m.kind === 'LPM') parts.push(`${name}=0x${m.value.toString(16)}/${m.prefixLen}`);
    else if (m.kind === 'TERNARY') parts.push(`${name}=0x${m.value.toString(16)}&&&0x${m.mask.toString(16)}`);
    else parts.push(`${name}=0x${m.low.toString(16)}..0x${m.high.toString(16)}`);
  });
  const pr = k.table.needsPriority ? ` priority ${k.priority}` : '';
  return `table '${k.table.name}' (${parts.join(', ') || 'no fields'})${pr}`;
}
