/**
 * All forwarding state of one pipeline: table entries (with direct counters and idle timers),
 * indirect counters, registers and digest configurations. A new pipeline starts empty
 * (VERIFY_AND_COMMIT) or takes over compatible state from the old one (RECONCILE_AND_COMMIT).
 */
import { fail } from '../p4rt/status.js';
import { CounterArray } from './counter-array.js';
import type { ActionInfo, P4InfoIndex, TableInfo } from './p4info-index.js';
import { RegisterArray } from './register-array.js';
import { ReplicationStore } from './replication-store.js';
import { TableStore, entryKey } from './table-store.js';
import type { ActionCall, TableEntryState } from './table-store.js';

/** A digest's P4Runtime configuration (DigestEntry.Config). */
export interface DigestConfig {
  readonly maxTimeoutNs: bigint;
  readonly maxListSize: number;
  readonly ackTimeoutNs: bigint;
}

/** A program's idea of a table's initial default action, by names. */
export interface DefaultActionSpec {
  readonly action: string;
  readonly params?: Readonly<Record<string, bigint>>;
}

/** Every piece of state one committed (or saved) pipeline holds. */
export class ForwardingState {
  readonly tables = new Map<number, TableStore>();
  readonly counters = new Map<number, CounterArray>();
  readonly registers = new Map<number, RegisterArray>();
  readonly digestConfigs = new Map<number, DigestConfig>();
  /** Multicast groups and clone sessions (PacketReplicationEngineEntry). */
  readonly replication = new ReplicationStore();

  /**
   * Creates empty state for `index`. `defaults` gives initial default actions by table name or
   * alias (the P4Info does not carry them unless they are const).
   */
  constructor(
    readonly index: P4InfoIndex,
    defaults: Readonly<Record<string, DefaultActionSpec>> = {},
  ) {
    for (const t of index.tables.values()) {
      this.tables.set(t.id, new TableStore(t, initialDefault(index, t, defaults[t.name] ?? defaults[t.shortName])));
    }
    for (const c of index.counters.values()) this.counters.set(c.id, new CounterArray(c.size));
    for (const r of index.registers.values()) {
      if (r.cell.kind === 'bit') this.registers.set(r.id, new RegisterArray(r.size, r.cell.bitwidth));
      else if (r.cell.kind === 'bool') this.registers.set(r.id, new RegisterArray(r.size, 1));
    }
  }

  /** The table store by id (caller validated the id). */
  table(id: number): TableStore {
    const t = this.tables.get(id);
    if (!t) throw new Error(`no table ${id}`);
    return t;
  }

  /**
   * Takes over the state of `old` (RECONCILE_AND_COMMIT): tables, counters, registers and digest
   * configs are matched by name. Throws INVALID_ARGUMENT naming the first piece of state that the
   * new P4Info cannot hold.
   */
  reconcileFrom(old: ForwardingState, nowMs: number): void {
    this.replication.takeOver(old.replication);
    for (const oldTable of old.tables.values()) {
      const newId = this.index.idOf('table', oldTable.info.name);
      const holdsState = oldTable.size > 0 || !sameAction(oldTable.defaultEntry.action, oldTable.defaultEntry.initial);
      if (newId === undefined) {
        if (holdsState) throw fail.invalid(`RECONCILE_AND_COMMIT cannot preserve table '${oldTable.info.name}': it holds ${oldTable.size} entries and the new P4Info has no such table; use VERIFY_AND_COMMIT to start empty`);
        continue;
      }
      const nt = this.table(newId);
      const fieldMap = mapFields(oldTable.info, nt.info);
      for (const e of oldTable.entries()) {
        const match = fieldMap.map((oldIdx) => (oldIdx === -1 ? null : (e.match[oldIdx] ?? null)));
        const action = e.action ? mapAction(old.index, this.index, oldTable.info, nt.info, e.action) : null;
        const copy: TableEntryState = {
          key: entryKey(match, e.priority),
          match,
          priority: e.priority,
          action,
          counter: e.counter && nt.info.directCounterId !== 0 ? { ...e.counter } : nt.info.directCounterId !== 0 ? { bytes: 0n, packets: 0n } : null,
          idleTimeoutNs: nt.info.idleTimeoutNotify ? e.idleTimeoutNs : 0n,
          lastHitMs: Math.min(e.lastHitMs, nowMs),
          idleSinceMs: Math.min(e.idleSinceMs, nowMs),
          metadata: e.metadata,
          controllerMetadata: e.controllerMetadata,
          seq: nt.nextSeq(),
        };
        nt.add(copy);
      }
      const d = oldTable.defaultEntry;
      if (d.action && !sameAction(d.action, d.initial)) nt.defaultEntry.action = mapAction(old.index, this.index, oldTable.info, nt.info, d.action);
      if (d.counter && nt.defaultEntry.counter) nt.defaultEntry.counter = { ...d.counter };
    }
    for (const [oldId, arr] of old.counters) {
      const info = old.index.counters.get(oldId);
      const newId = info ? this.index.idOf('counter', info.name) : undefined;
      const target = newId !== undefined ? this.counters.get(newId) : undefined;
      for (let i = target?.size ?? 0; i < arr.size; i++) {
        const c = arr.get(i);
        if (c.bytes !== 0n || c.packets !== 0n) {
          throw fail.invalid(`RECONCILE_AND_COMMIT cannot preserve counter '${info?.name ?? oldId}': cell ${i} is non-zero and the new P4Info ${target ? `sizes it ${target.size}` : 'has no such counter'}`);
        }
      }
      target?.copyFrom(arr);
    }
    for (const [oldId, arr] of old.registers) {
      const info = old.index.registers.get(oldId);
      const newId = info ? this.index.idOf('register', info.name) : undefined;
      const target = newId !== undefined ? this.registers.get(newId) : undefined;
      if (target && target.bitwidth < arr.bitwidth) {
        throw fail.invalid(`RECONCILE_AND_COMMIT cannot preserve register '${info?.name ?? oldId}': the new P4Info narrows it from ${arr.bitwidth} to ${target.bitwidth} bits`);
      }
      for (let i = target?.size ?? 0; i < arr.size; i++) {
        if (arr.get(i) !== 0n) {
          throw fail.invalid(`RECONCILE_AND_COMMIT cannot preserve register '${info?.name ?? oldId}': cell ${i} is non-zero and the new P4Info ${target ? `sizes it ${target.size}` : 'has no such register'}`);
        }
      }
      target?.copyFrom(arr);
    }
    for (const [oldId, cfg] of old.digestConfigs) {
      const info = old.index.digests.get(oldId);
      const newId = info ? this.index.idOf('digest', info.name) : undefined;
      if (newId !== undefined) this.digestConfigs.set(newId, cfg);
    }
  }
}

