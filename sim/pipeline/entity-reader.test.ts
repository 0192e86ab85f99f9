import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { readEntities, readEntity } from './entity-reader.js';
import { applyUpdate } from './entity-writer.js';
import type { SimError } from '../p4rt/status.js';
import { l2EchoContexts } from '../testing/contexts.js';
import { l2 } from '../testing/fixture.js';

const ids = l2.ids;

function seeded(profile: 'full' | 'bmv2' | 'stratum-tofino' = 'full') {
  const c = l2EchoContexts(profile);
  applyUpdate(c.write(0), l2.insert(l2.macFwd(1n, { forward: 2 }, { idleTimeoutNs: 300_000_000, metadata: Uint8Array.of(1, 2) })));
  applyUpdate(c.write(0), l2.insert(l2.macFwd(2n, 'drop', { idleTimeoutNs: 1_000_000_000 })));
  applyUpdate(c.write(0), l2.insert(l2.macFwd(3n, 'to_cpu')));
  applyUpdate(c.write(0), l2.insert(l2.acl({ etherType: [0x0800, 0xffff], priority: 5 })));
  applyUpdate(c.write(0), l2.insert(l2.acl({ ports: [1, 4], priority: 7, deny: true })));
  return c;
}

const tableEntries = (out: p4.v1.Entity.$Properties[]): p4.v1.TableEntry.$Properties[] => out.map((e) => e.tableEntry ?? {});

describe('entity reader — table entries', () => {
  it('entity reader — table_id 0 reads every table; a table id reads that table', () => {
    const c = seeded();
    expect(readEntity(c.read(), { tableEntry: { tableId: 0 } })).toHaveLength(5);
    expect(readEntity(c.read(), { tableEntry: { tableId: ids.tables.acl } })).toHaveLength(2);
    expect(() => readEntity(c.read(), { tableEntry: { tableId: 0, priority: 5 } })).toThrow(/no other filter/);
  });

  it('entity reader — one entry by key, NOT_FOUND for a missing key, read back canonical', () => {
    const c = seeded('bmv2');
    applyUpdate(c.write(), l2.insert({ tableId: ids.tables.mac_fwd, match: [{ fieldId: 1, exact: { value: Uint8Array.of(0, 0, 0, 0, 0, 4) } }], action: { action: { actionId: ids.actions.drop } } }));
    const [e] = tableEntries(readEntity(c.read(), { tableEntry: { tableId: ids.tables.mac_fwd, match: [{ fieldId: 1, exact: { value: Uint8Array.of(4) } }] } }));
    expect([...(e?.match?.[0]?.exact?.value ?? [])]).toEqual([4]);
    try {
      readEntity(c.read(), { tableEntry: { tableId: ids.tables.mac_fwd, match: [{ fieldId: 1, exact: { value: Uint8Array.of(99) } }] } });
      throw new Error('expected NOT_FOUND');
    } catch (err) {
      expect((err as SimError).code).toBe(status.NOT_FOUND);
    }
  });

  it('entity reader — filters by priority and action, and the default entry alone', () => {
    const c = seeded();
    expect(tableEntries(readEntity(c.read(), { tableEntry: { tableId: ids.tables.acl, priority: 7 } })).map((e) => e.priority)).toEqual([7]);
    expect(readEntity(c.read(), { tableEntry: { tableId: ids.tables.mac_fwd, action: { action: { actionId: ids.actions.drop } } } })).toHaveLength(1);
    const [d] = tableEntries(readEntity(c.read(), { tableEntry: { tableId: ids.tables.mac_prefix, isDefaultAction: true } }));
    expect(d?.isDefaultAction).toBe(true);
    expect(d?.action?.action?.actionId).toBe(ids.actions.to_cpu);
  });

  it('entity reader — counter_data and time_since_last_hit only when requested', () => {
    const c = seeded();
    const plain = tableEntries(readEntity(c.read(700), { tableEntry: { tableId: ids.tables.mac_fwd } }));
    expect(plain.every((e) => e.counterData == null && e.timeSinceLastHit == null)).toBe(true);
    expect(toBigInt(plain[0]?.idleTimeoutNs as LongLike)).toBe(300_000_000n);
    expect([...(plain[0]?.metadata ?? [])]).toEqual([1, 2]);
    const rich = tableEntries(readEntity(c.read(700), { tableEntry: { tableId: ids.tables.mac_fwd, counterData: {}, timeSinceLastHit: {} } }));
    expect(rich.map((e) => e.counterData != null)).toEqual([true, true, true]);
    expect(rich.map((e) => toBigInt(e.timeSinceLastHit?.elapsedNs as LongLike))).toEqual([700_000_000n, 700_000_000n, 700_000_000n]);
  });

  it('entity reader — bmv2 caps elapsed_ns at the timeout and omits it without a timeout (lab)', () => {
    const c = seeded('bmv2');
    const rich = tableEntries(readEntity(c.read(700), { tableEntry: { tableId: ids.tables.mac_fwd, timeSinceLastHit: {} } }));
    expect(rich.map((e) => (e.timeSinceLastHit ? toBigInt(e.timeSinceLastHit.elapsedNs as LongLike) : null))).toEqual([300_000_000n, 700_000_000n, null]);
  });

  it('entity reader — time_since_last_hit on a table without idle timeout is INVALID_ARGUMENT', () => {
    expect(() => readEntity(seeded().read(), { tableEntry: { tableId: ids.tables.acl, timeSinceLastHit: {} } })).toThrow(/does not support idle timeout/);
  });
});

