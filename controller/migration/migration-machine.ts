/**
 * One migration's live state: each event is checked against the state machine, recorded in the
 * journal, and only then applied — so what the controller does always follows what it recorded.
 * Phase changes are an Observable for triggers, progress output and tests.
 */
import { BehaviorSubject, distinctUntilChanged, map } from 'rxjs';
import type { Observable } from 'rxjs';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { ControllerError } from '../errors.js';
import type { MigrationJournal } from '../journal/journal.js';
import type { MigrationEvent, MigrationPhase } from './events.js';
import { initialState, replay, transition } from './transition.js';
import type { MigrationState } from './transition.js';

/** An event as callers write it: the machine stamps `atMs` from its clock. */
export type MigrationEventInput = MigrationEvent extends infer E ? (E extends MigrationEvent ? Omit<E, 'atMs'> : never) : never;

/** What a machine needs besides its events. */
export interface MigrationMachineDeps {
  readonly journal: MigrationJournal;
  /** Milliseconds, for event stamps (a virtual clock in tests). */
  readonly now: () => number;
  readonly logger?: Logger;
}

/** A phase change, as `phases$` emits it. */
export interface PhaseChange {
  readonly migrationId: string;
  readonly phase: MigrationPhase;
  readonly atMs: number;
}

/**
 * A migration driven by recorded events.
 * @example
 * const m = await MigrationMachine.plan({ migrationId: 'm1', vm: 'vm-7', sources: ['edge-1'], destinations: ['edge-2'] }, deps);
 * m.phases$.subscribe((p) => log.info('phase', p));
 * await m.record({ type: 'prepared' });
 */
export class MigrationMachine {
  private readonly state$: BehaviorSubject<MigrationState>;
  private readonly logger: Logger;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    state: MigrationState,
    private readonly deps: MigrationMachineDeps,
  ) {
    this.state$ = new BehaviorSubject(state);
    this.logger = (deps.logger ?? silentLogger).child({ migration: state.migrationId, vm: state.vm });
  }

  /** Starts a new migration: records `planned` first. */
  static async plan(p: Omit<Extract<MigrationEvent, { type: 'planned' }>, 'type' | 'atMs'>, deps: MigrationMachineDeps): Promise<MigrationMachine> {
    const event: MigrationEvent = { type: 'planned', atMs: deps.now(), ...p };
    const s = initialState(event);
    if ((await deps.journal.load(p.migrationId)).length > 0) throw new ControllerError('BAD_CONFIG', `migration ${p.migrationId} is already in the journal; choose a new id (carryover recover --list shows the unfinished migrations)`);
    await deps.journal.append(p.migrationId, event);
    const m = new MigrationMachine(s, deps);
    m.logger.info('migration planned', { sources: p.sources, destinations: p.destinations });
    return m;
  }

  /** Rebuilds a migration from its journal (after a controller restart). */
  static async resume(migrationId: string, deps: MigrationMachineDeps): Promise<MigrationMachine> {
    const events = await deps.journal.load(migrationId);
    if (events.length === 0) throw new ControllerError('BAD_CONFIG', `migration ${migrationId} is not in the journal`);
    const m = new MigrationMachine(replay(events), deps);
    m.logger.info('migration resumed from the journal', { phase: m.state.phase, events: events.length });
    return m;
  }

  /** The current state. */
  get state(): MigrationState {
    return this.state$.value;
  }

  /** Every state, the current one first. */
  get states$(): Observable<MigrationState> {
    return this.state$.asObservable();
  }

  /** Phase changes, the current phase first; completes when the machine is closed. */
  get phases$(): Observable<PhaseChange> {
    return this.state$.pipe(
      map((s) => s.phase),
      distinctUntilChanged(),
      map((phase) => ({ migrationId: this.state.migrationId, phase, atMs: this.state.phaseAtMs[phase] ?? this.state.startedAtMs })),
    );
  }

  /**
   * Checks, records, then applies one event. Rejects with ILLEGAL_TRANSITION (nothing recorded)
   * when the phase does not allow it, or JOURNAL when it could not be recorded (not applied).
   * Concurrent calls are applied one at a time, in call order.
   */
  record(input: MigrationEventInput): Promise<MigrationState> {
    const run = async (): Promise<MigrationState> => {
      const event = { ...input, atMs: this.deps.now() } as MigrationEvent;
      const before = this.state;
      const next = transition(before, event);
      try {
        await this.deps.journal.append(before.migrationId, event);
      } catch (e) {
        // Any store (a directory, memory, etcd) fails as JOURNAL, naming the event: what the caller acts on.
        if (e instanceof ControllerError) throw e;
        throw new ControllerError('JOURNAL', `migration ${before.migrationId}: recording '${event.type}' failed: ${e instanceof Error ? e.message : String(e)}; nothing was applied — check the journal's store`, { cause: e });
      }
      if (next.phase !== before.phase) this.logger.info('migration phase', { from: before.phase, to: next.phase, event: event.type, ...(event.type === 'abort' ? { reason: event.reason, detail: event.detail } : {}) });
      this.state$.next(next);
      return next;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Completes the observables (the migration is finished or handed over). */
  close(): void {
    this.state$.complete();
  }
}
