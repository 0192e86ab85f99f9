import { P4Schema, crc16, crc32 } from 'p4runtime-ts';
import { BMV2_HASH_VECTORS } from '../../p4/testdata/bmv2-hash-vectors.js';
import { describe, expect, it } from 'vitest';
import { EdgePluginError } from '../errors.js';
import { STATEFUL_EDGE_P4INFO_PATH, editP4Info, resizedStatefulEdge, statefulEdgeP4InfoText, withoutTable } from '../testing/stateful-edge-p4info.js';
import { migrationServiceGaps, readMigrationContract, slotGroup } from './migration-contract.js';
import { candidateSlotsFor, chooseSlot, keyBytes } from './placement.js';
import { decodeSlotFields, dirtyPosition, encodeCheckedSlotWords, encodeSlotWords, fieldValue, slotsOfDirtyWord } from './slot-codec.js';
import fc from 'fast-check';

const contract = readMigrationContract(P4Schema.fromFile(STATEFUL_EDGE_P4INFO_PATH));
const ct = slotGroup(contract, 'conntrack');

/** Reads a P4Info text with one edit and returns the contract error it raises. */
function errorOf(from: string, to: string): EdgePluginError {
  const schema = P4Schema.fromText(editP4Info(statefulEdgeP4InfoText(), from, to), 'edited');
  try {
    readMigrationContract(schema);
  } catch (e) {
    if (e instanceof EdgePluginError) return e;
    throw e;
  }
  throw new Error(`no error for edit ${from} -> ${to}`);
}

