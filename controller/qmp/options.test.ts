import { describe, expect, it } from 'vitest';
import { ManualClock } from 'p4runtime-ts';
import { DEFAULT_QMP_CLIENT_OPTIONS, parseQmpAddress, parseQmpClientOptions } from './options.js';
import { QmpError } from './errors.js';

describe('qmp client options', () => {
  it('qmp options — addresses: unix:, absolute paths, tcp: and host:port (IPv6 in brackets)', () => {
    expect(parseQmpAddress('unix:/run/vm.qmp')).toEqual({ kind: 'unix', path: '/run/vm.qmp' });
    expect(parseQmpAddress('/run/vm.qmp')).toEqual({ kind: 'unix', path: '/run/vm.qmp' });
    expect(parseQmpAddress('tcp:127.0.0.1:4444')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4444 });
    expect(parseQmpAddress('[::1]:4444')).toEqual({ kind: 'tcp', host: '::1', port: 4444 });
    expect(() => parseQmpAddress('unix:')).toThrow(/has no socket path/);
    expect(() => parseQmpAddress('vm.qmp')).toThrow(/neither a socket path nor host:port/);
    expect(() => parseQmpAddress('tcp:host:99999')).toThrow(/port 1..65535/);
  });

  it('qmp options — defaults filled in, the result frozen, the clock kept', () => {
    const clock = new ManualClock();
    const o = parseQmpClientOptions({ address: 'unix:/x', clock });
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.commandTimeoutMs).toBe(DEFAULT_QMP_CLIENT_OPTIONS.commandTimeoutMs);
    expect(o.connectTimeoutMs).toBe(DEFAULT_QMP_CLIENT_OPTIONS.connectTimeoutMs);
    expect(o.transport.description).toBe('unix:/x');
    expect(o.clock).toBe(clock);
  });

  it('qmp options — bad values are refused with BAD_OPTIONS naming the field', () => {
    const codeOf = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return `${(e as QmpError).code} ${(e as QmpError).message}`;
      }
      return 'no error';
    };
    expect(codeOf(() => parseQmpClientOptions({}))).toMatch(/^BAD_OPTIONS QmpClientOptions.address: missing/);
    expect(codeOf(() => parseQmpClientOptions({ address: '/x', commandTimeoutMs: 0 }))).toMatch(/commandTimeoutMs: expected an integer >= 1/);
    expect(codeOf(() => parseQmpClientOptions({ address: '/x', connectTimeoutMs: 1.5 }))).toMatch(/connectTimeoutMs/);
    expect(codeOf(() => parseQmpClientOptions({ address: '/x', idPrefix: 'has space' }))).toMatch(/idPrefix/);
  });

  it('qmp errors — from() passes ours through, maps socket errnos to CONNECT_FAILED, the rest to INTERNAL', () => {
    const ours = new QmpError('TIMEOUT', 't');
    expect(QmpError.from(ours)).toBe(ours);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(QmpError.from(refused, 'ctx')).toMatchObject({ code: 'CONNECT_FAILED', message: 'ctx: connect ECONNREFUSED', cause: refused });
    expect(QmpError.from('boom')).toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });
});
