/**
 * The migration state machine as a pure function: `transition(state, event)` gives the next
 * state or a ControllerError naming the phase and the event; `replay(events)` folds a journal.
 * Nothing here does I/O or reads a clock, so a restarted controller rebuilds exactly the state
 * it had, and tests drive every path without a switch.
 */
import { ControllerError } from '../errors.js';
import type { FailureReason } from '../errors.js';
import type { JournalCounters, LostState, MigrationEvent, MigrationPhase } from './events.js';

/** A migration as far as the recorded events tell. */
export interface MigrationState {
  readonly migrationId: string;
  readonly vm: string;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  readonly phase: MigrationPhase;
  /** Pre-copy rounds installed (0 before the snapshot). */
  readonly rounds: number;
  /** Slots and entries moved, snapshot and deltas together. */
  readonly moved: { readonly slots: number; readonly tableEntries: number };
  readonly lost: LostState | undefined;
  /** SYNCED on: the counter values the final batches brought each destination (events.ts, `synced`). */
  readonly carried?: Readonly<Record<string, JournalCounters>>;
  /** What the destinations translate (schemas that differ compatibly); empty when identical. */
  readonly translations: readonly string[];
  /** Peer to peer: a destination may be activated by a source's plugin before `frozen` is recorded (events.ts, `prepared`). */
  readonly activationDelegated?: boolean;
  /** Set once the migration aborted: why, and in which phase. */
  readonly abort: { readonly reason: FailureReason; readonly detail: string; readonly inPhase: MigrationPhase } | undefined;
  /** ABORTED: whether the destinations were cleaned and the sources unfrozen. */
  readonly rolledBack: boolean;
  /** COMMITTED: whether the sources' copies were deleted. */
  readonly sourceCleaned: boolean;
  /** ABORTED or COMMITTED, cleanup unfinished: the devices where it did finish (events.ts, `cleaned-at`). */
  readonly cleanedAt: readonly string[];
  readonly startedAtMs: number;
  /** When each phase was entered (first time). */
  readonly phaseAtMs: Readonly<Partial<Record<MigrationPhase, number>>>;
}

/** Which phases each event may arrive in, and the phase it leads to. */
const EDGES: { readonly [T in Exclude<MigrationEvent['type'], 'planned'>]: { readonly from: readonly MigrationPhase[]; readonly to: MigrationPhase | 'same' } } = {
  prepared: { from: ['PLANNED'], to: 'PREPARED' },
  round: { from: ['PREPARED', 'PRECOPY'], to: 'PRECOPY' },
  // Freezing straight from PREPARED is stop-and-copy: everything moves in the pause.
  frozen: { from: ['PREPARED', 'PRECOPY'], to: 'FROZEN' },
  synced: { from: ['FROZEN'], to: 'SYNCED' },
  activated: { from: ['SYNCED'], to: 'ACTIVATED' },
  committed: { from: ['ACTIVATED'], to: 'COMMITTED' },
  'source-cleaned': { from: ['COMMITTED'], to: 'same' },
  abort: { from: ['PLANNED', 'PREPARED', 'PRECOPY', 'FROZEN', 'SYNCED', 'ACTIVATED'], to: 'ABORTED' },
  'rolled-back': { from: ['ABORTED'], to: 'same' },
  'cleaned-at': { from: ['ABORTED', 'COMMITTED'], to: 'same' },
};

/** The state a `planned` event starts. */
export function initialState(e: Extract<MigrationEvent, { type: 'planned' }>): MigrationState {
  if (e.migrationId.trim() === '') throw new ControllerError('BAD_CONFIG', "a migration needs a non-empty migrationId");
  if (e.sources.length === 0 || e.destinations.length === 0) {
    throw new ControllerError('BAD_CONFIG', `migration ${e.migrationId}: needs at least one source and one destination device (got ${e.sources.length} and ${e.destinations.length})`);
  }
  return Object.freeze({
    migrationId: e.migrationId,
    vm: e.vm,
    sources: Object.freeze([...e.sources]),
    destinations: Object.freeze([...e.destinations]),
    phase: 'PLANNED',
    rounds: 0,
    moved: Object.freeze({ slots: 0, tableEntries: 0 }),
    lost: undefined,
    translations: Object.freeze([]),
    abort: undefined,
    rolledBack: false,
    sourceCleaned: false,
    cleanedAt: Object.freeze([]),
    startedAtMs: e.atMs,
    phaseAtMs: Object.freeze({ PLANNED: e.atMs }),
  });
}

/**
 * The state after `event`. Throws ControllerError ILLEGAL_TRANSITION (naming the migration, its
 * phase and the event) when the phase does not allow the event; the state passed in is unchanged.
 * @example
 * let s = initialState(planned);
 * s = transition(s, { type: 'prepared', atMs: 5 }); // s.phase === 'PREPARED'
 */
