/* l2_echo — the sim's trivial test program (v1model), the P4 twin of sim/programs/l2-echo/.
 *
 * - A PacketOut with packet_out.egress_port != 0 leaves on that port untouched.
 * - Every other packet: counted per ingress port (indirect counter + register), an Ethernet frame
 *   with ether_type 0x88B5 emits a learn_t digest, the acl table may deny it, then mac_fwd
 *   (exact dst, idle timeout, direct counter) and on a miss mac_prefix (LPM dst) decide:
 *   forward(port), to_cpu (echo to the controller as a PacketIn) or drop. Unknown destinations go
 *   to the CPU.
 * Written for p4c-bm2-ss 1.2.4.8; the P4Info beside it mirrors what p4c emits (ids are ours).
 */
#include <core.p4>
#include <v1model.p4>

const bit<16> ETH_LEARN = 0x88B5;
const bit<9> CPU_PORT = 255;

@controller_header("packet_out")
header packet_out_t {
    bit<9> egress_port;
    bit<7> _pad;
}

@controller_header("packet_in")
header packet_in_t {
    bit<9> ingress_port;
    bit<7> _pad;
}

header ethernet_t {
    bit<48> dst_addr;
    bit<48> src_addr;
    bit<16> ether_type;
}

struct headers_t {
    packet_out_t packet_out;
    packet_in_t  packet_in;
    ethernet_t   ethernet;
}

struct learn_t {
    bit<48> src_addr;
    bit<9>  ingress_port;
}

struct metadata_t { }

parser EchoParser(packet_in pkt, out headers_t hdr, inout metadata_t meta,
                  inout standard_metadata_t std_meta) {
    state start {
        transition select(std_meta.ingress_port) {
            CPU_PORT: parse_packet_out;
            default: parse_ethernet;
        }
    }
    state parse_packet_out {
        pkt.extract(hdr.packet_out);
        transition parse_ethernet;
    }
    state parse_ethernet {
        pkt.extract(hdr.ethernet);
        transition accept;
    }
}

control EchoVerifyChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }

control EchoIngress(inout headers_t hdr, inout metadata_t meta,
                    inout standard_metadata_t standard_metadata) {
    counter(512, CounterType.packets_and_bytes) port_counter;
    direct_counter(CounterType.packets_and_bytes) mac_fwd_counter;
    direct_counter(CounterType.packets_and_bytes) acl_counter;
    register<bit<32>>(512) pkt_count;
    register<bit<72>>(16) wide_reg;

    action forward(bit<9> port) { standard_metadata.egress_spec = port; }
    action to_cpu() { standard_metadata.egress_spec = CPU_PORT; }
    action multicast(bit<16> group) { standard_metadata.mcast_grp = group; }
    action drop() { mark_to_drop(standard_metadata); }
    action allow() { }
    action deny() { mark_to_drop(standard_metadata); }

    table mac_fwd {
        key = { hdr.ethernet.dst_addr : exact; }
        actions = { forward; to_cpu; drop; multicast; NoAction; }
        size = 1024;
        default_action = NoAction();
        counters = mac_fwd_counter;
        support_timeout = true;
    }

    table mac_prefix {
        key = { hdr.ethernet.dst_addr : lpm; }
        actions = { forward; to_cpu; drop; }
        size = 256;
        default_action = to_cpu();
    }

    table acl {
        key = {
            hdr.ethernet.ether_type  : ternary;
            standard_metadata.ingress_port    : range;
            hdr.ethernet.src_addr    : optional;
        }
        actions = { allow; deny; }
        size = 64;
        default_action = allow();
        counters = acl_counter;
    }

    apply {
        if (hdr.packet_out.isValid() && hdr.packet_out.egress_port != 0) {
            standard_metadata.egress_spec = hdr.packet_out.egress_port;
            hdr.packet_out.setInvalid();
            return;
        }
        hdr.packet_out.setInvalid();
        port_counter.count((bit<32>) standard_metadata.ingress_port);
        bit<32> n;
        pkt_count.read(n, (bit<32>) standard_metadata.ingress_port);
        pkt_count.write((bit<32>) standard_metadata.ingress_port, n + 1);
        if (!hdr.ethernet.isValid()) {
            mark_to_drop(standard_metadata);
            return;
        }
        if (hdr.ethernet.ether_type == ETH_LEARN) {
            digest<learn_t>(1, { hdr.ethernet.src_addr, standard_metadata.ingress_port });
        }
        switch (acl.apply().action_run) {
            deny: { return; }
        }
        if (!mac_fwd.apply().hit) {
            mac_prefix.apply();
        }
    }
}

control EchoEgress(inout headers_t hdr, inout metadata_t meta,
                   inout standard_metadata_t std_meta) {
    apply {
        if (std_meta.egress_port == CPU_PORT) {
            hdr.packet_in.setValid();
            hdr.packet_in.ingress_port = std_meta.ingress_port;
        }
    }
}

control EchoComputeChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }

control EchoDeparser(packet_out pkt, in headers_t hdr) {
    apply {
        pkt.emit(hdr.packet_in);
        pkt.emit(hdr.ethernet);
    }
}

@pkginfo(name="l2_echo")
@brief("sim test program: forward by table, echo to CPU")
V1Switch(EchoParser(), EchoVerifyChecksum(), EchoIngress(), EchoEgress(),
         EchoComputeChecksum(), EchoDeparser()) main;
