import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { bmv2JsonDifferences } from './bmv2-json-check.js';
import { STATEFUL_EDGE_P4INFO_PATH, statefulEdgeP4InfoText, withoutTable } from './testing/stateful-edge-p4info.js';

const JSON_BYTES = readFileSync(join(dirname(STATEFUL_EDGE_P4INFO_PATH), 'stateful_edge.json'));

describe('bmv2 JSON check — the P4Info against the JSON it is pushed with', () => {
  it('bmv2 JSON check — a table the JSON matches on that the P4Info lacks (vm_migration cut out by hand) is told; p4c\'s own keyless tables are not', () => {
    expect(bmv2JsonDifferences(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH), JSON_BYTES)).toEqual([]);
    const cut = P4Schema.fromText(withoutTable(statefulEdgeP4InfoText(), 'vm_migration'), 'no vm_migration');
    expect(bmv2JsonDifferences(cut, JSON_BYTES)).toEqual(["table 'StatefulEdgeIngress.vm_control.vm_migration' is in the JSON but not in the P4Info"]);
  });
});
