import { describe, expect, it } from 'vitest';
import { P4InfoIndex } from './p4info-index.js';
import { TableStore, entryKey } from './table-store.js';
import type { FieldMatchValue, TableEntryState } from './table-store.js';
import { l2EchoP4Info, L2_ECHO_IDS } from '../programs/l2-echo/l2-echo-p4info.js';

const index = P4InfoIndex.build(l2EchoP4Info());
const table = (id: number): TableStore => {
  const info = index.tables.get(id);
  if (!info) throw new Error('no table');
  return new TableStore(info, null);
};

function entry(store: TableStore, match: (FieldMatchValue | null)[], priority: number, actionId: number): TableEntryState {
  const e: TableEntryState = { key: entryKey(match, priority), match, priority, action: { actionId, params: [] }, counter: null, idleTimeoutNs: 0n, lastHitMs: 0, idleSinceMs: 0, metadata: new Uint8Array(), controllerMetadata: 0n, seq: store.nextSeq() };
  store.add(e);
  return e;
}

describe('table store — lookup semantics', () => {
  it('table store — exact tables hit by value and miss otherwise', () => {
    const t = table(L2_ECHO_IDS.tables.mac_fwd);
    const e = entry(t, [{ kind: 'EXACT', value: 0xabn }], 0, 1);
    expect(t.lookup([0xabn])).toBe(e);
    expect(t.lookup([0xacn])).toBeNull();
  });

  it('table store — LPM picks the longest matching prefix', () => {
    const t = table(L2_ECHO_IDS.tables.mac_prefix);
    const w = 48n;
    const pfx = (v: bigint, len: number): FieldMatchValue => {
      const mask = ((1n << w) - 1n) ^ ((1n << (w - BigInt(len))) - 1n);
      return { kind: 'LPM', value: v & mask, prefixLen: len, mask };
    };
    const short = entry(t, [pfx(0x0a0000000000n, 8)], 0, 1);
    const long = entry(t, [pfx(0x0a0b00000000n, 16)], 0, 2);
    expect(t.lookup([0x0a0b01020304n])).toBe(long);
    expect(t.lookup([0x0a0c01020304n])).toBe(short);
    expect(t.lookup([0x0b0000000000n])).toBeNull();
  });

  it('table store — ternary/range/optional pick the highest priority, the oldest on ties', () => {
    const t = table(L2_ECHO_IDS.tables.acl);
    const low = entry(t, [{ kind: 'TERNARY', value: 0x0800n, mask: 0xff00n }, null, null], 10, 1);
    const high = entry(t, [null, { kind: 'RANGE', low: 1n, high: 5n }, null], 20, 2);
    const tie = entry(t, [null, { kind: 'RANGE', low: 1n, high: 9n }, null], 20, 3);
    const opt = entry(t, [null, null, { kind: 'OPTIONAL', value: 0x42n }], 30, 4);
    // fields: ether_type, ingress_port, src_addr
    expect(t.lookup([0x0806n, 7n, 0n])).toBe(tie);
    expect(t.lookup([0x0806n, 3n, 0n])).toBe(high);
    expect(t.lookup([0x0806n, 100n, 0n])).toBe(low);
    expect(t.lookup([0x0806n, 3n, 0x42n])).toBe(opt);
    expect(t.lookup([0x0900n, 100n, 0n])).toBeNull();
  });

  it('table store — identity is match plus priority', () => {
    const m: FieldMatchValue[] = [{ kind: 'TERNARY', value: 1n, mask: 1n }];
    expect(entryKey([...m, null, null], 1)).not.toBe(entryKey([...m, null, null], 2));
    expect(entryKey([...m, null, null], 1)).toBe(entryKey([{ kind: 'TERNARY', value: 1n, mask: 1n }, null, null], 1));
  });

  it('table store — the idle set follows idle_timeout_ns', () => {
    const t = table(L2_ECHO_IDS.tables.mac_fwd);
    const e = entry(t, [{ kind: 'EXACT', value: 1n }], 0, 1);
    expect(t.timed.size).toBe(0);
    e.idleTimeoutNs = 5n;
    t.retime(e);
    expect(t.timed.has(e)).toBe(true);
    t.remove(e.key);
    expect(t.timed.size).toBe(0);
  });
});
