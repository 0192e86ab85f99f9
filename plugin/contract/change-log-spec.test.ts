import { describe, expect, it } from 'vitest';
import { P4Schema } from 'p4runtime-ts';
import { editP4Info, statefulEdgeP4InfoText } from '../testing/stateful-edge-p4info.js';
import { readMigrationContract, slotGroup } from './index.js';

const read = (text: string) => slotGroup(readMigrationContract(P4Schema.fromText(text, 'edited stateful_edge')));

describe('contract — change logs and new-flow notifications', () => {
  it('contract — reads 4 trackers of 8192 entries, the new-flow digest, a sequenced delta and the tracker parameter', () => {
    const text = statefulEdgeP4InfoText();
    const g = read(text);
    expect(g.changeLog).toEqual({ logRegister: 'ct_trk_log', headRegister: 'ct_trk_head', roundRegister: 'ct_trk_round', markRegister: 'ct_mark', changesRegister: 'ct_trk_changes', trackers: 4, logSize: 8192 });
    expect(g.newFlow?.digest).toBe('ct_new_t');
    expect(g.delta?.sequenced).toBe(true);
    expect(g.delta?.numbered).toBe(true);
    expect(readMigrationContract(P4Schema.fromText(text, 'x')).control?.tracker).toEqual({ param: 'tracker', bits: 8 });
  });

  it('contract — refuses a mark register of the wrong width and a log that is no power of two per tracker, naming the fix', () => {
    const text = statefulEdgeP4InfoText();
    const markWidth = editP4Info(text, 'bitwidth: 40\n      }\n    }\n  }\n  size: 327680\n}\ndigests', 'bitwidth: 48\n      }\n    }\n  }\n  size: 327680\n}\ndigests');
    expect(() => read(markWidth)).toThrow(/the mark register must be bit<40> with 327680 cells .*it is bit<48>/);
    const odd = editP4Info(text, 'size: 32768\n', 'size: 30000\n');
    expect(() => read(odd)).toThrow(/trackers \(4\) × a power of two/);
    const missing = editP4Info(text, '@migrate_changelog(\\"conntrack\\" , \\"ct_trk_head\\"', '@migrate_changelog(\\"conntrack\\" , \\"ct_trk_nohead\\"');
    expect(() => read(missing)).toThrow(/head register 'ct_trk_nohead', which the P4Info does not declare/);
  });
});
