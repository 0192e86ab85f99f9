/* stateful_edge — what a TCP segment must be before any ACL or the connection tracker sees it.
 *
 * In order (the first that applies is the drop reason):
 *   - TCP whose header the parser did not read: IPv4 options or a fragment → DROP_IP_POLICY
 *     (not tracked, by policy); a header cut short, or an IPv4 ihl below 5 → DROP_MALFORMED;
 *   - the first fragment of a fragmented segment (MF set) → DROP_IP_POLICY;
 *   - a data offset below 5, an IPv4 total length shorter than the IPv4 and TCP headers, a frame
 *     shorter than the IPv4 total length, or a SYN whose option list is malformed
 *     → DROP_MALFORMED, before any length can move a window;
 *   - a combination of FIN/SYN/RST/ACK/URG other than those listed below → DROP_TCP_INVALID.
 * Valid combinations (PSH, ECE and CWR ignored): SYN, SYN+URG, SYN+ACK, RST, RST+ACK, FIN+ACK,
 * FIN+ACK+URG, ACK, ACK+URG. */
#ifndef __STATEFUL_EDGE_TCP_CHECK__
#define __STATEFUL_EDGE_TCP_CHECK__

control TcpCheck(in headers_t hdr, inout local_metadata_t meta, in bit<32> frame_len) {
    apply {
        if (!hdr.tcp.isValid()) {
            if (hdr.ipv4.ihl > 5 || hdr.ipv4.frag_offset != 0) {
                meta.drop_reason = DROP_IP_POLICY;
            } else {
                meta.drop_reason = DROP_MALFORMED;
            }
        } else if (hdr.ipv4.flags[0:0] == 1) {
            meta.drop_reason = DROP_IP_POLICY;
        } else if (hdr.tcp.data_offset < 5
                   || hdr.ipv4.total_len < 16w20 + ((bit<16>) hdr.tcp.data_offset << 2)
                   || frame_len < 32w14 + (bit<32>) hdr.ipv4.total_len
                   || meta.opt_bad == 1) {
            meta.drop_reason = DROP_MALFORMED;
        } else {
            bit<8> f = hdr.tcp.flags & TCP_FLAGS_CHECKED;
            if (!(f == TCP_SYN || f == (TCP_SYN | TCP_URG) || f == (TCP_SYN | TCP_ACK)
                  || f == TCP_RST || f == (TCP_RST | TCP_ACK)
                  || f == (TCP_FIN | TCP_ACK) || f == (TCP_FIN | TCP_ACK | TCP_URG)
                  || f == TCP_ACK || f == (TCP_ACK | TCP_URG))) {
                meta.drop_reason = DROP_TCP_INVALID;
            }
        }
    }
}

#endif
