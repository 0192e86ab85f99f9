/**
 * The VM's migration control entry (p4/README.md "Migration control") as the device API sets it:
 * the entry found before a migration is remembered so that activation, deletion or an abort puts
 * back exactly what was there (no entry = normal operation). Writes are insert-or-modify, so a
 * retry after a lost answer does no harm.
 */
import type { P4Switch, P4Update } from 'p4runtime-ts';
import type { MigrationControlSpec } from '../contract/index.js';
import { EdgePluginError, hasP4RuntimeCode } from '../errors.js';

/** The flags (and tracker) of a control entry. */
export interface ControlFlags {
  readonly track: 0 | 1;
  readonly freeze: 0 | 1;
  readonly staged: 0 | 1;
  readonly active: 0 | 1;
  readonly tracker: number;
}

/** The control entry of one VM: its parameters as read, or undefined when there is none. */
export type PriorControl = Readonly<Record<string, bigint>> | undefined;

/** The contract's control table, or CONTRACT_MISSING. */
export function controlOf(control: MigrationControlSpec | undefined): MigrationControlSpec {
  if (!control) throw new EdgePluginError('CONTRACT_MISSING', 'the program declares no migration control table; add @migrate_control("vm_id", "set_migration") (p4/README.md "Migration control")', { annotation: '@migrate_control' });
  return control;
}

/** Reads the VM's control entry (undefined: none, i.e. normal operation). */
export async function readControl(sw: P4Switch, c: MigrationControlSpec, vmId: number): Promise<PriorControl> {
  return (await readControls(sw, c)).get(vmId);
}

/** Every VM's control entry on the switch, by VM id (one Read of the table). */
export async function readControls(sw: P4Switch, c: MigrationControlSpec): Promise<Map<number, Readonly<Record<string, bigint>>>> {
  const out = new Map<number, Readonly<Record<string, bigint>>>();
  for (const x of await sw.readAll(sw.table(c.table).all())) {
    const k = x.match[c.keyField];
    if (k !== undefined && 'value' in k && x.params) out.set(Number(k.value), x.params);
  }
  return out;
}

/**
 * The change-log trackers migrations on this switch are using, by its control entries: those of
 * VMs being tracked or frozen — whoever runs them (another process's plugin too).
 */
export function trackersInUse(c: MigrationControlSpec, entries: ReadonlyMap<number, Readonly<Record<string, bigint>>>, except: number): Set<number> {
  const busy = new Set<number>();
  if (!c.tracker) return busy;
  for (const [vm, p] of entries) {
    if (vm === except) continue;
    const t = p[c.tracker.param];
    if (t !== undefined && ((p[c.flags.track] ?? 0n) !== 0n || (p[c.flags.freeze] ?? 0n) !== 0n)) busy.add(Number(t));
  }
  return busy;
}

/**
 * Writes the VM's control entry: MODIFY, or INSERT when there is none. MODIFY first because every
 * write after prepare finds the entry there — the freeze and the destination's staging are on
 * the pause's critical path, where a refused INSERT cost a whole extra round trip.
 */
export async function writeControl(sw: P4Switch, c: MigrationControlSpec, vmId: number, flags: ControlFlags | Readonly<Record<string, bigint>>): Promise<void> {
  try {
    await sw.write(controlUpdate(sw, c, vmId, flags, 'modify'));
  } catch {
    await sw.write(controlUpdate(sw, c, vmId, flags, 'insert'));
  }
}

/**
 * The switch no longer holds a control entry a migration wrote at prepare: it lost its tables and
 * registers since (a restart, or a pipeline pushed by another client), and what the migration
 * tracked or staged with them.
 */
export class ControlEntryGone extends Error {}

/**
 * Writes the VM's control entry where a migration's prepare wrote it: MODIFY only. An entry gone
 * (NOT_FOUND) is ControlEntryGone — written anew, the migration would go on without what it
 * tracked, and report nothing missing.
 */
export async function modifyControl(sw: P4Switch, c: MigrationControlSpec, vmId: number, flags: ControlFlags | Readonly<Record<string, bigint>>): Promise<void> {
  try {
    await sw.write(controlUpdate(sw, c, vmId, flags, 'modify'));
  } catch (e) {
    if (hasP4RuntimeCode(e, 'NOT_FOUND')) throw new ControlEntryGone(controlGone(vmId, 'freeze'), { cause: e });
    throw e;
  }
}

