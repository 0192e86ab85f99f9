import { describe, expect, it } from 'vitest';
import { EdgePluginError } from '../errors.js';
import { DEFAULT_DELTA_INTERVAL_MS, DEFAULT_FINAL_DIGEST_WAIT_MS, DEFAULT_ACTIVATED_KEPT, DEFAULT_NEW_FLOW_DIGEST_DELAY_MS, DEFAULT_TAKE_AHEAD_MAX_CHANGES, parseEdgeDeviceApiOptions } from './edge-device-api-options.js';
import type { EdgeDeviceApiOptions } from './edge-device-api-options.js';

describe('device API options — checked once at creation', () => {
  it('device API options — defaults filled in (the switch address as name), the result frozen', () => {
    const o = parseEdgeDeviceApiOptions({}, '127.0.0.1:9559');
    expect(o).toEqual({ name: '127.0.0.1:9559', deltaIntervalMs: DEFAULT_DELTA_INTERVAL_MS, snapshotSource: 'auto', reconcile: true, finalDigestWaitMs: DEFAULT_FINAL_DIGEST_WAIT_MS, freezeReads: 'with-freeze', takeAheadMaxChanges: DEFAULT_TAKE_AHEAD_MAX_CHANGES, newFlowDigestDelayMs: DEFAULT_NEW_FLOW_DIGEST_DELAY_MS, activatedKept: DEFAULT_ACTIVATED_KEPT });
    expect(Object.isFrozen(o)).toBe(true);
    const set = parseEdgeDeviceApiOptions({ name: 'tor-1', deltaIntervalMs: 5, snapshotSource: 'index', reconcile: false, finalDigestWaitMs: 0, freezeReads: 'after-freeze', takeAheadMaxChanges: 0, newFlowDigestDelayMs: 0, activatedKept: 2 }, 'x');
    expect(set).toEqual({ name: 'tor-1', deltaIntervalMs: 5, snapshotSource: 'index', reconcile: false, finalDigestWaitMs: 0, freezeReads: 'after-freeze', takeAheadMaxChanges: 0, newFlowDigestDelayMs: 0, activatedKept: 2 });
  });

  it.each<[EdgeDeviceApiOptions, RegExp]>([
    [{ name: '' }, /device : name "" is not a non-empty string/],
    [{ deltaIntervalMs: 0 }, /deltaIntervalMs 0 is not a number of milliseconds above 0/],
    [{ deltaIntervalMs: Number.NaN }, /deltaIntervalMs NaN is not a number of milliseconds above 0/],
    [{ finalDigestWaitMs: -1 }, /finalDigestWaitMs -1 is not a number of milliseconds ≥ 0/],
    [{ snapshotSource: 'disk' as never }, /snapshotSource 'disk' is not 'auto' or 'index'/],
    [{ reconcile: 'yes' as never }, /reconcile yes is not true or false/],
    [{ newFlowDigestDelayMs: -5 }, /newFlowDigestDelayMs -5 is not a number of milliseconds ≥ 0/],
    [{ activatedKept: 1.5 }, /activatedKept 1.5 is not a whole number of migrations ≥ 0/],
    [{ takeAheadMaxChanges: -1 }, /takeAheadMaxChanges -1 is not a whole number of changes ≥ 0/],
    [{ takeAheadMaxChanges: 2.5 }, /takeAheadMaxChanges 2.5 is not a whole number of changes ≥ 0/],
    [{ freezeReads: 'sometimes' as never }, /freezeReads 'sometimes' is not 'with-freeze' or 'after-freeze'; omit it for the default/],
  ])('device API options — %o refused with BAD_OPTIONS naming the option and what it takes', (o, message) => {
    let err: unknown;
    try {
      parseEdgeDeviceApiOptions(o, 'sw-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EdgePluginError);
    expect((err as EdgePluginError).code).toBe('BAD_OPTIONS');
    expect((err as Error).message).toMatch(message);
  });
});
