import { describe, expect, it } from 'vitest';
import { P4Schema, p4 } from 'p4runtime-ts';
import { comparePipeline, p4infoDifferences } from './pipeline-identity.js';
import { P4INFO_PATH } from './testing/sim-target.js';

const schema = P4Schema.fromFile(P4INFO_PATH);

/** The P4Info with one change applied to a copy. */
function changed(edit: (o: Record<string, unknown>) => void): P4Schema {
  const o = p4.config.v1.P4Info.toObject(schema.p4info as p4.config.v1.P4Info, { longs: String }) as Record<string, unknown>;
  edit(o);
  return P4Schema.fromP4Info(p4.config.v1.P4Info.fromObject(o));
}

describe('hw-test pipeline identity — P4Info differences', () => {
  it('finds none between a P4Info and its re-encoded copy', () => {
    expect(p4infoDifferences(schema, changed(() => undefined))).toEqual([]);
  });

  it('names a resized register and a missing table readably', () => {
    const other = changed((o) => {
      const regs = o.registers as { size: number; preamble: { name: string } }[];
      const r = regs.find((x) => x.preamble.name.endsWith('ct_state'));
      if (r) r.size = 65536;
      o.tables = (o.tables as { preamble: { name: string } }[]).filter((t) => !t.preamble.name.endsWith('static_acl'));
    });
    const d = p4infoDifferences(schema, other);
    expect(d).toContain("register 'StatefulEdgeIngress.conntrack.ct_state': size expected \"327680\", target \"65536\"");
    expect(d).toContain("table 'StatefulEdgeIngress.static_acl.static_acl': missing on the target");
  });

  it('judges a missing pipeline, a cookie mismatch and a match', () => {
    expect(comparePipeline(schema, undefined, undefined).kind).toBe('missing');
    expect(comparePipeline(schema, undefined, { p4info: undefined, deviceConfig: new Uint8Array(), cookie: undefined }).kind).toBe('missing');
    const cfg = { p4info: schema.p4info as p4.config.v1.P4Info, deviceConfig: new Uint8Array(), cookie: 5n };
    expect(comparePipeline(schema, undefined, cfg)).toMatchObject({ kind: 'match', differences: [] });
    expect(comparePipeline(schema, 5n, cfg).kind).toBe('match');
    const bad = comparePipeline(schema, 6n, cfg);
    expect(bad.kind).toBe('different');
    expect(bad.differences[0]).toMatch(/^cookie: expected 0x6 \(of --p4info \+ --device-config\), target 0x5/);
  });
});
