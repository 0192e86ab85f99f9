import { ManualClock } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { keepChanging } from './flow-changer.js';

/** Lets the changer's promise continuations run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('bench qemu — the VM\'s changing flows while QEMU copies memory', () => {
  it('flow changer — a batch at once, then one every interval, none after stop', async () => {
    const clock = new ManualClock();
    const starts: number[] = [];
    const c = keepChanging(async () => void starts.push(clock.now()), 20, clock, () => undefined);
    await settle();
    clock.advance(19);
    await settle();
    expect(starts.length).toBe(1);
    clock.advance(1);
    await settle();
    clock.advance(20);
    await settle();
    expect(starts.map((t) => t - (starts[0] as number))).toEqual([0, 20, 40]);
    await c.stop();
    clock.advance(100);
    await settle();
    expect(starts.length).toBe(3);
    expect(c.batches).toBe(3);
  });

  it('flow changer — a batch slower than the interval is not doubled up, and stop waits for it', async () => {
    const clock = new ManualClock();
    let release: (() => void) | undefined;
    let started = 0;
    const c = keepChanging(() => {
      started++;
      return new Promise<void>((r) => (release = r));
    }, 20, clock, () => undefined);
    clock.advance(100);
    await settle();
    expect(started).toBe(1);
    let stopped = false;
    const s = c.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    release?.();
    await s;
    expect(stopped).toBe(true);
    clock.advance(100);
    await settle();
    expect(started).toBe(1);
  });

  it('flow changer — a failed batch is reported and the next still runs', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    let n = 0;
    const c = keepChanging(async () => {
      if (n++ === 0) throw new Error('switch busy');
    }, 10, clock, (e) => errors.push(e));
    await settle();
    clock.advance(10);
    await settle();
    expect(errors.map(String)).toEqual(['Error: switch busy']);
    expect(n).toBe(2);
    await c.stop();
  });

  it('flow changer — refuses an interval that is not positive', () => {
    expect(() => keepChanging(async () => undefined, 0, new ManualClock(), () => undefined)).toThrow(/everyMs must be > 0, got 0/);
  });
});
