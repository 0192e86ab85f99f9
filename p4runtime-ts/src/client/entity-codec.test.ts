import { describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { decodeDigestData, describeUpdate, parseDurationNs } from './entity-codec.js';
import { HandleCache } from './handles.js';
import { testSchema } from './testing/test-p4info.js';

describe('entity codec', () => {
  it('entity codec — durations read as nanoseconds with units', () => {
    expect(parseDurationNs('30s', 'x')).toBe(30_000_000_000n);
    expect(parseDurationNs('250ms', 'x')).toBe(250_000_000n);
    expect(parseDurationNs('1.5ms', 'x')).toBe(1_500_000n);
    expect(parseDurationNs('2m', 'x')).toBe(120_000_000_000n);
    expect(parseDurationNs('100us', 'x')).toBe(100_000n);
    expect(parseDurationNs(7n, 'x')).toBe(7n);
    expect(parseDurationNs(7, 'x')).toBe(7n);
    expect(() => parseDurationNs('1.5ns', 'idle')).toThrow(/idle: '1\.5ns' is not a whole number of nanoseconds/);
    expect(() => parseDurationNs('soon', 'idle')).toThrow(P4RuntimeError);
    expect(() => parseDurationNs(-1n, 'idle')).toThrow(/outside 0 \.\. 2\^63-1/);
  });

  it('entity codec — updates are described by table, key and action names', () => {
    const schema = testSchema();
    const h = new HandleCache(schema);
    expect(describeUpdate(schema, h.table('acl').insert({ match: { dst: '10.0.0.5', dport: 53 }, action: 'allow', params: { port: 1 } }))).toBe(
      'INSERT table ingress.acl {hdr.ipv4.dst=10.0.0.5, hdr.tcp.dport=53} → allow(port=1)',
    );
    expect(describeUpdate(schema, h.table('filter').delete({ match: { src: '10.0.0.0/8' }, priority: 5 }))).toBe(
      'DELETE table ingress.filter {hdr.ipv4.src=10.0.0.0 &&& 255.0.0.0, priority=5}',
    );
    expect(describeUpdate(schema, h.table('acl').setDefault('drop'))).toBe('MODIFY default action of table ingress.acl → drop');
    expect(describeUpdate(schema, h.register('ct_state').modify(3, 1n))).toBe('MODIFY register ingress.ct_state[3]');
    expect(describeUpdate(schema, h.counter('vm_bytes').modify(7, { bytes: 1n }))).toBe('MODIFY counter ingress.vm_bytes[7]');
    expect(describeUpdate(schema, h.directCounter('acl').modify({ dst: 1, dport: 2 }, { packets: 1n }))).toBe(
      'MODIFY direct counter of table ingress.acl {hdr.ipv4.dst=0.0.0.1, hdr.tcp.dport=2}',
    );
    expect(describeUpdate(schema, h.digest('ct_delta').configure({ maxListSize: 1 }))).toBe('INSERT digest ct_delta config');
    // Ids unknown to the schema are shown as ids, never thrown.
    expect(describeUpdate(schema, { type: 1, entity: { tableEntry: { tableId: 42 } } })).toBe('INSERT table #42');
    expect(describeUpdate(undefined, { type: 3, entity: { registerEntry: { registerId: 9 } } })).toBe('DELETE register #9[0]');
  });

  it('entity codec — digest data decodes nested structs and headers in declaration order', () => {
    const d = testSchema().digest('ct_delta');
    expect(decodeDigestData(d, { struct: { members: [{ bitstring: Uint8Array.of(10, 0, 0, 1) }, { bitstring: Uint8Array.of(0, 9) }] } })).toEqual({ src_addr: 0x0a000001n, index: 9n });
    expect(() => decodeDigestData(d, { struct: { members: [{ bitstring: Uint8Array.of(1, 0, 0, 0, 0) }, { bitstring: Uint8Array.of(1) }] } })).toThrow(/member 'src_addr'.*does not fit bit<32>/);
  });
});
