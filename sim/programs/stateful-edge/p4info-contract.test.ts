/**
 * The P4 sources, the hand-written P4Info and the TypeScript model describe one program. This
 * test reads all three and checks they agree: every table, action, register, counter, direct
 * counter, digest and controller header of the P4 is in the P4Info and the other way round, with
 * the same widths, sizes and annotations; and the model's constants equal the P4's. That the
 * controller's contract reader (plugin/contract) derives the model's layout and placement from
 * the annotations alone is checked in scenarios/test/contract-placement.test.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readP4Program } from './contract/p4-source.js';
import { message, messages, num, parseTextProto, scalars, str } from './contract/text-proto.js';
import type { TextMessage } from './contract/text-proto.js';
import * as L from './layout.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const src = readP4Program(resolve(repo, 'p4', 'stateful_edge.p4'));
const p4info = parseTextProto(readFileSync(resolve(repo, 'p4', 'stateful_edge.p4info.txtpb'), 'utf8'));

const pre = (m: TextMessage): TextMessage => message(m, 'preamble');
const nameOf = (m: TextMessage): string => str(pre(m), 'name');
const annotationsOf = (m: TextMessage): string[] => scalars(pre(m), 'annotations').map(String);
const byName = (kind: string): Map<string, TextMessage> => new Map(messages(p4info, kind).map((m) => [nameOf(m), m]));
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
const widthOf = (spec: TextMessage): number => num(message(message(spec, 'bitstring'), 'bit'), 'bitwidth');

/** p4c's id hash (control-plane/p4RuntimeSymbolTable.cpp): Jenkins one-at-a-time. */
function jenkins(s: string): number {
  let h = 0;
  for (const c of new TextEncoder().encode(s)) {
    h = (h + c) >>> 0;
    h = (h + (h << 10)) >>> 0;
    h = (h ^ (h >>> 6)) >>> 0;
  }
  h = (h + (h << 3)) >>> 0;
  h = (h ^ (h >>> 11)) >>> 0;
  return (h + (h << 15)) >>> 0;
}

