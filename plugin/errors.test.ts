import { P4RuntimeError } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { EDGE_PLUGIN_ERROR_CODES, EdgePluginError } from './errors.js';

describe('edge plugin errors — from(unknown)', () => {
  it('passes its own errors through unchanged', () => {
    const e = new EdgePluginError('CONTRACT_INVALID', "register 'r': bad", { entity: "register 'r'", annotation: '@migrate_group' });
    expect(EdgePluginError.from(e, 'ignored')).toBe(e);
    expect(e).toMatchObject({ name: 'EdgePluginError', entity: "register 'r'", annotation: '@migrate_group', switchCode: undefined });
  });

  it('wraps a switch failure as SWITCH, keeping the P4RuntimeError as cause and its code', () => {
    const cause = new P4RuntimeError('UNIMPLEMENTED', 'Register reads are not supported yet');
    const e = EdgePluginError.from(cause, 'reading register ct_state');
    expect(e).toMatchObject({ code: 'SWITCH', switchCode: 'UNIMPLEMENTED', message: 'reading register ct_state: UNIMPLEMENTED: Register reads are not supported yet' });
    expect(e.cause).toBe(cause);
    expect(EdgePluginError.from(new P4RuntimeError('BAD_OPTIONS', 'x')).code).toBe('BAD_OPTIONS');
  });

  it('turns anything else into INTERNAL', () => {
    expect(EdgePluginError.from(new TypeError('oops'))).toMatchObject({ code: 'INTERNAL', message: 'oops' });
    expect(EdgePluginError.from('text', 'ctx')).toMatchObject({ code: 'INTERNAL', message: 'ctx: text' });
    expect(EDGE_PLUGIN_ERROR_CODES).toContain('INBAND_TIMEOUT');
  });
});
