/**
 * TEST FIXTURE — a P4Info for the compiled table encoder and read decoder: an exact-match table
 * with fields of 9, 32 (IPv4), 48 (MAC), 64 and 128 (IPv6) bits, listed out of id order, a table
 * with every other match kind, actions with a 72-bit parameter, a packet_out header with padding
 * fields, and a register.
 */
import { P4Schema } from '../../schema/index.js';

const TEXT = `
tables {
  preamble { id: 33554433 name: "ingress.flows" alias: "flows" }
  match_fields { id: 3 name: "hdr.ipv4.dst" bitwidth: 32 match_type: EXACT }
  match_fields { id: 1 name: "hdr.eth.dst" bitwidth: 48 match_type: EXACT }
  match_fields { id: 2 name: "meta.port" bitwidth: 9 match_type: EXACT }
  match_fields { id: 4 name: "hdr.ipv6.dst" bitwidth: 128 match_type: EXACT }
  match_fields { id: 5 name: "meta.cookie" bitwidth: 64 match_type: EXACT }
  action_refs { id: 16777217 }
  action_refs { id: 16777218 }
  size: 1024
  idle_timeout_behavior: NOTIFY_CONTROL
}
tables {
  preamble { id: 33554434 name: "ingress.mixed" alias: "mixed" }
  match_fields { id: 1 name: "hdr.ipv4.src" bitwidth: 32 match_type: LPM }
  match_fields { id: 2 name: "hdr.tcp.dport" bitwidth: 16 match_type: RANGE }
  match_fields { id: 3 name: "hdr.ipv4.proto" bitwidth: 8 match_type: TERNARY }
  match_fields { id: 4 name: "meta.vlan" bitwidth: 12 match_type: OPTIONAL }
  match_fields { id: 5 name: "meta.vrf" bitwidth: 8 match_type: EXACT }
  action_refs { id: 16777217 }
  action_refs { id: 16777218 }
  size: 256
}
actions {
  preamble { id: 16777217 name: "ingress.set" alias: "set" }
  params { id: 1 name: "port" bitwidth: 9 }
  params { id: 2 name: "mac" bitwidth: 48 }
  params { id: 3 name: "tag" bitwidth: 72 }
}
actions {
  preamble { id: 16777218 name: "ingress.drop" alias: "drop" }
}
controller_packet_metadata {
  preamble { id: 67121543 name: "packet_out" alias: "packet_out" annotations: "@controller_header(\\"packet_out\\")" }
  metadata { id: 1 name: "op" bitwidth: 8 }
  metadata { id: 2 name: "_pad" bitwidth: 7 }
  metadata { id: 3 name: "slot" bitwidth: 32 }
  metadata { id: 4 name: "value" bitwidth: 64 }
  metadata { id: 5 name: "reserved" bitwidth: 3 annotations: "@padding" }
  metadata { id: 6 name: "addr" bitwidth: 48 }
}
registers {
  preamble { id: 369098753 name: "ingress.r" alias: "r" }
  type_spec { bitstring { bit { bitwidth: 16 } } }
  size: 8
}
`;

/** A fresh schema over the fixture. */
export function codecSchema(): P4Schema {
  return P4Schema.fromText(TEXT, 'codec-p4info');
}
