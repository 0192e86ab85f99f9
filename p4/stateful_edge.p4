/* stateful_edge — a stateful edge firewall in front of VMs (P4_16, v1model).
 *
 * Compile: p4c-bm2-ss stateful_edge.p4 -o stateful_edge.json \
 *              --p4runtime-files stateful_edge.p4info.txtpb
 * Run:     simple_switch_grpc --no-p4 --device-id 0 -- --grpc-server-addr 127.0.0.1:9559 \
 *              --cpu-port 255
 *
 * Per packet: in-band state requests from the controller are answered (conntrack.p4); every other
 * frame is forwarded between VM-facing ports and the uplink (forwarding.p4) if the VM's migration
 * phase lets it through (vm_control.p4); a TCP segment must be well formed (tcp_check.p4); a deny
 * rule (static_acl.p4, dyn_acl.p4) stops a flow both ways; TCP is tracked per flow in registers
 * (conntrack.p4); traffic towards a VM is admitted only for a tracked connection, a learned
 * pinhole (dyn_acl.p4) or a static allow rule (static_acl.p4). The migration contract the controller reads from the
 * P4Info annotations is documented in p4/README.md. */
#include <core.p4>
#include <v1model.p4>

#include "include/defines.p4"
#include "include/headers.p4"
#include "include/parser.p4"
#include "include/control/forwarding.p4"
#include "include/control/vm_control.p4"
#include "include/control/static_acl.p4"
#include "include/control/dyn_acl.p4"
#include "include/control/conntrack.p4"
#include "include/control/vm_counters.p4"
#include "include/control/tcp_check.p4"

control StatefulEdgeIngress(inout headers_t hdr, inout local_metadata_t meta,
                            inout standard_metadata_t sm) {
    Forwarding() forwarding;
    VmControl() vm_control;
    StaticAcl() static_acl;
    DynAcl() dyn_acl;
    ConnTrack() conntrack;
    VmCounters() vm_counters;
    TcpCheck() tcp_check;

    /* Dropped packets by reason (DROP_* in defines.p4). */
    @name("drops")
    counter(DROP_REASONS, CounterType.packets_and_bytes) drops;

    apply {
        meta.in_port = sm.ingress_port;
        meta.drop_reason = DROP_NONE;
        meta.dyn_allow = false;
        meta.dyn_deny = false;
        meta.static_allow = false;
        meta.static_deny = false;
        meta.static_any = false;
        meta.acl_admit = false;
        meta.ct_pass = false;

        bool inband = false;
        bool injected = false;
        if (hdr.packet_out.isValid()) {
            if (hdr.packet_out.op == OP_INJECT) {
                /* A frame injected by the controller enters as if on packet_out.port. */
                meta.in_port = (bit<9>) hdr.packet_out.port;
                hdr.packet_out.setInvalid();
                injected = true;
            } else {
                inband = true;
            }
        }

        if (!inband) {
            if (!hdr.ipv4.isValid()) {
                meta.drop_reason = DROP_NOT_IPV4;
            } else {
                forwarding.apply(hdr, meta);
            }
            if (meta.drop_reason == DROP_NONE) {
                vm_control.apply(meta);
            }
            if (meta.drop_reason == DROP_NONE && hdr.ipv4.protocol == IP_PROTO_TCP) {
                /* The frame's own length: BMv2 counts an injected frame with its packet_out. */
                bit<32> frame_len = sm.packet_length;
                if (injected) {
                    frame_len = frame_len - PACKET_OUT_BYTES;
                }
                tcp_check.apply(hdr, meta, frame_len);
            }
            if (meta.drop_reason == DROP_NONE) {
                /* The flow key in canonical order: VM side first, whatever the direction. */
                bit<16> l4_src = 0;
                bit<16> l4_dst = 0;
                if (hdr.tcp.isValid()) {
                    l4_src = hdr.tcp.src_port;
                    l4_dst = hdr.tcp.dst_port;
                } else if (hdr.udp.isValid()) {
                    l4_src = hdr.udp.src_port;
                    l4_dst = hdr.udp.dst_port;
                }
                meta.flow.protocol = hdr.ipv4.protocol;
                if (meta.dir == DIR_OUT) {
                    meta.flow.vm_addr = hdr.ipv4.src_addr;
                    meta.flow.remote_addr = hdr.ipv4.dst_addr;
                    meta.flow.vm_port = l4_src;
                    meta.flow.remote_port = l4_dst;
                } else {
                    meta.flow.vm_addr = hdr.ipv4.dst_addr;
                    meta.flow.remote_addr = hdr.ipv4.src_addr;
                    meta.flow.vm_port = l4_dst;
                    meta.flow.remote_port = l4_src;
                }
                dyn_acl.apply(hdr, meta);
                static_acl.apply(meta);
                /* A deny stops the flow both ways, before it can change any state. */
                if (meta.dyn_deny || meta.static_deny) {
                    meta.drop_reason = DROP_ACL_DENY;
                }
                meta.acl_admit = meta.dyn_allow || meta.static_allow;
            }
        }

        /* One invocation of conntrack: the in-band service, or tracking of a TCP segment. */
        if (inband || (meta.drop_reason == DROP_NONE && hdr.tcp.isValid())) {
            conntrack.apply(hdr, meta, sm);
        }

        if (!inband) {
            /* Inbound TCP passes when the tracker passed it (or a static_allow_any rule admits
             * what no connection claims); other inbound traffic needs an ACL. */
            if (meta.drop_reason == DROP_NONE && meta.dir == DIR_IN) {
                bool admitted = meta.acl_admit;
                if (hdr.tcp.isValid()) {
                    admitted = meta.ct_pass || meta.static_any;
                }
                if (!admitted) {
                    meta.drop_reason = DROP_NOT_ADMITTED;
                }
            }
            if (meta.drop_reason == DROP_NONE) {
                vm_counters.apply(meta);
                sm.egress_spec = meta.out_port;
            } else {
                drops.count((bit<32>) meta.drop_reason);
                mark_to_drop(sm);
            }
        }
    }
}

control StatefulEdgeEgress(inout headers_t hdr, inout local_metadata_t meta,
                           inout standard_metadata_t sm) {
    apply { }
}

@pkginfo(name="stateful_edge", version="1.0.0")
V1Switch(EdgeParser(), EdgeVerifyChecksum(), StatefulEdgeIngress(), StatefulEdgeEgress(),
         EdgeComputeChecksum(), EdgeDeparser()) main;
