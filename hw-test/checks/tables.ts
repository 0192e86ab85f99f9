/**
 * Table checks on stateful_edge's own tables: an exact entry in the dynamic-ACL table inserted,
 * read back, modified, deleted; per-update errors of a mixed batch decoded (duplicate INSERT →
 * ALREADY_EXISTS, DELETE of a missing key → NOT_FOUND, the good update untouched); a ternary entry
 * with a priority in the static ACL. Every entry is deleted before the check returns.
 */
import type { MatchInput, TableEntryRead } from 'p4runtime-ts';
import { fail, pass } from '../check-recorder.js';
import type { CheckOutcome } from '../check-recorder.js';
import { deleteEntry, recordInsert } from '../fixture.js';
import type { HwTestSession } from '../session.js';
import { callCode, describeUpdates, isNotFound, targetStatus } from '../target-status.js';

/** A dyn_acl key of the fixture's first VM towards a test address no workload uses. */
export function dynAclKey(s: HwTestSession, n: number, protocol = 17): Record<string, MatchInput> {
  const vm = s.o.fixture.vms[0];
  if (!vm) throw new Error('the fixture has no VM');
  return { vm_id: vm.vmId, vm_addr: vm.addr, remote_addr: `198.19.0.${n}`, vm_port: 40_000 + n, remote_port: 53, protocol };
}

