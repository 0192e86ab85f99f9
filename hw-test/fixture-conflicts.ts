/**
 * Before any check runs: does a switch already hold an entry with the key of one hw-test is about
 * to insert (the fixture's, the migration VM's)? Such a switch carries a layout of its own — most
 * often ports 1 and 2 in port_role — and every check that needs the fixture would fail with the
 * target's bare ALREADY_EXISTS. hw-test refuses it instead, naming each entry and the fixture
 * option that moves hw-test's key elsewhere.
 */
import type { TableEntryRead } from 'p4runtime-ts';
import { HwTestError } from './errors.js';
import { fixtureEntries } from './fixture.js';
import type { WrittenEntry } from './fixture.js';
import type { HwTestSession } from './session.js';
import { isNotFound } from './target-status.js';

/** An entry hw-test will insert and the option that chooses its key. */
interface PlannedKey {
  readonly entry: WrittenEntry;
  readonly option: string;
}

/** What a switch already holds under one of our keys. */
export interface FixtureConflict {
  readonly table: string;
  /** Our key, as `port=1` or `vm_addr=10.250.0.5, vm_port=22, protocol=6 (priority 10)`. */
  readonly key: string;
  /** The entry present, as `vm_port_role(uplink_port=2)`. */
  readonly present: string;
  readonly option: string;
}

const short = (name: string): string => name.slice(name.lastIndexOf('.') + 1);

function keyText(e: WrittenEntry): string {
  const value = (v: unknown): string => {
    if (typeof v === 'object' && v !== null && 'value' in v) {
      const m = v as { value: unknown; mask?: unknown };
      return m.mask === undefined ? String(m.value) : `${String(m.value)}&&&${String(m.mask)}`;
    }
    return String(v);
  };
  const fields = Object.entries(e.match ?? {}).map(([k, v]) => `${k}=${value(v)}`).join(', ');
  return e.priority === undefined ? fields : `${fields} (priority ${e.priority})`;
}

function entryText(r: TableEntryRead): string {
  const params = Object.entries(r.params ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  return `${short(r.action ?? 'no action')}(${params})`;
}

/** The keys hw-test inserts on this switch: the fixture's, and the migration VM's when that group runs. */
function plannedKeys(s: HwTestSession, migrationVmId: number | undefined): PlannedKey[] {
  const out: PlannedKey[] = fixtureEntries(s).map((f) => ({ entry: f.entry, option: f.option }));
  const vmMap = s.contract.vmMap;
  const control = s.contract.control;
  if (migrationVmId !== undefined) {
    const vm = s.o.fixture.migrationVm;
    out.push({ entry: { table: 'port_role', match: { port: vm.port } }, option: 'fixture.migrationVm.port' });
    if (vmMap) out.push({ entry: { table: vmMap.table, match: { [vmMap.keyField]: vm.addr } }, option: 'fixture.migrationVm.addr' });
    // The migrations write this VM's control entry and the cleanup deletes it: one already there would go.
    const idOption = migrationVmId === vm.vmId ? 'fixture.migrationVm.vmId' : 'fixture.migrationVm.peerVmId';
    if (control) out.push({ entry: { table: control.table, match: { [control.keyField]: migrationVmId } }, option: idOption });
  }
  return out;
}

/** Reads the entry with this key; none when the target answers NOT_FOUND. */
async function present(s: HwTestSession, e: WrittenEntry): Promise<TableEntryRead | undefined> {
  try {
    const [r] = await s.sw.readAll(s.sw.table(e.table).entry(e.match ?? {}, e.priority !== undefined ? { priority: e.priority } : undefined));
    return r;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The entries this switch already holds under keys hw-test would insert. */
export async function findFixtureConflicts(s: HwTestSession, migrationVmId: number | undefined): Promise<FixtureConflict[]> {
  const out: FixtureConflict[] = [];
  for (const k of plannedKeys(s, migrationVmId)) {
    const r = await present(s, k.entry);
    if (r) out.push({ table: short(k.entry.table), key: keyText(k.entry), present: entryText(r), option: k.option });
  }
  return out;
}

/**
 * Refuses (REFUSED, before any check) a switch that holds an entry under one of hw-test's keys.
 * @throws HwTestError REFUSED naming each table, key, the entry present and the option to change.
 */
export async function refuseFixtureConflicts(s: HwTestSession, role: 'target' | 'peer', migrationVmId: number | undefined): Promise<void> {
  const found = await findFixtureConflicts(s, migrationVmId);
  if (found.length === 0) return;
  const listed = found.map((c) => `${c.table} ${c.key} holds ${c.present} (hw-test's key from ${c.option})`);
  const options = [...new Set(found.map((c) => c.option))].join(', ');
  throw new HwTestError(
    'REFUSED',
    `refusing to run: the ${role} ${s.o.target} (device ${s.o.deviceId}) already has ${found.length} entr${found.length === 1 ? 'y' : 'ies'} under keys hw-test's fixture inserts — ` +
      `${listed.join('; ')}. It carries a layout of its own, which hw-test would neither overwrite nor restore. ` +
      `Choose other ports, addresses or ids with --fixture FILE (a JSON object over the defaults setting ${options}; see hw-test/README), or run against a switch without that layout`,
  );
}
