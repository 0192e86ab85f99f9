/**
 * TEST FIXTURE — a P4Info for the compiled table encoder and read decoder: an exact-match table
 * with fields of 9, 32 (IPv4), 48 (MAC), 64 and 128 (IPv6) bits, listed out of id order, a table
 * with every other match kind, actions with a 72-bit parameter, and a register.
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
registers {
  preamble { id: 369098753 name: "ingress.r" alias: "r" }
  type_spec { bitstring { bit { bitwidth: 16 } } }
  size: 8
}
registers {
  preamble { id: 369098755 name: "ingress.wide" alias: "wide" }
  type_spec { bitstring { bit { bitwidth: 64 } } }
  size: 8
}
`;

/** A fresh schema over the fixture. */
export function codecSchema(): P4Schema {
  return P4Schema.fromText(TEXT, 'codec-p4info');
}
