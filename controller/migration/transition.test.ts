import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MigrationEvent, MigrationPhase } from './events.js';
import { initialState, recoveryAction, replay, transition } from './transition.js';
import type { MigrationState } from './transition.js';

const planned: Extract<MigrationEvent, { type: 'planned' }> = { type: 'planned', atMs: 0, migrationId: 'm1', vm: 'vm-7', sources: ['edge-1'], destinations: ['edge-2'] };
const HAPPY: MigrationEvent[] = [
  planned,
  { type: 'prepared', atMs: 1 },
  { type: 'round', atMs: 2, round: 0, slots: 1000, tableEntries: 4 },
  { type: 'round', atMs: 3, round: 1, slots: 20, tableEntries: 1 },
  { type: 'frozen', atMs: 4 },
  { type: 'synced', atMs: 5, slots: 3, tableEntries: 0 },
  { type: 'activated', atMs: 6 },
  { type: 'committed', atMs: 7 },
  { type: 'source-cleaned', atMs: 9, slots: 1023, tableEntries: 5 },
];

describe('migration state machine — transitions', () => {
  it('state machine — a peer-to-peer prepare records that a destination may be activated before `frozen` (recovery reads it); others do not', () => {
    const s = initialState(planned);
    expect(transition(s, { type: 'prepared', atMs: 1, activationDelegated: true }).activationDelegated).toBe(true);
    expect(transition(s, { type: 'prepared', atMs: 1 }).activationDelegated).toBeUndefined();
    expect(replay([planned, { type: 'prepared', atMs: 1, activationDelegated: true }, { type: 'round', atMs: 2, round: 0, slots: 5, tableEntries: 0 }])).toMatchObject({ phase: 'PRECOPY', activationDelegated: true });
  });

  it('state machine — a successful migration passes every phase in order and counts what moved', () => {
    const phases: MigrationPhase[] = [];
    let s = initialState(planned);
    phases.push(s.phase);
    for (const e of HAPPY.slice(1)) {
      s = transition(s, e);
      phases.push(s.phase);
    }
    expect(phases).toEqual(['PLANNED', 'PREPARED', 'PRECOPY', 'PRECOPY', 'FROZEN', 'SYNCED', 'ACTIVATED', 'COMMITTED', 'COMMITTED']);
    expect(s).toMatchObject({ rounds: 2, moved: { slots: 1023, tableEntries: 5 }, sourceCleaned: true, abort: undefined });
    expect(s.phaseAtMs).toEqual({ PLANNED: 0, PREPARED: 1, PRECOPY: 2, FROZEN: 4, SYNCED: 5, ACTIVATED: 6, COMMITTED: 7 });
  });

  it('state machine — the counter values a synced record journals for each destination are kept for a recovery', () => {
    const counters = { 'edge-2': { vm_tx: { packets: '18446744073709551615', bytes: '7' } } };
    const events = HAPPY.slice(0, 5).concat([{ type: 'synced', atMs: 5, slots: 3, tableEntries: 0, counters }]);
    expect(replay(events).carried).toEqual(counters);
    expect(replay(HAPPY.slice(0, 6)).carried).toBeUndefined();
  });

  it('state machine — abort is allowed from every phase before COMMITTED and records where it happened', () => {
    for (let cut = 1; cut <= 7; cut++) {
      const s = replay(HAPPY.slice(0, cut));
      const a = transition(s, { type: 'abort', atMs: 50, reason: 'PEER_REJECTED', detail: 'edge-2 refused' });
      expect(a.phase).toBe('ABORTED');
      expect(a.abort).toEqual({ reason: 'PEER_REJECTED', detail: 'edge-2 refused', inPhase: s.phase });
      expect(transition(a, { type: 'rolled-back', atMs: 51 }).rolledBack).toBe(true);
    }
  });

  it('state machine — no abort after COMMITTED, no skipped phase, no out-of-order round; the state is unchanged', () => {
    const committed = replay(HAPPY.slice(0, 8));
    expect(() => transition(committed, { type: 'abort', atMs: 9, reason: 'PEER_REJECTED', detail: '' })).toThrow(/migration m1: event 'abort' in phase COMMITTED: allowed only in PLANNED, PREPARED/);
    const prepared = replay(HAPPY.slice(0, 2));
    expect(() => transition(prepared, { type: 'activated', atMs: 3 })).toThrow(/event 'activated' in phase PREPARED: allowed only in SYNCED/);
    expect(() => transition(prepared, { type: 'round', atMs: 3, round: 1, slots: 0, tableEntries: 0 })).toThrow(/expected round 0 next/);
    expect(() => transition(prepared, planned)).toThrow(/already planned/);
    expect(prepared.phase).toBe('PREPARED');
    const aborted = transition(transition(prepared, { type: 'abort', atMs: 4, reason: 'CAPACITY_EXCEEDED', detail: 'full' }), { type: 'rolled-back', atMs: 5 });
    expect(() => transition(aborted, { type: 'rolled-back', atMs: 6 })).toThrow(/already rolled back/);
  });

  it('state machine — cleaned-at records where an unfinished cleanup did finish: only devices it covers (a commit\'s: the sources), only before it finished everywhere', () => {
    const aborted = replay([planned, { type: 'prepared', atMs: 1 }, { type: 'abort', atMs: 2, reason: 'DEVICE_UNREACHABLE', detail: 'x' }]);
    const once = transition(aborted, { type: 'cleaned-at', atMs: 3, devices: ['edge-1'] });
    expect(once).toMatchObject({ phase: 'ABORTED', rolledBack: false, cleanedAt: ['edge-1'] });
    expect(transition(once, { type: 'cleaned-at', atMs: 4, devices: ['edge-1', 'edge-2'] }).cleanedAt).toEqual(['edge-1', 'edge-2']);
    expect(() => transition(aborted, { type: 'cleaned-at', atMs: 3, devices: ['edge-9'] })).toThrow(/edge-9 is not among the devices its cleanup covers \(edge-1, edge-2\)/);
    expect(() => transition(transition(aborted, { type: 'rolled-back', atMs: 3 }), { type: 'cleaned-at', atMs: 4, devices: ['edge-1'] })).toThrow(/already finished everywhere/);
    const committed = replay(HAPPY.slice(0, -1));
    expect(() => transition(committed, { type: 'cleaned-at', atMs: 8, devices: ['edge-2'] })).toThrow(/edge-2 is not among .*\(edge-1\)/);
    expect(() => transition(replay(HAPPY.slice(0, 3)), { type: 'cleaned-at', atMs: 3, devices: ['edge-1'] })).toThrow(/allowed only in ABORTED, COMMITTED/);
  });

  it('state machine — stop-and-copy freezes straight from PREPARED', () => {
    const s = transition(replay(HAPPY.slice(0, 2)), { type: 'frozen', atMs: 3 });
    expect(s.phase).toBe('FROZEN');
    expect(s.rounds).toBe(0);
  });

  it('state machine — a plan without sources or destinations is refused', () => {
    expect(() => initialState({ ...planned, destinations: [] })).toThrow(/needs at least one source and one destination device \(got 1 and 0\)/);
    expect(() => initialState({ ...planned, migrationId: ' ' })).toThrow(/non-empty migrationId/);
  });

  it('state machine — replay names the first event that does not fit, and needs planned first', () => {
    expect(() => replay([planned, { type: 'prepared', atMs: 1 }, { type: 'synced', atMs: 2, slots: 0, tableEntries: 0 }])).toThrow(/journal event #3: migration m1: event 'synced' in phase PREPARED/);
    expect(() => replay([{ type: 'prepared', atMs: 1 }])).toThrow(/must start with 'planned' \(got 'prepared'\)/);
    expect(() => replay([])).toThrow(/got no events/);
  });
});

describe('migration state machine — properties', () => {
  const anyEvent = fc.oneof(
    fc.constant<MigrationEvent>({ type: 'prepared', atMs: 1 }),
    fc.nat(3).map<MigrationEvent>((round) => ({ type: 'round', atMs: 1, round, slots: 1, tableEntries: 0 })),
    fc.constant<MigrationEvent>({ type: 'frozen', atMs: 1 }),
    fc.constant<MigrationEvent>({ type: 'synced', atMs: 1, slots: 1, tableEntries: 0 }),
    fc.constant<MigrationEvent>({ type: 'activated', atMs: 1 }),
    fc.constant<MigrationEvent>({ type: 'committed', atMs: 1 }),
    fc.constant<MigrationEvent>({ type: 'source-cleaned', atMs: 1, slots: 0, tableEntries: 0 }),
    fc.constant<MigrationEvent>({ type: 'abort', atMs: 1, reason: 'KEY_COLLISION', detail: 'x' }),
    fc.constant<MigrationEvent>({ type: 'rolled-back', atMs: 1 }),
  );

  it('state machine — whatever events arrive, accepted ones replay to the same state, COMMITTED and ABORTED never mix', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 30 }), (events) => {
        let s: MigrationState = initialState(planned);
        const accepted: MigrationEvent[] = [planned];
        let everCommitted = false;
        for (const e of events) {
          try {
            s = transition(s, e);
            accepted.push(e);
          } catch {
            continue;
          }
          if (s.phase === 'COMMITTED') everCommitted = true;
          if (everCommitted) expect(s.phase).toBe('COMMITTED');
          if (s.phase === 'ABORTED') expect(s.abort?.reason).toBe('KEY_COLLISION');
        }
        expect(replay(accepted)).toEqual(s);
      }),
    );
  });
});

describe('migration state machine — recovery after a restart', () => {
  it('recovery — rolls back before activation, asks the trigger once activated, finishes what was decided', () => {
    const at = (n: number): MigrationState => replay(HAPPY.slice(0, n));
    for (const n of [1, 2, 3, 5, 6]) expect(recoveryAction(at(n))).toEqual({ kind: 'roll-back', reason: 'CONTROLLER_RESTARTED' });
    expect(recoveryAction(at(7))).toEqual({ kind: 'ask-trigger' });
    expect(recoveryAction(at(8))).toEqual({ kind: 'clean-sources' });
    expect(recoveryAction(at(9))).toEqual({ kind: 'none' });
    const aborted = transition(at(3), { type: 'abort', atMs: 9, reason: 'PAUSE_DEADLINE_MISSED', detail: '' });
    expect(recoveryAction(aborted)).toEqual({ kind: 'roll-back', reason: 'PAUSE_DEADLINE_MISSED' });
    expect(recoveryAction(transition(aborted, { type: 'rolled-back', atMs: 10 }))).toEqual({ kind: 'none' });
  });
});
