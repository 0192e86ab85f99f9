import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { P4RuntimeError } from '../errors.js';
import { p4, toBigInt } from '../proto/index.js';
import { formatP4InfoText, formatTextProto, parseP4InfoText, parseTextProto } from './text-format.js';

const fixture = readFileSync(new URL('./fixtures/inband.p4info.txtpb', import.meta.url), 'utf8');

function errorOf(f: () => unknown): P4RuntimeError {
  try {
    f();
  } catch (e) {
    return e as P4RuntimeError;
  }
  throw new Error('expected an error');
}

const asObject = (m: p4.config.v1.P4Info): Record<string, unknown> => p4.config.v1.P4Info.toObject(m, { longs: String, enums: String });

describe('schema/text-format — P4Info', () => {
  it('schema/text-format — p4c txtpb parses, encodes to binary and decodes to the same message', () => {
    const info = parseP4InfoText(fixture);
    expect(info.tables).toHaveLength(2);
    expect(info.tables[0]?.preamble?.name).toBe('LabIngress.acl');
    expect(info.tables[0]?.idleTimeoutBehavior).toBe(p4.config.v1.Table.IdleTimeoutBehavior.NOTIFY_CONTROL);
    expect(info.typeInfo?.structs?.delta_t?.members?.map((m) => m.name)).toEqual(['index', 'value']);
    const bin = p4.config.v1.P4Info.encode(info).finish();
    expect(asObject(p4.config.v1.P4Info.decode(bin))).toEqual(asObject(info));
  });

  it('schema/text-format — formatP4InfoText reproduces the p4c fixture byte for byte', () => {
    expect(formatP4InfoText(parseP4InfoText(fixture))).toBe(fixture);
  });

  it('schema/text-format — format then parse is the identity on the message', () => {
    const info = parseP4InfoText(fixture);
    expect(asObject(parseP4InfoText(formatP4InfoText(info)))).toEqual(asObject(info));
  });
});

describe('schema/text-format — syntax', () => {
  it('schema/text-format — comments, separators, "name: {", <>, lists and enum numbers', () => {
    const plain = parseTextProto(
      'p4.config.v1.Table',
      `# a comment
       preamble: { id: 0x02000001, name: 'x' ; alias: "x" }   # trailing comment
       match_fields < id: 1 name: "f" bitwidth: 8 match_type: 3 >
       direct_resource_ids: [1, 2]
       direct_resource_ids: 3
       action_refs: [{ id: 7 }, { id: 8 scope: DEFAULT_ONLY }]
       size: 010`,
    );
    const t = p4.config.v1.Table.fromObject(plain);
    expect(t.preamble?.id).toBe(0x02000001);
    expect(t.preamble?.name).toBe('x');
    expect(t.matchFields[0]?.matchType).toBe(p4.config.v1.MatchField.MatchType.LPM);
    expect(t.directResourceIds).toEqual([1, 2, 3]);
    expect(t.actionRefs.map((r) => r.id)).toEqual([7, 8]);
    expect(t.actionRefs[1]?.scope).toBe(p4.config.v1.ActionRef.Scope.DEFAULT_ONLY);
    expect(Number(t.size)).toBe(8); // leading 0: octal, as in protobuf text format
  });

  it('schema/text-format — bytes with octal, hex and C escapes, and adjacent strings', () => {
    const plain = parseTextProto('p4.v1.FieldMatch', `field_id: 1 exact { value: "\\x0a\\001\\n" 'A\\'' }`);
    const fm = p4.v1.FieldMatch.fromObject(plain);
    expect([...(fm.exact?.value ?? [])]).toEqual([0x0a, 0x01, 0x0a, 0x41, 0x27]);
  });

  it('schema/text-format — strings decode as UTF-8, including \\u escapes', () => {
    const plain = parseTextProto('p4.config.v1.Preamble', 'name: "caf\\303\\251" alias: "\\u00e9t\\u00e9"');
    expect(plain.name).toBe('café');
    expect(plain.alias).toBe('été');
  });

  it('schema/text-format — 64-bit values keep full precision', () => {
    const plain = parseTextProto('p4.v1.CounterData', 'byte_count: 9223372036854775807 packet_count: 9007199254740993');
    const cd = p4.v1.CounterData.fromObject(plain);
    expect(toBigInt(cd.byteCount, true)).toBe(9223372036854775807n);
    expect(toBigInt(cd.packetCount, true)).toBe(9007199254740993n);
    const wr = p4.v1.WriteRequest.fromObject(parseTextProto('p4.v1.WriteRequest', 'device_id: 18446744073709551615'));
    expect(toBigInt(wr.deviceId)).toBe(18446744073709551615n);
    expect(() => parseTextProto('p4.v1.WriteRequest', 'device_id: -1')).toThrow(/-1 is out of range for uint64 field 'device_id'/);
  });

  it('schema/text-format — maps read as key/value entries', () => {
    const plain = parseTextProto('p4.config.v1.P4TypeInfo', 'structs { key: "s" value { members { name: "a" } } } structs { key: "t" value {} }');
    expect(Object.keys(plain.structs as object)).toEqual(['s', 't']);
  });
});

