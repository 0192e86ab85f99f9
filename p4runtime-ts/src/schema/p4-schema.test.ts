import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { P4RuntimeError } from '../errors.js';
import { p4 } from '../proto/index.js';
import { P4Schema } from './p4-schema.js';
import { parseP4InfoText } from './text-format.js';

const fixture = readFileSync(new URL('./fixtures/inband.p4info.txtpb', import.meta.url), 'utf8');
const schema = P4Schema.fromText(fixture);
const named = P4Schema.fromText(`pkg_info { name: "inband" arch: "v1model" }\n${fixture.replace(/pkg_info \{[^}]*\}/, '')}`);

/** The fixture as a plain object, to mutate per test. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Plain = any;
const base = (): Plain => p4.config.v1.P4Info.toObject(parseP4InfoText(fixture), { longs: String, enums: String });

function errorOf(f: () => unknown): P4RuntimeError {
  try {
    f();
  } catch (e) {
    return e as P4RuntimeError;
  }
  throw new Error('expected an error');
}

const tmp = mkdtempSync(join(tmpdir(), 'p4schema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('schema/p4-schema — loading', () => {
  it('schema/p4-schema — text, binary and plain-object loads index the same entities', () => {
    const bin = p4.config.v1.P4Info.encode(schema.p4info).finish();
    const fromBin = P4Schema.fromBinary(bin);
    const fromObj = P4Schema.fromP4Info(base());
    for (const s of [fromBin, fromObj]) {
      expect(s.tables.map((t) => t.id)).toEqual(schema.tables.map((t) => t.id));
      expect(s.table('acl').directCounter?.name).toBe('LabIngress.acl_counter');
      expect(s.digest('delta_t').members).toEqual(schema.digest('delta_t').members);
    }
    expect(schema.programName).toBe('');
    expect(named.programName).toBe('inband');
  });

  it('schema/p4-schema — fromFile picks text or binary by extension, and by content otherwise', () => {
    const bin = p4.config.v1.P4Info.encode(schema.p4info).finish();
    const files: [string, Uint8Array | string][] = [
      ['a.p4info.txtpb', fixture],
      ['a.pb.txt', fixture],
      ['a.p4info.pb', bin],
      ['a.p4info.bin', bin],
      ['noext-text', fixture],
      ['noext-binary', bin],
    ];
    for (const [name, data] of files) {
      writeFileSync(join(tmp, name), data);
      expect(P4Schema.fromFile(join(tmp, name)).table('acl').size).toBe(200000);
    }
  });

  it('schema/p4-schema — fromFile errors name the file', () => {
    const missing = join(tmp, 'missing.txtpb');
    expect(errorOf(() => P4Schema.fromFile(missing)).message).toMatch(new RegExp(`^cannot read P4Info file '${missing}'`));
    writeFileSync(join(tmp, 'bad.txtpb'), 'tables {\n  nope: 1\n}\n');
    expect(errorOf(() => P4Schema.fromFile(join(tmp, 'bad.txtpb'))).message).toMatch(/bad\.txtpb:2:3: p4\.config\.v1\.Table has no field 'nope'/);
    writeFileSync(join(tmp, 'bad.pb'), Uint8Array.of(0x0a, 0x10, 0x00));
    const e = errorOf(() => P4Schema.fromFile(join(tmp, 'bad.pb')));
    expect(e.code).toBe('SCHEMA_INVALID');
    expect(e.message).toMatch(/bad\.pb: not a binary P4Info/);
    writeFileSync(join(tmp, 'dup.txtpb'), fixture.replaceAll('id: 26572924', 'id: 31392318'));
    expect(errorOf(() => P4Schema.fromFile(join(tmp, 'dup.txtpb'))).message).toMatch(/dup\.txtpb: id 0x01df023e is used by both/);
  });
});

describe('schema/p4-schema — lookups', () => {
  it('schema/p4-schema — by full name, alias, suffix and id give the same entity', () => {
    const acl = schema.table('LabIngress.acl');
    expect(schema.table('acl')).toBe(acl);
    expect(schema.table(46230849)).toBe(acl);
    expect(schema.byId(46230849)).toBe(acl);
    expect(schema.find('table', 'acl')).toBe(acl);
    expect(schema.action('allow')).toBe(schema.action('LabIngress.allow'));
    expect(schema.register('flow_state').id).toBe(371574993);
    expect(schema.counter('flow_counter').unit).toBe('both');
    expect(schema.directCounter('acl_counter').tableId).toBe(acl.id);
    expect(schema.controllerHeader('packet_in').metadataField('index').bitwidth).toBe(32);
    expect(schema.controllerHeader('packet_out').metadataField(3).name).toBe('value');
  });

  it('schema/p4-schema — tables expose keys, actions, size, idle timeout and priority need', () => {
    const acl = schema.table('acl');
    expect(acl.matchFields).toEqual([{ id: 1, name: 'hdr.eth.dstAddr', bitwidth: 48, matchType: 'exact', annotations: [] }]);
    expect(acl.actions.map((a) => a.alias)).toEqual(['allow', 'deny']);
    expect(acl.size).toBe(200000);
    expect(acl.idleTimeout).toBe(true);
    expect(acl.requiresPriority).toBe(false);
    expect(acl.isConst).toBe(false);
    const ct = schema.table('conntrack');
    expect(ct.requiresPriority).toBe(true);
    expect(ct.idleTimeout).toBe(false);
    expect(ct.directCounter).toBeUndefined();
    expect(ct.constDefaultActionId).toBe(21257015);
    expect(ct.actionRefs.map((r) => r.scope)).toEqual(['table_and_default', 'default_only']);
    expect(ct.actionRefs[1]?.annotations[0]?.name).toBe('defaultonly');
    expect(ct.brief).toBe('Connection tracking: one entry per 5-tuple.');
    expect(ct.matchField('srcAddr').name).toBe('hdr.ipv4.srcAddr');
    expect(ct.matchField(5).bitwidth).toBe(128);
    expect(ct.action('ct_hit').param('peer_mac').bitwidth).toBe(48);
    expect(ct.action(19700572).name).toBe('LabIngress.ct_hit');
  });

  it('schema/p4-schema — registers, digests and annotations', () => {
    const reg = schema.register('flow_state');
    expect([reg.size, reg.bitwidth, reg.signed]).toEqual([65536, 64, false]);
    expect(reg.annotation('migrate_group')?.args).toEqual(['conntrack']);
    expect(reg.annotation('migrate')?.kv).toEqual({ group: 'conntrack', version: 2n });
    expect(schema.table('conntrack').annotation('@migrate_group')?.args).toEqual(['conntrack']);
    expect(schema.table('conntrack').matchField('hdr.ipv4.srcAddr').annotations[0]?.args).toEqual(['src_addr', 1n, true]);
    expect(schema.digest('delta_t').members).toEqual([
      { name: 'index', bitwidth: 32, type: 'bit', path: ['index'] },
      { name: 'value', bitwidth: 64, type: 'bit', path: ['value'] },
    ]);
    expect(schema.controllerHeader('packet_out').annotation('controller_header')?.args).toEqual(['packet_out']);
  });

  it('schema/p4-schema — a miss says "did you mean" with alias and full name, and names the program', () => {
    const e = errorOf(() => named.table('acll'));
    expect(e.code).toBe('SCHEMA_LOOKUP');
    expect(e.message).toBe("no table 'acll' in P4Info of program inband; did you mean 'acl' (LabIngress.acl)?");
    expect(errorOf(() => schema.register('flowstate')).message).toBe("no register 'flowstate' in P4Info; did you mean 'flow_state' (LabIngress.flow_state)?");
  });

  it('schema/p4-schema — a name of another kind says which kind it is', () => {
    expect(errorOf(() => schema.table('acl_counter')).message).toMatch(/^no table 'acl_counter' in P4Info: 'acl_counter' is the direct counter LabIngress\.acl_counter/);
  });

  it('schema/p4-schema — an id of another kind says which kind it is', () => {
    expect(errorOf(() => schema.table(304847260)).message).toBe("id 0x122b999c is the counter 'LabIngress.flow_counter', not a table");
    expect(errorOf(() => schema.byId(0x02000099)).message).toBe('no entity with id 0x02000099 (33554585) in P4Info; its prefix 0x02 would make it a table');
    expect(schema.find('counter', 46230849)).toBeUndefined();
    expect(schema.find('table', 'nope')).toBeUndefined();
  });

  it('schema/p4-schema — a table refuses actions it does not list, naming the allowed ones', () => {
    expect(errorOf(() => schema.table('conntrack').action('allow')).message).toBe(
      "'allow' is not an action of table 'LabIngress.conntrack' (allowed: ct_hit, NoAction)",
    );
    expect(errorOf(() => schema.table('acl').action('alow')).message).toMatch(/did you mean 'allow' \(LabIngress\.allow\)\?/);
  });

  it('schema/p4-schema — member look-ups suggest and list', () => {
    expect(errorOf(() => schema.action('allow').param('prot')).message).toBe(
      "no parameter 'prot' in action 'LabIngress.allow'; did you mean 'port'? (parameters: port (1))",
    );
    expect(errorOf(() => schema.table('conntrack').matchField('dstAddr')).message).toBe(
      "match field 'dstAddr' of table 'LabIngress.conntrack' is ambiguous: 'hdr.ipv4.dstAddr', 'hdr.ipv6.dstAddr'; use the full name",
    );
  });

  it('schema/p4-schema — ambiguous aliases and suffixes ask for the full name', () => {
    const info = base();
    info.tables[1].preamble.name = 'LabEgress.acl';
    info.tables[1].preamble.alias = 'LabEgress.acl';
    info.tables[0].preamble.alias = 'LabIngress.acl';
    const s = P4Schema.fromP4Info(info);
    expect(s.table('LabEgress.acl').id).toBe(44596308);
    expect(errorOf(() => s.table('acl')).message).toBe("table name 'acl' is ambiguous in P4Info: LabIngress.acl, LabEgress.acl; use the full name");
  });
});

describe('schema/p4-schema — validation (SCHEMA_INVALID names the entity)', () => {
  const cases: [string, (i: Plain) => void, string][] = [
    ['duplicate ids', (i) => (i.actions[3].preamble.id = i.actions[1].preamble.id), "id 0x01df023e is used by both action 'LabIngress.allow' and action 'LabIngress.ct_hit'"],
    ['duplicate names', (i) => (i.actions[2].preamble.name = 'LabIngress.allow'), "two actions are named 'LabIngress.allow' (ids 0x01df023e and 0x0195787c)"],
    [
      'id prefix not matching the kind',
      (i) => (i.tables[0].preamble.id = 0x01000001),
      "table 'LabIngress.acl' has id 0x01000001 whose prefix 0x01 marks an action; tables use prefix 0x02 (P4Ids.Prefix)",
    ],
    ['zero id', (i) => (i.counters[0].preamble.id = 0), "a counter 'LabIngress.flow_counter' has no preamble id"],
    ['dangling action ref', (i) => (i.tables[0].actionRefs[0].id = 0x01ffffff), "table 'LabIngress.acl' refers to action id 0x01ffffff, which is not in the P4Info"],
    ['action ref to a non-action', (i) => (i.tables[0].actionRefs[0].id = 304847260), "which is the counter 'LabIngress.flow_counter'"],
    ['action listed twice', (i) => i.tables[0].actionRefs.push({ id: 31392318 }), "table 'LabIngress.acl' lists action 'LabIngress.allow' twice in action_refs"],
    ['const default not among the actions', (i) => (i.tables[1].constDefaultActionId = 31392318), "table 'LabIngress.conntrack' has const_default_action_id 0x01df023e, which is not one of its actions"],
    ['dangling direct resource', (i) => (i.tables[0].directResourceIds = [0x13ffffff]), "table 'LabIngress.acl' lists direct resource id 0x13ffffff, which is not in the P4Info"],
    ['direct resource of the wrong kind', (i) => (i.tables[0].directResourceIds = [304847260]), 'not a direct counter or meter'],
    ['direct counter naming a missing table', (i) => (i.directCounters[0].directTableId = 0x02ffffff), "direct counter 'LabIngress.acl_counter' names direct_table_id 0x02ffffff, which is not a table"],
    ['implementation that is not an action profile', (i) => (i.tables[0].implementationId = 0x11000001), 'has implementation_id 0x11000001, which is not an action profile'],
    ['zero param width', (i) => (i.actions[1].params[0].bitwidth = 0), "parameter 'port' of action 'LabIngress.allow' has bitwidth 0; expected a positive width"],
    ['negative match width', (i) => (i.tables[0].matchFields[0].bitwidth = -1), "match field 'hdr.eth.dstAddr' of table 'LabIngress.acl' has bitwidth -1"],
    ['zero metadata width', (i) => (i.controllerPacketMetadata[0].metadata[1].bitwidth = 0), "metadata field 'index' of controller header 'packet_out' has bitwidth 0"],
    ['duplicate match field ids', (i) => (i.tables[1].matchFields[1].id = 1), "table 'LabIngress.conntrack' has two match fields with id 1"],
    ['missing match type', (i) => delete i.tables[0].matchFields[0].matchType, "match field 'hdr.eth.dstAddr' of table 'LabIngress.acl' has no match type"],
    ['digest type missing from type_info', (i) => delete i.typeInfo.structs, "digest 'delta_t' uses struct 'delta_t', which is missing from type_info"],
    ['digest without type_spec', (i) => delete i.digests[0].typeSpec, "digest 'delta_t' has no type_spec"],
    ['unparseable annotation', (i) => (i.registers[0].preamble.annotations = ['@migrate_group("conntrack"']), `register 'LabIngress.flow_state': cannot parse annotation '@migrate_group("conntrack"'`],
  ];
  it.each(cases)('schema/p4-schema — %s', (_name, mutate, message) => {
    const info = base();
    mutate(info);
    const e = errorOf(() => P4Schema.fromP4Info(info));
    expect(e).toBeInstanceOf(P4RuntimeError);
    expect(e.code).toBe('SCHEMA_INVALID');
    expect(e.message).toContain(message);
  });

  it('schema/p4-schema — a string-translated type may have bitwidth 0', () => {
    const info = base();
    info.actions[1].params[0].bitwidth = 0;
    info.actions[1].params[0].typeName = { name: 'port_name_t' };
    info.typeInfo.newTypes = { port_name_t: { translatedType: { uri: 'lab/port', sdnString: {} } } };
    expect(P4Schema.fromP4Info(info).action('allow').param('port').bitwidth).toBe(0);
  });
});

describe('schema/p4-schema — digest and register types', () => {
  it('schema/p4-schema — nested structs, headers and tuples flatten with dotted names', () => {
    const info = base();
    info.typeInfo.structs.key_t = {
      members: [
        { name: 'src', typeSpec: { bitstring: { bit: { bitwidth: 32 } } } },
        { name: 'flag', typeSpec: { bool: {} } },
      ],
    };
    info.typeInfo.headers = { h_t: { members: [{ name: 'x', typeSpec: { int: { bitwidth: 7 } } }] } };
    info.typeInfo.structs.delta_t.members.push(
      { name: 'key', typeSpec: { struct: { name: 'key_t' } } },
      { name: 'hdr', typeSpec: { header: { name: 'h_t' } } },
      { name: 'pair', typeSpec: { tuple: { members: [{ bitstring: { bit: { bitwidth: 4 } } }, { bitstring: { varbit: { maxBitwidth: 40 } } }] } } },
    );
    const members = P4Schema.fromP4Info(info).digest('delta_t').members.map((m) => [m.name, m.bitwidth, m.type]);
    expect(members).toEqual([
      ['index', 32, 'bit'],
      ['value', 64, 'bit'],
      ['key.src', 32, 'bit'],
      ['key.flag', 0, 'bool'],
      ['hdr.x', 7, 'int'],
      ['pair.0', 4, 'bit'],
      ['pair.1', 40, 'varbit'],
    ]);
  });

  it('schema/p4-schema — a bare bitstring digest has one member named value', () => {
    const info = base();
    info.digests[0].typeSpec = { bitstring: { bit: { bitwidth: 12 } } };
    expect(P4Schema.fromP4Info(info).digest('delta_t').members).toEqual([{ name: 'value', bitwidth: 12, type: 'bit', path: [] }]);
  });

  it('schema/p4-schema — int<W> registers are signed; struct registers have bitwidth 0', () => {
    const info = base();
    info.registers[0].typeSpec = { bitstring: { int: { bitwidth: 16 } } };
    const r = P4Schema.fromP4Info(info).register('flow_state');
    expect([r.bitwidth, r.signed]).toEqual([16, true]);
    info.registers[0].typeSpec = { struct: { name: 'delta_t' } };
    expect(P4Schema.fromP4Info(info).register('flow_state').bitwidth).toBe(0);
  });
});
