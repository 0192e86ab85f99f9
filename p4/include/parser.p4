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

    /* The options of a SYN (where window scale is announced) are read up to the data offset;
     * those of other segments stay in the payload. A data offset below 5 reads no options and
     * is dropped as malformed by the ingress. */
    state parse_tcp {
        pkt.extract(hdr.tcp);
        meta.opt_left = ((bit<8>) hdr.tcp.data_offset << 2) - 8w20;
        transition select(hdr.tcp.flags[1:1], hdr.tcp.data_offset) {
            (1w1, 4w6 &&& 4w0xE): parse_tcp_opt_kind;    /* data offset 6 or 7 */
            (1w1, 4w8 &&& 4w0x8): parse_tcp_opt_kind;    /* data offset 8..15 */
            default: accept;
        }
    }

    /* The option list, one byte per extract into the tcp_opt stack: at most 40 bytes, so the
     * stack never overflows. Each state is entered with opt_left > 0 bytes left, except where
     * it selects on opt_left first. */
    state parse_tcp_opt_kind {
        pkt.extract(hdr.tcp_opt.next);
        meta.opt_left = meta.opt_left - 1;
        meta.opt_kind = hdr.tcp_opt.last.b;
        transition select(hdr.tcp_opt.last.b, meta.opt_left) {
            (TCP_OPT_EOL, _): parse_tcp_opt_pad;
            (TCP_OPT_NOP, 8w0): accept;
            (TCP_OPT_NOP, _): parse_tcp_opt_kind;
            (_, 8w0): parse_tcp_opt_bad;                 /* no room for the length byte */
            default: parse_tcp_opt_len;
        }
    }

    state parse_tcp_opt_len {
        pkt.extract(hdr.tcp_opt.next);
        meta.opt_left = meta.opt_left - 1;
        meta.opt_data = hdr.tcp_opt.last.b - 8w2;
        transition select(meta.opt_kind, hdr.tcp_opt.last.b) {
            (_, 8w0): parse_tcp_opt_bad;                 /* a length below 2 */
            (_, 8w1): parse_tcp_opt_bad;
            (TCP_OPT_WS, 8w3): parse_tcp_opt_ws;
            default: parse_tcp_opt_data;
        }
    }

    state parse_tcp_opt_ws {
        transition select(meta.opt_left) {
            8w0: parse_tcp_opt_bad;
            default: parse_tcp_opt_ws_shift;
        }
    }

    state parse_tcp_opt_ws_shift {
        pkt.extract(hdr.tcp_opt.next);
        meta.opt_left = meta.opt_left - 1;
        meta.opt_data = 0;
        meta.syn_ws = hdr.tcp_opt.last.b;
        meta.syn_ws_seen = 1;
        transition parse_tcp_opt_data;
    }

    /* The rest of an option's data (MSS, SACK-permitted, timestamps, anything else). */
    state parse_tcp_opt_data {
        transition select(meta.opt_data, meta.opt_left) {
            (8w0, 8w0): accept;
            (8w0, _): parse_tcp_opt_kind;
            (_, 8w0): parse_tcp_opt_bad;                 /* the option runs past the data offset */
            default: parse_tcp_opt_data_byte;
        }
    }

    state parse_tcp_opt_data_byte {
        pkt.extract(hdr.tcp_opt.next);
        meta.opt_left = meta.opt_left - 1;
        meta.opt_data = meta.opt_data - 1;
        transition parse_tcp_opt_data;
    }

    /* After End of Option List: padding up to the data offset. */
    state parse_tcp_opt_pad {
        transition select(meta.opt_left) {
            8w0: accept;
            default: parse_tcp_opt_pad_byte;
        }
    }

    state parse_tcp_opt_pad_byte {
        pkt.extract(hdr.tcp_opt.next);
        meta.opt_left = meta.opt_left - 1;
        transition parse_tcp_opt_pad;
    }

    /* The option bytes not read stay in the payload; the ingress drops the SYN as malformed. */
    state parse_tcp_opt_bad {
        meta.opt_bad = 1;
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
        pkt.emit(hdr.tcp_opt);
        pkt.emit(hdr.udp);
    }
}

#endif
