import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DEVICE_FAILURE_REASONS } from '../device-api/device-api.js';
import { DeviceApiFailure } from '../device-api/migration-sessions.js';
import { REASON_METADATA, failureToStatus, statusToFailure } from './status.js';

describe('protocol status — reasons across the wire', () => {
  it('protocol status — every reason leaves as a status and comes back as the same reason and message', () => {
    for (const reason of DEVICE_FAILURE_REASONS) {
      const s = failureToStatus(new DeviceApiFailure(reason, `dst: ${reason} happened`), 'ImportStaged');
      expect(s.metadata?.get(REASON_METADATA)).toEqual([reason]);
      const back = statusToFailure(s, 'device dst: ImportStaged');
      expect(back.reason).toBe(reason);
      expect(back.message).toBe(`device dst: ImportStaged: dst: ${reason} happened`);
    }
  });
  it('protocol status — a device that names itself and the step is not named twice; another device\'s words keep both names', () => {
    const own = failureToStatus(new DeviceApiFailure('PEER_REJECTED', 'device edge-1: prepare of migration m1: VM not in vm_table'), 'device edge-1: Prepare');
    expect(statusToFailure(own, 'device edge-1: Prepare').message).toBe('device edge-1: prepare of migration m1: VM not in vm_table');
    const other = failureToStatus(new DeviceApiFailure('PEER_REJECTED', 'device tor-9: prepare of migration m1: VM not in vm_table'), 'device tor-9: Prepare');
    expect(statusToFailure(other, 'device edge-1: Prepare').message).toBe('device edge-1: Prepare: device tor-9: prepare of migration m1: VM not in vm_table');
  });
  it('protocol status — a status without a reason maps by code: unreachable, refused credentials, anything else', () => {
    const st = (code: number, details: string) => Object.assign(new Error(details), { code, details, metadata: new Metadata() });
    expect(statusToFailure(st(GrpcStatus.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED'), 'x').reason).toBe('DEVICE_UNREACHABLE');
    expect(statusToFailure(st(GrpcStatus.UNAVAILABLE, 'Connection dropped: certificate verify failed'), 'x').reason).toBe('UNAUTHORIZED');
    expect(statusToFailure(st(GrpcStatus.RESOURCE_EXHAUSTED, 'Received message larger than max'), 'x')).toMatchObject({ reason: 'PEER_REJECTED', message: /larger than max \(gRPC RESOURCE_EXHAUSTED\)/ });
    // A reason that is not in the closed set is not trusted: the code decides.
    const odd = st(GrpcStatus.PERMISSION_DENIED, 'no');
    odd.metadata.set(REASON_METADATA, 'MADE_UP');
    expect(statusToFailure(odd, 'x').reason).toBe('UNAUTHORIZED');
  });
  it('protocol status — anything thrown that is not a failure becomes one with a reason', () => {
    const s = failureToStatus(new Error('boom'), 'device d: Freeze');
    expect(s.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(statusToFailure(s, 'y').reason).toBe('DEVICE_UNREACHABLE');
  });
});
