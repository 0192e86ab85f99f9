/**
 * The journal: every migration event is recorded durably before the controller acts on it, so a
 * restarted controller finishes or rolls back what it started (DESIGN.md §7.7). One interface,
 * two stores here: a directory of append-only files (the embedded default) and memory (tests).
 * A distributed store (etcd) for highly-available coordinators implements the same interface.
 */
import { ControllerError, FAILURE_REASONS } from '../errors.js';
import { MIGRATION_EVENT_TYPES } from '../migration/events.js';
import type { MigrationEvent } from '../migration/events.js';

/** Where migration events are kept. */
export interface MigrationJournal {
  /** Records `event` durably; resolves only once it would survive a crash. */
  append(migrationId: string, event: MigrationEvent): Promise<void>;
  /** Every event recorded for `migrationId`, in order ([] when none). */
  load(migrationId: string): Promise<MigrationEvent[]>;
  /** The ids of every migration with at least one event. */
  list(): Promise<string[]>;
  /** Forgets a migration's events (pruning finished ones, journal-history.ts); a store without it cannot be pruned. */
  remove?(migrationId: string): Promise<void>;
}

/** A journal in memory: for tests and one-shot runs that need no recovery. */
export class MemoryJournal implements MigrationJournal {
  private readonly logs = new Map<string, MigrationEvent[]>();

  /** Records the event (a copy, so later mutation of the caller's object changes nothing). */
  append(migrationId: string, event: MigrationEvent): Promise<void> {
    const log = this.logs.get(migrationId) ?? [];
    log.push(structuredClone(event));
    this.logs.set(migrationId, log);
    return Promise.resolve();
  }

  /** The events recorded for `migrationId`. */
  load(migrationId: string): Promise<MigrationEvent[]> {
    return Promise.resolve(structuredClone(this.logs.get(migrationId) ?? []));
  }

  /** Every migration id recorded. */
  list(): Promise<string[]> {
    return Promise.resolve([...this.logs.keys()]);
  }

  /** Forgets the migration's events. */
  remove(migrationId: string): Promise<void> {
    this.logs.delete(migrationId);
    return Promise.resolve();
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (r: Record<string, unknown>, k: string): boolean => typeof r[k] === 'number' && Number.isFinite(r[k]);
const str = (r: Record<string, unknown>, k: string): boolean => typeof r[k] === 'string';
const strs = (r: Record<string, unknown>, k: string): boolean => Array.isArray(r[k]) && (r[k] as unknown[]).every((x) => typeof x === 'string');

const decimal = (v: unknown): boolean => typeof v === 'string' && /^\d+$/.test(v);
/** `{ destination: { counter: { packets, bytes } } }` with decimal strings. */
const journalCounters = (v: unknown): boolean => isObj(v) && Object.values(v).every((d) => isObj(d) && Object.values(d).every((c) => isObj(c) && decimal(c['packets']) && decimal(c['bytes'])));

/** The fields each event type must carry, beyond `type` and `atMs`. */
const FIELDS: Readonly<Record<MigrationEvent['type'], (r: Record<string, unknown>) => string | undefined>> = {
  planned: (r) => (str(r, 'migrationId') && str(r, 'vm') && strs(r, 'sources') && strs(r, 'destinations') ? undefined : 'migrationId, vm (strings), sources, destinations (string arrays)'),
  prepared: (r) => (r['translations'] === undefined || strs(r, 'translations') ? undefined : 'optional translations (string array)'),
  round: (r) => (num(r, 'round') && num(r, 'slots') && num(r, 'tableEntries') ? undefined : 'round, slots, tableEntries (numbers)'),
  frozen: () => undefined,
  synced: (r) => (num(r, 'slots') && num(r, 'tableEntries') && (r['lost'] === undefined || isObj(r['lost'])) && (r['counters'] === undefined || journalCounters(r['counters'])) ? undefined : 'slots, tableEntries (numbers), optional lost (object), optional counters (by destination, by counter: packets and bytes as decimal strings)'),
  activated: () => undefined,
  committed: () => undefined,
  'source-cleaned': (r) => (num(r, 'slots') && num(r, 'tableEntries') ? undefined : 'slots, tableEntries (numbers)'),
  abort: (r) => ((FAILURE_REASONS as readonly unknown[]).includes(r['reason']) && str(r, 'detail') ? undefined : `reason (one of ${FAILURE_REASONS.join(', ')}), detail (string)`),
  'rolled-back': () => undefined,
  'cleaned-at': (r) => (strs(r, 'devices') ? undefined : 'devices (string array)'),
};

/**
 * Checks that a value read back from a journal is a well-formed event; throws JOURNAL naming
 * `where` and what was expected.
 */
export function parseJournalEvent(v: unknown, where: string): MigrationEvent {
  if (!isObj(v)) throw new ControllerError('JOURNAL', `${where}: not a JSON object; expected one migration event per line`);
  const type = v['type'];
  if (!(MIGRATION_EVENT_TYPES as readonly unknown[]).includes(type)) throw new ControllerError('JOURNAL', `${where}: unknown event type ${JSON.stringify(type)}; expected one of ${MIGRATION_EVENT_TYPES.join(', ')}`);
  if (!num(v, 'atMs')) throw new ControllerError('JOURNAL', `${where}: event '${String(type)}' has no numeric atMs`);
  const missing = FIELDS[type as MigrationEvent['type']](v);
  if (missing !== undefined) throw new ControllerError('JOURNAL', `${where}: event '${String(type)}' needs ${missing}`);
  return v as unknown as MigrationEvent;
}
