import { describe, expect, it } from 'vitest';
import { DeviceApiFailure, MigrationSessions } from './migration-sessions.js';

const m1 = { migrationId: 'm1', vm: '10.0.0.5' };
const m2 = { migrationId: 'm2', vm: '10.0.0.6' };
const m3 = { migrationId: 'm3', vm: '10.0.0.7' };

describe('device api — migration sessions', () => {
  it('sessions — a repeated call joins the running one, then returns the settled answer without running again', async () => {
    const s = new MigrationSessions('edge-1', 2);
    s.open(m1);
    let runs = 0;
    let release: (v: number) => void = () => {};
    const fn = (): Promise<number> => {
      runs++;
      return new Promise((r) => (release = r));
    };
    const a = s.once(m1, 'freeze', fn);
    const b = s.once(m1, 'freeze', fn);
    release(42);
    expect(await Promise.all([a, b])).toEqual([42, 42]);
    expect(await s.once(m1, 'freeze', fn)).toBe(42);
    expect(runs).toBe(1);
  });

  it('sessions — a failed call is not remembered: the retry runs again', async () => {
    const s = new MigrationSessions('edge-1', 1);
    s.open(m1);
    let runs = 0;
    const flaky = (): Promise<string> => (++runs === 1 ? Promise.reject(new Error('switch went away')) : Promise.resolve('ok'));
    await expect(s.once(m1, 'activate', flaky)).rejects.toThrow(/switch went away/);
    expect(await s.once(m1, 'activate', flaky)).toBe('ok');
    expect(runs).toBe(2);
  });

  it('sessions — the concurrent-migration limit is enforced with the reason; a closed session frees its place', () => {
    const s = new MigrationSessions('edge-1', 2);
    s.open(m1);
    s.open(m1);
    s.open(m2);
    expect(() => s.open(m3)).toThrow(DeviceApiFailure);
    try {
      s.open(m3);
    } catch (e) {
      expect((e as DeviceApiFailure).reason).toBe('CONCURRENCY_LIMIT');
      expect((e as Error).message).toMatch(/2 migrations already in progress \(m1, m2\), its limit is 2/);
    }
    s.close('m1');
    s.open(m3);
    expect(s.size).toBe(2);
  });

  it('sessions — one VM cannot be in two migrations, nor one id carry two VMs; calls need an open session', async () => {
    const s = new MigrationSessions('edge-1', 4);
    s.open(m1);
    expect(() => s.open({ migrationId: 'm9', vm: m1.vm })).toThrow(/VM '10\.0\.0\.5' is already migrating \(migration m1\)/);
    expect(() => s.open({ migrationId: 'm1', vm: '10.0.0.9' })).toThrow(/migration m1 is for VM '10\.0\.0\.5', not '10\.0\.0\.9'/);
    await expect(s.once(m2, 'freeze', () => Promise.resolve(1))).rejects.toMatchObject({ reason: 'WRONG_PHASE' });
    expect(() => new MigrationSessions('edge-1', 0)).toThrow(/limit 0; expected an integer >= 1/);
    expect(DeviceApiFailure.isReason('KEY_COLLISION')).toBe(true);
    expect(DeviceApiFailure.isReason('NOPE')).toBe(false);
  });
});
