import { P4Schema } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { STATEFUL_EDGE_P4INFO_PATH, editP4Info, statefulEdgeP4InfoText } from '../testing/stateful-edge-p4info.js';
import { readMigrationContract, slotGroup } from './migration-contract.js';
import { decodeSlotFields, encodeSlotWords } from './slot-codec.js';
import { coveredWords, sameKeyWords, sameSlotLayout, setFieldValue, slotKeyWords, slotWordMasks } from './slot-words.js';

const ct = slotGroup(readMigrationContract(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH)), 'conntrack');
const flow = { vm_addr: 0x0a000005n, remote_addr: 0xc0000201n, vm_port: 40000n, remote_port: 443n, protocol: 6n, vm_id: 7n, state: 3n, end_out: 1000n, last_seen: 99n };

describe('slot words — a slot handled as its words', () => {
  it('masks exactly the bits fields hold, and of those the key fields', () => {
    const m = slotWordMasks(ct);
    const all = Object.fromEntries(ct.fieldNames.map((n) => [n, (1n << BigInt(ct.fields.get(n)?.bits ?? 0)) - 1n]));
    expect(m.covered).toEqual(encodeSlotWords(ct, all));
    const keyOnly = Object.fromEntries(ct.key.map((f) => [f.name, all[f.name] ?? 0n]));
    expect(m.key).toEqual(encodeSlotWords(ct, keyOnly));
  });

  it('keeps the key bits only, and compares flows by them', () => {
    const words = encodeSlotWords(ct, flow);
    const key = slotKeyWords(ct, words);
    expect(decodeSlotFields(ct, key)).toEqual({ ...Object.fromEntries(ct.fieldNames.map((n) => [n, 0n])), ...Object.fromEntries(ct.key.map((f) => [f.name, (flow as Record<string, bigint>)[f.name] ?? 0n])) });
    expect(sameKeyWords(ct, key, encodeSlotWords(ct, { ...flow, state: 4n, end_out: 7n }))).toBe(true);
    expect(sameKeyWords(ct, key, encodeSlotWords(ct, { ...flow, vm_port: 40001n }))).toBe(false);
    // A word that is all key compared as it is — unless it has bits beyond its register's width,
    // which are not the key's: compared on the key bits then.
    const port = ct.fields.get('vm_port')?.word ?? -1;
    const wide = [...words];
    wide[port] = (wide[port] ?? 0n) | (1n << BigInt(ct.words[port]?.bits ?? 0));
    expect(slotWordMasks(ct).key[port]).toBe(slotWordMasks(ct).width[port]);
    expect(sameKeyWords(ct, wide, words)).toBe(true);
    expect(sameKeyWords(ct, words.map((w, i) => (i === port ? w ^ 1n : w)), words)).toBe(false);
  });

  it('clears bits outside any field, and sets one field without touching its neighbours', () => {
    const words = encodeSlotWords(ct, flow);
    const noisy = words.map((w, i) => w | ~(slotWordMasks(ct).covered[i] ?? 0n) & ((1n << 64n) - 1n));
    expect(coveredWords(ct, noisy)).toEqual(words);
    const out = coveredWords(ct, words);
    setFieldValue(out, ct.vm, 9n);
    expect(decodeSlotFields(ct, out)).toEqual({ ...decodeSlotFields(ct, words), vm_id: 9n });
    // Too wide for the field: masked to its width, never spilling into the next field.
    setFieldValue(out, ct.vm, (1n << BigInt(ct.vm.bits)) + 3n);
    expect(decodeSlotFields(ct, out)).toEqual({ ...decodeSlotFields(ct, words), vm_id: 3n });
  });

  it('calls two groups alike only when every field sits at the same bits with the same roles', () => {
    const again = slotGroup(readMigrationContract(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH)), 'conntrack');
    expect(again).not.toBe(ct);
    expect(sameSlotLayout(ct, again)).toBe(true);
    const text = statefulEdgeP4InfoText();
    const renamed = slotGroup(readMigrationContract(P4Schema.fromText(editP4Info(text, 'end_out', 'end_outx'), 'renamed')), 'conntrack');
    expect(sameSlotLayout(ct, renamed)).toBe(false);
  });
});