describe('contract reader — stateful_edge slot group', () => {
  it('finds the conntrack group: 327,680 slots, nine words in order with their widths and layouts', () => {
    expect(contract.program).toBe('stateful_edge');
    expect(contract.groups.map((g) => g.name)).toEqual(['conntrack']);
    expect(ct.slots).toBe(327680);
    expect(ct.words.map((w) => `${w.register}:${w.bits}`)).toEqual([
      'ct_key_addr:64', 'ct_key_port:40', 'ct_state:64', 'ct_seq:64', 'ct_ack:64', 'ct_last_seen:48', 'ct_pkts:64', 'ct_bytes_out:64', 'ct_bytes_in:64',
    ]);
    expect(ct.fieldNames).toEqual([
      'vm_addr', 'remote_addr', 'vm_port', 'remote_port', 'protocol', 'vm_id', 'state', 'flags', 'ws_out', 'ws_in', 'win_out', 'win_in',
      'end_out', 'end_in', 'ack_out', 'ack_in', 'last_seen', 'pkts_out', 'pkts_in', 'bytes_out', 'bytes_in',
    ]);
    expect(ct.fields.get('vm_port')).toEqual({ name: 'vm_port', word: 1, register: 'ct_key_port', lsb: 24, bits: 16 });
    expect(ct.valid).toMatchObject({ name: 'protocol', word: 1, lsb: 0, bits: 8 });
    expect(ct.vm).toMatchObject({ name: 'vm_id', word: 2, lsb: 48, bits: 16 });
    expect(ct.clock).toMatchObject({ unit: 'us', field: { name: 'last_seen', word: 5, lsb: 0, bits: 48 } });
    expect(ct.reclaim).toEqual({ field: 'state', freeValue: 8n, idle: 60_000_000n });
  });

  it('reads no reclaim rule where the program declares none (every slot may then be taken at any time)', () => {
    const schema = P4Schema.fromText(editP4Info(statefulEdgeP4InfoText(), '    annotations: "@migrate_reclaim(\\"state\\" , 8 , 60000000)"\n', ''), 'edited');
    expect(slotGroup(readMigrationContract(schema), 'conntrack').reclaim).toBeUndefined();
  });

  it('derives the placement from @migrate_key, @migrate_hash and @migrate_ways', () => {
    expect(ct.placement).toEqual({
      keyFields: [{ name: 'vm_addr', bits: 32 }, { name: 'remote_addr', bits: 32 }, { name: 'vm_port', bits: 16 }, { name: 'remote_port', bits: 16 }, { name: 'protocol', bits: 8 }],
      choices: [{ algo: 'crc32', base: 0, max: 262144 }, { algo: 'crc16', base: 262144, max: 65536 }],
      ways: 2,
      slots: 327680,
    });
  });

  it('places the README worked example (lab vector 3) in slots 242, 243, 311352, 311353', () => {
    const key = { vm_addr: 0x0a000005, remote_addr: 0xc0000201, vm_port: 40000, remote_port: 443, protocol: 6 };
    expect(Buffer.from(keyBytes(ct.placement, key)).toString('hex')).toBe('0a000005c00002019c4001bb06');
    expect(candidateSlotsFor(ct.placement, key)).toEqual([242, 243, 311352, 311353]);
  });

  it('places every lab vector from the hashes BMv2 computed', () => {
    for (const v of BMV2_HASH_VECTORS) {
      const b0 = 2 * (v.crc32 % 131072);
      const b1 = 262144 + 2 * (v.crc16 % 32768);
      expect(candidateSlotsFor(ct.placement, { vm_addr: v.src, remote_addr: v.dst, vm_port: v.sport, remote_port: v.dport, protocol: v.proto })).toEqual([b0, b0 + 1, b1, b1 + 1]);
    }
  });

  it('reads the dirty bitmap, epoch, delta digest and collision counter', () => {
    expect(ct.dirty).toMatchObject({ register: 'ct_dirty', epochRegister: 'ct_epoch', epochBits: 32, words: 10240, wordsPerBuffer: 5120, slotsPerWord: 64 });
    expect(ct.delta).toMatchObject({ digest: 'ct_delta_t', slotMember: 'slot', vmMember: 'vm_id', wordMembers: ct.words.map((w) => w.register) });
    expect(ct.collisionCounter).toBe('ct_collisions');
  });

  it('reads migration control, the VM map, dyn_acl, the per-VM counters and the in-band headers', () => {
    expect(contract.control).toEqual({ table: 'vm_migration', keyField: 'vm_id', keyBits: 16, action: 'set_migration', flags: { track: 'track', freeze: 'freeze', staged: 'staged', active: 'active' }, tracker: { param: 'tracker', bits: 8 } });
    expect(contract.vmMap).toEqual({ table: 'vm_table', keyField: 'vm_addr', keyBits: 32, action: 'set_vm', vmIdParam: 'vm_id', vmIdBits: 16 });
    expect(contract.tables).toHaveLength(1);
    expect(contract.tables[0]).toMatchObject({ table: 'dyn_acl', vmKeyField: 'vm_id', idleTimeout: true, directCounter: 'dyn_acl_counter', learn: { digest: 'pinhole_t', action: 'pinhole_allow' } });
    expect(contract.tables[0]?.keyFields.map((k) => k.name)).toEqual(['vm_id', 'vm_addr', 'remote_addr', 'vm_port', 'remote_port', 'protocol']);
    expect(contract.counters.map((c) => c.counter)).toEqual(['vm_tx', 'vm_rx']);
    expect(contract.inband).toMatchObject({ group: 'conntrack', packetOutHeader: 'packet_out', packetInHeader: 'packet_in', reqIdBits: 32, tsBits: 48 });
    expect(contract.inband?.wordFields).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']);
    expect(contract.inband?.requestFields.map((f) => f.name).slice(0, 5)).toEqual(['op', 'req_id', 'port', 'index', 'mask']);
  });
});

