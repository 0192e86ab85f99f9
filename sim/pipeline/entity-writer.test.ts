import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { p4 } from 'p4runtime-ts/proto';
import { applyUpdate } from './entity-writer.js';
import { SimError } from '../p4rt/status.js';
import { l2EchoContexts } from '../testing/contexts.js';
import { l2 } from '../testing/fixture.js';

const ids = l2.ids;

function expectFail(fn: () => unknown, code: number, text?: string | RegExp): SimError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    const err = e as SimError;
    expect(err.code, err.message).toBe(code);
    if (text !== undefined) expect(err.message).toMatch(text);
    return err;
  }
  throw new Error('expected a SimError');
}

const upd = (type: number, entity: p4.v1.Entity.$Properties): p4.v1.Update.$Properties => ({ type, entity });

describe('entity writer — table entries', () => {
  it('entity writer — INSERT, duplicate INSERT, MODIFY, DELETE and their codes', () => {
    const c = l2EchoContexts('full');
    const store = c.state.table(ids.tables.mac_fwd);
    applyUpdate(c.write(), l2.insert(l2.macFwd(5n, { forward: 3 })));
    expect(store.size).toBe(1);
    expectFail(() => applyUpdate(c.write(), l2.insert(l2.macFwd(5n, 'drop'))), status.ALREADY_EXISTS, /already installed; use MODIFY/);
    applyUpdate(c.write(), l2.modify({ tableEntry: l2.macFwd(5n, 'drop') }));
    expect([...store.entries()][0]?.action?.actionId).toBe(ids.actions.drop);
    expectFail(() => applyUpdate(c.write(), l2.modify({ tableEntry: l2.macFwd(6n, 'drop') })), status.NOT_FOUND, /Cannot find match entry/);
    applyUpdate(c.write(), l2.remove({ tableId: ids.tables.mac_fwd, match: l2.macFwd(5n, 'drop').match }));
    expect(store.size).toBe(0);
    expectFail(() => applyUpdate(c.write(), l2.remove(l2.macFwd(5n, 'drop'))), status.NOT_FOUND);
  });

  it('entity writer — undo restores the previous state', () => {
    const c = l2EchoContexts('full');
    const store = c.state.table(ids.tables.mac_fwd);
    const undoInsert = applyUpdate(c.write(), l2.insert(l2.macFwd(5n, { forward: 3 })));
    const undoModify = applyUpdate(c.write(), l2.modify({ tableEntry: l2.macFwd(5n, 'drop', { counterData: { byteCount: 9, packetCount: 1 } }) }));
    undoModify();
    const e = [...store.entries()][0];
    expect(e?.action?.actionId).toBe(ids.actions.forward);
    expect(e?.counter).toEqual({ bytes: 0n, packets: 0n });
    undoInsert();
    expect(store.size).toBe(0);
  });

  it('entity writer — a full table answers RESOURCE_EXHAUSTED naming its size', () => {
    const c = l2EchoContexts('full');
    for (let i = 0; i < 64; i++) applyUpdate(c.write(), l2.insert(l2.acl({ ports: [i, i], priority: 1 })));
    expectFail(() => applyUpdate(c.write(), l2.insert(l2.acl({ ports: [100, 100], priority: 1 }))), status.RESOURCE_EXHAUSTED, /is full \(64 entries/);
  });

  it('entity writer — match validation per kind', () => {
    const c = l2EchoContexts('full');
    const w = c.write();
    const acl = (match: p4.v1.FieldMatch.$Properties[], priority = 1): p4.v1.Update.$Properties => l2.insert({ tableId: ids.tables.acl, match, priority, action: { action: { actionId: ids.actions.allow } } });
    expectFail(() => applyUpdate(w, acl([{ fieldId: 1, exact: { value: l2.bytes(1) } }])), status.INVALID_ARGUMENT, /is TERNARY; the request sent EXACT/);
    expectFail(() => applyUpdate(w, acl([{ fieldId: 1, ternary: { value: l2.bytes(0x11), mask: l2.bytes(0x10) } }])), status.INVALID_ARGUMENT, /bits outside mask/);
    expectFail(() => applyUpdate(w, acl([{ fieldId: 1, ternary: { value: l2.bytes(0), mask: l2.bytes(0) } }])), status.INVALID_ARGUMENT, /mask is 0/);
    expectFail(() => applyUpdate(w, acl([{ fieldId: 2, range: { low: l2.bytes(5), high: l2.bytes(4) } }])), status.INVALID_ARGUMENT, /low 0x5 is above high 0x4/);
    expectFail(() => applyUpdate(w, acl([{ fieldId: 2, range: { low: l2.bytes(0), high: l2.bytes(511) } }])), status.INVALID_ARGUMENT, /covers every value/);
    expectFail(() => applyUpdate(w, acl([{ fieldId: 9, optional: { value: l2.bytes(1) } }])), status.INVALID_ARGUMENT, /has no match field id 9/);
    expectFail(() => applyUpdate(w, acl([{ fieldId: 3, optional: { value: l2.bytes(1) } }], 0)), status.INVALID_ARGUMENT, /priority must be > 0/);
    expectFail(() => applyUpdate(w, l2.insert({ ...l2.macFwd(1n, 'drop'), priority: 3 })), status.INVALID_ARGUMENT, /priority must be 0/);
    expectFail(() => applyUpdate(w, l2.insert({ ...l2.macFwd(1n, 'drop'), match: [] })), status.INVALID_ARGUMENT, /exact match field 'hdr.ethernet.dst_addr' is missing/);
    expectFail(() => applyUpdate(w, l2.insert({ tableId: ids.tables.mac_prefix, match: [{ fieldId: 1, lpm: { value: l2.bytes(0x0a0000000001n), prefixLen: 8 } }], action: { action: { actionId: ids.actions.drop } } })), status.INVALID_ARGUMENT, /bits set beyond the \/8 prefix/);
    expectFail(() => applyUpdate(w, l2.insert({ tableId: ids.tables.mac_prefix, match: [{ fieldId: 1, lpm: { value: l2.bytes(0), prefixLen: 0 } }], action: { action: { actionId: ids.actions.drop } } })), status.INVALID_ARGUMENT, /don't-care LPM match must be omitted/);
  });

  it('entity writer — action validation: unknown ids, foreign actions, missing and extra params', () => {
    const c = l2EchoContexts('full');
    const w = c.write();
    const withAction = (action: p4.v1.Action.$Properties): p4.v1.Update.$Properties => l2.insert({ ...l2.macFwd(1n, 'drop'), action: { action } });
    expectFail(() => applyUpdate(w, withAction({ actionId: 0x01009999 })), status.INVALID_ARGUMENT, /Invalid P4 id: action id 0x01009999/);
    expectFail(() => applyUpdate(w, withAction({ actionId: ids.actions.allow })), status.INVALID_ARGUMENT, /'EchoIngress.allow' is not an action of table 'EchoIngress.mac_fwd'/);
    expectFail(() => applyUpdate(w, withAction({ actionId: ids.actions.forward })), status.INVALID_ARGUMENT, /parameter 'port' is missing/);
    expectFail(() => applyUpdate(w, withAction({ actionId: ids.actions.forward, params: [{ paramId: 1, value: l2.bytes(1) }, { paramId: 2, value: l2.bytes(1) }] })), status.INVALID_ARGUMENT, /has no parameter id 2/);
    expectFail(() => applyUpdate(w, l2.insert({ ...l2.macFwd(1n, 'drop'), action: undefined })), status.INVALID_ARGUMENT, /needs an action/);
    expectFail(() => applyUpdate(w, l2.insert({ ...l2.macFwd(1n, 'drop'), action: { actionProfileMemberId: 1 } })), status.INVALID_ARGUMENT, /direct table/);
  });

  it('entity writer — bytestrings: padded accepted on every profile, refused only when strict; too wide rejected everywhere', () => {
    const padded = l2.insert({ tableId: ids.tables.mac_fwd, match: [{ fieldId: 1, exact: { value: Uint8Array.of(0, 0, 0, 4) } }], action: { action: { actionId: ids.actions.drop } } });
    const strict = l2EchoContexts('full', true);
    expectFail(() => applyUpdate(strict.write(), padded), status.INVALID_ARGUMENT, /0x00000004 is not canonical; send the shortest big-endian form 0x04/);
    const full = l2EchoContexts('full');
    applyUpdate(full.write(), padded);
    expect([...full.state.table(ids.tables.mac_fwd).entries()][0]?.match[0]).toEqual({ kind: 'EXACT', value: 4n });
    const bmv2 = l2EchoContexts('bmv2');
    applyUpdate(bmv2.write(), padded);
    expect([...bmv2.state.table(ids.tables.mac_fwd).entries()][0]?.match[0]).toEqual({ kind: 'EXACT', value: 4n });
    const wide = withParam(Uint8Array.of(0x7f, 0xff));
    expectFail(() => applyUpdate(bmv2.write(), wide), status.INVALID_ARGUMENT, /^Bytestring provided does not fit within 9 bits$/);
    expectFail(() => applyUpdate(full.write(), wide), status.INVALID_ARGUMENT, /does not fit within 9 bits: action 'EchoIngress.forward' parameter 'port' is 0x7fff/);
    expectFail(() => applyUpdate(full.write(), withParam(new Uint8Array())), status.INVALID_ARGUMENT, /empty bytestring/);
  });

  it('entity writer — default entry: MODIFY sets and resets, INSERT/DELETE are INVALID_ARGUMENT', () => {
    const c = l2EchoContexts('full');
    const d = c.state.table(ids.tables.mac_prefix).defaultEntry;
    expect(d.action?.actionId).toBe(ids.actions.to_cpu);
    applyUpdate(c.write(), l2.modify({ tableEntry: { tableId: ids.tables.mac_prefix, isDefaultAction: true, action: { action: { actionId: ids.actions.drop } } } }));
    expect(d.action?.actionId).toBe(ids.actions.drop);
    applyUpdate(c.write(), l2.modify({ tableEntry: { tableId: ids.tables.mac_prefix, isDefaultAction: true } }));
    expect(d.action?.actionId).toBe(ids.actions.to_cpu);
    expectFail(() => applyUpdate(c.write(), l2.insert({ tableId: ids.tables.mac_prefix, isDefaultAction: true, action: { action: { actionId: ids.actions.drop } } })), status.INVALID_ARGUMENT, /INSERT is not allowed on it/);
    expectFail(() => applyUpdate(c.write(), l2.modify({ tableEntry: { tableId: ids.tables.mac_fwd, isDefaultAction: true, idleTimeoutNs: 5 } })), status.INVALID_ARGUMENT, /no idle timeout/);
  });

  it('entity writer — idle timeout only where the table supports it; counter_data only with a direct counter', () => {
    const c = l2EchoContexts('full');
    applyUpdate(c.write(), l2.insert(l2.macFwd(1n, 'drop', { idleTimeoutNs: 1_000_000 })));
    expect(c.state.table(ids.tables.mac_fwd).timed.size).toBe(1);
    expectFail(() => applyUpdate(c.write(), l2.insert({ ...l2.macPrefix(0x0a0000000000n, 8, 1), idleTimeoutNs: 5 })), status.INVALID_ARGUMENT, /does not support idle timeout/);
    expectFail(() => applyUpdate(c.write(), l2.insert({ ...l2.macPrefix(0x0a0000000000n, 8, 1), counterData: { byteCount: 1 } })), status.INVALID_ARGUMENT, /has no direct counter/);
    expectFail(() => applyUpdate(c.write(), l2.insert(l2.macFwd(2n, 'drop', { timeSinceLastHit: {} }))), status.INVALID_ARGUMENT, /time_since_last_hit must be unset/);
    applyUpdate(c.write(), l2.insert(l2.macFwd(3n, 'drop', { counterData: { byteCount: 100, packetCount: 2 } })));
    expect([...c.state.table(ids.tables.mac_fwd).entries()][1]?.counter).toEqual({ bytes: 100n, packets: 2n });
  });

  it('entity writer — unknown table id is INVALID_ARGUMENT "Invalid P4 id" on bmv2', () => {
    expectFail(() => applyUpdate(l2EchoContexts('bmv2').write(), l2.insert({ ...l2.macFwd(1n, 'drop'), tableId: 0x02009999 })), status.INVALID_ARGUMENT, /^Invalid P4 id$/);
    expectFail(() => applyUpdate(l2EchoContexts('full').write(), l2.insert({ ...l2.macFwd(1n, 'drop'), tableId: 0x02009999 })), status.INVALID_ARGUMENT, /table id 0x02009999 is not a table in the P4Info/);
  });
});

function withParam(value: Uint8Array): p4.v1.Update.$Properties {
  return l2.insert({ ...l2.macFwd(9n, 'drop'), action: { action: { actionId: ids.actions.forward, params: [{ paramId: 1, value }] } } });
}

describe('entity writer — counters, registers, digests', () => {
  it('entity writer — counter cells: MODIFY one, MODIFY all, index and type checks', () => {
    const c = l2EchoContexts('full');
    const arr = c.state.counters.get(ids.counters.port_counter);
    applyUpdate(c.write(), upd(2, { counterEntry: { counterId: ids.counters.port_counter, index: { index: 7 }, data: { byteCount: 70, packetCount: 7 } } }));
    expect(arr?.get(7)).toEqual({ bytes: 70n, packets: 7n });
    const undo = applyUpdate(c.write(), upd(2, { counterEntry: { counterId: ids.counters.port_counter, data: { byteCount: 1, packetCount: 1 } } }));
    expect(arr?.get(511)).toEqual({ bytes: 1n, packets: 1n });
    undo();
    expect(arr?.get(7)).toEqual({ bytes: 70n, packets: 7n });
    expect(arr?.get(511)).toEqual({ bytes: 0n, packets: 0n });
    expectFail(() => applyUpdate(c.write(), upd(2, { counterEntry: { counterId: ids.counters.port_counter, index: { index: 512 }, data: {} } })), status.OUT_OF_RANGE, /index 512 is out of range \(size 512/);
    expectFail(() => applyUpdate(c.write(), upd(2, { counterEntry: { counterId: ids.counters.port_counter, index: { index: -1 }, data: {} } })), status.INVALID_ARGUMENT, /negative/);
    expectFail(() => applyUpdate(c.write(), upd(1, { counterEntry: { counterId: ids.counters.port_counter, index: { index: 1 } } })), status.INVALID_ARGUMENT, /MODIFY only/);
  });

  it('entity writer — direct counters by table entry', () => {
    const c = l2EchoContexts('full');
    applyUpdate(c.write(), l2.insert(l2.macFwd(1n, 'drop')));
    applyUpdate(c.write(), upd(2, { directCounterEntry: { tableEntry: { tableId: ids.tables.mac_fwd, match: l2.macFwd(1n, 'drop').match }, data: { byteCount: 5, packetCount: 1 } } }));
    expect([...c.state.table(ids.tables.mac_fwd).entries()][0]?.counter).toEqual({ bytes: 5n, packets: 1n });
    expectFail(() => applyUpdate(c.write(), upd(2, { directCounterEntry: { tableEntry: { tableId: ids.tables.mac_fwd, match: l2.macFwd(2n, 'drop').match }, data: {} } })), status.NOT_FOUND);
    expectFail(() => applyUpdate(c.write(), upd(2, { directCounterEntry: { tableEntry: { tableId: ids.tables.mac_prefix }, data: {} } })), status.INVALID_ARGUMENT, /has no direct counter/);
  });

  it('entity writer — registers per profile: full writes, bmv2 UNIMPLEMENTED, stratum 64-bit limit', () => {
    const reg = (id: number, value: Uint8Array, index?: number, type = 2): p4.v1.Update.$Properties => upd(type, { registerEntry: { registerId: id, ...(index !== undefined ? { index: { index } } : {}), data: { bitstring: value } } });
    const full = l2EchoContexts('full');
    applyUpdate(full.write(), reg(ids.registers.pkt_count, l2.bytes(42), 3));
    expect(full.state.registers.get(ids.registers.pkt_count)?.get(3)).toBe(42n);
    applyUpdate(full.write(), reg(ids.registers.wide_reg, l2.bytes((1n << 71n) + 5n)));
    expect(full.state.registers.get(ids.registers.wide_reg)?.get(15)).toBe((1n << 71n) + 5n);
    expectFail(() => applyUpdate(full.write(), reg(ids.registers.pkt_count, l2.bytes(1n << 32n), 0)), status.INVALID_ARGUMENT, /does not fit within 32 bits/);
    expectFail(() => applyUpdate(full.write(), reg(ids.registers.pkt_count, l2.bytes(1), 0, 1)), status.INVALID_ARGUMENT, /MODIFY only/);
    expectFail(() => applyUpdate(l2EchoContexts('bmv2').write(), reg(ids.registers.pkt_count, l2.bytes(1), 0)), status.UNIMPLEMENTED, /^Register writes are not supported yet$/);
    const tofino = l2EchoContexts('stratum-tofino');
    applyUpdate(tofino.write(), reg(ids.registers.pkt_count, l2.bytes(7), 1));
    expectFail(() => applyUpdate(tofino.write(), reg(ids.registers.wide_reg, l2.bytes(1), 0)), status.UNIMPLEMENTED, /72 bits wide; this target reads and writes register cells of at most 64 bits/);
    expectFail(() => applyUpdate(tofino.write(), reg(ids.registers.pkt_count, l2.bytes(1), 0, 3)), status.INVALID_ARGUMENT, /MODIFY only/);
  });

  it('entity writer — digest configs: INSERT, duplicate, MODIFY, DELETE', () => {
    const c = l2EchoContexts('full');
    const cfg = { maxTimeoutNs: 1_000_000, maxListSize: 10, ackTimeoutNs: 5_000_000 };
    applyUpdate(c.write(), upd(1, { digestEntry: { digestId: ids.digests.learn_t, config: cfg } }));
    expect(c.state.digestConfigs.get(ids.digests.learn_t)).toEqual({ maxTimeoutNs: 1_000_000n, maxListSize: 10, ackTimeoutNs: 5_000_000n });
    expectFail(() => applyUpdate(c.write(), upd(1, { digestEntry: { digestId: ids.digests.learn_t, config: cfg } })), status.ALREADY_EXISTS);
    applyUpdate(c.write(), upd(2, { digestEntry: { digestId: ids.digests.learn_t, config: { ...cfg, maxListSize: 1 } } }));
    expect(c.state.digestConfigs.get(ids.digests.learn_t)?.maxListSize).toBe(1);
    applyUpdate(c.write(), upd(3, { digestEntry: { digestId: ids.digests.learn_t } }));
    expectFail(() => applyUpdate(c.write(), upd(3, { digestEntry: { digestId: ids.digests.learn_t } })), status.NOT_FOUND);
    expectFail(() => applyUpdate(c.write(), upd(1, { digestEntry: { digestId: 0x17009999, config: cfg } })), status.INVALID_ARGUMENT, /not a digest in the P4Info/);
  });

  it('entity writer — unset type or entity is INVALID_ARGUMENT; unsupported entities UNIMPLEMENTED', () => {
    const c = l2EchoContexts('full');
    expectFail(() => applyUpdate(c.write(), { type: 0, entity: { tableEntry: l2.macFwd(1n, 'drop') } }), status.INVALID_ARGUMENT, /UNSPECIFIED/);
    expectFail(() => applyUpdate(c.write(), { type: 1, entity: {} }), status.INVALID_ARGUMENT, /no entity set/);
    expectFail(() => applyUpdate(c.write(), { type: 1, entity: { meterEntry: { meterId: 1 } } }), status.UNIMPLEMENTED, /meterEntry updates are not supported/);
  });
});
