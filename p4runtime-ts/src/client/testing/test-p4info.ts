/**
 * TEST FIXTURE — a small P4Info (protobuf text format, as p4c writes it) for the client's tests:
 * an exact-match ACL with idle timeout and a direct counter, a ternary filter table, a register, an
 * indirect counter, a struct digest and packet_in / packet_out headers.
 */
import { P4Schema } from '../../schema/index.js';

/** The fixture's P4Info text. */
export const TEST_P4INFO_TEXT = `
pkg_info { arch: "v1model" }
tables {
  preamble { id: 33554433 name: "ingress.acl" alias: "acl" }
  match_fields { id: 1 name: "hdr.ipv4.dst" bitwidth: 32 match_type: EXACT }
  match_fields { id: 2 name: "hdr.tcp.dport" bitwidth: 16 match_type: EXACT }
  action_refs { id: 16777217 }
  action_refs { id: 16777218 }
  direct_resource_ids: 318767105
  size: 1024
  idle_timeout_behavior: NOTIFY_CONTROL
}
tables {
  preamble { id: 33554434 name: "ingress.filter" alias: "filter" }
  match_fields { id: 1 name: "hdr.ipv4.src" bitwidth: 32 match_type: TERNARY }
  action_refs { id: 16777217 }
  action_refs { id: 16777218 }
  size: 256
}
actions {
  preamble { id: 16777217 name: "ingress.allow" alias: "allow" }
  params { id: 1 name: "port" bitwidth: 9 }
}
actions {
  preamble { id: 16777218 name: "ingress.drop" alias: "drop" }
}
counters {
  preamble { id: 302011111 name: "ingress.vm_bytes" alias: "vm_bytes" }
  spec { unit: BOTH }
  size: 16
}
direct_counters {
  preamble { id: 318767105 name: "ingress.acl_hits" alias: "acl_hits" }
  spec { unit: BOTH }
  direct_table_id: 33554433
}
controller_packet_metadata {
  preamble { id: 67146229 name: "packet_in" alias: "packet_in" annotations: "@controller_header(\\"packet_in\\")" }
  metadata { id: 1 name: "ingress_port" bitwidth: 9 }
  metadata { id: 2 name: "reason" bitwidth: 8 }
}
controller_packet_metadata {
  preamble { id: 67121543 name: "packet_out" alias: "packet_out" annotations: "@controller_header(\\"packet_out\\")" }
  metadata { id: 1 name: "egress_port" bitwidth: 9 }
  metadata { id: 2 name: "reason" bitwidth: 8 }
}
registers {
  preamble { id: 369098753 name: "ingress.ct_state" alias: "ct_state" }
  type_spec { bitstring { bit { bitwidth: 64 } } }
  size: 8
}
digests {
  preamble { id: 385875969 name: "ct_delta" alias: "ct_delta" }
  type_spec { struct { name: "ct_delta_t" } }
}
type_info {
  structs {
    key: "ct_delta_t"
    value {
      members { name: "src_addr" type_spec { bitstring { bit { bitwidth: 32 } } } }
      members { name: "index" type_spec { bitstring { bit { bitwidth: 16 } } } }
    }
  }
}
`;

/** A fresh schema over the fixture. */
export function testSchema(): P4Schema {
  return P4Schema.fromText(TEST_P4INFO_TEXT, 'test-p4info');
}
