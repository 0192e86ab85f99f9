/**
 * Installs the test fixture (fixture-spec.ts) on the target, once per run, and records how to
 * take it away: every entry is deleted again, and every indirect counter cell the run's traffic
 * touches is written back to what it held before (a snapshot taken before the first entry).
 */
import { P4RuntimeError } from 'p4runtime-ts';
import type { CounterCell, P4Update, TableEntrySpec } from 'p4runtime-ts';
import { HwTestError } from './errors.js';
import type { HwTestSession } from './session.js';
import { hardEntries } from './fixture-hard.js';
import type { SetupEntry } from '../sim/workload/index.js';
import { describeUpdates, targetStatus } from './target-status.js';

/** A table entry the run wrote, by name, as DELETE needs it. */
export interface WrittenEntry {
  readonly table: string;
  readonly match: TableEntrySpec['match'];
  readonly priority?: number;
}

/** Deletes an entry; an entry already gone counts as deleted. */
export async function deleteEntry(s: HwTestSession, e: WrittenEntry): Promise<void> {
  try {
    await s.sw.write(s.sw.table(e.table).delete({ match: e.match, ...(e.priority !== undefined ? { priority: e.priority } : {}) }));
  } catch (err) {
    if (targetStatus(err).code === 'NOT_FOUND') return;
    throw err;
  }
}

/** Records the undo of an inserted entry. */
export function recordInsert(s: HwTestSession, e: WrittenEntry): ReturnType<HwTestSession['undo']['add']> {
  return s.undo.add(`delete ${e.table} entry ${JSON.stringify(e.match)}`, () => deleteEntry(s, e));
}

/** Reads every cell of every indirect counter (the pipeline's are small). */
async function readCounters(s: HwTestSession): Promise<Map<string, CounterCell[]>> {
  const out = new Map<string, CounterCell[]>();
  for (const c of s.schema.counters) {
    if (c.size > 65_536) continue;
    const cells = await s.sw.readAll(s.sw.counter(c.name).all());
    out.set(c.name, cells);
  }
  return out;
}

/** Snapshots the indirect counters and records their restore. */
async function snapshotCounters(s: HwTestSession): Promise<void> {
  const before = await readCounters(s);
  s.undo.add('restore indirect counters to their values before the run', async () => {
    const now = await readCounters(s);
    const updates: P4Update[] = [];
    for (const [name, cells] of before) {
      const current = new Map((now.get(name) ?? []).map((c) => [c.index, c]));
      for (const c of cells) {
        const n = current.get(c.index);
        if (!n || n.bytes !== c.bytes || n.packets !== c.packets) updates.push(s.sw.counter(name).modify(c.index, { bytes: c.bytes, packets: c.packets }));
      }
    }
    if (updates.length > 0) await s.sw.write(updates);
  });
}

/** The fixture's entries. */
export function fixtureEntries(s: HwTestSession): { entry: WrittenEntry; update: P4Update }[] {
  const f = s.o.fixture;
  const vmMap = s.contract.vmMap;
  const control = s.contract.control;
  if (!vmMap || !control) throw new HwTestError('SETUP', 'the P4Info declares no @migrate_vm_map or @migrate_control table; hw-test needs the stateful_edge contract');
  const out: { entry: WrittenEntry; update: P4Update }[] = [];
  const add = (table: string, spec: TableEntrySpec): void => {
    const entry: WrittenEntry = { table, match: spec.match, ...(spec.priority !== undefined ? { priority: spec.priority } : {}) };
    out.push({ entry, update: s.sw.table(table).insert(spec) });
  };
  for (const vm of f.vms) add('port_role', { match: { port: vm.port }, action: 'vm_port_role', params: { uplink_port: f.uplinkPort } });
  add('port_role', { match: { port: f.uplinkPort }, action: 'uplink_role' });
  for (const vm of f.vms) add(vmMap.table, { match: { [vmMap.keyField]: vm.addr }, action: vmMap.action, params: { [vmMap.vmIdParam]: vm.vmId, port: vm.port } });
  // Tracking on: every slot a VM's packet changes is marked dirty, so the placement check sees
  // every slot the target used, wherever it was.
  const flags = Object.fromEntries(Object.entries(control.flags).map(([flag, param]) => [param, flag === 'track' || flag === 'active' ? 1 : 0]));
  for (const vm of f.vms) add(control.table, { match: { [control.keyField]: vm.vmId }, action: control.action, params: flags });
  for (const vm of f.vms) {
    for (const port of f.vmServicePorts) add('static_acl', { match: { vm_addr: vm.addr, vm_port: port, protocol: 6 }, priority: 10, action: 'static_allow' });
  }
  // Numerals rather than bigints: the undo log describes entries as JSON.
  const text = (m: SetupEntry['match']): TableEntrySpec['match'] =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.mask === undefined ? { value: v.value.toString() } : { value: v.value.toString(), mask: v.mask.toString() }]));
  for (const e of hardEntries(f, s.o.cpuPort)) add(e.table, { match: text(e.match), action: e.action, ...(e.params ? { params: e.params } : {}), ...(e.priority !== undefined ? { priority: e.priority } : {}) });
  return out;
}

/** Installs the fixture once (later calls wait for the first). */
export function ensureFixture(s: HwTestSession): Promise<void> {
  return s.once('fixture', async () => {
    await snapshotCounters(s);
    const entries = fixtureEntries(s);
    try {
      await s.sw.write(entries.map((e) => e.update));
      for (const e of entries) recordInsert(s, e.entry);
    } catch (err) {
      const st = targetStatus(err);
      const failed = new Set(st.updates.map((u) => u.index));
      // The updates that did succeed are ours to take away again.
      if (err instanceof P4RuntimeError && err.updates.length > 0) entries.forEach((e, i) => failed.has(i) || recordInsert(s, e.entry));
      const which = st.updates.length > 0 ? describeUpdates(st.updates) : `${st.code}: ${st.message}`;
      throw new HwTestError(
        'SETUP',
        `installing the test fixture failed (${which}); an entry with one of the fixture's keys may already exist on the target — ` +
          'remove it, or choose other VM addresses/ports through the fixture option',
        { cause: err },
      );
    }
  });
}