describe('schema/text-format — errors carry line:column, field and expectation', () => {
  it.each([
    ['tables {\n  preambel { }\n}', "<text>:2:3: p4.config.v1.Table has no field 'preambel' (fields: preamble,"],
    ['tables {\n  idle_timeout_behavior: SOMETIMES\n}', "<text>:2:26: 'SOMETIMES' is not a value of enum IdleTimeoutBehavior for 'idle_timeout_behavior' (expected one of NO_TIMEOUT, NOTIFY_CONTROL)"],
    ['pkg_info { name "x" }', "<text>:1:17: expected ':' after scalar field 'name'"],
    ['pkg_info { name: "x }', '<text>:1:18: unterminated string'],
    ['tables { size: abc }', "<text>:1:16: expected an integer (int64) for 'size', got 'abc'"],
    ['actions { params { bitwidth: 2147483648 } }', "<text>:1:30: 2147483648 is out of range for int32 field 'bitwidth'"],
    ['pkg_info { name: "a" name: "b" }', "<text>:1:22: non-repeated field 'name' of p4.config.v1.PkgInfo is set twice"],
    ['tables { match_fields { match_type: EXACT other_match_type: "x" } }', "'other_match_type' and 'match_type' are both set but belong to the same oneof 'match'"],
    ['tables {\n  preamble {\n', "<text>:3:1: expected '}' to close a p4.config.v1.Preamble message, got end of input"],
    ['pkg_info { name: "\\q" }', "unknown escape '\\q'"],
    ['tables { preamble: 5 }', "expected '{' to start message field 'preamble' (p4.config.v1.Preamble), got '5'"],
    ['pkg_info { name: [ "a" ] }', "'name' is not repeated; a [list] is not allowed"],
  ])('schema/text-format — %j', (text, message) => {
    const e = errorOf(() => parseP4InfoText(text));
    expect(e).toBeInstanceOf(P4RuntimeError);
    expect(e.code).toBe('SCHEMA_INVALID');
    expect(e.message).toContain(message);
  });

  it('schema/text-format — the source name prefixes the position', () => {
    expect(errorOf(() => parseP4InfoText('x: 1', { source: 'build/a.p4info.txtpb' })).message).toMatch(/^build\/a\.p4info\.txtpb:1:1: /);
  });

  it('schema/text-format — unknown message type is named', () => {
    expect(errorOf(() => parseTextProto('p4.v1.Nope', '')).message).toBe("no message type 'p4.v1.Nope' in the P4Runtime descriptor");
  });
});

describe('schema/text-format — writer', () => {
  it('schema/text-format — set oneof members are written even when default-valued', () => {
    const text = formatTextProto('p4.config.v1.Expression', { int64Value: 0 });
    expect(text).toBe('int64_value: 0\n');
  });

  it('schema/text-format — empty sub-messages are kept (their presence matters)', () => {
    expect(formatTextProto('p4.v1.CounterEntry', { counterId: 5, index: {} })).toBe('counter_id: 5\nindex {\n}\n');
  });

  it('schema/text-format — arbitrary bytes and strings round-trip through the writer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 12 }), (bytes, s) => {
        const text = formatTextProto('p4.v1.PacketMetadata', { metadataId: 1, value: bytes });
        const back = p4.v1.PacketMetadata.fromObject(parseTextProto('p4.v1.PacketMetadata', text));
        expect([...back.value]).toEqual([...bytes]);
        const pre = parseTextProto('p4.config.v1.Preamble', formatTextProto('p4.config.v1.Preamble', { id: 1, name: s }));
        expect(pre.name ?? '').toBe(s);
      }),
    );
  });
});
