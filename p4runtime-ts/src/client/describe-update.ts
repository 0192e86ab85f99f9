/**
 * An update described by name for error messages and logs (write.ts names the failed updates of a
 * batch with it): `INSERT table ingress.acl {dst=10.0.0.5} → allow(port=1)`, ids the schema does not
 * know shown as ids.
 */
import { decodeBits, decodeFieldMatch, formatMatchValue } from '../codec/index.js';
import { toBigInt } from '../proto/index.js';
import type { LongLike, p4 } from '../proto/index.js';
import type { ActionInfo, P4Schema, TableInfo } from '../schema/index.js';

const UPDATE_TYPE_NAMES: Readonly<Record<number, string>> = { 0: 'UNSPECIFIED', 1: 'INSERT', 2: 'MODIFY', 3: 'DELETE' };

function describeKey(table: TableInfo, te: p4.v1.TableEntry.$Properties): string {
  const parts: string[] = [];
  for (const fm of te.match ?? []) {
    const f = table.matchFields.find((x) => x.id === fm.fieldId);
    if (!f) {
      parts.push(`#${fm.fieldId}=?`);
      continue;
    }
    let shown: string;
    try {
      shown = formatMatchValue(decodeFieldMatch(f, fm), f.bitwidth);
    } catch {
      shown = '<invalid>';
    }
    parts.push(`${f.name}=${shown}`);
  }
  if (te.priority) parts.push(`priority=${te.priority}`);
  return `{${parts.join(', ')}}`;
}

function describeAction(schema: P4Schema, a: p4.v1.Action.$Properties | null | undefined): string {
  if (!a) return '';
  const info = schema.find('action', a.actionId ?? 0) as ActionInfo | undefined;
  if (!info) return ` → action #${a.actionId}`;
  const params = (a.params ?? []).map((p) => {
    const pi = info.params.find((x) => x.id === p.paramId);
    return `${pi?.name ?? `#${p.paramId}`}=${decodeBits(p.value ?? new Uint8Array())}`;
  });
  return ` → ${info.alias || info.name}${params.length ? `(${params.join(', ')})` : ''}`;
}

/**
 * Describes an update for error messages and logs by name, e.g.
 * `INSERT table ingress.acl {dst=10.0.0.5, dport=53} → allow(port=1)`. Never throws: ids the
 * schema does not know are shown as ids.
 */
export function describeUpdate(schema: P4Schema | undefined, u: p4.v1.Update.$Properties): string {
  const type = UPDATE_TYPE_NAMES[u.type ?? 0] ?? String(u.type);
  const e = u.entity ?? {};
  const name = (kind: Parameters<P4Schema['find']>[0], id: number | null | undefined): string => {
    const hit = schema?.find(kind, id ?? 0);
    return hit ? hit.name : `#${id ?? 0}`;
  };
  if (e.tableEntry) {
    const te = e.tableEntry;
    const table = schema?.find('table', te.tableId ?? 0) as TableInfo | undefined;
    if (!table || !schema) return `${type} table #${te.tableId}`;
    if (te.isDefaultAction) return `${type} default action of table ${table.name}${describeAction(schema, te.action?.action)}`;
    return `${type} table ${table.name} ${describeKey(table, te)}${describeAction(schema, te.action?.action)}`;
  }
  if (e.registerEntry) return `${type} register ${name('register', e.registerEntry.registerId)}[${toBigInt(e.registerEntry.index?.index as LongLike, true)}]`;
  if (e.counterEntry) return `${type} counter ${name('counter', e.counterEntry.counterId)}[${toBigInt(e.counterEntry.index?.index as LongLike, true)}]`;
  if (e.directCounterEntry) {
    const te = e.directCounterEntry.tableEntry ?? {};
    const table = schema?.find('table', te.tableId ?? 0) as TableInfo | undefined;
    return `${type} direct counter of table ${table ? `${table.name} ${describeKey(table, te)}` : `#${te.tableId}`}`;
  }
  if (e.digestEntry) return `${type} digest ${name('digest', e.digestEntry.digestId)} config`;
  return `${type} ${Object.keys(e).join(', ') || 'empty entity'}`;
}
