import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { bmv2JsonDifferences } from '../plugin/index.js';
import { parseHwTestOptions } from './options.js';

const P4 = join(dirname(fileURLToPath(import.meta.url)), '..', 'p4');
const P4INFO = join(P4, 'stateful_edge.p4info.txtpb');
const JSON_BYTES = readFileSync(join(P4, 'stateful_edge.json'));
const schema = P4Schema.fromFile(P4INFO);

/** The committed JSON with `edit` applied to its parsed document. */
function edited(edit: (doc: { register_arrays: { name: string; size: number }[]; pipelines: { tables: { name: string; max_size: number }[] }[] }) => void): Uint8Array {
  const doc = JSON.parse(JSON_BYTES.toString('utf8')) as Parameters<typeof edit>[0];
  edit(doc);
  return new TextEncoder().encode(JSON.stringify(doc));
}

describe('hw-test — P4Info and BMv2 JSON of one p4c run', () => {
  it('bmv2 JSON check — the committed P4Info and JSON agree; a JSON of another build is told apart by name and size', () => {
    expect(bmv2JsonDifferences(schema, JSON_BYTES)).toEqual([]);
    const smaller = edited((d) => {
      for (const r of d.register_arrays) if (r.name.endsWith('.ct_state')) r.size = 65536;
      for (const t of d.pipelines.flatMap((p) => p.tables)) if (t.name.endsWith('.vm_table')) t.max_size = 64;
    });
    expect(bmv2JsonDifferences(schema, smaller)).toEqual([
      "table 'StatefulEdgeIngress.forwarding.vm_table': size 1024 in the P4Info, 64 in the JSON",
      "register 'StatefulEdgeIngress.conntrack.ct_state': 327680 × bit<64> in the P4Info, 65536 × bit<64> in the JSON",
    ]);
    expect(bmv2JsonDifferences(schema, new TextEncoder().encode('not json'))).toBeUndefined();
  });

  it('bmv2 JSON check — hw-test refuses a mismatched pair, and a device config that is no BMv2 JSON on a bmv2 target, naming both files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-test-json-'));
    const file = join(dir, 'other-build.json');
    writeFileSync(file, edited((d) => d.register_arrays.splice(0, 1)));
    expect(() => parseHwTestOptions({ target: '127.0.0.1:9559', profile: 'bmv2', p4info: P4INFO, deviceConfig: file })).toThrow(/--device-config: .*other-build\.json and --p4info .*stateful_edge\.p4info\.txtpb are not from the same p4c run: register 'StatefulEdgeIngress\.conntrack\.ct_key_addr' is not in the JSON; give the P4Info and the JSON one p4c-bm2-ss run wrote/);
    expect(() => parseHwTestOptions({ target: '127.0.0.1:9559', profile: 'bmv2', p4info: P4INFO, deviceConfig: new TextEncoder().encode('stateful_edge') })).toThrow(/--device-config: <13 bytes> is not a BMv2 JSON; give the JSON p4c-bm2-ss wrote/);
    expect(parseHwTestOptions({ target: '127.0.0.1:9559', profile: 'full', p4info: P4INFO, deviceConfig: new TextEncoder().encode('stateful_edge') }).deviceConfig?.length).toBe(13);
    rmSync(dir, { recursive: true, force: true });
  });
});
