import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RoundReports } from './round-reports.js';

const never = new Promise<void>(() => undefined);

describe('RoundReports', () => {
  it('round reports — a round is complete only once every reporting source was heard since the last take', () => {
    const r = new RoundReports(['a', 'b']);
    expect(r.reports('a')).toBe(true);
    expect(r.reports('old')).toBe(false);
    r.note('a');
    r.note('old');
    expect(r.take()).toBe(false);
    r.note('a');
    r.note('b');
    expect(r.take()).toBe(true);
    // Heard in the last round counts for that round only.
    expect(r.take()).toBe(false);
  });

  it('round reports — no reporting source (older peers): every round is complete, nothing is waited for', async () => {
    const s = new VirtualTimeScheduler();
    const r = new RoundReports([]);
    await r.awaitAll(never, 100, s);
    expect(s.actions).toHaveLength(0);
    expect(r.take()).toBe(true);
  });

  it('round reports — the wait ends at the last report, without its timer', async () => {
    const s = new VirtualTimeScheduler();
    const r = new RoundReports(['a', 'b']);
    r.note('a');
    const waiting = r.awaitAll(never, 100, s);
    expect(s.actions).toHaveLength(1);
    r.note('b');
    await waiting;
    expect(s.actions).toHaveLength(0);
    expect(s.now()).toBe(0);
    expect(r.take()).toBe(true);
  });

  it('round reports — the wait ends after one interval when a source stays silent, or when the VM paused; the round is not complete', async () => {
    const s = new VirtualTimeScheduler();
    const r = new RoundReports(['a']);
    const waiting = r.awaitAll(never, 100, s);
    s.flush();
    await waiting;
    expect(s.now()).toBe(100);
    expect(r.take()).toBe(false);
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((res) => (wake = res));
    const paused = r.awaitAll(woken, 100, s);
    wake();
    await paused;
    expect(s.now()).toBe(100);
    expect(r.take()).toBe(false);
  });
});