export function transition(s: MigrationState, event: MigrationEvent): MigrationState {
  if (event.type === 'planned') throw illegal(s, event, 'the migration is already planned');
  const edge = EDGES[event.type];
  if (!edge.from.includes(s.phase)) throw illegal(s, event, `allowed only in ${edge.from.join(', ')}`);
  if (event.type === 'rolled-back' && s.rolledBack) throw illegal(s, event, 'already rolled back');
  if (event.type === 'source-cleaned' && s.sourceCleaned) throw illegal(s, event, 'the sources are already cleaned');
  if (event.type === 'cleaned-at') {
    if (s.rolledBack || s.sourceCleaned) throw illegal(s, event, 'the cleanup already finished everywhere');
    // A commit's cleanup is at the sources only; a rollback's at every device of the migration.
    const owed = s.phase === 'COMMITTED' ? s.sources : [...s.sources, ...s.destinations];
    const stray = event.devices.filter((d) => !owed.includes(d));
    if (stray.length > 0) throw illegal(s, event, `${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} not among the devices its cleanup covers (${owed.join(', ')})`);
  }
  if (event.type === 'round' && event.round !== s.rounds) throw illegal(s, event, `expected round ${s.rounds} next`);

  const phase = edge.to === 'same' ? s.phase : edge.to;
  const phaseAtMs = s.phaseAtMs[phase] === undefined ? Object.freeze({ ...s.phaseAtMs, [phase]: event.atMs }) : s.phaseAtMs;
  const next: { -readonly [K in keyof MigrationState]: MigrationState[K] } = { ...s, phase, phaseAtMs };
  switch (event.type) {
    case 'prepared':
      if (event.translations) next.translations = Object.freeze([...event.translations]);
      if (event.activationDelegated) next.activationDelegated = true;
      break;
    case 'round':
      next.rounds = s.rounds + 1;
      next.moved = Object.freeze({ slots: s.moved.slots + event.slots, tableEntries: s.moved.tableEntries + event.tableEntries });
      break;
    case 'synced':
      next.moved = Object.freeze({ slots: s.moved.slots + event.slots, tableEntries: s.moved.tableEntries + event.tableEntries });
      next.lost = event.lost;
      if (event.counters) next.carried = event.counters;
      break;
    case 'abort':
      next.abort = Object.freeze({ reason: event.reason, detail: event.detail, inPhase: s.phase });
      break;
    case 'rolled-back':
      next.rolledBack = true;
      break;
    case 'source-cleaned':
      next.sourceCleaned = true;
      break;
    case 'cleaned-at':
      next.cleanedAt = Object.freeze([...new Set([...s.cleanedAt, ...event.devices])]);
      break;
    default:
      break;
  }
  return Object.freeze(next);
}

function illegal(s: MigrationState, e: MigrationEvent, why: string): ControllerError {
  return new ControllerError('ILLEGAL_TRANSITION', `migration ${s.migrationId}: event '${e.type}' in phase ${s.phase}: ${why}`);
}

/**
 * Folds recorded events into the state they lead to; the first must be `planned`. Throws
 * ILLEGAL_TRANSITION at the first event that does not fit (naming its position).
 */
export function replay(events: readonly MigrationEvent[]): MigrationState {
  const [first, ...rest] = events;
  if (first?.type !== 'planned') throw new ControllerError('ILLEGAL_TRANSITION', `a migration's journal must start with 'planned' (got ${first ? `'${first.type}'` : 'no events'})`);
  let s = initialState(first);
  for (const [i, e] of rest.entries()) {
    try {
      s = transition(s, e);
    } catch (err) {
      throw new ControllerError('ILLEGAL_TRANSITION', `journal event #${i + 2}: ${(err as Error).message}`, { cause: err });
    }
  }
  return s;
}

/**
 * Whether `phase` is inside the pause of `s`: FROZEN, SYNCED — and PRECOPY when a source's plugin
 * activates the destination itself before `frozen` is journalled (peer to peer, `prepared`).
 */
export function inPauseAt(s: Pick<MigrationState, 'activationDelegated'>, phase: MigrationPhase): boolean {
  return phase === 'FROZEN' || phase === 'SYNCED' || (phase === 'PRECOPY' && s.activationDelegated === true);
}

/**
 * Whether a destination of `s` may hold the VM active, by the phase it was left (or aborted) in:
 * from the pause on. An activation leaves no mark on a switch, so its undo must be told so.
 */
export function destinationMayBeActive(s: MigrationState): boolean {
  const phase = s.abort?.inPhase ?? s.phase;
  return phase === 'ACTIVATED' || inPauseAt(s, phase);
}

/** What a restarted controller must do to finish a migration it finds in `s`. */
export type RecoveryAction =
  /** Nothing: COMMITTED and cleaned, or ABORTED and rolled back. */
  | { readonly kind: 'none' }
  /** Roll back: undo at the destinations, unfreeze the sources (the VM never ran elsewhere). */
  | { readonly kind: 'roll-back'; readonly reason: FailureReason }
  /** Delete the VM's copies at the sources (the VM runs at the destination). */
  | { readonly kind: 'clean-sources' }
  /** Activated but not committed: only the hypervisor knows where the VM runs; ask the trigger. */
  | { readonly kind: 'ask-trigger' };

/** The recovery a restarted controller performs for a migration left in `s`. */
export function recoveryAction(s: MigrationState): RecoveryAction {
  switch (s.phase) {
    case 'COMMITTED':
      return s.sourceCleaned ? { kind: 'none' } : { kind: 'clean-sources' };
    case 'ABORTED':
      return s.rolledBack ? { kind: 'none' } : { kind: 'roll-back', reason: s.abort?.reason ?? 'CONTROLLER_RESTARTED' };
    case 'ACTIVATED':
      return { kind: 'ask-trigger' };
    default:
      // Before activation the source is authoritative: the safe end is always to roll back.
      return { kind: 'roll-back', reason: 'CONTROLLER_RESTARTED' };
  }
}