describe('contract reader — slots, fields and dirty bits', () => {
  it('encodes fields into words and decodes them back', () => {
    const fields = { vm_addr: 0x0a000005n, remote_addr: 0xc0000201n, vm_port: 40000n, remote_port: 443n, protocol: 6n, vm_id: 7n, state: 3n, last_seen: (1n << 48n) - 1n, bytes_in: (1n << 64n) - 1n };
    const words = encodeSlotWords(ct, fields);
    expect(words[0]).toBe(0x0a000005c0000201n);
    expect(words[1]).toBe((40000n << 24n) | (443n << 8n) | 6n);
    const back = decodeSlotFields(ct, words);
    for (const [k, v] of Object.entries(fields)) expect(back[k], k).toBe(v);
    expect(back.pkts_out).toBe(0n);
    expect(() => encodeSlotWords(ct, { protocol: 256n })).toThrow(/'protocol' = 256 does not fit its 8 bits/);
    expect(() => encodeSlotWords(ct, { nope: 1n })).toThrow(/has no field 'nope'/);
  });

  it('slot codec — decoding gives each field as fieldValue extracts it, for any words, wider than their registers too', () => {
    const all = ct.words.flatMap((w) => w.fields);
    const words = fc.tuple(...ct.words.map((w) => fc.bigInt({ min: 0n, max: (1n << BigInt(w.bits + 3)) - 1n })));
    fc.assert(fc.property(words, (ws) => {
      const got = decodeSlotFields(ct, ws);
      for (const f of all) expect(got[f.name], f.name).toBe(fieldValue(ws, f));
    }), { numRuns: 300 });
  });

  it('slot codec — the unchecked encoder gives the checked one\'s words for every in-range record, any subset of fields', () => {
    const all = ct.words.flatMap((w) => w.fields);
    const record = fc.record(Object.fromEntries(all.map((f) => [f.name, fc.bigInt({ min: 0n, max: (1n << BigInt(f.bits)) - 1n })])), { requiredKeys: [] });
    fc.assert(fc.property(record, (fields) => {
      expect(encodeCheckedSlotWords(ct, fields as Record<string, bigint>)).toEqual(encodeSlotWords(ct, fields as Record<string, bigint>));
    }), { numRuns: 300 });
  });

  it('slot codec — decoded fields come in layout order, each group with its own layout, and are independent objects', () => {
    const words = ct.words.map((w, i) => (1n << BigInt(Math.min(w.bits, 60))) - BigInt(i + 1));
    const a = decodeSlotFields(ct, words);
    expect(Object.keys(a)).toEqual(ct.words.flatMap((w) => w.fields.map((f) => f.name)));
    expect(encodeSlotWords(ct, a)).toEqual(words);
    // A second decode is a new object: changing one leaves the other (and the next decode) alone.
    const b = decodeSlotFields(ct, words);
    b[ct.vm.name] = 0n;
    expect(a[ct.vm.name]).not.toBe(0n);
    expect(decodeSlotFields(ct, words)[ct.vm.name]).toBe(a[ct.vm.name]);
    // A different program's group is decoded by its own layout, not the first group's.
    const swapped = slotGroup(readMigrationContract(P4Schema.fromText(editP4Info(statefulEdgeP4InfoText(), 'win_out:16 win_in:16', 'win_in:16 win_out:16'), 'swapped')), 'conntrack');
    const c = decodeSlotFields(swapped, words);
    expect([c.win_in, c.win_out]).toEqual([a.win_out, a.win_in]);
    expect(a.win_in).not.toBe(a.win_out);
  });

  it('maps a slot to its dirty word and bit in the buffer the epoch selects, and back', () => {
    const d = ct.dirty;
    if (!d) throw new Error('no dirty bitmap');
    expect(dirtyPosition(d, 130, 0n)).toEqual({ word: 2, bit: 2 });
    expect(dirtyPosition(d, 130, 7n)).toEqual({ word: 5120 + 2, bit: 2 });
    expect(slotsOfDirtyWord(d, 5120 + 2, (1n << 2n) | (1n << 63n))).toEqual([130, 191]);
  });

  it('applies the collision rule: a matching candidate, else the first free one, else none', () => {
    const cands = [10, 11, 20, 21];
    expect(chooseSlot(cands, (s) => ({ matches: s === 20, free: true }))).toEqual({ kind: 'hit', slot: 20, candidate: 2 });
    expect(chooseSlot(cands, (s) => ({ matches: false, free: s === 21 }))).toEqual({ kind: 'insert', slot: 21, candidate: 3 });
    expect(chooseSlot(cands, () => ({ matches: false, free: false }))).toEqual({ kind: 'collision' });
  });
});

describe('contract reader — another size of the same program needs no code change', () => {
  it('reads a 1,024-slot stateful_edge and places flows in its smaller regions', () => {
    const small = slotGroup(readMigrationContract(resizedStatefulEdge(768, 256)));
    expect(small.slots).toBe(1024);
    expect(small.dirty).toMatchObject({ words: 32, wordsPerBuffer: 16 });
    const key = { vm_addr: 0x0a000005, remote_addr: 0xc0000201, vm_port: 40000, remote_port: 443, protocol: 6 };
    const bytes = keyBytes(small.placement, key);
    const b0 = (crc32(bytes) % 384) * 2;
    const b1 = 768 + (crc16(bytes) % 128) * 2;
    expect(candidateSlotsFor(small.placement, key)).toEqual([b0, b0 + 1, b1, b1 + 1]);
  });
});

