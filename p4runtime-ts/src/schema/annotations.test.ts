import { describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { toLong } from '../proto/index.js';
import { findAnnotation, fromStructuredAnnotation, parseAnnotation, parseAnnotations } from './annotations.js';

describe('schema/annotations — unstructured strings', () => {
  it('schema/annotations — bare annotation has no args', () => {
    expect(parseAnnotation('@hidden', 'x')).toEqual({ name: 'hidden', args: [], kv: {}, raw: '@hidden' });
  });

  it('schema/annotations — string argument', () => {
    expect(parseAnnotation('@name("x")', 'x').args).toEqual(['x']);
    expect(parseAnnotation('@migrate_group("conntrack")', 'x').args).toEqual(['conntrack']);
  });

  it('schema/annotations — p4c-spaced mixed arguments become string, bigint, boolean', () => {
    const a = parseAnnotation('@migrate_key("src_addr" , 1 , true)', "table 'ct'");
    expect(a.name).toBe('migrate_key');
    expect(a.args).toEqual(['src_addr', 1n, true]);
    expect(a.raw).toBe('@migrate_key("src_addr" , 1 , true)');
  });

  it('schema/annotations — integer forms: hex, negative, width-prefixed', () => {
    expect(parseAnnotation('@x(0x10, -3, 8w255, 16s-2, false)', 'o').args).toEqual([16n, -3n, 255n, -2n, false]);
  });

  it('schema/annotations — escapes in strings', () => {
    expect(parseAnnotation('@brief("say \\"hi\\"\\n")', 'o').args).toEqual(['say "hi"\n']);
  });

  it('schema/annotations — key=value bodies, in [] or ()', () => {
    expect(parseAnnotation('@migrate[group="conntrack", version=2]', 'o').kv).toEqual({ group: 'conntrack', version: 2n });
    expect(parseAnnotation('@pkginfo(name="lab", version="1")', 'o').kv).toEqual({ name: 'lab', version: '1' });
  });

  it('schema/annotations — bare identifiers read as strings', () => {
    expect(parseAnnotation('@p4runtime_translation("p4.org/psa/v1/PortId_t", string)', 'o').args).toEqual(['p4.org/psa/v1/PortId_t', 'string']);
  });

  it.each([
    ['migrate_group("x")', /expected '@name'/],
    ['@x("unterminated)', /unterminated string literal/],
    ['@x("a" "b")', /expected ',' between arguments/],
    ['@x(1 + 2)', /unexpected character '\+'/],
    ['@x("a",)', /trailing comma/],
    ['@x(1', /missing closing '\)'/],
    ['@x(a=1, 2)', /mixes positional and key=value/],
  ])('schema/annotations — %s is SCHEMA_INVALID naming the entity and text', (text, reason) => {
    let err: P4RuntimeError | undefined;
    try {
      parseAnnotation(text, "table 'ingress.acl'");
    } catch (e) {
      err = e as P4RuntimeError;
    }
    expect(err).toBeInstanceOf(P4RuntimeError);
    expect(err?.code).toBe('SCHEMA_INVALID');
    expect(err?.message).toContain(`table 'ingress.acl': cannot parse annotation '${text}'`);
    expect(err?.message).toMatch(reason);
  });
});

describe('schema/annotations — structured', () => {
  it('schema/annotations — kv_pair_list becomes kv, int64 as bigint', () => {
    const a = fromStructuredAnnotation(
      {
        name: 'migrate',
        kvPairList: { kvPairs: [{ key: 'group', value: { stringValue: 'ct' } }, { key: 'version', value: { int64Value: toLong(2n, true) } }] },
      },
      'o',
    );
    expect(a.kv).toEqual({ group: 'ct', version: 2n });
    expect(a.raw).toBe('@migrate[group="ct", version=2]');
  });

  it('schema/annotations — expression_list becomes args', () => {
    const a = fromStructuredAnnotation({ name: 'm', expressionList: { expressions: [{ stringValue: 'a' }, { int64Value: toLong(-5n, true) }, { boolValue: false }] } }, 'o');
    expect(a.args).toEqual(['a', -5n, false]);
  });

  it('schema/annotations — an empty expression is SCHEMA_INVALID', () => {
    expect(() => fromStructuredAnnotation({ name: 'm', expressionList: { expressions: [{}] } }, "register 'r'")).toThrow(
      "register 'r': structured annotation @m has an expression with no value",
    );
  });

  it('schema/annotations — parseAnnotations merges both lists and findAnnotation finds by name with or without @', () => {
    const list = parseAnnotations(['@hidden'], [{ name: 'migrate', kvPairList: { kvPairs: [] } }], 'o');
    expect(list.map((a) => a.name)).toEqual(['hidden', 'migrate']);
    expect(findAnnotation(list, '@migrate')?.name).toBe('migrate');
    expect(findAnnotation(list, 'nope')).toBeUndefined();
  });
});
