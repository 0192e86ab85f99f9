/**
 * Installs the test fixture (fixture-spec.ts) on the target, once per run, and records how to
 * take it away: every entry is deleted again, and every indirect counter cell the run's traffic
 * touches is written back to what it held before (a snapshot taken before the first entry;
 * counter-restore.ts).
 */
import { P4RuntimeError } from 'p4runtime-ts';
import type { P4Update, TableEntrySpec } from 'p4runtime-ts';
import { snapshotCounters } from './counter-restore.js';
import { HwTestError } from './errors.js';
import type { HwTestSession } from './session.js';
import { hardEntries } from './fixture-hard.js';
import { fixtureTracker } from './fixture-spec.js';
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

/** A fixture entry, its INSERT, and the fixture option that chooses its key. */
export interface FixtureEntry {
  readonly entry: WrittenEntry;
  readonly update: P4Update;
  /** e.g. `fixture.vms[0].port`. */
  readonly option: string;
}

/** The fixture's entries. */
export function fixtureEntries(s: HwTestSession): FixtureEntry[] {
  const f = s.o.fixture;
  const vmMap = s.contract.vmMap;
  const control = s.contract.control;
  if (!vmMap || !control) throw new HwTestError('SETUP', 'the P4Info declares no @migrate_vm_map or @migrate_control table; hw-test needs the stateful_edge contract');
  const out: FixtureEntry[] = [];
  const add = (table: string, spec: TableEntrySpec, option: string): void => {
    const entry: WrittenEntry = { table, match: spec.match, ...(spec.priority !== undefined ? { priority: spec.priority } : {}) };
    out.push({ entry, update: s.sw.table(table).insert(spec), option });
  };
  f.vms.forEach((vm, i) => add('port_role', { match: { port: vm.port }, action: 'vm_port_role', params: { uplink_port: f.uplinkPort } }, `fixture.vms[${i}].port`));
  add('port_role', { match: { port: f.uplinkPort }, action: 'uplink_role' }, 'fixture.uplinkPort');
  f.vms.forEach((vm, i) => add(vmMap.table, { match: { [vmMap.keyField]: vm.addr }, action: vmMap.action, params: { [vmMap.vmIdParam]: vm.vmId, port: vm.port } }, `fixture.vms[${i}].addr`));
  // Tracking on: every slot a VM's packet changes is marked dirty, so the placement check sees
  // every slot the target used, wherever it was.
  const flags = Object.fromEntries(Object.entries(control.flags).map(([flag, param]) => [param, flag === 'track' || flag === 'active' ? 1 : 0]));
  // Each VM its own change log (as far as trackers go), so the differential check compares logs too.
  f.vms.forEach((vm, i) => add(control.table, { match: { [control.keyField]: vm.vmId }, action: control.action, params: control.tracker ? { ...flags, [control.tracker.param]: fixtureTracker(i) } : flags }, `fixture.vms[${i}].vmId`));
  f.vms.forEach((vm, i) => {
    for (const port of f.vmServicePorts) add('static_acl', { match: { vm_addr: vm.addr, vm_port: port, protocol: 6 }, priority: 10, action: 'static_allow' }, `fixture.vms[${i}].addr or fixture.vmServicePorts`);
  });
  // Numerals rather than bigints: the undo log describes entries as JSON.
  const text = (m: SetupEntry['match']): TableEntrySpec['match'] =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.mask === undefined ? { value: v.value.toString() } : { value: v.value.toString(), mask: v.mask.toString() }]));
  for (const e of hardEntries(f, s.o.cpuPort)) add(e.table, { match: text(e.match), action: e.action, ...(e.params ? { params: e.params } : {}), ...(e.priority !== undefined ? { priority: e.priority } : {}) }, 'fixture.hard');
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