describe('entity reader — counters, registers, direct counters, digests', () => {
  it('entity reader — counter wildcards: index unset = all cells, counter_id 0 = every counter', () => {
    const c = seeded();
    expect(readEntity(c.read(), { counterEntry: { counterId: ids.counters.port_counter } })).toHaveLength(512);
    expect(readEntity(c.read(), { counterEntry: {} })).toHaveLength(512);
    const [one] = readEntity(c.read(), { counterEntry: { counterId: ids.counters.port_counter, index: { index: 3 } } });
    expect(one?.counterEntry?.index?.index).toBe(3);
  });

  it('entity reader — counter index beyond size: OUT_OF_RANGE on full, UNKNOWN "Error when reading counter from target" on bmv2', () => {
    const beyond = { counterEntry: { counterId: ids.counters.port_counter, index: { index: 512 } } };
    expect(() => readEntity(seeded('full').read(), beyond)).toThrow(expect.objectContaining({ code: status.OUT_OF_RANGE }) as Error);
    expect(() => readEntity(seeded('bmv2').read(), beyond)).toThrow(expect.objectContaining({ code: status.UNKNOWN, message: 'Error when reading counter from target' }) as Error);
  });

  it('entity reader — register wildcards on full; UNIMPLEMENTED on bmv2; >64-bit registers UNIMPLEMENTED on stratum', () => {
    const full = seeded();
    full.state.registers.get(ids.registers.wide_reg)?.set(2, (1n << 70n) + 1n);
    const wide = readEntity(full.read(), { registerEntry: { registerId: ids.registers.wide_reg } });
    expect(wide).toHaveLength(16);
    expect([...(wide[2]?.registerEntry?.data?.bitstring ?? [])]).toEqual([0x40, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(readEntity(full.read(), { registerEntry: {} })).toHaveLength(512 + 16);
    expect(() => readEntity(seeded('bmv2').read(), { registerEntry: { registerId: ids.registers.pkt_count } })).toThrow(expect.objectContaining({ code: status.UNIMPLEMENTED, message: 'Register reads are not supported yet' }) as Error);
    const tofino = seeded('stratum-tofino');
    expect(readEntity(tofino.read(), { registerEntry: { registerId: ids.registers.pkt_count, index: { index: 0 } } })).toHaveLength(1);
    expect(() => readEntity(tofino.read(), { registerEntry: { registerId: ids.registers.wide_reg } })).toThrow(/at most 64 bits/);
  });

  it('entity reader — a register read for the Read RPC takes its values when asked and builds entities as they are taken: a write in between does not show', () => {
    const full = seeded();
    const reg = full.state.registers.get(ids.registers.pkt_count);
    reg?.set(3, 7n);
    const lazy = readEntities(full.read(), { registerEntry: { registerId: ids.registers.pkt_count } });
    expect(Array.isArray(lazy)).toBe(false);
    // Between chunks the RPC awaits the client; the switch's state moves on meanwhile.
    reg?.set(3, 9n);
    const cells = [...lazy];
    expect(cells).toHaveLength(512);
    expect(cells[3]?.registerEntry).toMatchObject({ registerId: ids.registers.pkt_count, index: { index: 3 } });
    expect([...(cells[3]?.registerEntry?.data?.bitstring ?? [])]).toEqual([7]);
    // An invalid request still fails when asked, before anything is sent.
    expect(() => readEntities(full.read(), { registerEntry: { registerId: ids.registers.pkt_count, index: { index: 512 } } })).toThrow(/out of range|512/);
  });

  it('entity reader — direct counters of a table and of every table', () => {
    const c = seeded();
    expect(readEntity(c.read(), { directCounterEntry: { tableEntry: { tableId: ids.tables.mac_fwd } } })).toHaveLength(3);
    expect(readEntity(c.read(), { directCounterEntry: {} })).toHaveLength(5);
  });

  it('entity reader — digest configs are read back as written', () => {
    const c = seeded();
    applyUpdate(c.write(), { type: 1, entity: { digestEntry: { digestId: ids.digests.learn_t, config: { maxTimeoutNs: 5, maxListSize: 2, ackTimeoutNs: 7 } } } });
    const [d] = readEntity(c.read(), { digestEntry: {} });
    expect(d?.digestEntry?.config).toEqual({ maxTimeoutNs: 5, maxListSize: 2, ackTimeoutNs: 7 });
  });

  it('entity reader — an empty Entity is INVALID_ARGUMENT', () => {
    expect(() => readEntity(seeded().read(), {})).toThrow(expect.objectContaining({ code: status.INVALID_ARGUMENT }) as Error);
  });
});
