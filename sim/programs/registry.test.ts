import { describe, expect, it } from 'vitest';
import { NULL_PROGRAM, findProgram, normalizeProgramName, registerProgram, registeredProgramNames } from './registry.js';
import './builtin.js';
import { L2_ECHO_PROGRAM } from './l2-echo/l2-echo.js';

describe('program registry — by name', () => {
  it('program registry — names ignore paths and extensions', () => {
    expect(normalizeProgramName('./build/l2_echo.p4i')).toBe('l2_echo');
    expect(normalizeProgramName('l2_echo.p4info.txtpb')).toBe('l2_echo');
    expect(findProgram('/x/l2_echo.json')).toBe(L2_ECHO_PROGRAM);
    expect(registeredProgramNames()).toContain('l2_echo');
  });

  it('program registry — a second program under a taken name is refused; re-registering the same one is fine', () => {
    registerProgram(L2_ECHO_PROGRAM);
    expect(() => registerProgram({ name: 'l2_echo.p4', instantiate: () => NULL_PROGRAM.instantiate({ cpuPort: 0 }) })).toThrow(/a different program is already registered as 'l2_echo'/);
    expect(() => registerProgram({ name: '', instantiate: () => NULL_PROGRAM.instantiate({ cpuPort: 0 }) })).toThrow(/empty name/);
  });

  it('program registry — the null program drops every packet', () => {
    expect(NULL_PROGRAM.instantiate({ cpuPort: 255 }).process({ ingressPort: 1, payload: new Uint8Array(1) }, {} as never)).toMatchObject({ kind: 'drop' });
  });
});
