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

/**
 * The VM's entries in every migratable table, with remaining lifetime and counters — after the
 * learners have installed every digest they already received (a flow that opened just before
 * the freeze must not lose its pinhole to a learner that was still busy). With `known` (the
 * entries an earlier export found), only those keys and the ones the learners installed since are
 * read: O(the VM's entries), whatever other VMs hold in the table — the final batch is in the pause.
 */
export async function exportTableEntries(plugin: EdgePlugin, vmId: number, known?: readonly TableEntryRecord[]): Promise<TableEntryRecord[]> {
  await Promise.all(learners(plugin).map((l) => l.idle()));
  const per = await Promise.all(
    learners(plugin).map(async (l) => {
      const only = known ? [...known.filter((e) => e.table === l.table).map((e) => e.match), ...l.knownKeys(vmId)] : undefined;
      return (await l.exportEntries(vmId, only)).map((e) => ({ table: l.table, ...e }));
    }),
  );
  return per.flat();
}

/** What the destination imported for one migration: entry key → table and key fields. */
export type ImportedEntries = Map<string, { readonly table: string; readonly match: Readonly<Record<string, bigint>>; readonly source: string; readonly counter: TableEntryRecord['counter'] }>;

/**
 * Installs `entries` (`source`'s complete list) for `vmId` here, and removes entries imported
 * earlier from the same source that the list no longer holds (closed or expired there).
 */
export async function importTableEntries(plugin: EdgePlugin, vmId: number, source: string, entries: readonly TableEntryRecord[], imported: ImportedEntries): Promise<{ installed: number; alreadyPresent: number; removed: number }> {
  let installed = 0;
  let alreadyPresent = 0;
  let removed = 0;
  const listed = new Set(entries.map((e) => entryKey(plugin, e)));
  const sw = plugin.session;
  const sameCounter = (a: TableEntryRecord['counter'], b: TableEntryRecord['counter']): boolean => a?.packets === b?.packets && a?.bytes === b?.bytes;
  for (const l of learners(plugin)) {
    const mine = entries.filter((e) => e.table === l.table);
    // Only what changed since the last import is written: new entries, and newer counter values
    // of entries already here (the final batch repeats the whole list, inside the pause).
    const fresh = mine.filter((e) => !imported.has(entryKey(plugin, e)));
    const recounted = mine.filter((e) => {
      const had = imported.get(entryKey(plugin, e));
      return had !== undefined && e.counter !== undefined && !sameCounter(had.counter, e.counter);
    });
    const r = await l.importEntries(vmId, fresh, { ageMs: 0 });
    // Entries here already take the newer lifetime: hit at the source since the last list, they live on.
    l.renewLifetimes(vmId, mine.filter((e) => imported.has(entryKey(plugin, e))), { ageMs: 0 });
    installed += r.installed;
    alreadyPresent += r.alreadyPresent + (mine.length - fresh.length);
    const vmKey = plugin.contract.tables.find((t) => t.table === l.table)?.vmKeyField ?? '';
    if (recounted.length > 0) await sw.write(recounted.map((e) => sw.directCounter(l.table).modify({ ...e.match, [vmKey]: BigInt(vmId) }, e.counter ?? {})));
    for (const e of mine) imported.set(entryKey(plugin, e), { table: e.table, match: e.match, source, counter: e.counter });
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
