import { describe, expect, it } from 'vitest';
import { P4RuntimeError } from 'p4runtime-ts';
import { EdgePluginError } from '../plugin/index.js';
import { ControllerError, isFailureReason } from './errors.js';

describe('controller errors — from(unknown)', () => {
  it('controller errors — switch failures become the reason an operator can act on, with the cause kept', () => {
    const gone = new P4RuntimeError('UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:9559');
    expect(ControllerError.from(gone, 'freeze at edge-1')).toMatchObject({ code: 'DEVICE_UNREACHABLE', message: 'freeze at edge-1: connect ECONNREFUSED 127.0.0.1:9559', cause: gone });
    expect(ControllerError.from(new P4RuntimeError('NOT_PRIMARY', 'x')).code).toBe('NOT_PRIMARY');
    expect(ControllerError.from(new P4RuntimeError('RESOURCE_EXHAUSTED', 'table full')).code).toBe('CAPACITY_EXCEEDED');
    expect(ControllerError.from(new EdgePluginError('SWITCH', 'wrapped', { cause: new P4RuntimeError('DEADLINE_EXCEEDED', 'slow') })).code).toBe('DEVICE_UNREACHABLE');
    expect(ControllerError.from(new EdgePluginError('VM_UNKNOWN', 'no such VM')).code).toBe('PEER_REJECTED');
    expect(ControllerError.from(new TypeError('oops')).code).toBe('INTERNAL');
    const own = new ControllerError('KEY_COLLISION', 'x');
    expect(ControllerError.from(own)).toBe(own);
  });

  it('controller errors — failure reasons are told apart from controller faults', () => {
    expect(isFailureReason('PAUSE_DEADLINE_MISSED')).toBe(true);
    expect(isFailureReason('ILLEGAL_TRANSITION')).toBe(false);
  });
});
