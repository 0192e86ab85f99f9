import { describe, expect, it } from 'vitest';
import { DEFAULT_SIM_SWITCH_OPTIONS, parseListenAddress, parseSimSwitchOptions } from './options.js';
import { VirtualScheduler } from './clock.js';

describe('sim options — parsing at the edge', () => {
  it('sim options — defaults are filled in and the result is frozen', () => {
    const o = parseSimSwitchOptions();
    expect(o).toMatchObject({ listen: DEFAULT_SIM_SWITCH_OPTIONS.listen, host: '127.0.0.1', port: 0, deviceId: 1n, profile: 'full', credentials: { kind: 'insecure' }, readChunkSize: 1000 });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('sim options — device ids accept numbers, bigints and decimal strings up to 2^64-1', () => {
    expect(parseSimSwitchOptions({ deviceId: '18446744073709551615' }).deviceId).toBe((1n << 64n) - 1n);
    expect(parseSimSwitchOptions({ deviceId: 0 }).deviceId).toBe(0n);
    expect(() => parseSimSwitchOptions({ deviceId: -1 })).toThrow(/sim option 'deviceId': got -1; expected an unsigned 64-bit integer/);
    expect(() => parseSimSwitchOptions({ deviceId: 'one' })).toThrow(/deviceId/);
    expect(() => parseSimSwitchOptions({ deviceId: 1.5 })).toThrow(/deviceId/);
  });

  it('sim options — listen addresses: host:port and [v6]:port', () => {
    expect(parseListenAddress('[::1]:9559')).toEqual({ host: '[::1]', port: 9559 });
    expect(() => parseSimSwitchOptions({ listen: '127.0.0.1' })).toThrow(/sim option 'listen': got "127.0.0.1"; expected 'host:port'/);
    expect(() => parseSimSwitchOptions({ listen: 'h:70000' })).toThrow(/port 0..65535/);
  });

  it('sim options — profile, cpu port, program, scheduler and chunk size are checked', () => {
    expect(() => parseSimSwitchOptions({ profile: 'tofino' as never })).toThrow(/expected one of full, bmv2, stratum-tofino/);
    expect(() => parseSimSwitchOptions({ cpuPort: -3 })).toThrow(/cpuPort/);
    expect(() => parseSimSwitchOptions({ program: ' ' })).toThrow(/non-empty program name/);
    expect(() => parseSimSwitchOptions({ scheduler: {} as never })).toThrow(/a Scheduler/);
    expect(() => parseSimSwitchOptions({ readChunkSize: 0 })).toThrow(/readChunkSize/);
    expect(() => parseSimSwitchOptions({ idleScanIntervalMs: 0 })).toThrow(/idleScanIntervalMs/);
    const clock = new VirtualScheduler();
    expect(parseSimSwitchOptions({ scheduler: clock, profile: 'bmv2', program: ' l2_echo ' })).toMatchObject({ scheduler: clock, profile: 'bmv2', program: 'l2_echo' });
  });

  it('sim options — credentials must carry PEM', () => {
    expect(() => parseSimSwitchOptions({ credentials: { kind: 'mtls', caPem: 'x', certPem: 'y', keyPem: 'z' } })).toThrow(/credentials.caPem/);
    expect(() => parseSimSwitchOptions({ credentials: { kind: 'ssh' } as never })).toThrow(/'insecure', 'tls' or 'mtls'/);
  });
});
