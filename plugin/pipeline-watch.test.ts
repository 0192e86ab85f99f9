/**
 * The pipeline watch in virtual time: one read per interval while due, a change reported once
 * (never the first reading, never a cookie the plugin itself just found), failures retried, nothing
 * after stop.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from 'p4runtime-ts';
import { ManualClock, flushAsync } from './testing/manual-clock.js';
import { watchPipeline } from './pipeline-watch.js';

function rig(seen: string | undefined, intervalMs = 1000) {
  const clock = new ManualClock(0);
  const state = { cookie: '0x1', due: true, fails: false, reads: 0 };
  const changes: string[] = [];
  const w = watchPipeline({
    intervalMs, scheduler: clock, logger: silentLogger, seen,
    due: () => state.due,
    read: async () => {
      state.reads++;
      if (state.fails) throw new Error('UNAVAILABLE');
      return state.cookie;
    },
    changed: (was, now) => void changes.push(`${was}→${now}`),
  });
  const tick = async (ms = intervalMs): Promise<void> => {
    clock.advance(ms);
    await flushAsync();
  };
  return { state, changes, w, tick };
}

describe('pipeline watch', () => {
  it('pipeline watch — reads once per interval; a new cookie is reported once, the same one never', async () => {
    const r = rig('0x1');
    await r.tick(999);
    expect(r.state.reads).toBe(0);
    await r.tick(1);
    expect(r.state.reads).toBe(1);
    r.state.cookie = '0x2';
    await r.tick();
    await r.tick();
    expect(r.changes).toEqual(['0x1→0x2']);
    expect(r.state.reads).toBe(3);
    r.w.stop();
    await r.tick();
    expect(r.state.reads).toBe(3);
  });

  it('pipeline watch — without a known cookie the first reading is the baseline; a cookie the plugin found itself (saw) is not a change', async () => {
    const r = rig(undefined);
    r.state.cookie = '0x7';
    await r.tick();
    expect(r.changes).toEqual([]);
    r.w.saw('0x8');
    r.state.cookie = '0x8';
    await r.tick();
    expect(r.changes).toEqual([]);
    r.state.cookie = 'no cookie';
    await r.tick();
    expect(r.changes).toEqual(['0x8→no cookie']);
    r.w.stop();
  });

  it('pipeline watch — not due (a recheck under way, backup): no read; a failed read is retried at the next interval; interval 0 never reads', async () => {
    const r = rig('0x1');
    r.state.due = false;
    await r.tick();
    expect(r.state.reads).toBe(0);
    r.state.due = true;
    r.state.fails = true;
    r.state.cookie = '0x2';
    await r.tick();
    expect(r.changes).toEqual([]);
    r.state.fails = false;
    await r.tick();
    expect(r.changes).toEqual(['0x1→0x2']);
    r.w.stop();
    const off = rig('0x1', 0);
    await off.tick(60_000);
    expect(off.state.reads).toBe(0);
  });
});
