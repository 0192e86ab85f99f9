import { describe, expect, it } from 'vitest';
import { DeviceApiFailure } from '../../plugin/index.js';
import { stepFailure } from '../engine/call-each.js';
import { explainTransport } from './transport-cause.js';

// The texts walkthrough 22 met, as gRPC wrote them.
const SILENT = 'device edge-2: Capabilities: Deadline exceeded after 30.007s,name resolution: 0.009s,Waiting for LB pick (gRPC DEADLINE_EXCEEDED)';
const WRONG_CA = 'device edge-2: Capabilities: No connection established. Last error: Error: unable to verify the first certificate. Resolution note:  (gRPC UNAVAILABLE)';

describe('transport cause — raw gRPC texts given their cause and fix', () => {
  it('transport cause — a peer that accepts TCP and never speaks gRPC is said to be no daemon, with the address to check', () => {
    expect(explainTransport(SILENT)).toBe(`${SILENT}; the peer accepted the connection but no gRPC session came up (no TLS or HTTP/2 handshake completed): whatever listens there is not a carryover plugin daemon or P4Runtime server, or it hangs; check the address in the inventory (a daemon's is its migration.listen) and that the right process serves it`);
  });

  it('transport cause — a server certificate from another CA names controller.tls.ca and the fix', () => {
    expect(explainTransport(WRONG_CA)).toMatch(/unable to verify the first certificate.*; the peer's certificate is not signed by the CA this controller trusts: set the inventory's controller\.tls\.ca \(plugin daemons\) or devices\.NAME\.tls\.ca \(switches\)/);
    expect(explainTransport('x: certificate has expired')).toMatch(/has expired: renew it/);
  });

  it('transport cause — other messages are left as they are (a deadline mid-call is not a silent peer)', () => {
    const midCall = 'device edge-2: Abort: Deadline exceeded after 30.000s (gRPC DEADLINE_EXCEEDED)';
    expect(explainTransport(midCall)).toBe(midCall);
  });

  it('transport cause — a step failing at a device carries the explanation in the controller\'s reason', () => {
    const e = stepFailure(new DeviceApiFailure('DEVICE_UNREACHABLE', SILENT), 'capabilities at edge-2');
    expect(e.code).toBe('DEVICE_UNREACHABLE');
    expect(e.message).toMatch(/^capabilities at edge-2: .*Waiting for LB pick.*; the peer accepted the connection but no gRPC session came up/);
  });
});