/**
 * Removes the VM's control entry a migration wrote (normal operation again). Refused NOT_FOUND, it
 * was gone before: ControlEntryGone. Any other failure reads the entry back: gone, the delete was
 * applied and only its answer lost (done); still there, the failure stands.
 */
export async function removeControl(sw: P4Switch, c: MigrationControlSpec, vmId: number): Promise<void> {
  try {
    await sw.write(restoreUpdate(sw, c, vmId, undefined));
  } catch (e) {
    if (hasP4RuntimeCode(e, 'NOT_FOUND')) throw new ControlEntryGone(controlGone(vmId, 'activation'), { cause: e });
    if (await readControl(sw, c, vmId)) throw e;
  }
}

/** ControlEntryGone's message: what was found missing, at which step. */
export function controlGone(vmId: number, step: 'freeze' | 'activation'): string {
  return `at the ${step}, VM ${vmId}'s migration control entry (written when the migration began here) was gone: the switch lost its registers and entries since (it restarted, or another client pushed a pipeline)`;
}

/** The update that sets the VM's control entry to `flags` (MODIFY or INSERT). */
export function controlUpdate(sw: P4Switch, c: MigrationControlSpec, vmId: number, flags: ControlFlags | Readonly<Record<string, bigint>>, kind: 'modify' | 'insert'): P4Update {
  const entry = { match: { [c.keyField]: vmId }, action: c.action, params: controlParams(c, flags) };
  return kind === 'modify' ? sw.table(c.table).modify(entry) : sw.table(c.table).insert(entry);
}

/** The control entry's action parameters for `flags`, by the program's parameter names. */
export function controlParams(c: MigrationControlSpec, flags: ControlFlags | Readonly<Record<string, bigint>>): Record<string, bigint> {
  const params: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(flags)) params[k === 'tracker' ? (c.tracker?.param ?? k) : (c.flags[k as keyof MigrationControlSpec['flags']] ?? k)] = BigInt(v);
  if (!c.tracker) delete params.tracker;
  return params;
}

/**
 * Whether the VM runs at this switch by its control entry: no entry (normal operation) or one with
 * `active` set. A switch the VM left holds an entry with every flag 0 (NOT_HERE, vm-removal.ts).
 */
export function runsHere(c: MigrationControlSpec, entry: PriorControl): boolean {
  return !entry || (entry[c.flags.active] ?? 0n) !== 0n;
}

/**
 * What a migration left marked in a VM's control entry, if anything: `frozen` (its traffic is
 * dropped here), `staged` (a destination not activated) or `tracked` (a source's change tracking
 * on). Read with no migration of the VM remembered here, it is one that did not finish.
 */
export function unfinishedMark(c: MigrationControlSpec, entry: PriorControl): 'frozen' | 'staged' | 'tracked' | undefined {
  const on = (f: 'freeze' | 'staged' | 'track'): boolean => (entry?.[c.flags[f]] ?? 0n) !== 0n;
  // Staged first: a destination's entry (a source's never is staged).
  return on('staged') ? 'staged' : on('freeze') ? 'frozen' : on('track') ? 'tracked' : undefined;
}

/** The update that puts back the entry found before the migration: its parameters, or no entry. */
export function restoreUpdate(sw: P4Switch, c: MigrationControlSpec, vmId: number, prior: PriorControl): P4Update {
  return prior ? controlUpdate(sw, c, vmId, prior, 'modify') : sw.table(c.table).delete({ match: { [c.keyField]: vmId } });
}

/** True when the VM's control entry is as it was before the migration (restored). */
export async function isRestored(sw: P4Switch, c: MigrationControlSpec, vmId: number, prior: PriorControl): Promise<boolean> {
  const now = await readControl(sw, c, vmId);
  if (!prior || !now) return !prior && !now;
  const keys = new Set([...Object.keys(prior), ...Object.keys(now)]);
  return [...keys].every((k) => prior[k] === now[k]);
}

/**
 * Puts back the entry found before the migration: the same parameters, or no entry. "No entry"
 * deletes first (the migration's own entry is there: activation is one round trip in the pause)
 * and reads the table only when the delete is refused, to tell an entry already gone (a retry:
 * done) from a real failure.
 */
export async function restoreControl(sw: P4Switch, c: MigrationControlSpec, vmId: number, prior: PriorControl): Promise<void> {
  if (prior) return writeControl(sw, c, vmId, prior);
  try {
    await sw.write(restoreUpdate(sw, c, vmId, prior));
  } catch (e) {
    if (await readControl(sw, c, vmId)) throw e;
  }
}
