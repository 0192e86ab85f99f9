// Delta rounds in virtual time (RxJS marble tests): when rounds happen, what each carries, and
// that a slow destination holds the next round back.
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import { deltaRounds } from './delta-rounds.js';
import type { DeltaRound, PulledLog, PushedChange } from './delta-rounds.js';

const ts = (): TestScheduler => new TestScheduler((a, b) => expect(a).toEqual(b));
const change = (slot: number, seq: number): PushedChange => ({ slot, seq: BigInt(seq) });
const brief = (r: DeltaRound): string => `${r.round}:${r.slots.join(',')}|${r.fromSeq}-${r.toSeq}${r.pushedOnly ? `+${r.pushedOnly}` : ''}${r.overflowed ? '!' : ''}`;

describe('delta rounds — merging pushed and pulled changes', () => {
  it('delta rounds — each round unites pushed and pulled slots, de-duplicated, and advances the pull position', () => {
    ts().run(({ hot, cold, expectObservable }) => {
      const pushed$ = hot<PushedChange>('-a-b-----cd----|', { a: change(5, 11), b: change(7, 12), c: change(5, 13), d: change(9, 14) });
      const pulls: bigint[] = [];
      const logs: PulledLog[] = [{ slots: [5, 6], toSeq: 12n }, { slots: [9], toSeq: 14n }, { slots: [], toSeq: 14n }];
      const out = deltaRounds({
        pushed$,
        pull: (since) => {
          pulls.push(since);
          return cold('-(x|)', { x: logs[pulls.length - 1] as PulledLog });
        },
        install: () => cold('-(y|)', { y: undefined }),
        startSeq: 10n,
        intervalMs: 4,
        policy: { maxRounds: 10, convergedAtSlots: 0 },
        maxPending: 100,
      });
      // Round 1 at 4+1+1: pulled 5,6 plus pushed 7 (not yet in the log). Round 2 starts after
      // round 1 is installed (6), pulls at 11, installs at 12. Round 3 copies nothing: converged.
      expectObservable(out.pipe(mapBrief())).toBe('------a-----b-----(c|)', { a: '1:5,6,7|10-12+1', b: '2:5,9|12-14+1', c: '3:|14-14' });
    });
  });

  it('delta rounds — a slow install holds the next round back (backpressure), nothing is lost meanwhile', () => {
    ts().run(({ hot, cold, expectObservable }) => {
      const pushed$ = hot<PushedChange>('-a--b--c--d--e--f--g--h|', Object.fromEntries('abcdefgh'.split('').map((k, i) => [k, change(i, i)])));
      let n = 0;
      const out = deltaRounds({
        pushed$,
        pull: () => cold('(x|)', { x: { slots: [], toSeq: BigInt(++n) } }),
        install: () => cold('----------(y|)', { y: undefined }),
        startSeq: 0n,
        intervalMs: 2,
        policy: { maxRounds: 2, convergedAtSlots: -1 },
        maxPending: 100,
      });
      // Round 1 pulls at 2 (slot 0 pushed), installs until 12; round 2's timer starts only then:
      // pulls at 14 with slots 1..4 pushed meanwhile.
      expectObservable(out.pipe(mapBrief())).toBe('------------a-----------(b|)', { a: '1:0|0-1+1', b: '2:1,2,3,4|1-2+4' });
    });
  });

  it('delta rounds — past maxPending pushed changes are dropped and the round relies on the pull (bounded memory)', () => {
    ts().run(({ hot, cold, expectObservable }) => {
      const pushed$ = hot<PushedChange>('abcd---|', { a: change(1, 1), b: change(2, 2), c: change(3, 3), d: change(4, 4) });
      const out = deltaRounds({
        pushed$,
        pull: () => cold('(x|)', { x: { slots: [1, 2, 3, 4], toSeq: 4n } }),
        install: () => cold('(y|)', { y: undefined }),
        startSeq: 0n,
        intervalMs: 5,
        policy: { maxRounds: 1, convergedAtSlots: 0 },
        maxPending: 2,
      });
      expectObservable(out.pipe(mapBrief())).toBe('-----(a|)', { a: '1:1,2,3,4|0-4!' });
    });
  });

  it('delta rounds — stop$ (the VM paused) ends pre-copy before the next pull; an error from the pull ends it with that error', () => {
    ts().run(({ hot, cold, expectObservable }) => {
      const pulled: number[] = [];
      const out = deltaRounds({
        pushed$: hot<PushedChange>('-----'),
        pull: () => {
          pulled.push(1);
          return cold('(x|)', { x: { slots: [1], toSeq: 1n } });
        },
        install: () => cold('(y|)', { y: undefined }),
        startSeq: 0n,
        intervalMs: 3,
        policy: { maxRounds: 10, convergedAtSlots: 0 },
        maxPending: 10,
        stop$: hot('----s'),
      });
      expectObservable(out.pipe(mapBrief())).toBe('---a--|', { a: '1:1|0-1' });
    });
    ts().run(({ hot, cold, expectObservable }) => {
      const out = deltaRounds({
        pushed$: hot<PushedChange>('-'),
        pull: () => cold('-#', undefined, new Error('switch unreachable')),
        install: () => cold('(y|)', { y: undefined }),
        startSeq: 0n,
        intervalMs: 2,
        policy: { maxRounds: 10, convergedAtSlots: 0 },
        maxPending: 10,
      });
      expectObservable(out).toBe('---#', undefined, new Error('switch unreachable'));
    });
  });
});

function mapBrief(): (src: Observable<DeltaRound>) => Observable<string> {
  return map(brief);
}
