/* stateful_edge — headers, metadata and digest structs. */
#ifndef __STATEFUL_EDGE_HEADERS__
#define __STATEFUL_EDGE_HEADERS__

#include "defines.p4"

/* A slot's last_seen cell (defines.p4, CT_LAST_SEEN_BITS). */
typedef bit<CT_LAST_SEEN_BITS> ct_seen_t;

/* ---- controller headers (in-band state access, see p4/README.md) ---------------------- */

/* Prepended by the switch agent to every PacketOut. op OP_INJECT (0) feeds the payload (an
 * Ethernet frame) into the pipeline as if it arrived on `port`; the other ops are in-band state
 * requests and are answered by one PacketIn carrying the same op and req_id. All fields are
 * whole bytes: 85 bytes in all. w<n> is word n of the slot group (see @migrate_group). */
@controller_header("packet_out")
@migrate_inband("conntrack")
header packet_out_header_t {
    bit<8>  op;
    bit<32> req_id;
    bit<16> port;
    bit<32> index;
    bit<16> mask;
    bit<64> w0;
    bit<64> w1;
    bit<64> w2;
    bit<64> w3;
    bit<64> w4;
    bit<64> w5;
    bit<64> w6;
    bit<64> w7;
    bit<64> w8;
}

/* The answer to an in-band request: 88 bytes. ts is the data-plane clock (microseconds) when
 * the request was served, so the controller can rebase timestamps it migrates. */
@controller_header("packet_in")
@migrate_inband("conntrack")
header packet_in_header_t {
    bit<8>  op;
    bit<8>  status;
    bit<32> req_id;
    bit<32> index;
    bit<48> ts;
    bit<64> w0;
    bit<64> w1;
    bit<64> w2;
    bit<64> w3;
    bit<64> w4;
    bit<64> w5;
    bit<64> w6;
    bit<64> w7;
    bit<64> w8;
}

/* ---- packet headers ---------------------------------------------------------------------- */

header ethernet_t {
    bit<48> dst_addr;
    bit<48> src_addr;
    bit<16> ether_type;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<8>  dscp_ecn;
    bit<16> total_len;
    bit<16> identification;
    bit<3>  flags;
    bit<13> frag_offset;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdr_checksum;
    bit<32> src_addr;
    bit<32> dst_addr;
}

/* Options of a SYN are parsed byte by byte into tcp_opt (parser.p4) and re-emitted unchanged;
 * options of other segments stay in the unparsed payload. */
header tcp_t {
    bit<16> src_port;
    bit<16> dst_port;
    bit<32> seq_no;
    bit<32> ack_no;
    bit<4>  data_offset;
    bit<4>  res;
    bit<8>  flags;      /* CWR ECE URG ACK PSH RST SYN FIN, FIN is bit 0 */
    bit<16> window;
    bit<16> checksum;
    bit<16> urgent_ptr;
}

/* One byte of the TCP option list. */
header tcp_opt_byte_t {
    bit<8> b;
}

header udp_t {
    bit<16> src_port;
    bit<16> dst_port;
    bit<16> len;
    bit<16> checksum;
}

struct headers_t {
    packet_out_header_t packet_out;
    packet_in_header_t  packet_in;
    ethernet_t          ethernet;
    ipv4_t              ipv4;
    tcp_t               tcp;
    tcp_opt_byte_t[TCP_OPT_BYTES] tcp_opt;
    udp_t               udp;
}

/* ---- digests ------------------------------------------------------------------------------ */

/* Asks the control plane to open a pinhole (a dyn_acl entry) for a UDP flow leaving a VM.
 * Member names are the dyn_acl key field names. */
struct pinhole_t {
    bit<16> vm_id;
    bit<32> vm_addr;
    bit<32> remote_addr;
    bit<16> vm_port;
    bit<16> remote_port;
    bit<8>  protocol;
}

/* Delta push: the new content of a changed slot. One member per register of the slot group,
 * named like the register, same width; `tracker`, `epoch` and `seq` place the change in its
 * tracker's change log (seq = the log position of the slot's entry in the current round;
 * tracker NO_TRACKER when the change was not logged); `change` numbers the tracker's changes
 * one by one (ct_trk_changes before this one), so a missing digest leaves a gap. */
struct ct_delta_t {
    bit<32> slot;
    bit<16> vm_id;
    bit<8>  tracker;
    bit<32> epoch;
    bit<32> seq;
    bit<32> change;
    bit<64> ct_key_addr;
    bit<40> ct_key_port;
    bit<64> ct_state;
    bit<64> ct_seq;
    bit<64> ct_ack;
    ct_seen_t ct_last_seen;
    bit<64> ct_pkts;
    bit<64> ct_bytes_out;
    bit<64> ct_bytes_in;
}

/* A flow took a slot (a new connection, or one picked up mid-stream) of a VM that is not tracked:
 * the controller's per-VM slot index learns from it (a tracked VM's new flow comes as ct_delta_t;
 * BMv2 keeps one digest per packet). */
struct ct_new_t {
    bit<32> slot;
    bit<16> vm_id;
}

/* ---- metadata ----------------------------------------------------------------------------- */

/* The flow key in canonical direction order: VM side first, whatever the packet's direction. */
struct flow_key_t {
    bit<32> vm_addr;
    bit<32> remote_addr;
    bit<16> vm_port;
    bit<16> remote_port;
    bit<8>  protocol;
}

struct local_metadata_t {
    bit<9>     in_port;       /* ingress port, or packet_out.port for an injected frame */
    bit<1>     dir;           /* DIR_OUT / DIR_IN */
    bool       port_known;
    bit<9>     out_port;
    bit<32>    vm_addr;       /* the VM's address: IPv4 source if DIR_OUT, destination if DIR_IN */
    bool       vm_known;
    bit<16>    vm_id;
    bit<9>     vm_port;       /* the VM's port from vm_table */
    bit<8>     drop_reason;   /* DROP_NONE while the packet is still admissible */
    bit<1>     mig_track;
    bit<1>     mig_freeze;
    bit<1>     mig_staged;
    bit<1>     mig_active;
    bit<8>     mig_tracker;   /* the change tracker of the VM's migration (set_migration) */
    flow_key_t flow;
    bool       dyn_allow;
    bool       dyn_deny;
    bool       static_allow;
    bool       static_deny;
    bool       static_any;    /* static_allow_any: admits inbound TCP no connection claims */
    bool       acl_admit;     /* an ACL lets this packet in (inbound), or open a connection */
    bool       ct_pass;       /* conntrack tracked the packet and it passed its checks */
    pinhole_t  pinhole;
    ct_delta_t delta;
    ct_new_t   new_flow;
    bit<8>     opt_left;      /* parser: bytes of the TCP option list not read yet */
    bit<8>     opt_kind;      /* parser: kind of the option being read */
    bit<8>     opt_data;      /* parser: bytes of the current option's data not read yet */
    bit<1>     opt_bad;       /* the SYN's option list is malformed */
    bit<1>     syn_ws_seen;   /* the SYN carries a window scale option */
    bit<8>     syn_ws;        /* its shift count (the last one, if several) */
}

#endif
