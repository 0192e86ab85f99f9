/**
 * The P4Info of l2_echo.p4, as p4c would write it (names, aliases, widths, annotations); the ids
 * are ours. The same content in protobuf text format is `l2_echo.p4info.txtpb`.
 */
import { p4 } from 'p4runtime-ts/proto';
import { minimalBmv2Json } from '../../pipeline/bmv2-json.js';

/** Ids of every l2_echo object, for tests that build raw requests. */
export const L2_ECHO_IDS = Object.freeze({
  tables: { mac_fwd: 0x02000001, mac_prefix: 0x02000002, acl: 0x02000003 },
  actions: { NoAction: 0x01000001, forward: 0x01000002, to_cpu: 0x01000003, drop: 0x01000004, allow: 0x01000005, deny: 0x01000006, multicast: 0x01000007 },
  counters: { port_counter: 0x12000001 },
  directCounters: { mac_fwd_counter: 0x13000001, acl_counter: 0x13000002 },
  registers: { pkt_count: 0x16000001, wide_reg: 0x16000002 },
  digests: { learn_t: 0x17000001 },
  controllerHeaders: { packet_out: 0x04000001, packet_in: 0x04000002 },
});

/** The ether type that makes l2_echo emit a learn_t digest. */
export const L2_ECHO_LEARN_ETHER_TYPE = 0x88b5;

const ids = L2_ECHO_IDS;

/** The P4Info as a plain object (protobufjs `fromObject` form). */
export const L2_ECHO_P4INFO_OBJECT = {
  pkgInfo: { name: 'l2_echo', arch: 'v1model', doc: { brief: 'sim test program: forward by table, echo to CPU' } },
  tables: [
    {
      preamble: { id: ids.tables.mac_fwd, name: 'EchoIngress.mac_fwd', alias: 'mac_fwd' },
      matchFields: [{ id: 1, name: 'hdr.ethernet.dst_addr', bitwidth: 48, matchType: 'EXACT' }],
      actionRefs: [{ id: ids.actions.forward }, { id: ids.actions.to_cpu }, { id: ids.actions.drop }, { id: ids.actions.multicast }, { id: ids.actions.NoAction }],
      directResourceIds: [ids.directCounters.mac_fwd_counter],
      size: 1024,
      idleTimeoutBehavior: 'NOTIFY_CONTROL',
    },
    {
      preamble: { id: ids.tables.mac_prefix, name: 'EchoIngress.mac_prefix', alias: 'mac_prefix' },
      matchFields: [{ id: 1, name: 'hdr.ethernet.dst_addr', bitwidth: 48, matchType: 'LPM' }],
      actionRefs: [{ id: ids.actions.forward }, { id: ids.actions.to_cpu }, { id: ids.actions.drop }],
      size: 256,
    },
    {
      preamble: { id: ids.tables.acl, name: 'EchoIngress.acl', alias: 'acl' },
      matchFields: [
        { id: 1, name: 'hdr.ethernet.ether_type', bitwidth: 16, matchType: 'TERNARY' },
        { id: 2, name: 'standard_metadata.ingress_port', bitwidth: 9, matchType: 'RANGE' },
        { id: 3, name: 'hdr.ethernet.src_addr', bitwidth: 48, matchType: 'OPTIONAL' },
      ],
      actionRefs: [{ id: ids.actions.allow }, { id: ids.actions.deny }],
      directResourceIds: [ids.directCounters.acl_counter],
      size: 64,
    },
  ],
  actions: [
    { preamble: { id: ids.actions.NoAction, name: 'NoAction', alias: 'NoAction', annotations: ['@noWarn("unused")'] } },
    { preamble: { id: ids.actions.forward, name: 'EchoIngress.forward', alias: 'forward' }, params: [{ id: 1, name: 'port', bitwidth: 9 }] },
    { preamble: { id: ids.actions.to_cpu, name: 'EchoIngress.to_cpu', alias: 'to_cpu' } },
    { preamble: { id: ids.actions.drop, name: 'EchoIngress.drop', alias: 'drop' } },
    { preamble: { id: ids.actions.allow, name: 'EchoIngress.allow', alias: 'allow' } },
    { preamble: { id: ids.actions.deny, name: 'EchoIngress.deny', alias: 'deny' } },
    { preamble: { id: ids.actions.multicast, name: 'EchoIngress.multicast', alias: 'multicast' }, params: [{ id: 1, name: 'group', bitwidth: 16 }] },
  ],
  counters: [{ preamble: { id: ids.counters.port_counter, name: 'EchoIngress.port_counter', alias: 'port_counter' }, spec: { unit: 'BOTH' }, size: 512 }],
  directCounters: [
    { preamble: { id: ids.directCounters.mac_fwd_counter, name: 'EchoIngress.mac_fwd_counter', alias: 'mac_fwd_counter' }, spec: { unit: 'BOTH' }, directTableId: ids.tables.mac_fwd },
    { preamble: { id: ids.directCounters.acl_counter, name: 'EchoIngress.acl_counter', alias: 'acl_counter' }, spec: { unit: 'BOTH' }, directTableId: ids.tables.acl },
  ],
  controllerPacketMetadata: [
    {
      preamble: { id: ids.controllerHeaders.packet_out, name: 'packet_out', alias: 'packet_out', annotations: ['@controller_header("packet_out")'] },
      metadata: [
        { id: 1, name: 'egress_port', bitwidth: 9 },
        { id: 2, name: '_pad', bitwidth: 7 },
      ],
    },
    {
      preamble: { id: ids.controllerHeaders.packet_in, name: 'packet_in', alias: 'packet_in', annotations: ['@controller_header("packet_in")'] },
      metadata: [
        { id: 1, name: 'ingress_port', bitwidth: 9 },
        { id: 2, name: '_pad', bitwidth: 7 },
      ],
    },
  ],
  registers: [
    { preamble: { id: ids.registers.pkt_count, name: 'EchoIngress.pkt_count', alias: 'pkt_count' }, typeSpec: { bitstring: { bit: { bitwidth: 32 } } }, size: 512 },
    { preamble: { id: ids.registers.wide_reg, name: 'EchoIngress.wide_reg', alias: 'wide_reg' }, typeSpec: { bitstring: { bit: { bitwidth: 72 } } }, size: 16 },
  ],
  digests: [{ preamble: { id: ids.digests.learn_t, name: 'learn_t', alias: 'learn_t' }, typeSpec: { struct: { name: 'learn_t' } } }],
  typeInfo: {
    structs: {
      learn_t: {
        members: [
          { name: 'src_addr', typeSpec: { bitstring: { bit: { bitwidth: 48 } } } },
          { name: 'ingress_port', typeSpec: { bitstring: { bit: { bitwidth: 9 } } } },
        ],
      },
    },
  },
} as const;

/** A fresh decoded-message copy of the l2_echo P4Info. */
export function l2EchoP4Info(): p4.config.v1.P4Info {
  return p4.config.v1.P4Info.fromObject(L2_ECHO_P4INFO_OBJECT);
}

/**
 * The device config a profile expects with this P4Info: on `bmv2` a (stand-in) BMv2 JSON naming
 * the program and its tables, elsewhere opaque bytes.
 */
export function l2EchoDeviceConfig(profile: string): Uint8Array {
  return profile === 'bmv2' ? minimalBmv2Json('l2_echo', L2_ECHO_P4INFO_OBJECT.tables.map((t) => t.preamble.name)) : new TextEncoder().encode('l2_echo opaque device config');
}