/** Reads the entries with a key; a target that answers NOT_FOUND (or UNKNOWN with a per-request NOT_FOUND) reads as none. */
async function readEntry(s: HwTestSession, table: string, match: Record<string, MatchInput>, priority?: number): Promise<TableEntryRead[]> {
  try {
    return await s.sw.readAll(s.sw.table(table).entry(match, priority !== undefined ? { priority } : undefined));
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

const short = (name: string | undefined): string => (name ?? 'none').slice((name ?? '').lastIndexOf('.') + 1);

/** INSERT, read, MODIFY, read, DELETE, read of one dyn_acl entry. */
export async function checkTableWriteRead(s: HwTestSession): Promise<CheckOutcome> {
  const table = 'dyn_acl';
  const match = dynAclKey(s, 1);
  const t = s.sw.table(table);
  const undo = recordInsert(s, { table, match });
  await s.sw.write(t.insert({ match, action: 'pinhole_allow' }));
  const first = await readEntry(s, table, match);
  if (first.length !== 1 || short(first[0]?.action) !== 'pinhole_allow') return fail(`after INSERT, reading the key returned ${first.length} entries (action ${short(first[0]?.action)}); expected one with pinhole_allow`);
  await s.sw.write(t.modify({ match, action: 'pinhole_deny' }));
  const second = await readEntry(s, table, match);
  if (second.length !== 1 || short(second[0]?.action) !== 'pinhole_deny') return fail(`after MODIFY, reading the key returned action ${short(second[0]?.action)}; expected pinhole_deny`);
  await s.sw.write(t.delete({ match }));
  undo.release();
  const third = await readEntry(s, table, match);
  if (third.length !== 0) return fail(`after DELETE, reading the key still returned ${third.length} entr${third.length === 1 ? 'y' : 'ies'}`);
  return pass('dyn_acl: INSERT, read back (pinhole_allow), MODIFY, read back (pinhole_deny), DELETE, read back (gone)');
}

/** One batch [good INSERT, duplicate INSERT, DELETE of a missing key]: per-update codes. */
export async function checkPerUpdateErrors(s: HwTestSession): Promise<CheckOutcome> {
  const table = 'dyn_acl';
  const t = s.sw.table(table);
  const good = dynAclKey(s, 2);
  const missing = dynAclKey(s, 3);
  const undo = recordInsert(s, { table, match: good });
  let err: unknown;
  try {
    await s.sw.write([t.insert({ match: good, action: 'pinhole_allow' }), t.insert({ match: good, action: 'pinhole_allow' }), t.delete({ match: missing })]);
  } catch (e) {
    err = e;
  }
  await deleteEntry(s, { table, match: good });
  undo.release();
  if (err === undefined) return fail('a batch with a duplicate INSERT and a DELETE of a missing key was accepted whole');
  const st = targetStatus(err);
  const top = callCode(err);
  const answer = { code: top, message: describeUpdates(st.updates) || st.message };
  const codes = new Map(st.updates.map((u) => [u.index, u.code]));
  if (st.updates.length === 0) return fail(`the batch failed as a whole (${st.code}: ${st.message}); expected one p4.v1.Error per update in the status details`, answer);
  const problems: string[] = [];
  if (codes.has(0)) problems.push(`the good INSERT (#0) failed with ${codes.get(0)}`);
  if (codes.get(1) !== 'ALREADY_EXISTS') problems.push(`the duplicate INSERT (#1) got ${codes.get(1) ?? 'OK'}, expected ALREADY_EXISTS`);
  if (codes.get(2) !== 'NOT_FOUND') problems.push(`the DELETE of a missing key (#2) got ${codes.get(2) ?? 'OK'}, expected NOT_FOUND`);
  if (problems.length > 0) return fail(problems.join('; '), answer);
  return pass(`batch [INSERT, duplicate INSERT, DELETE missing]: #0 OK, #1 ALREADY_EXISTS, #2 NOT_FOUND, decoded per update (call status ${top})`, answer);
}

/** A ternary static_acl entry with a priority: INSERT, read back by key and priority, DELETE. */
export async function checkTernaryEntry(s: HwTestSession): Promise<CheckOutcome> {
  const table = 'static_acl';
  const vm = s.o.fixture.vms[0];
  if (!vm) throw new Error('the fixture has no VM');
  const match: Record<string, MatchInput> = { vm_addr: vm.addr, remote_addr: { value: '198.19.0.0', mask: '255.255.255.0' }, vm_port: 8080, protocol: 6 };
  const priority = 20;
  const undo = recordInsert(s, { table, match, priority });
  await s.sw.write(s.sw.table(table).insert({ match, priority, action: 'static_deny' }));
  const read = await readEntry(s, table, match, priority);
  await deleteEntry(s, { table, match, priority });
  undo.release();
  const e = read[0];
  const remote = e ? Object.entries(e.match).find(([k]) => k.endsWith('remote_addr'))?.[1] : undefined;
  if (read.length !== 1 || !e || e.priority !== priority || short(e.action) !== 'static_deny') {
    return fail(`reading the ternary entry back returned ${read.length} entries (priority ${e?.priority ?? '-'}, action ${short(e?.action)}); expected one with priority ${priority} and static_deny`);
  }
  if (!remote || remote.kind !== 'ternary' || remote.mask !== 0xffffff00n) return fail(`the remote_addr field read back as ${JSON.stringify(remote, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}; expected ternary with mask 0xffffff00`);
  return pass('static_acl: ternary entry with priority 20 inserted, read back with its mask and priority, deleted');
}

/**
 * The default actions stateful_edge declares (`default_action = …` in p4/include/control/*.p4).
 * P4Info does not carry non-const defaults, so they are listed here; a target must have loaded
 * them from its device config (BMv2: the JSON).
 */
export const STATEFUL_EDGE_DEFAULT_ACTIONS: Readonly<Record<string, string>> = Object.freeze({
  port_role: 'unknown_port',
  vm_table: 'unknown_vm',
  vm_migration: 'no_migration',
  static_acl: 'static_miss',
  dyn_acl: 'pinhole_miss',
});

/** Every table's default entry runs the action the P4 program declares. */
export async function checkDefaultActions(s: HwTestSession): Promise<CheckOutcome> {
  const bad: string[] = [];
  for (const [table, want] of Object.entries(STATEFUL_EDGE_DEFAULT_ACTIONS)) {
    const [d] = await s.sw.readAll(s.sw.table(table).defaultEntry());
    const got = d?.action === undefined ? undefined : s.schema.action(d.action).alias;
    if (got !== want) bad.push(`${table}: the target's default action is ${got ?? 'none'}, the P4 program declares ${want}`);
  }
  if (bad.length === 0) return pass(`default actions of ${Object.keys(STATEFUL_EDGE_DEFAULT_ACTIONS).join(', ')} are the P4 program's`);
  return fail(`${bad.join('; ')} — a miss in those tables will not behave as the program says (the differential group will show it)`);
}
