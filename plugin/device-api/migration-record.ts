/**
 * What one switch keeps for one migration (edge-device-api.ts): the VM's id here, its tracker, the
 * control entry found before, and per side what was exported, placed, imported and added — kept so
 * that every step can be retried and an abort undoes exactly what this migration did.
 */
import { Subject } from 'rxjs';
import type { Subscription } from 'rxjs';
import type { NumberedChanges } from './numbered-changes.js';
import type { TableEntryRecord } from './device-api.js';
import type { SlotWrite, TrackerState } from '../state-access/index.js';
import { PlacedFlows } from './placed-flows.js';
import type { ImportedEntries } from './table-entry-transfer.js';
import type { PriorControl } from './vm-control-entry.js';
import type { VmCounters as Counters } from './vm-counter-transfer.js';
import type { FrozenReadPlan } from './frozen-read.js';

/** What this device keeps for one migration. */
export interface Migration {
  readonly vmId: number;
  readonly tracker: number;
  readonly prior: PriorControl;
  epoch: bigint;
  /** Log position where the next delta pull starts. */
  nextSeq: bigint;
  readonly startSeq: bigint;
  /** Source: slot → the key bits of the flow last exported from it (slotKeyWords; to report it removed). */
  readonly exported: Map<number, readonly bigint[]>;
  /** Destination: where each flow was written, by key and by source slot. */
  readonly placed: PlacedFlows;
  /** Destination: migratable-table entries imported here. */
  readonly entries: ImportedEntries;
  /** Destination: what the final batches added to this switch's counters (undone by abort). */
  added: Counters;
  imported: boolean;
  /** Destination: the VM's counter cells here, read when it was staged, then as the final batches set them. */
  counterBase: Promise<Counters> | undefined;
  /** Destination, where activation is one atomic Write: the counter cells it writes (absolute), and what they add. */
  pendingCells: Counters | undefined;
  pendingAdded: Counters;
  /** Destination: the counter work under way (countersInTurn): one batch's at a time. */
  counterTurn: Promise<unknown>;
  /** Destination, where activation is one atomic Write: held flows' changed words it writes (held-slots.ts), by slot. */
  readonly pendingSlots: Map<number, SlotWrite>;
  /** Destination: its data-plane clock, read as the pause began (the final import rebases against it). */
  pauseClock: Promise<bigint> | undefined;
  /** Destination: the pause began (pauseStarted): imports from now on are the pause's, kept for activation's atomic Write. */
  paused: boolean;
  /** Source: what pauseDelta took — for the final delta since `sinceSeq`, the changes numbered below `to` went ahead of it. */
  tookAhead: { readonly sinceSeq: bigint; readonly to: number } | undefined;
  /** Destination: activation was attempted (a retry first checks whether it took effect). */
  activationTried: boolean;
  /** Source: the VM's counters, read once the freeze took effect (the final delta awaits them). */
  frozenCounters: Promise<Counters> | undefined;
  /** Source: the tracker, read once the freeze took effect (the final delta takes it, or reads again when it failed or is undefined). */
  frozenTracker: Promise<TrackerState | undefined> | undefined;
  /** Source: the data-plane clock, read as the freeze was sent, when the tracker's read carries none (undefined: read it when needed). */
  frozenClock: Promise<bigint | undefined> | undefined;
  /** Source: the freeze's Read, built and encoded at prepare when the freeze reads behind its Write (frozen-read.ts). */
  readonly frozenRead: FrozenReadPlan | undefined;
  /** Source: the VM's migratable-table entries as the snapshot found them (the final export reads just these and newer ones). */
  snapshotEntries: readonly TableEntryRecord[] | undefined;
  /** Source: the numbered delta digests received (undefined when the data plane does not number changes). */
  numbered: NumberedChanges | undefined;
  /** Source: listening to the delta digests (ended with the migration). */
  digestSub: Subscription | undefined;
  /** Source: log position each flip started a round at → the changes count at that flip (unwrapped; undefined when unknown). */
  readonly boundaries: Map<bigint, number | undefined>;
  /** Source: frozen (a delta round still running stops at its next step; the final delta reads its range). */
  frozen: boolean;
  /** Source: when the freeze was answered (the device API's clock), for the daemon's health report. */
  frozenAtMs: number | undefined;
  /**
   * Source: slots of the VM a new-flow digest told of after prepare that no batch has read yet — a
   * flow opened just before tracking began, its digest late (BMv2: 200–330 ms). The next delta
   * round, or the final delta, reads them.
   */
  readonly late: Set<number>;
  /** Source: the snapshot has read the index (before it, a flow told of is in the index the snapshot reads, not late). */
  snapshotRead: boolean;
  /** Source: the late slots the delta round under way took (put back when nobody takes its batch). */
  lateInRound: readonly number[];
  /** Source: when tracking began (the plugin's clock, ms): the snapshot waits out new-flow digests still on their way from before it. */
  readonly trackedAt: number;
  /** Source: keys reported removed by delta pulls whose batch nobody took (the stream ended meanwhile). */
  unsentRemoved: Record<string, bigint>[];
  readonly ended: Subject<void>;
  /** Serialises tracker reads and flips of this migration. */
  lock: Promise<unknown>;
  /** Set when the P4Runtime session broke after prepare: what is staged or tracked may be gone. */
  lost?: string;
}