describe('contract reader — malformed or incomplete annotations', () => {
  const cases: { what: string; from: string; to: string; code: string; entity: string; annotation: string; message: RegExp }[] = [
    {
      what: 'a layout that does not cover the register',
      from: 'vm_port:16 remote_port:16 protocol:8', to: 'vm_port:16 remote_port:16 protocol:4',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_port'", annotation: '@migrate_layout', message: /covers 36 bits but the register is 40 bits wide; make the field widths add up to 40/,
    },
    {
      what: 'a gap in the word numbers',
      from: '@migrate_group(\\"conntrack\\" , 8)', to: '@migrate_group(\\"conntrack\\" , 9)',
      code: 'CONTRACT_INVALID', entity: "register 'ct_bytes_in'", annotation: '@migrate_group', message: /numbered 0\.\.8 without gaps.*word 9 where word 8 was expected/,
    },
    {
      what: 'an unknown hash algorithm',
      from: '\\"crc16\\" , 262144', to: '\\"crc64\\" , 262144',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_hash', message: /choice 2 names algorithm 'crc64'; use "crc32", "crc16" or "csum16"/,
    },
    {
      what: 'a hash region past the index space',
      from: '262144 , 65536)', to: '262144 , 65538)',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_hash', message: /choice 2 \(crc16, base 262144, max 65538\) does not fit the 327680-slot index space/,
    },
    {
      what: 'hash arguments that are not triples',
      from: ', \\"crc16\\" , 262144 , 65536)', to: ', \\"crc16\\" , 262144)',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_hash', message: /5 argument\(s\), not a whole number of \(algo, base, max\) triples/,
    },
    {
      what: 'a key field no layout declares',
      from: '@migrate_key(\\"vm_addr remote_addr', to: '@migrate_key(\\"vm_address remote_addr',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_key', message: /names field 'vm_address', which no @migrate_layout of the group declares/,
    },
    {
      what: 'a missing @migrate_valid',
      from: '    annotations: "@migrate_valid(\\"protocol\\")"\n', to: '',
      code: 'CONTRACT_MISSING', entity: "register 'ct_key_addr'", annotation: '@migrate_valid', message: /has no @migrate_valid; .* add @migrate_valid\("field"\)/,
    },
    {
      what: 'a reclaim rule naming a field no layout declares',
      from: '@migrate_reclaim(\\"state\\"', to: '@migrate_reclaim(\\"status\\"',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_reclaim', message: /names field 'status', which no @migrate_layout of the group declares/,
    },
    {
      what: 'a reclaim rule without its idle time',
      from: '@migrate_reclaim(\\"state\\" , 8 , 60000000)', to: '@migrate_reclaim(\\"state\\" , 8)',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_reclaim', message: /@migrate_reclaim\("field", value, idle\)/,
    },
    {
      what: 'a reclaim rule with an idle time of 0',
      from: '@migrate_reclaim(\\"state\\" , 8 , 60000000)', to: '@migrate_reclaim(\\"state\\" , 8 , 0)',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_reclaim', message: /idle time is 0.*give the shortest idle timeout/,
    },
    {
      what: 'a reclaim rule in a group with no clock',
      from: '    annotations: "@migrate_clock(\\"last_seen\\" , \\"us\\")"\n', to: '',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_reclaim', message: /declares no @migrate_clock .* add @migrate_clock/,
    },
    {
      what: 'a dirty bitmap of the wrong size',
      from: 'size: 10240', to: 'size: 10000',
      code: 'CONTRACT_INVALID', entity: "register 'ct_dirty'", annotation: '@migrate_dirty', message: /needs 2 x 5120 = 10240 cells; this register has 10000: resize it/,
    },
    {
      what: 'a delta digest that does not exist',
      from: '@migrate_delta(\\"ct_delta_t\\")', to: '@migrate_delta(\\"ct_deltas\\")',
      code: 'CONTRACT_INVALID', entity: "register 'ct_key_addr'", annotation: '@migrate_delta', message: /names digest 'ct_deltas', which the P4Info does not declare/,
    },
    {
      what: 'a control action without the flag parameters',
      from: '@migrate_control(\\"vm_id\\" , \\"set_migration\\")', to: '@migrate_control(\\"vm_id\\" , \\"no_migration\\")',
      code: 'CONTRACT_INVALID', entity: "table 'vm_migration'", annotation: '@migrate_control', message: /action 'no_migration' has no parameter 'track'/,
    },
    {
      what: 'a learn action the table does not allow',
      from: '@migrate_learn(\\"pinhole_t\\" , \\"pinhole_allow\\")', to: '@migrate_learn(\\"pinhole_t\\" , \\"allow\\")',
      code: 'CONTRACT_INVALID', entity: "table 'dyn_acl'", annotation: '@migrate_learn', message: /names action 'allow', which the table does not allow \(actions: pinhole_allow, pinhole_deny, pinhole_miss\)/,
    },
    {
      what: 'a per-VM counter not indexed by the VM id',
      from: 'vm_tx"\n    annotations: "@migrate_counter(\\"vm_id\\")"', to: 'vm_tx"\n    annotations: "@migrate_counter(\\"port\\")"',
      code: 'CONTRACT_INVALID', entity: "counter 'vm_tx'", annotation: '@migrate_counter', message: /indexed by the VM id; write @migrate_counter\("vm_id"\)/,
    },
    {
      what: 'in-band headers naming different groups',
      from: 'alias: "packet_in"\n    annotations: "@controller_header(\\"packet_in\\")"\n    annotations: "@migrate_inband(\\"conntrack\\")"',
      to: 'alias: "packet_in"\n    annotations: "@controller_header(\\"packet_in\\")"\n    annotations: "@migrate_inband(\\"flows\\")"',
      code: 'CONTRACT_INVALID', entity: "controller header 'packet_in'", annotation: '@migrate_inband', message: /packet_out serves slot group 'conntrack' but packet_in names 'flows'/,
    },
    {
      what: 'a req_id narrower than 16 bits (the in-band client could run out of free ids)',
      from: 'name: "req_id"\n    bitwidth: 32', to: 'name: "req_id"\n    bitwidth: 8',
      code: 'CONTRACT_INVALID', entity: "controller header 'packet_out'", annotation: '@migrate_inband', message: /field 'req_id' of 'packet_out' is 8 bits; it must hold at least 16 bits .*: widen it to bit<16> or more/,
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.what}, naming the entity, the annotation and the fix`, () => {
      const e = errorOf(c.from, c.to);
      expect(e.code).toBe(c.code);
      expect(e.entity).toBe(c.entity);
      expect(e.annotation).toBe(c.annotation);
      expect(e.message).toMatch(c.message);
      expect(e.message.startsWith(c.entity)).toBe(true);
    });
  }

  it('asks for a group by name and says which groups exist when it is absent', () => {
    expect(() => slotGroup(contract, 'flows')).toThrow(/needs slot group 'flows' \(declared: 'conntrack'\)/);
  });
});

describe('contract reader — what serving migrations needs', () => {
  it('migration service contract — stateful_edge has all of it; a P4Info without vm_migration, or without the VM map\'s annotation, is told what it lacks and where to declare it', () => {
    expect(migrationServiceGaps(contract, ct)).toEqual([]);
    const noControl = readMigrationContract(P4Schema.fromText(withoutTable(statefulEdgeP4InfoText(), 'vm_migration'), 'no vm_migration'));
    expect(migrationServiceGaps(noControl, slotGroup(noControl))).toEqual([expect.stringMatching(/^a migration control table \(@migrate_control\("vm_id", "set_migration"\) on vm_migration; p4\/README\.md "Migration control"\)$/)]);
    const noMap = readMigrationContract(P4Schema.fromText(editP4Info(statefulEdgeP4InfoText(), '    annotations: "@migrate_vm_map(\\"vm_addr\\" , \\"set_vm\\" , \\"vm_id\\")"\n', ''), 'no VM map'));
    expect(migrationServiceGaps(noMap, slotGroup(noMap))).toEqual([expect.stringMatching(/^a VM map \(@migrate_vm_map/)]);
  });

  it('migration service contract — a slot group without change logs or slot digests is told both, naming the group', () => {
    const bare = { ...ct, changeLog: undefined, newFlow: undefined, delta: undefined };
    expect(migrationServiceGaps(contract, bare)).toEqual([
      expect.stringMatching(/^change logs for slot group 'conntrack' \(@migrate_changelog\("conntrack"/),
      expect.stringMatching(/^a new-flow or delta digest for slot group 'conntrack' \(@migrate_new_flow/),
    ]);
  });
});
