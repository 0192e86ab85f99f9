import { describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { DEFAULT_P4SWITCH_OPTIONS, defaultElectionId, parseP4SwitchOptions } from './options.js';
import type { P4SwitchOptions } from './options.js';
import { channelOptions } from './transport.js';
import { ManualClock } from './manual-clock.js';

function badOption(o: Partial<P4SwitchOptions>): P4RuntimeError {
  try {
    parseP4SwitchOptions({ address: '127.0.0.1:9559', deviceId: 0, ...o } as P4SwitchOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(P4RuntimeError);
    expect((e as P4RuntimeError).code).toBe('BAD_OPTIONS');
    return e as P4RuntimeError;
  }
  throw new Error('expected BAD_OPTIONS');
}

describe('options', () => {
  it('options — defaults fill every field, ids become bigint, the result is frozen', () => {
    const o = parseP4SwitchOptions({ address: '127.0.0.1:9559', deviceId: 1, electionId: 5 });
    expect(o.deviceId).toBe(1n);
    expect(o.electionId).toBe(5n);
    expect(o.maxReceiveMessageBytes).toBe(256 * 1024 * 1024);
    expect(o.writeBatchSize).toBe(DEFAULT_P4SWITCH_OPTIONS.writeBatchSize);
    expect(o.credentials).toEqual({ kind: 'insecure' });
    expect(o.grpcClient).toBe('http2');
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.reconnect)).toBe(true);
  });

  it('options — the default election id comes from the clock and never repeats in a process', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const a = defaultElectionId(clock);
    const b = defaultElectionId(clock);
    expect(a / 1000n).toBe(1_700_000_000_000n);
    expect(b).not.toBe(a);
    expect(parseP4SwitchOptions({ address: 'h:1', deviceId: 0, clock }).electionId / 1000n).toBe(1_700_000_000_000n);
  });

  it('options — errors name the field, the expected form and the fix', () => {
    expect(badOption({ address: 'localhost' }).message).toMatch(/P4SwitchOptions\.address: "localhost" is not "host:port".*"10\.1\.0\.7:9559"/);
    expect(badOption({ address: '127.0.0.1:70000' }).message).toMatch(/port 1\.\.65535/);
    expect(badOption({ deviceId: -1 }).message).toMatch(/deviceId: -1 is outside a 64-bit device id range 0\.\.18446744073709551615/);
    expect(badOption({ deviceId: 1n << 64n }).message).toMatch(/deviceId/);
    expect(badOption({ electionId: 0n }).message).toMatch(/electionId: 0 is outside a 128-bit election id range 1\.\./);
    expect(badOption({ electionId: 1.5 }).message).toMatch(/electionId: expected a 128-bit election id as a bigint or safe integer/);
    expect(badOption({ writeBatchSize: 0 }).message).toMatch(/writeBatchSize: expected an integer >= 1, got 0/);
    expect(badOption({ grpcClient: 'grpcjs' as never }).message).toMatch(/grpcClient: expected 'http2' or 'grpc-js', got grpcjs/);
    expect(badOption({ reconnect: { initialDelayMs: 500, maxDelayMs: 100 } }).message).toMatch(/reconnect\.maxDelayMs: 100 is below initialDelayMs 500/);
    expect(badOption({ onElectionIdConflict: 'retry' as never }).message).toMatch(/'fail' or 'bid-higher'/);
    expect(badOption({ credentials: { kind: 'mtls', ca: '/nonexistent/ca.pem', cert: '-----BEGIN CERTIFICATE-----', key: '-----BEGIN KEY-----' } }).message).toMatch(
      /credentials\.ca: cannot read PEM file "\/nonexistent\/ca\.pem"/,
    );
  });

  it('options — accepted address forms', () => {
    for (const address of ['10.1.0.7:9559', '[::1]:9559', 'switch-1.lab:50051', 'unix:/tmp/p4rt.sock']) {
      expect(parseP4SwitchOptions({ address, deviceId: 0 }).address).toBe(address);
    }
  });

  it('options — channel options carry the receive limit and keepalive', () => {
    const o = parseP4SwitchOptions({ address: 'h:1', deviceId: 0, maxReceiveMessageBytes: 1 << 30, keepaliveMs: 60_000 });
    expect(channelOptions(o)).toMatchObject({ 'grpc.max_receive_message_length': 1 << 30, 'grpc.keepalive_time_ms': 60_000 });
    expect(channelOptions(parseP4SwitchOptions({ address: 'h:1', deviceId: 0, keepaliveMs: 0 }))['grpc.keepalive_time_ms']).toBeUndefined();
  });
});