describe('p4info contract — the P4 sources and the P4Info name the same things', () => {
  const tables = byName('tables');
  const actions = byName('actions');
  const registers = byName('registers');
  const counters = byName('counters');
  const directCounters = byName('direct_counters');
  const digests = byName('digests');
  const cpm = byName('controller_packet_metadata');
  const idToName = new Map<number, string>();
  for (const kind of ['tables', 'actions', 'registers', 'counters', 'direct_counters', 'digests', 'controller_packet_metadata']) {
    for (const m of messages(p4info, kind)) idToName.set(num(pre(m), 'id'), nameOf(m));
  }

  it('names the package and the architecture', () => {
    const pkg = message(p4info, 'pkg_info');
    expect({ name: str(pkg, 'name'), version: str(pkg, 'version'), arch: str(pkg, 'arch') }).toEqual({
      name: src.pkgInfo.get('name'),
      version: src.pkgInfo.get('version'),
      arch: 'v1model',
    });
    expect(str(pkg, 'name')).toBe('stateful_edge');
  });

  it('has the same tables, with the same keys, actions, sizes, direct counters, timeouts and annotations', () => {
    expect(sorted(tables.keys())).toEqual(sorted(src.tables.map((t) => t.fullName)));
    for (const t of src.tables) {
      const p = tables.get(t.fullName);
      if (!p) throw new Error(t.fullName);
      expect(annotationsOf(p), t.fullName).toEqual(t.annotations);
      expect(messages(p, 'match_fields').map((f) => ({ id: num(f, 'id'), name: str(f, 'name'), bits: num(f, 'bitwidth'), type: str(f, 'match_type') })), t.fullName).toEqual(
        t.keys.map((k, i) => ({ id: i + 1, name: k.name, bits: k.bits, type: k.matchType })),
      );
      const refs = messages(p, 'action_refs').map((r) => ({
        name: idToName.get(num(r, 'id')),
        defaultOnly: str(r, 'scope') === 'DEFAULT_ONLY' && scalars(r, 'annotations').includes('@defaultonly'),
      }));
      expect(sorted(refs.map((r) => `${r.name}${r.defaultOnly ? ' @defaultonly' : ''}`)), t.fullName).toEqual(
        sorted(t.actions.map((a) => `${a.fullName}${a.defaultOnly ? ' @defaultonly' : ''}`)),
      );
      expect(t.actions.map((a) => a.fullName)).toContain(t.defaultAction);
      expect(num(p, 'size'), t.fullName).toBe(t.size);
      expect(str(p, 'idle_timeout_behavior') || 'NO_TIMEOUT', t.fullName).toBe(t.supportTimeout ? 'NOTIFY_CONTROL' : 'NO_TIMEOUT');
      expect(scalars(p, 'direct_resource_ids').map((id) => idToName.get(Number(id))), t.fullName).toEqual(t.directCounter ? [t.directCounter] : []);
    }
  });

  it('has the same actions with the same parameters and widths', () => {
    expect(sorted(actions.keys())).toEqual(sorted(src.actions.map((a) => a.fullName)));
    for (const a of src.actions) {
      const p = actions.get(a.fullName);
      if (!p) throw new Error(a.fullName);
      expect(messages(p, 'params').map((x) => ({ id: num(x, 'id'), name: str(x, 'name'), bits: num(x, 'bitwidth') })), a.fullName).toEqual(
        a.params.map((x, i) => ({ id: i + 1, name: x.name, bits: x.bits })),
      );
      expect(annotationsOf(p)).toEqual(a.annotations);
    }
  });

  it('has the same registers with the same widths, sizes and annotations', () => {
    expect(sorted(registers.keys())).toEqual(sorted(src.registers.map((r) => r.fullName)));
    for (const r of src.registers) {
      const p = registers.get(r.fullName);
      if (!p) throw new Error(r.fullName);
      expect({ bits: widthOf(message(p, 'type_spec')), size: num(p, 'size'), annotations: annotationsOf(p) }, r.fullName).toEqual({
        bits: r.bits,
        size: r.size,
        annotations: r.annotations,
      });
      expect(r.bits, `${r.fullName}: cells must fit Tofino's 64-bit registers`).toBeLessThanOrEqual(64);
    }
  });

  it('has the same counters and direct counters, units and sizes', () => {
    const indirect = src.counters.filter((c) => !c.direct);
    const direct = src.counters.filter((c) => c.direct);
    expect(sorted(counters.keys())).toEqual(sorted(indirect.map((c) => c.fullName)));
    expect(sorted(directCounters.keys())).toEqual(sorted(direct.map((c) => c.fullName)));
    for (const c of indirect) {
      const p = counters.get(c.fullName);
      if (!p) throw new Error(c.fullName);
      expect({ unit: str(message(p, 'spec'), 'unit'), size: num(p, 'size'), annotations: annotationsOf(p) }, c.fullName).toEqual({ unit: c.unit, size: c.size, annotations: c.annotations });
    }
    for (const c of direct) {
      const p = directCounters.get(c.fullName);
      if (!p) throw new Error(c.fullName);
      expect(str(message(p, 'spec'), 'unit')).toBe(c.unit);
      const table = src.tables.find((t) => t.directCounter === c.fullName);
      expect(idToName.get(num(p, 'direct_table_id'))).toBe(table?.fullName);
    }
  });

  it('has the same digests, typed by structs of the same members and widths', () => {
    expect(sorted(digests.keys())).toEqual(sorted(src.digests));
    const structs = new Map(messages(message(p4info, 'type_info'), 'structs').map((s) => [str(s, 'key'), message(s, 'value')]));
    for (const d of src.digests) {
      const p = digests.get(d);
      if (!p) throw new Error(d);
      expect(str(message(message(p, 'type_spec'), 'struct'), 'name')).toBe(d);
      const members = messages(structs.get(d) ?? {}, 'members').map((m) => ({ name: str(m, 'name'), bits: widthOf(message(m, 'type_spec')) }));
      expect(members, d).toEqual(src.types.get(d)?.fields.map((f) => ({ name: f.name, bits: f.bits })));
    }
  });

  it('has the same controller headers, fields, widths and annotations', () => {
    expect(sorted(cpm.keys())).toEqual(sorted(src.controllerHeaders.map((h) => h.name)));
    for (const h of src.controllerHeaders) {
      const p = cpm.get(h.name);
      if (!p) throw new Error(h.name);
      expect(annotationsOf(p)).toEqual(h.type.annotations);
      expect(messages(p, 'metadata').map((m) => ({ id: num(m, 'id'), name: str(m, 'name'), bits: num(m, 'bitwidth') }))).toEqual(
        h.type.fields.map((f, i) => ({ id: i + 1, name: f.name, bits: f.bits })),
      );
      const bits = h.type.fields.reduce((n, f) => n + (f.bits ?? 0), 0);
      expect(bits % 8, `${h.name} must be whole bytes on the wire`).toBe(0);
    }
  });

  it('uses p4c ids: the kind prefix byte over the Jenkins hash of the name, unique', () => {
    // Check value from the P4 tutorials' basic.p4info: table MyIngress.ipv4_lpm is 37375156.
    expect(((0x02 << 24) | (jenkins('MyIngress.ipv4_lpm') & 0xffffff)) >>> 0).toBe(37375156);
    const prefix: Record<string, number> = { tables: 0x02, actions: 0x01, controller_packet_metadata: 0x04, counters: 0x12, direct_counters: 0x13, registers: 0x16, digests: 0x17 };
    const typeNames: Record<string, string> = { packet_in: 'packet_in_header_t', packet_out: 'packet_out_header_t' };
    const seen = new Set<number>();
    for (const [kind, byte] of Object.entries(prefix)) {
      for (const m of messages(p4info, kind)) {
        const id = num(pre(m), 'id');
        expect(id >>> 24, `${kind} ${nameOf(m)}`).toBe(byte);
        // Controller headers are hashed by their P4 type name, everything else by its full name.
        const symbol = kind === 'controller_packet_metadata' ? (typeNames[nameOf(m)] ?? '') : nameOf(m);
        expect(id & 0xffffff, `${kind} ${nameOf(m)}`).toBe(jenkins(symbol) & 0xffffff);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    }
  });

  it('gives each object the shortest unique suffix of its name as alias', () => {
    const kinds = ['tables', 'actions', 'registers', 'counters', 'direct_counters', 'digests'];
    const names = kinds.flatMap((k) => messages(p4info, k).map(nameOf));
    for (const k of kinds) {
      for (const m of messages(p4info, k)) {
        const parts = nameOf(m).split('.');
        let alias = nameOf(m);
        for (let n = 1; n <= parts.length; n++) {
          const suffix = parts.slice(-n).join('.');
          if (names.filter((x) => x === suffix || x.endsWith(`.${suffix}`)).length < 2) {
            alias = suffix;
            break;
          }
        }
        expect(str(pre(m), 'alias')).toBe(alias);
      }
    }
  });
});

describe('p4info contract — the model matches the P4 program', () => {
  const macro = (n: string): number => Number(src.macros.get(n));
  const konst = (n: string): number => Number(src.consts.get(n));

  it('uses the P4 sizes', () => {
    expect({ ways: L.CT_WAYS, b0: L.CT_REGION0_BUCKETS, b1: L.CT_REGION1_BUCKETS, r0: L.CT_REGION0_SIZE, r1: L.CT_REGION1_SIZE, slots: L.CT_SLOTS, dpb: L.DIRTY_WORDS_PER_BUFFER, dw: L.DIRTY_WORDS, vms: L.MAX_VMS, drops: L.DROP_REASONS }).toEqual({
      ways: macro('CT_WAYS'),
      b0: macro('CT_REGION0_BUCKETS'),
      b1: macro('CT_REGION1_BUCKETS'),
      r0: macro('CT_REGION0_SIZE'),
      r1: macro('CT_REGION1_SIZE'),
      slots: macro('CT_SLOTS'),
      dpb: macro('DIRTY_WORDS_PER_BUFFER'),
      dw: macro('DIRTY_WORDS'),
      vms: macro('MAX_VMS'),
      drops: macro('DROP_REASONS'),
    });
    expect({ trackers: L.TRACKERS, size: L.TRK_LOG_SIZE, mask: L.TRK_LOG_MASK, cells: L.TRK_LOG_CELLS, none: L.NO_TRACKER }).toEqual({
      trackers: macro('TRACKERS'), size: macro('TRK_LOG_SIZE'), mask: macro('TRK_LOG_MASK'), cells: macro('TRK_LOG_CELLS'), none: konst('NO_TRACKER'),
    });
    expect(macro('TRK_LOG_CELLS')).toBe(macro('TRACKERS') * macro('TRK_LOG_SIZE'));
    expect(macro('TRK_LOG_MASK')).toBe(macro('TRK_LOG_SIZE') - 1);
    expect(macro('TRK_LOG_SIZE') & macro('TRK_LOG_MASK')).toBe(0);
    expect(macro('CT_SLOTS')).toBe(macro('CT_REGION0_SIZE') + macro('CT_REGION1_SIZE'));
    expect(macro('CT_REGION0_BUCKETS') * macro('CT_WAYS')).toBe(macro('CT_REGION0_SIZE'));
    expect(macro('CT_REGION1_BUCKETS') * macro('CT_WAYS')).toBe(macro('CT_REGION1_SIZE'));
    expect(macro('DIRTY_WORDS')).toBe(2 * Math.ceil(macro('CT_SLOTS') / 64));
    expect(L.CT_LAST_SEEN_BITS).toBe(macro('CT_LAST_SEEN_BITS'));
    expect(L.CT_WORDS[L.LAST_SEEN_WORD]?.register).toBe('ct_last_seen');
  });

  it('uses the P4 constants: ports, states, flags, timeouts, window, ops, statuses, drop reasons', () => {
    expect(L.P4_CPU_PORT).toBe(konst('CPU_PORT'));
    expect([L.ETHERTYPE_IPV4, L.IP_PROTO_TCP, L.IP_PROTO_UDP, L.DIR_OUT, L.DIR_IN]).toEqual(
      ['ETHERTYPE_IPV4', 'IP_PROTO_TCP', 'IP_PROTO_UDP', 'DIR_OUT', 'DIR_IN'].map(konst),
    );
    for (const [k, v] of Object.entries(L.CtState)) expect(v, k).toBe(konst(`CT_${k}`));
    for (const [k, v] of Object.entries(L.InbandOp)) expect(v, k).toBe(konst(`OP_${k}`));
    for (const [k, v] of Object.entries(L.InbandStatus)) expect(v, k).toBe(konst(`IB_${k}`));
    for (const [k, v] of Object.entries(L.DropReason)) expect(v, k).toBe(konst(`DROP_${k}`));
    expect([L.CT_FLAG_REMOTE_INIT, L.CT_FLAG_REMOTE_CLOSER, L.CT_FLAG_SYN_WIN_OUT, L.CT_FLAG_SYN_WIN_IN, L.CT_WS_NONE, L.CT_WS_MAX, L.CT_WS_PICKUP, L.CT_WIN_SLACK]).toEqual(
      ['CT_FLAG_REMOTE_INIT', 'CT_FLAG_REMOTE_CLOSER', 'CT_FLAG_SYN_WIN_OUT', 'CT_FLAG_SYN_WIN_IN', 'CT_WS_NONE', 'CT_WS_MAX', 'CT_WS_PICKUP', 'CT_WIN_SLACK'].map(konst),
    );
    expect([L.TCP_OPT_EOL, L.TCP_OPT_NOP, L.TCP_OPT_WS, L.TCP_FLAGS_CHECKED, L.PACKET_OUT_BYTES]).toEqual(['TCP_OPT_EOL', 'TCP_OPT_NOP', 'TCP_OPT_WS', 'TCP_FLAGS_CHECKED', 'PACKET_OUT_BYTES'].map(konst));
    expect(L.TCP_OPT_BYTES).toBe(macro('TCP_OPT_BYTES'));
    // The valid flag combinations are spelled out in tcp_check.p4 from the TCP_* constants.
    const tcpCheck = readFileSync(resolve(repo, 'p4', 'include', 'control', 'tcp_check.p4'), 'utf8');
    const flag = (n: string): number => konst(`TCP_${n}`);
    const combos = [...tcpCheck.matchAll(/f == \(?(TCP_\w+(?: \| TCP_\w+)*)\)?/g)].map((m) => (m[1] ?? '').split(' | ').reduce((a, n) => a | flag(n.replace('TCP_', '')), 0));
    expect([...combos].sort((a, b) => a - b)).toEqual([...L.TCP_VALID_FLAG_COMBINATIONS].sort((a, b) => a - b));
    expect(L.CT_TIMEOUT_ESTABLISHED_US).toBe(src.consts.get('CT_TIMEOUT_ESTABLISHED_US'));
    expect(L.CT_TIMEOUT_OTHER_US).toBe(src.consts.get('CT_TIMEOUT_OTHER_US'));
    expect(Math.max(...Object.values(L.DropReason))).toBeLessThan(L.DROP_REASONS);
  });

  it('lays out the controller headers as the P4 does', () => {
    const fields = (name: string) => src.controllerHeaders.find((h) => h.name === name)?.type.fields.map((f) => ({ name: f.name, bits: f.bits }));
    expect(fields('packet_out')).toEqual([...L.PACKET_OUT_FIELDS]);
    expect(fields('packet_in')).toEqual([...L.PACKET_IN_FIELDS]);
    expect([L.PACKET_OUT_BYTES, L.PACKET_IN_BYTES]).toEqual([85, 88]);
  });

  it('names only tables, registers, counters and digests the P4Info has (by alias)', () => {
    const aliases = (kind: string): string[] => messages(p4info, kind).map((m) => str(pre(m), 'alias'));
    for (const t of Object.values(L.Names.tables)) expect(aliases('tables')).toContain(t);
    for (const c of Object.values(L.Names.counters)) expect(aliases('counters')).toContain(c);
    for (const d of Object.values(L.Names.digests)) expect(aliases('digests')).toContain(d);
    for (const r of [...Object.values(L.Names.registers), ...L.CT_WORDS.map((w) => w.register)]) expect(aliases('registers')).toContain(r);
  });
});

describe('p4info contract — the digests carry what the model emits', () => {
  it('has the delta digest carry the slot, the VM and every word of the group under its register name', () => {
    const delta = src.types.get('ct_delta_t')?.fields.map((f) => ({ name: f.name, bits: f.bits }));
    expect(delta).toEqual([
      { name: 'slot', bits: 32 }, { name: 'vm_id', bits: 16 }, { name: 'tracker', bits: 8 }, { name: 'epoch', bits: 32 }, { name: 'seq', bits: 32 }, { name: 'change', bits: 32 },
      ...L.CT_WORDS.map((w) => ({ name: w.register, bits: w.bits })),
    ]);
  });

  it('has the new-flow digest carry the slot and the VM', () => {
    expect(src.types.get('ct_new_t')?.fields.map((f) => ({ name: f.name, bits: f.bits }))).toEqual([{ name: 'slot', bits: 32 }, { name: 'vm_id', bits: 16 }]);
  });

  it('has the pinhole digest carry exactly the dyn_acl key', () => {
    const dyn = src.tables.find((t) => t.fullName.endsWith('.dyn_acl'));
    expect(src.types.get('pinhole_t')?.fields.map((f) => ({ name: f.name, bits: f.bits }))).toEqual(dyn?.keys.map((k) => ({ name: k.name, bits: k.bits })));
  });
});
