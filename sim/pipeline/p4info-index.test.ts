import { describe, expect, it } from 'vitest';
import { p4 } from 'p4runtime-ts/proto';
import { P4InfoIndex } from './p4info-index.js';
import { SimError } from '../p4rt/status.js';
import { L2_ECHO_IDS, L2_ECHO_P4INFO_OBJECT } from '../programs/l2-echo/l2-echo-p4info.js';

type Obj = Record<string, unknown>;
const clone = (): Obj => JSON.parse(JSON.stringify(L2_ECHO_P4INFO_OBJECT)) as Obj;
const build = (o: Obj): P4InfoIndex => P4InfoIndex.build(p4.config.v1.P4Info.fromObject(o));
const rejects = (o: Obj): string => {
  try {
    build(o);
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe(3);
    return (e as SimError).message;
  }
  throw new Error('expected the P4Info to be rejected');
};
const tables = (o: Obj): Obj[] => o['tables'] as Obj[];

describe('p4info index — validation', () => {
  it('p4info index — accepts l2_echo and indexes names, aliases and kinds', () => {
    const ix = build(clone());
    expect(ix.idOf('table', 'mac_fwd')).toBe(L2_ECHO_IDS.tables.mac_fwd);
    expect(ix.idOf('table', 'EchoIngress.mac_fwd')).toBe(L2_ECHO_IDS.tables.mac_fwd);
    expect(ix.tables.get(L2_ECHO_IDS.tables.acl)?.needsPriority).toBe(true);
    expect(ix.tables.get(L2_ECHO_IDS.tables.mac_fwd)?.idleTimeoutNotify).toBe(true);
    expect(ix.tables.get(L2_ECHO_IDS.tables.mac_fwd)?.directCounterId).toBe(L2_ECHO_IDS.directCounters.mac_fwd_counter);
    expect(ix.digests.get(L2_ECHO_IDS.digests.learn_t)?.members.map((m) => m.bitwidth)).toEqual([48, 9]);
    expect(ix.registers.get(L2_ECHO_IDS.registers.wide_reg)?.cell).toEqual({ kind: 'bit', bitwidth: 72 });
    expect(ix.controllerHeaders.get('packet_out')?.metadata.map((m) => m.name)).toEqual(['egress_port', '_pad']);
    expect(ix.describe(L2_ECHO_IDS.tables.acl)).toContain("table 'EchoIngress.acl'");
  });

  it('p4info index — rejects an id used twice, naming both', () => {
    const o = clone();
    ((o['counters'] as Obj[])[0]!['preamble'] as Obj)['id'] = L2_ECHO_IDS.tables.acl;
    expect(rejects(o)).toMatch(/id 0x02000003 is used by a counter and by table 'EchoIngress.acl'|is used by/);
  });

  it('p4info index — rejects an action ref that is not an action', () => {
    const o = clone();
    (tables(o)[0]!['actionRefs'] as Obj[]).push({ id: 0x01009999 });
    expect(rejects(o)).toContain("table 'EchoIngress.mac_fwd' action_refs names 0x01009999, which is not an action");
  });

  it('p4info index — rejects zero widths, missing match types and id 0', () => {
    const o = clone();
    const mf = (tables(o)[0]!['matchFields'] as Obj[])[0]!;
    mf['bitwidth'] = 0;
    delete mf['matchType'];
    ((o['registers'] as Obj[])[0]!['preamble'] as Obj)['id'] = 0;
    const msg = rejects(o);
    expect(msg).toContain("match field 'hdr.ethernet.dst_addr' has bitwidth 0");
    expect(msg).toContain('has no match_type');
    expect(msg).toContain("register 'EchoIngress.pkt_count' has id 0");
  });

  it('p4info index — rejects a digest whose struct is missing from type_info', () => {
    const o = clone();
    delete (o['typeInfo'] as Obj)['structs'];
    expect(rejects(o)).toContain("digest 'learn_t' names struct 'learn_t', which is not in type_info.structs");
  });

  it('p4info index — rejects a direct counter its table does not list', () => {
    const o = clone();
    delete tables(o)[2]!['directResourceIds'];
    expect(rejects(o)).toContain("direct counter 'EchoIngress.acl_counter' is attached to table 'EchoIngress.acl' but the table does not list it");
  });

  it('p4info index — rejects duplicate names within a kind', () => {
    const o = clone();
    ((tables(o)[1]!['preamble'] as Obj))['alias'] = 'mac_fwd';
    expect(rejects(o)).toContain("table name 'mac_fwd' is used by both");
  });
});
