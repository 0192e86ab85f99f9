import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { raceTimer } from './race-timer.js';

describe('raceTimer', () => {
  it('race timer — the promise first: its value, and the timer is no longer scheduled', async () => {
    const s = new VirtualTimeScheduler();
    const r = raceTimer(Promise.resolve('done'), 50, s, 'late');
    expect(s.actions).toHaveLength(1);
    expect(await r).toBe('done');
    expect(s.actions).toHaveLength(0);
  });

  it('race timer — the timer first: the timeout value, whatever the promise does later', async () => {
    const s = new VirtualTimeScheduler();
    let finish: (v: string) => void = () => undefined;
    const r = raceTimer(new Promise<string>((res) => (finish = res)), 50, s, 'late' as const);
    s.flush();
    expect(s.now()).toBe(50);
    finish('done');
    expect(await r).toBe('late');
  });

  it('race timer — a rejection first is passed on and cancels the timer; a negative time fires at once', async () => {
    const s = new VirtualTimeScheduler();
    const r = raceTimer(Promise.reject(new Error('device gone')), 50, s, 'late');
    await expect(r).rejects.toThrow('device gone');
    expect(s.actions).toHaveLength(0);
    const t = raceTimer(new Promise(() => undefined), -5, s, 'late');
    s.flush();
    expect(s.now()).toBe(0);
    expect(await t).toBe('late');
  });
});
