import { describe, expect, it } from 'vitest';
import { EMPTY } from 'rxjs';
import type { DeviceApi, StateBatch } from '../../plugin/index.js';
import { stepTimes, timedDeviceApi } from './timed-device-api.js';
import type { DeviceCall } from './timed-device-api.js';

const batch = (round: number, slots: number): StateBatch => ({ migrationId: 'm', round, slots: Array.from({ length: slots }, () => ({ fields: {} })), removed: [], coversSeq: { from: 0n, to: 0n } });

/** A device API answering at once, except where a test makes it fail. */
function fakeApi(failFreeze = false): DeviceApi {
  return {
    capabilities: () => Promise.reject(new Error('not used')),
    prepare: () => Promise.resolve(),
    exportSnapshot: () => Promise.resolve(batch(0, 3)),
    exportDeltas: () => EMPTY,
    importStaged: (_m, b) => Promise.resolve({ installed: b.slots.length, alreadyPresent: 0 }),
    freeze: () => (failFreeze ? Promise.reject(new Error('down')) : Promise.resolve()),
    pauseStarted: () => undefined,
    finalDelta: () => Promise.resolve(batch(99, 2)),
    activate: () => Promise.resolve(),
    deleteAtSource: () => Promise.resolve({ deleted: 0, skipped: 0 }),
    abort: () => Promise.resolve(),
  };
}

describe('timed device API', () => {
  it('timed device API — records each call with its device, round, slots and times, and passes results and failures through', async () => {
    let t = 0;
    const calls: DeviceCall[] = [];
    const m = { migrationId: 'm', vm: 'v' };
    const src = timedDeviceApi('src', fakeApi(), calls, () => (t += 1));
    const dst = timedDeviceApi('dst', fakeApi(true), calls, () => (t += 1));
    expect((await src.exportSnapshot(m)).slots).toHaveLength(3);
    expect(await dst.importStaged(m, batch(4, 5))).toEqual({ installed: 5, alreadyPresent: 0 });
    await expect(dst.freeze(m)).rejects.toThrow('down');
    expect((await src.finalDelta(m, 0n)).round).toBe(99);
    expect(calls).toEqual([
      { device: 'src', method: 'exportSnapshot', startMs: 1, endMs: 2, slots: 3 },
      { device: 'dst', method: 'importStaged', round: 4, slots: 5, startMs: 3, endMs: 4 },
      { device: 'dst', method: 'freeze', startMs: 5, endMs: 6, failed: true },
      { device: 'src', method: 'finalDelta', startMs: 7, endMs: 8, slots: 2 },
    ]);
  });

  it('timed device API — step times: per method within the window, calls at once on several devices counted once in the rest', () => {
    const calls: DeviceCall[] = [
      { device: 'src', method: 'prepare', startMs: 0, endMs: 5 },
      { device: 'src', method: 'freeze', startMs: 10, endMs: 12 },
      { device: 'src2', method: 'freeze', startMs: 10, endMs: 13 },
      { device: 'src', method: 'finalDelta', startMs: 13, endMs: 17 },
      { device: 'dst', method: 'importStaged', startMs: 17, endMs: 20 },
      { device: 'dst', method: 'activate', startMs: 21, endMs: 22 },
    ];
    const s = stepTimes(calls, 10, 23);
    expect(s.steps).toEqual({ freeze: 5, finalDelta: 4, importStaged: 3, activate: 1 });
    expect(s.totalMs).toBe(13);
    expect(s.otherMs).toBe(13 - (3 + 4 + 3 + 1));
  });

  it('timed device API — step times: two imports one after the other (one taken ahead in the pause) both count as busy, not only the longer one', () => {
    const calls: DeviceCall[] = [
      { device: 'src', method: 'freeze', startMs: 10, endMs: 11 },
      { device: 'dst', method: 'importStaged', startMs: 11, endMs: 13 },
      { device: 'src', method: 'finalDelta', startMs: 13, endMs: 14 },
      { device: 'dst', method: 'importStaged', startMs: 14, endMs: 18 },
      { device: 'dst', method: 'activate', startMs: 18, endMs: 19 },
    ];
    const s = stepTimes(calls, 10, 20);
    expect(s.steps).toEqual({ freeze: 1, importStaged: 6, finalDelta: 1, activate: 1 });
    expect(s.otherMs).toBe(1);
  });
});
