/**
 * The migratable tables' side of a migration (DESIGN.md §1 "dynamic ACLs"): a VM's pinholes read
 * with their remaining lifetime and direct counter at the source, installed at the destination
 * under its own VM id, reconciled against the source's complete list at the freeze, and removed
 * again by delete-at-source or abort. Pinholes are few per VM, so each transfer carries the VM's
 * whole set; the learners keep phase-aware expiry (frozen and staged entries never expire).
 */
import type { EdgePlugin } from '../edge-plugin.js';
import type { PinholeLearner, PinholePhase } from '../pinhole-learner.js';
import type { TableEntryRecord } from './device-api.js';

/** The learner of every migratable table the plugin runs. */
function learners(plugin: EdgePlugin): PinholeLearner[] {
  return plugin.contract.tables.map((t) => plugin.pinholes(t.table)).filter((l): l is PinholeLearner => l !== undefined);
}

/** Key fields of an entry, minus the VM key (which differs per switch): identifies it across switches. */
function entryKey(plugin: EdgePlugin, e: Pick<TableEntryRecord, 'table' | 'match'>): string {
  const t = plugin.contract.tables.find((x) => x.table === e.table);
  const fields = (t?.keyFields ?? []).filter((f) => f.name !== t?.vmKeyField);
  return `${e.table}|${fields.map((f) => (e.match[f.name] ?? 0n).toString(16)).join(':')}`;
}

/** Sets the VM's expiry phase in every migratable table. */
export function setEntryPhase(plugin: EdgePlugin, vmId: number, phase: PinholePhase): void {
  for (const l of learners(plugin)) l.setPhase(vmId, phase);
}

/** The VM's entries in every migratable table, with remaining lifetime and counters. */
export async function exportTableEntries(plugin: EdgePlugin, vmId: number): Promise<TableEntryRecord[]> {
  const out: TableEntryRecord[] = [];
  for (const l of learners(plugin)) for (const e of await l.exportEntries(vmId)) out.push({ table: l.table, ...e });
  return out;
}

/** What the destination imported for one migration: entry key → table and key fields. */
export type ImportedEntries = Map<string, { readonly table: string; readonly match: Readonly<Record<string, bigint>>; readonly source: string }>;

/**
 * Installs `entries` (`source`'s complete list) for `vmId` here, and removes entries imported
 * earlier from the same source that the list no longer holds (closed or expired there).
 */
export async function importTableEntries(plugin: EdgePlugin, vmId: number, source: string, entries: readonly TableEntryRecord[], imported: ImportedEntries): Promise<{ installed: number; alreadyPresent: number; removed: number }> {
  let installed = 0;
  let alreadyPresent = 0;
  let removed = 0;
  const listed = new Set(entries.map((e) => entryKey(plugin, e)));
  for (const l of learners(plugin)) {
    const mine = entries.filter((e) => e.table === l.table);
    const r = await l.importEntries(vmId, mine, { ageMs: 0 });
    installed += r.installed;
    alreadyPresent += r.alreadyPresent;
    for (const e of mine) imported.set(entryKey(plugin, e), { table: e.table, match: e.match, source });
    const gone = [...imported.entries()].filter(([k, v]) => v.table === l.table && v.source === source && !listed.has(k));
    removed += await l.removeEntries(vmId, gone.map(([, v]) => v.match));
    for (const [k] of gone) imported.delete(k);
  }
  return { installed, alreadyPresent, removed };
}

/** Deletes the given entries of `vmId` (abort at a destination, or every entry at a source). */
export async function removeTableEntries(plugin: EdgePlugin, vmId: number, entries: Iterable<{ readonly table: string; readonly match: Readonly<Record<string, bigint>> }>): Promise<number> {
  const all = [...entries];
  let n = 0;
  for (const l of learners(plugin)) n += await l.removeEntries(vmId, all.filter((e) => e.table === l.table).map((e) => e.match));
  return n;
}