/** Runs `fn` after the migration's earlier tracker work (`lock`), whether that failed or not. */
export function locked<T>(x: Migration, fn: () => Promise<T>): Promise<T> {
  const p = x.lock.then(fn, fn);
  x.lock = p.catch(() => undefined);
  return p;
}

/**
 * Runs `fn` after the migration's earlier counter work at this destination, whether that failed
 * or not. Each step reads the cells as the one before left them and writes absolute values: two
 * sources' final batches (N:1, sent peer to peer) arriving at once would otherwise each write its
 * own sum over the same base, and the last write would drop the other source's counts.
 */
export function countersInTurn<T>(x: Migration, fn: () => Promise<T>): Promise<T> {
  const p = x.counterTurn.then(fn, fn);
  x.counterTurn = p.catch(() => undefined);
  return p;
}

/** Where a source's tracking began (prepare): what a new record starts from. */
export interface MigrationStart {
  readonly vmId: number;
  readonly tracker: number;
  readonly prior: PriorControl;
  readonly flip: TrackerState;
  readonly numbered: NumberedChanges | undefined;
  readonly digestSub: Subscription | undefined;
  readonly frozenRead: FrozenReadPlan | undefined;
  readonly trackedAt: number;
}

/** A new record, every field present (one hidden class for every migration's record). */
export function newMigration(s: MigrationStart): Migration {
  const t = s.flip;
  return {
    vmId: s.vmId, tracker: s.tracker, prior: s.prior, epoch: t.epoch, nextSeq: t.start, startSeq: t.start,
    numbered: s.numbered, digestSub: s.numbered ? s.digestSub : undefined, boundaries: new Map([[t.start, s.numbered?.unwrap(t.changes ?? 0n)]]),
    exported: new Map(), placed: new PlacedFlows(), entries: new Map(), added: {}, pendingCells: undefined, pendingAdded: {}, counterTurn: Promise.resolve(), pendingSlots: new Map(), pauseClock: undefined, paused: false, tookAhead: undefined, activationTried: false, imported: false, counterBase: undefined, frozenCounters: undefined, frozenTracker: undefined, frozenClock: undefined, frozenRead: s.frozenRead, snapshotEntries: undefined, unsentRemoved: [], frozen: false, frozenAtMs: undefined, late: new Set(), snapshotRead: false, lateInRound: [], trackedAt: s.trackedAt,
    ended: new Subject(), lock: Promise.resolve(),
  };
}

/** What a device holds of migrations, for a daemon's health report. */
export interface HeldMigrations {
  readonly migrations: number;
  readonly activated: number;
  /** Sources frozen here and not yet ended (deleted or aborted): the VM's traffic is dropped at this switch meanwhile. */
  readonly frozen: readonly { readonly migrationId: string; readonly vmId: number; readonly forMs: number }[];
}

/** The migrations a device holds (by id), those activated here, and each frozen source's time frozen at `nowMs`. */
export function heldMigrations(migrations: ReadonlyMap<string, Migration>, activated: number, nowMs: number): HeldMigrations {
  const frozen = [...migrations].flatMap(([migrationId, x]) => (x.frozenAtMs === undefined ? [] : [{ migrationId, vmId: x.vmId, forMs: Math.round(nowMs - x.frozenAtMs) }]));
  return { migrations: migrations.size, activated, frozen };
}