function initialDefault(index: P4InfoIndex, t: TableInfo, spec: DefaultActionSpec | undefined): ActionCall | null {
  const byId = (id: number): ActionCall | null => {
    const a = index.actions.get(id);
    return a ? { actionId: id, params: a.params.map(() => 0n) } : null;
  };
  if (t.constDefaultActionId !== 0) {
    const base = byId(t.constDefaultActionId);
    const a = index.actions.get(t.constDefaultActionId);
    if (base && a && spec && (spec.action === a.name || spec.action === a.shortName)) return withParams(a, spec);
    return base;
  }
  if (spec) {
    const id = index.idOf('action', spec.action);
    const a = id !== undefined ? index.actions.get(id) : undefined;
    if (!a || !t.actionScopes.has(a.id)) throw new Error(`program default action '${spec.action}' is not an action of table '${t.name}'`);
    return withParams(a, spec);
  }
  for (const id of t.actionScopes.keys()) {
    const a = index.actions.get(id);
    if (a && (a.name === 'NoAction' || a.shortName === 'NoAction')) return byId(id);
  }
  return null;
}

function withParams(a: ActionInfo, spec: DefaultActionSpec): ActionCall {
  return { actionId: a.id, params: a.params.map((p) => spec.params?.[p.name] ?? 0n) };
}

function sameAction(x: ActionCall | null, y: ActionCall | null): boolean {
  if (x === null || y === null) return x === y;
  return x.actionId === y.actionId && x.params.length === y.params.length && x.params.every((v, i) => v === y.params[i]);
}

/** For each new field, the index of the same-named old field (or -1 when new is absent in old). */
function mapFields(oldT: TableInfo, newT: TableInfo): number[] {
  const what = `RECONCILE_AND_COMMIT cannot preserve table '${oldT.name}'`;
  if (oldT.needsPriority !== newT.needsPriority) throw fail.invalid(`${what}: its entries ${oldT.needsPriority ? 'have' : 'lack'} priorities and the new table's do not match that`);
  const out = newT.matchFields.map((nf) => {
    const oi = oldT.matchFields.findIndex((of) => of.name === nf.name);
    const of = oldT.matchFields[oi];
    if (!of) throw fail.invalid(`${what}: the new table has match field '${nf.name}' which its entries do not have`);
    if (of.kind !== nf.kind) throw fail.invalid(`${what}: match field '${nf.name}' changes from ${of.kind} to ${nf.kind}`);
    if (nf.bitwidth < of.bitwidth) throw fail.invalid(`${what}: match field '${nf.name}' narrows from ${of.bitwidth} to ${nf.bitwidth} bits`);
    return oi;
  });
  for (const of of oldT.matchFields) {
    if (!newT.matchFields.some((nf) => nf.name === of.name)) throw fail.invalid(`${what}: match field '${of.name}' is not in the new table`);
  }
  return out;
}

function mapAction(oldIx: P4InfoIndex, newIx: P4InfoIndex, oldT: TableInfo, newT: TableInfo, call: ActionCall): ActionCall {
  const oa = oldIx.actions.get(call.actionId);
  const what = `RECONCILE_AND_COMMIT cannot preserve table '${oldT.name}'`;
  const nid = oa ? newIx.idOf('action', oa.name) : undefined;
  const na = nid !== undefined ? newIx.actions.get(nid) : undefined;
  if (!oa || !na || !newT.actionScopes.has(na.id)) throw fail.invalid(`${what}: action '${oa?.name ?? call.actionId}' is not an action of the new table`);
  const params = na.params.map((np) => {
    const oi = oa.params.findIndex((op) => op.name === np.name);
    const op = oa.params[oi];
    if (!op) throw fail.invalid(`${what}: action '${na.name}' gains parameter '${np.name}'`);
    if (np.bitwidth < op.bitwidth) throw fail.invalid(`${what}: action '${na.name}' parameter '${np.name}' narrows from ${op.bitwidth} to ${np.bitwidth} bits`);
    return call.params[oi] ?? 0n;
  });
  if (oa.params.length !== na.params.length) throw fail.invalid(`${what}: action '${na.name}' changes its parameters`);
  return { actionId: na.id, params };
}
