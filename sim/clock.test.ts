import { describe, expect, it } from 'vitest';
import { VirtualScheduler, createRealScheduler } from './clock.js';

describe('clock — virtual scheduler', () => {
  it('clock — timers fire in due order, ties in scheduling order, including ones scheduled while advancing', () => {
    const s = new VirtualScheduler();
    const log: string[] = [];
    s.setTimer(20, () => log.push('b@20'));
    s.setTimer(10, () => {
      log.push('a@10');
      s.setTimer(5, () => log.push(`c@${s.now()}`));
    });
    s.setTimer(20, () => log.push('d@20'));
    const gone = s.setTimer(12, () => log.push('cancelled'));
    s.clearTimer(gone);
    s.advance(19);
    expect(log).toEqual(['a@10', 'c@15']);
    s.advance(1);
    expect(log).toEqual(['a@10', 'c@15', 'b@20', 'd@20']);
    expect(s.now()).toBe(20);
    expect(s.pending()).toBe(0);
  });

  it('clock — sleep resolves when time reaches it; wall time moves with it', async () => {
    const s = new VirtualScheduler({ wallStartNs: 1000n });
    let done = false;
    const p = s.sleep(5).then(() => {
      done = true;
    });
    s.advance(4);
    await Promise.resolve();
    expect(done).toBe(false);
    s.advance(1);
    await p;
    expect(done).toBe(true);
    expect(s.wallNs()).toBe(1000n + 5_000_000n);
    expect(() => s.advance(-1)).toThrow(RangeError);
  });

  it('clock — the real scheduler runs and cancels timers', async () => {
    const s = createRealScheduler();
    let fired = 0;
    const h = s.setTimer(1, () => fired++);
    s.clearTimer(h);
    await new Promise<void>((resolve) => s.setTimer(2, resolve));
    expect(fired).toBe(0);
    expect(s.now()).toBeGreaterThan(0);
  });
});
