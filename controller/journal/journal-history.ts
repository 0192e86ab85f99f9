/**
 * The journal as history: every migration it holds, how it ended (or that it has not), and the
 * pruning of finished ones. A finished migration — committed with its sources cleaned, or rolled
 * back — owes nothing (recoveryAction is none), so its records are only a record; an unfinished
 * one is what `carryover recover` needs, and is never pruned.
 */
import type { FailureReason } from '../errors.js';
import type { MigrationPhase } from '../migration/events.js';
import { recoveryAction, replay } from '../migration/transition.js';
import type { MigrationJournal } from './journal.js';

/** One migration as the journal tells it. */
export interface JournalEntry {
  readonly migrationId: string;
  readonly vm: string;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  readonly phase: MigrationPhase;
  /** Whether it owes nothing: committed and its sources cleaned, or rolled back. */
  readonly finished: boolean;
  readonly abort?: { readonly reason: FailureReason; readonly detail: string; readonly inPhase: MigrationPhase };
  readonly startedAtMs: number;
  /** When its last record was written. */
  readonly lastAtMs: number;
  readonly records: number;
}

/** A migration whose records do not replay (named, and left alone). */
export interface UnreadableEntry {
  readonly migrationId: string;
  readonly error: string;
}

/**
 * Every migration in the journal, oldest first; `vm` keeps one VM's only.
 * @example
 * const { entries } = await journalHistory(new FileJournal(inv.journal));
 * for (const e of entries) console.log(e.migrationId, e.phase, e.finished);
 */
export async function journalHistory(journal: MigrationJournal, vm?: string): Promise<{ entries: JournalEntry[]; unreadable: UnreadableEntry[] }> {
  const entries: JournalEntry[] = [];
  const unreadable: UnreadableEntry[] = [];
  for (const id of await journal.list()) {
    try {
      const events = await journal.load(id);
      const s = replay(events);
      if (vm !== undefined && s.vm !== vm) continue;
      entries.push({
        migrationId: id, vm: s.vm, sources: s.sources, destinations: s.destinations, phase: s.phase,
        finished: recoveryAction(s).kind === 'none',
        ...(s.abort ? { abort: s.abort } : {}),
        startedAtMs: s.startedAtMs, lastAtMs: events.at(-1)?.atMs ?? s.startedAtMs, records: events.length,
      });
    } catch (e) {
      unreadable.push({ migrationId: id, error: (e as Error).message });
    }
  }
  entries.sort((a, b) => a.startedAtMs - b.startedAtMs || a.migrationId.localeCompare(b.migrationId));
  return { entries, unreadable };
}

/** What pruneJournal does. */
export interface PruneOptions {
  /** Finished migrations whose last record is older than this (ms before `nowMs`) are removed. */
  readonly olderThanMs: number;
  readonly nowMs: number;
  /** Say what would be removed, remove nothing. */
  readonly dryRun?: boolean;
}

/** What a prune removed (or would), and what it kept. */
export interface PruneResult {
  readonly removed: readonly JournalEntry[];
  /** Finished, but recent. */
  readonly keptRecent: number;
  /** Unfinished: recover needs them. */
  readonly keptUnfinished: number;
  readonly unreadable: readonly UnreadableEntry[];
}

/**
 * Removes the records of finished migrations older than `o.olderThanMs`; never an unfinished one,
 * nor one whose records do not replay.
 * @throws ControllerError JOURNAL when a file cannot be removed (those removed before it stay removed).
 * @example
 * const r = await pruneJournal(journal, { olderThanMs: 30 * 86_400_000, nowMs: Date.now() });
 */
export async function pruneJournal(journal: MigrationJournal, o: PruneOptions): Promise<PruneResult> {
  if (!journal.remove) throw new Error('this journal store cannot remove records');
  const { entries, unreadable } = await journalHistory(journal);
  const cutoff = o.nowMs - o.olderThanMs;
  const removed = entries.filter((e) => e.finished && e.lastAtMs < cutoff);
  if (!o.dryRun) for (const e of removed) await journal.remove(e.migrationId);
  return {
    removed,
    keptRecent: entries.filter((e) => e.finished).length - removed.length,
    keptUnfinished: entries.filter((e) => !e.finished).length,
    unreadable,
  };
}
