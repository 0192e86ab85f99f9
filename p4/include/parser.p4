/* stateful_edge — parser, checksum controls and deparser. */
#ifndef __STATEFUL_EDGE_PARSER__
#define __STATEFUL_EDGE_PARSER__

#include "headers.p4"

parser EdgeParser(packet_in pkt, out headers_t hdr, inout local_metadata_t meta,
                  inout standard_metadata_t sm) {
    state start {
        transition select(sm.ingress_port) {
            CPU_PORT: parse_packet_out;
            default: parse_ethernet;
        }
    }

    /* An in-band request carries no frame: stop after the controller header. */
    state parse_packet_out {
        pkt.extract(hdr.packet_out);
        transition select(hdr.packet_out.op) {
            OP_INJECT: parse_ethernet;
            default: accept;
        }
    }

    state parse_ethernet {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    /* Transport headers only when they sit right after a 20-byte IPv4 header of a first
     * (or only) fragment; anything else is handled as "other protocol". */
    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition select(hdr.ipv4.ihl, hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
            (4w5, 13w0, IP_PROTO_TCP): parse_tcp;
            (4w5, 13w0, IP_PROTO_UDP): parse_udp;
            default: accept;
        }
    }

    state parse_tcp {
        pkt.extract(hdr.tcp);
        transition accept;
    }

    state parse_udp {
        pkt.extract(hdr.udp);
        transition accept;
    }
}

/* The pipeline rewrites no header field, so there is no checksum to verify or update. */
control EdgeVerifyChecksum(inout headers_t hdr, inout local_metadata_t meta) {
    apply { }
}

control EdgeComputeChecksum(inout headers_t hdr, inout local_metadata_t meta) {
    apply { }
}

control EdgeDeparser(packet_out pkt, in headers_t hdr) {
    apply {
        pkt.emit(hdr.packet_in);
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.tcp);
        pkt.emit(hdr.udp);
    }
}

#endif
