import { ManualClock } from 'p4runtime-ts';
import type { TableEntryRead } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { CarriedLifetimes } from './carried-lifetimes.js';

const S = 1_000_000_000n;
/** An entry read with a 60 s idle timeout, idle for `idleS` seconds (as a spec-following target reports it). */
const read = (idleS: number): TableEntryRead => ({ table: 'dyn_acl', match: {}, idleTimeoutNs: 60n * S, elapsedNs: BigInt(idleS) * S }) as unknown as TableEntryRead;

describe('carried lifetimes', () => {
  it('carried lifetimes — the timer fires at the earliest deadline (virtual time); due ones are taken once, a held VM\'s kept', () => {
    const clock = new ManualClock(1_000_000);
    let fired = 0;
    const l = new CarriedLifetimes(clock, () => fired++);
    l.record('a', { match: { k: 1n }, vmId: 7, atMs: clock.now(), deadlineMs: clock.now() + 5_000 });
    l.record('b', { match: { k: 2n }, vmId: 8, atMs: clock.now(), deadlineMs: clock.now() + 2_000 });
    // A second record of the same key (an earlier batch of the migration) keeps the first.
    l.record('b', { match: { k: 2n }, vmId: 8, atMs: clock.now(), deadlineMs: clock.now() + 9_000 });
    l.arm();
    clock.advance(1_999);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    // VM 8 is frozen: its entry stays, nothing else is due yet.
    expect(l.takeDue(clock.now(), (vm) => vm === 8)).toEqual([]);
    expect(l.takeDue(clock.now(), () => false).map(([k]) => k)).toEqual(['b']);
    expect(l.takeDue(clock.now(), () => false)).toEqual([]);
    l.arm();
    clock.advance(3_000);
    expect(fired).toBe(2);
    l.stop();
  });

  it('carried lifetimes — a renewal moves the deadline; an export caps at what is left unless the entry was hit since import; forget drops it', () => {
    const clock = new ManualClock(1_000_000);
    const l = new CarriedLifetimes(clock, () => undefined);
    const atMs = clock.now();
    l.record('a', { match: { k: 1n }, vmId: 7, atMs, deadlineMs: atMs + 10_000 });
    clock.advance(4_000);
    // Idle all 4 s since import: capped at the 6 s the carried lifetime has left, under the switch's 56 s.
    expect(l.cap('a', read(4), 'spec', clock.now(), 56n * S)).toBe(6n * S);
    // Hit 1 s ago (after the import): an ordinary entry, the switch's figure stands.
    expect(l.cap('a', read(1), 'spec', clock.now(), 59n * S)).toBe(59n * S);
    expect(l.renew('a', clock.now() + 30_000)).toBe(true);
    expect(l.cap('a', read(4), 'spec', clock.now(), 56n * S)).toBe(30n * S);
    expect(l.renew('nope', 1)).toBe(false);
    l.forget('a');
    expect(l.cap('a', read(4), 'spec', clock.now(), 56n * S)).toBe(56n * S);
  });
});
