/* stateful_edge — per-flow TCP connection tracking, dirty tracking, delta push and the in-band
 * state access service.
 *
 * These share one control because v1model lets only the declaring control touch a register:
 * the slot registers, the dirty bitmap and the epoch are read and written both by the data
 * path and by in-band requests.
 *
 * Slot group "conntrack" (p4/README.md): nine register arrays share one index space of CT_SLOTS
 * slots, one slot per tracked flow; every cell is at most 64 bits wide (Tofino's limit).
 *   word 0 ct_key_addr  [63:32] vm_addr      [31:0] remote_addr
 *   word 1 ct_key_port  [39:24] vm_port      [23:8] remote_port   [7:0] protocol (0 = empty)
 *   word 2 ct_state     [63:48] vm_id [47:44] state [43:40] flags [39:36] ws_out [35:32] ws_in
 *                       [31:16] win_out [15:0] win_in  (ws: window scale shift, CT_WS_NONE = none)
 *   word 3 ct_seq       [63:32] end_out      [31:0] end_in    (next sequence number expected)
 *   word 4 ct_ack       [63:32] ack_out      [31:0] ack_in    (highest ack sent)
 *   word 5 ct_last_seen [47:0]  last packet, microseconds of ingress_global_timestamp
 *                       (a CT_LAST_SEEN_BITS-wide cell: 48 here, up to 64 in a variant)
 *   word 6 ct_pkts      [63:32] pkts_out     [31:0] pkts_in
 *   word 7 ct_bytes_out [63:0]  IPv4 bytes from the VM
 *   word 8 ct_bytes_in  [63:0]  IPv4 bytes to the VM
 * "out" is the VM's side of the connection, "in" the remote side.
 *
 * Placement: the key is hashed twice, CT_HASH0 (crc32) choosing a bucket of CT_WAYS slots in
 * region 0 and CT_HASH1 (crc16) a bucket in region 1 (defines.p4 builds variants); the candidates are the bucket's slots in order, first choice first.
 * A packet belongs to the candidate whose key equals its own; a new flow (a SYN without ACK)
 * takes the first free candidate; when all are taken it is not tracked and ct_collisions counts
 * it. A slot is free when it is empty, CLOSED, or idle past its timeout. An ACK from the VM for a
 * flow no candidate holds is picked up mid-stream (p4/README.md, "Mid-stream pickup"). */
#ifndef __STATEFUL_EDGE_CONNTRACK__
#define __STATEFUL_EDGE_CONNTRACK__

control ConnTrack(inout headers_t hdr, inout local_metadata_t meta,
                  inout standard_metadata_t sm) {

    @name("ct_key_addr")
    @migrate_group("conntrack", 0)
    @migrate_layout("vm_addr:32 remote_addr:32")
    @migrate_key("vm_addr remote_addr vm_port remote_port protocol")
    @migrate_hash(CT_STR(CT_HASH0), 0, CT_REGION0_SIZE, CT_STR(CT_HASH1), CT_REGION0_SIZE, CT_REGION1_SIZE)
    @migrate_ways(CT_WAYS)
    @migrate_valid("protocol")
    @migrate_vm("vm_id")
    @migrate_clock("last_seen", "us")
    /* When the pipeline may hand a slot to another flow (the free test below): its state is
     * CLOSED, or its last packet is older than the shortest idle timeout. A destination writes a
     * staged flow's changes without WRITE_IF only while neither can be true. */
    @migrate_reclaim("state", CT_STATE_CLOSED, CT_TIMEOUT_SHORTEST)
    @migrate_delta("ct_delta_t")
    @migrate_collision("ct_collisions")
    @migrate_new_flow("ct_new_t")
    register<bit<64>>(CT_SLOTS) ct_key_addr;

    @name("ct_key_port")
    @migrate_group("conntrack", 1)
    @migrate_layout("vm_port:16 remote_port:16 protocol:8")
    register<bit<40>>(CT_SLOTS) ct_key_port;

    @name("ct_state")
    @migrate_group("conntrack", 2)
    @migrate_layout("vm_id:16 state:4 flags:4 ws_out:4 ws_in:4 win_out:16 win_in:16")
    register<bit<64>>(CT_SLOTS) ct_state;

    @name("ct_seq")
    @migrate_group("conntrack", 3)
    @migrate_layout("end_out:32 end_in:32")
    register<bit<64>>(CT_SLOTS) ct_seq;

    @name("ct_ack")
    @migrate_group("conntrack", 4)
    @migrate_layout("ack_out:32 ack_in:32")
    register<bit<64>>(CT_SLOTS) ct_ack;

    @name("ct_last_seen")
    @migrate_group("conntrack", 5)
    @migrate_layout(CT_STR(last_seen:CT_LAST_SEEN_BITS))
    register<ct_seen_t>(CT_SLOTS) ct_last_seen;

    @name("ct_pkts")
    @migrate_group("conntrack", 6)
    @migrate_layout("pkts_out:32 pkts_in:32")
    register<bit<64>>(CT_SLOTS) ct_pkts;

    @name("ct_bytes_out")
    @migrate_group("conntrack", 7)
    @migrate_layout("bytes_out:64")
    register<bit<64>>(CT_SLOTS) ct_bytes_out;

    @name("ct_bytes_in")
    @migrate_group("conntrack", 8)
    @migrate_layout("bytes_in:64")
    register<bit<64>>(CT_SLOTS) ct_bytes_in;

    /* Two buffers of DIRTY_WORDS_PER_BUFFER words; the data plane sets bits in buffer
     * (ct_epoch & 1): slot s is bit (s % 64) of word (buffer * DIRTY_WORDS_PER_BUFFER + s / 64). */
    @name("ct_dirty")
    @migrate_dirty("conntrack", "ct_epoch")
    register<bit<64>>(DIRTY_WORDS) ct_dirty;

    @name("ct_epoch")
    @migrate_epoch("conntrack")
    register<bit<32>>(1) ct_epoch;

    /* Change logs, one ring per tracker (p4/README.md "Change logs"). For tracker t:
     *   ct_trk_head[t]   entries ever appended (the next seq); only the data plane writes it;
     *   ct_trk_round[t]  [63:32] epoch [31:0] start: the round began when the head was `start`;
     *                    only the controller writes it (OP_TRK_FLIP, or a P4Runtime MODIFY);
     *   ct_trk_log[t * TRK_LOG_SIZE + (seq & TRK_LOG_MASK)]  [63:32] seq [31:0] slot;
     *   ct_mark[slot]    [39:32] tracker + 1 (0: never logged) [31:0] seq of the slot's last entry.
     *   ct_trk_changes[t] changes ever made by the tracker's VM (each numbers its digest); data plane only.
     * A tracked VM's change to a slot appends the slot once per round: unless the mark names
     * this tracker and a seq in [start, head). */
    @name("ct_trk_log")
    @migrate_changelog("conntrack", "ct_trk_head", "ct_trk_round", "ct_mark", "ct_trk_changes")
    register<bit<64>>(TRK_LOG_CELLS) ct_trk_log;

    @name("ct_trk_head")
    register<bit<32>>(TRACKERS) ct_trk_head;

    @name("ct_trk_round")
    register<bit<64>>(TRACKERS) ct_trk_round;

    @name("ct_trk_changes")
    register<bit<32>>(TRACKERS) ct_trk_changes;

    @name("ct_mark")
    register<bit<40>>(CT_SLOTS) ct_mark;

    @name("ct_collisions")
    counter(MAX_VMS, CounterType.packets) ct_collisions;

    apply {
        bit<48> now = sm.ingress_global_timestamp;

        if (hdr.packet_out.isValid()) {
            /* ---- in-band state access: answer one request with one PacketIn ---- */
            bit<8> op = hdr.packet_out.op;
            bit<32> idx = hdr.packet_out.index;
            hdr.packet_in.setValid();
            hdr.packet_in.op = op;
            hdr.packet_in.status = IB_OK;
            hdr.packet_in.req_id = hdr.packet_out.req_id;
            hdr.packet_in.index = idx;
            hdr.packet_in.ts = now;
            hdr.packet_in.w0 = 0;
            hdr.packet_in.w1 = 0;
            hdr.packet_in.w2 = 0;
            hdr.packet_in.w3 = 0;
            hdr.packet_in.w4 = 0;
            hdr.packet_in.w5 = 0;
            hdr.packet_in.w6 = 0;
            hdr.packet_in.w7 = 0;
            hdr.packet_in.w8 = 0;

            if (op == OP_READ_SLOT || op == OP_WRITE_SLOT || op == OP_WRITE_IF || op == OP_CLEAR_IF) {
                if (idx >= CT_SLOTS) {
                    hdr.packet_in.status = IB_BAD_INDEX;
                } else {
                    /* Read the slot first: the conditional ops decide on what it holds now, in
                     * the same pass that writes it, so no packet can change it in between. */
                    bit<64> r0;
                    bit<40> r1;
                    bit<64> r2;
                    bit<64> r3;
                    bit<64> r4;
                    ct_seen_t r5;
                    bit<64> r6;
                    bit<64> r7;
                    bit<64> r8;
                    ct_key_addr.read(r0, idx);
                    ct_key_port.read(r1, idx);
                    ct_state.read(r2, idx);
                    ct_seq.read(r3, idx);
                    ct_ack.read(r4, idx);
                    ct_last_seen.read(r5, idx);
                    ct_pkts.read(r6, idx);
                    ct_bytes_out.read(r7, idx);
                    ct_bytes_in.read(r8, idx);
                    /* holds: the slot holds the key of w0, w1 (words 0 and 1 are the key). */
                    bool holds = r0 == hdr.packet_out.w0 && r1 == hdr.packet_out.w1[39:0];
                    bool do_put = op == OP_WRITE_SLOT || (op == OP_WRITE_IF && (r1[7:0] == 0 || holds));
                    bool do_clear = op == OP_CLEAR_IF && r1[7:0] != 0 && holds
                                 && r2[63:48] == hdr.packet_out.w2[63:48];
                    if ((op == OP_WRITE_IF && !do_put) || (op == OP_CLEAR_IF && !do_clear)) {
                        hdr.packet_in.status = IB_CONFLICT;
                    }
                    if (do_put) {
                        /* Answer the slot as it now is: the written words, the others as read. */
                        bit<16> m = hdr.packet_out.mask;
                        if (m[0:0] == 1) { r0 = hdr.packet_out.w0; ct_key_addr.write(idx, r0); }
                        if (m[1:1] == 1) { r1 = hdr.packet_out.w1[39:0]; ct_key_port.write(idx, r1); }
                        if (m[2:2] == 1) { r2 = hdr.packet_out.w2; ct_state.write(idx, r2); }
                        if (m[3:3] == 1) { r3 = hdr.packet_out.w3; ct_seq.write(idx, r3); }
                        if (m[4:4] == 1) { r4 = hdr.packet_out.w4; ct_ack.write(idx, r4); }
                        if (m[5:5] == 1) { r5 = hdr.packet_out.w5[CT_LAST_SEEN_BITS - 1:0]; ct_last_seen.write(idx, r5); }
                        if (m[6:6] == 1) { r6 = hdr.packet_out.w6; ct_pkts.write(idx, r6); }
                        if (m[7:7] == 1) { r7 = hdr.packet_out.w7; ct_bytes_out.write(idx, r7); }
                        if (m[8:8] == 1) { r8 = hdr.packet_out.w8; ct_bytes_in.write(idx, r8); }
                    }
                    if (do_clear) {
                        /* Answer what the slot held before it was zeroed. */
                        ct_key_addr.write(idx, 0);
                        ct_key_port.write(idx, 0);
                        ct_state.write(idx, 0);
                        ct_seq.write(idx, 0);
                        ct_ack.write(idx, 0);
                        ct_last_seen.write(idx, 0);
                        ct_pkts.write(idx, 0);
                        ct_bytes_out.write(idx, 0);
                        ct_bytes_in.write(idx, 0);
                    }
                    hdr.packet_in.w0 = r0;
                    hdr.packet_in.w1 = (bit<64>) r1;
                    hdr.packet_in.w2 = r2;
                    hdr.packet_in.w3 = r3;
                    hdr.packet_in.w4 = r4;
                    hdr.packet_in.w5 = (bit<64>) r5;
                    hdr.packet_in.w6 = r6;
                    hdr.packet_in.w7 = r7;
                    hdr.packet_in.w8 = r8;
                }
            } else if (op == OP_READ_DIRTY || op == OP_CLEAR_DIRTY) {
                if (idx >= DIRTY_WORDS) {
                    hdr.packet_in.status = IB_BAD_INDEX;
                } else {
                    bit<64> dw;
                    ct_dirty.read(dw, idx);
                    hdr.packet_in.w0 = dw;
                    if (op == OP_CLEAR_DIRTY) {
                        ct_dirty.write(idx, 0);
                    }
                }
            } else if (op == OP_FLIP_EPOCH) {
                /* Conditional when mask bit 0 is set: flips only from the epoch in w0[31:0]. */
                bit<32> e1;
                ct_epoch.read(e1, 0);
                if (hdr.packet_out.mask[0:0] == 1 && e1 != hdr.packet_out.w0[31:0]) {
                    hdr.packet_in.status = IB_CONFLICT;
                } else {
                    e1 = e1 + 1;
                    ct_epoch.write(0, e1);
                }
                hdr.packet_in.w0 = (bit<64>) e1;
            } else if (op == OP_READ_EPOCH) {
                bit<32> e2;
                ct_epoch.read(e2, 0);
                hdr.packet_in.w0 = (bit<64>) e2;
            } else if (op == OP_READ_CLOCK) {
                hdr.packet_in.w0 = (bit<64>) now;
            } else if (op == OP_TRK_FLIP || op == OP_TRK_READ) {
                if (idx >= TRACKERS) {
                    hdr.packet_in.status = IB_BAD_INDEX;
                } else {
                    bit<32> th;
                    bit<64> tr;
                    bit<32> tc;
                    ct_trk_head.read(th, idx);
                    ct_trk_round.read(tr, idx);
                    ct_trk_changes.read(tc, idx);
                    if (op == OP_TRK_FLIP) {
                        /* A new round starts at the head; conditional on the epoch like FLIP_EPOCH. */
                        if (hdr.packet_out.mask[0:0] == 1 && tr[63:32] != hdr.packet_out.w0[31:0]) {
                            hdr.packet_in.status = IB_CONFLICT;
                        } else {
                            tr = (tr[63:32] + 1) ++ th;
                            ct_trk_round.write(idx, tr);
                        }
                    }
                    hdr.packet_in.w0 = (bit<64>) tr[63:32];
                    hdr.packet_in.w1 = (bit<64>) th;
                    hdr.packet_in.w2 = (bit<64>) tr[31:0];
                    hdr.packet_in.w3 = (bit<64>) tc;
                }
            } else if (op == OP_LOG_READ) {
                if (idx >= TRK_LOG_CELLS) {
                    hdr.packet_in.status = IB_BAD_INDEX;
                } else {
                    /* Nine consecutive entries of one tracker's ring, wrapping inside it. */
                    bit<32> ring = idx & ~((bit<32>) TRK_LOG_MASK);
                    bit<64> l0;
                    bit<64> l1;
                    bit<64> l2;
                    bit<64> l3;
                    bit<64> l4;
                    bit<64> l5;
                    bit<64> l6;
                    bit<64> l7;
                    bit<64> l8;
                    ct_trk_log.read(l0, ring | (idx & TRK_LOG_MASK));
                    ct_trk_log.read(l1, ring | ((idx + 1) & TRK_LOG_MASK));
                    ct_trk_log.read(l2, ring | ((idx + 2) & TRK_LOG_MASK));
                    ct_trk_log.read(l3, ring | ((idx + 3) & TRK_LOG_MASK));
                    ct_trk_log.read(l4, ring | ((idx + 4) & TRK_LOG_MASK));
                    ct_trk_log.read(l5, ring | ((idx + 5) & TRK_LOG_MASK));
                    ct_trk_log.read(l6, ring | ((idx + 6) & TRK_LOG_MASK));
                    ct_trk_log.read(l7, ring | ((idx + 7) & TRK_LOG_MASK));
                    ct_trk_log.read(l8, ring | ((idx + 8) & TRK_LOG_MASK));
                    hdr.packet_in.w0 = l0;
                    hdr.packet_in.w1 = l1;
                    hdr.packet_in.w2 = l2;
                    hdr.packet_in.w3 = l3;
                    hdr.packet_in.w4 = l4;
                    hdr.packet_in.w5 = l5;
                    hdr.packet_in.w6 = l6;
                    hdr.packet_in.w7 = l7;
                    hdr.packet_in.w8 = l8;
                }
            } else {
                hdr.packet_in.status = IB_BAD_OP;
            }
            hdr.packet_out.setInvalid();
            sm.egress_spec = CPU_PORT;
        } else {
            /* ---- connection tracking of one TCP segment ---- */
            bit<32> bucket0;
            bit<32> bucket1;
            hash(bucket0, HashAlgorithm.CT_HASH0, (bit<32>) 0,
                 { meta.flow.vm_addr, meta.flow.remote_addr, meta.flow.vm_port,
                   meta.flow.remote_port, meta.flow.protocol },
                 (bit<32>) CT_REGION0_BUCKETS);
            hash(bucket1, HashAlgorithm.CT_HASH1, (bit<32>) 0,
                 { meta.flow.vm_addr, meta.flow.remote_addr, meta.flow.vm_port,
                   meta.flow.remote_port, meta.flow.protocol },
                 (bit<32>) CT_REGION1_BUCKETS);
            /* The four candidates, in probe order (CT_WAYS = 2 slots per bucket). */
            bit<32> c0 = bucket0 * CT_WAYS;
            bit<32> c1 = c0 + 1;
            bit<32> c2 = CT_REGION0_SIZE + bucket1 * CT_WAYS;
            bit<32> c3 = c2 + 1;

            bit<64> want_addr = meta.flow.vm_addr ++ meta.flow.remote_addr;
            bit<40> want_port = meta.flow.vm_port ++ meta.flow.remote_port ++ meta.flow.protocol;

            bit<64> ka0;
            bit<40> kp0;
            bit<64> st0;
            ct_seen_t cell0;
            ct_key_addr.read(ka0, c0);
            ct_key_port.read(kp0, c0);
            ct_state.read(st0, c0);
            ct_last_seen.read(cell0, c0);
            bit<48> seen0 = cell0[47:0];
            bit<64> ka1;
            bit<40> kp1;
            bit<64> st1;
            ct_seen_t cell1;
            ct_key_addr.read(ka1, c1);
            ct_key_port.read(kp1, c1);
            ct_state.read(st1, c1);
            ct_last_seen.read(cell1, c1);
            bit<48> seen1 = cell1[47:0];
            bit<64> ka2;
            bit<40> kp2;
            bit<64> st2;
            ct_seen_t cell2;
            ct_key_addr.read(ka2, c2);
            ct_key_port.read(kp2, c2);
            ct_state.read(st2, c2);
            ct_last_seen.read(cell2, c2);
            bit<48> seen2 = cell2[47:0];
            bit<64> ka3;
            bit<40> kp3;
            bit<64> st3;
            ct_seen_t cell3;
            ct_key_addr.read(ka3, c3);
            ct_key_port.read(kp3, c3);
            ct_state.read(st3, c3);
            ct_last_seen.read(cell3, c3);
            bit<48> seen3 = cell3[47:0];

            /* hit: the candidate holds this flow; free: a new flow may take it (empty, CLOSED,
             * or idle past its timeout). */
            bool hit0 = ka0 == want_addr && kp0 == want_port;
            bool hit1 = ka1 == want_addr && kp1 == want_port;
            bool hit2 = ka2 == want_addr && kp2 == want_port;
            bool hit3 = ka3 == want_addr && kp3 == want_port;
            bool free0 = kp0[7:0] == 0 || st0[47:44] == CT_CLOSED
                      || (st0[47:44] == CT_ESTABLISHED && now - seen0 > CT_TIMEOUT_ESTABLISHED_US)
                      || (st0[47:44] != CT_ESTABLISHED && now - seen0 > CT_TIMEOUT_OTHER_US);
            bool free1 = kp1[7:0] == 0 || st1[47:44] == CT_CLOSED
                      || (st1[47:44] == CT_ESTABLISHED && now - seen1 > CT_TIMEOUT_ESTABLISHED_US)
                      || (st1[47:44] != CT_ESTABLISHED && now - seen1 > CT_TIMEOUT_OTHER_US);
            bool free2 = kp2[7:0] == 0 || st2[47:44] == CT_CLOSED
                      || (st2[47:44] == CT_ESTABLISHED && now - seen2 > CT_TIMEOUT_ESTABLISHED_US)
                      || (st2[47:44] != CT_ESTABLISHED && now - seen2 > CT_TIMEOUT_OTHER_US);
            bool free3 = kp3[7:0] == 0 || st3[47:44] == CT_CLOSED
                      || (st3[47:44] == CT_ESTABLISHED && now - seen3 > CT_TIMEOUT_ESTABLISHED_US)
                      || (st3[47:44] != CT_ESTABLISHED && now - seen3 > CT_TIMEOUT_OTHER_US);

            bit<8> tflags = hdr.tcp.flags;
            bool f_fin = tflags[0:0] == 1;
            bool f_syn = tflags[1:1] == 1;
            bool f_rst = tflags[2:2] == 1;
            bool f_ack = tflags[4:4] == 1;
            /* tcp_check.p4 let through only valid flag combinations: SYN here means SYN or
             * SYN+ACK (URG aside), FIN always comes with ACK. */
            bool pure_syn = f_syn && !f_ack;
            bool may_insert = meta.dir == DIR_OUT || meta.acl_admit;
            /* Mid-stream pickup: a plain ACK (data or not) from the VM for a flow no slot holds. */
            bool pickup = meta.dir == DIR_OUT && f_ack && !f_syn && !f_rst && !f_fin;

            /* The window scale shift this segment announces (SYN only): CT_WS_NONE without the
             * option, capped at CT_WS_MAX (RFC 7323 §2.3). */
            bit<4> my_ws = CT_WS_NONE;
            if (f_syn && meta.syn_ws_seen == 1) {
                if (meta.syn_ws > (bit<8>) CT_WS_MAX) {
                    my_ws = CT_WS_MAX;
                } else {
                    my_ws = meta.syn_ws[3:0];
                }
            }

            /* Which slot: the candidate holding this key; else, for a new flow, the first free
             * one. A matching slot is reused for a new connection when free or in TIME_WAIT. */
            bit<32> slot = c0;
            bool found = false;
            bool reusable = false;
            if (hit0) {
                found = true;
                reusable = free0 || st0[47:44] == CT_TIME_WAIT;
            } else if (hit1) {
                found = true;
                slot = c1;
                reusable = free1 || st1[47:44] == CT_TIME_WAIT;
            } else if (hit2) {
                found = true;
                slot = c2;
                reusable = free2 || st2[47:44] == CT_TIME_WAIT;
            } else if (hit3) {
                found = true;
                slot = c3;
                reusable = free3 || st3[47:44] == CT_TIME_WAIT;
            }
            bool insert = false;
            bool reclaim = false;
            if (found) {
                insert = pure_syn && may_insert && reusable;
            } else if ((pure_syn && may_insert) || pickup) {
                if (free0) {
                    insert = true;
                    reclaim = kp0[7:0] != 0;
                } else if (free1) {
                    insert = true;
                    slot = c1;
                    reclaim = kp1[7:0] != 0;
                } else if (free2) {
                    insert = true;
                    slot = c2;
                    reclaim = kp2[7:0] != 0;
                } else if (free3) {
                    insert = true;
                    slot = c3;
                    reclaim = kp3[7:0] != 0;
                } else {
                    ct_collisions.count((bit<32>) meta.vm_id);
                }
            }

            bit<16> hdr_bytes = ((bit<16>) hdr.ipv4.ihl << 2) + ((bit<16>) hdr.tcp.data_offset << 2);
            bit<32> seg_len = (bit<32>) (hdr.ipv4.total_len - hdr_bytes)
                            + (bit<32>) tflags[1:1] + (bit<32>) tflags[0:0];
            bit<32> seq = hdr.tcp.seq_no;
            bit<32> ack = hdr.tcp.ack_no;
            bit<32> seg_end = seq + seg_len;
            bit<64> ip_bytes = (bit<64>) hdr.ipv4.total_len;
            bit<16> win = hdr.tcp.window;

            bool do_write = false;
            bit<64> n_state = 0;
            bit<64> n_seq = 0;
            bit<64> n_ack = 0;
            bit<64> n_pkts = 0;
            bit<64> n_bytes_out = 0;
            bit<64> n_bytes_in = 0;

            if (insert && pure_syn) {
                do_write = true;
                if (meta.dir == DIR_OUT) {
                    n_state = meta.vm_id ++ CT_SYN_SENT ++ CT_FLAG_SYN_WIN_OUT ++ my_ws ++ CT_WS_NONE
                              ++ win ++ 16w0;
                    n_seq = seg_end ++ 32w0;
                    n_pkts = 32w1 ++ 32w0;
                    n_bytes_out = ip_bytes;
                } else {
                    n_state = meta.vm_id ++ CT_SYN_SENT ++ (CT_FLAG_REMOTE_INIT | CT_FLAG_SYN_WIN_IN)
                              ++ CT_WS_NONE ++ my_ws ++ 16w0 ++ win;
                    n_seq = 32w0 ++ seg_end;
                    n_pkts = 32w0 ++ 32w1;
                    n_bytes_in = ip_bytes;
                }
            } else if (insert) {
                /* Picked up mid-stream (always from the VM): ESTABLISHED, the remote side's
                 * window unknown (taken as the largest), both shifts CT_WS_PICKUP. */
                do_write = true;
                n_state = meta.vm_id ++ CT_ESTABLISHED ++ 4w0 ++ CT_WS_PICKUP ++ CT_WS_PICKUP
                          ++ win ++ 16w0xFFFF;
                n_seq = seg_end ++ ack;
                n_ack = ack ++ seq;
                n_pkts = 32w1 ++ 32w0;
                n_bytes_out = ip_bytes;
            } else if (found) {
                bit<64> st;
                bit<64> sq;
                bit<64> ak;
                bit<64> pk;
                bit<64> bo;
                bit<64> bi;
                ct_state.read(st, slot);
                ct_seq.read(sq, slot);
                ct_ack.read(ak, slot);
                ct_pkts.read(pk, slot);
                ct_bytes_out.read(bo, slot);
                ct_bytes_in.read(bi, slot);

                bit<4> cur_state = st[47:44];
                bit<4> cflags = st[43:40];
                /* The sender's and the receiver's view, whatever the direction. */
                bit<32> snd_end;
                bit<32> rcv_end;
                bit<32> snd_ack;
                bit<32> rcv_ack;
                bit<16> snd_win;
                bit<16> rcv_win;
                bit<4> snd_ws;
                bit<4> rcv_ws;
                bit<1> snd_synwin;
                bit<1> rcv_synwin;
                if (meta.dir == DIR_OUT) {
                    snd_end = sq[63:32];
                    rcv_end = sq[31:0];
                    snd_ack = ak[63:32];
                    rcv_ack = ak[31:0];
                    snd_win = st[31:16];
                    rcv_win = st[15:0];
                    snd_ws = st[39:36];
                    rcv_ws = st[35:32];
                    snd_synwin = cflags[2:2];
                    rcv_synwin = cflags[3:3];
                } else {
                    snd_end = sq[31:0];
                    rcv_end = sq[63:32];
                    snd_ack = ak[31:0];
                    rcv_ack = ak[63:32];
                    snd_win = st[15:0];
                    rcv_win = st[31:16];
                    snd_ws = st[35:32];
                    rcv_ws = st[39:36];
                    snd_synwin = cflags[3:3];
                    rcv_synwin = cflags[2:2];
                }
                bool from_init = cflags[0:0] == meta.dir;
                bool closer_is_sender = cflags[1:1] == meta.dir;
                bit<8> verdict = DROP_NONE;
                bit<4> nxt_state = cur_state;

                if (f_syn) {
                    if (!f_ack) {
                        if ((cur_state == CT_SYN_SENT && from_init) || cur_state == CT_SYN_SENT2) {
                            /* the initiator repeating its SYN, or either side during a
                             * simultaneous open */
                            snd_end = seg_end;
                            snd_win = win;
                            snd_synwin = 1;
                            snd_ws = my_ws;
                        } else if (cur_state == CT_SYN_SENT) {
                            /* the other side's SYN: simultaneous open (RFC 793 §3.4) */
                            snd_end = seg_end;
                            snd_win = win;
                            snd_synwin = 1;
                            snd_ws = my_ws;
                            nxt_state = CT_SYN_SENT2;
                        } else if (cur_state == CT_SYN_RECV && from_init && seg_end == snd_end) {
                            /* the initiator repeating its SYN: the SYN+ACK has not reached it */
                        } else {
                            verdict = DROP_TCP_INVALID;
                        }
                    } else {
                        if ((cur_state == CT_SYN_SENT || cur_state == CT_SYN_RECV) && !from_init
                                && ack == rcv_end) {
                            /* the responder's SYN+ACK acknowledges the initiator's SYN */
                            snd_end = seg_end;
                            snd_ack = ack;
                            snd_win = win;
                            snd_synwin = 1;
                            snd_ws = my_ws;
                            rcv_ack = seq;
                            nxt_state = CT_SYN_RECV;
                        } else if (cur_state == CT_SYN_SENT2 && ack == rcv_end) {
                            /* simultaneous open: the first SYN+ACK makes its sender the
                             * responder and the other side the initiator */
                            snd_end = seg_end;
                            snd_ack = ack;
                            snd_win = win;
                            snd_synwin = 1;
                            snd_ws = my_ws;
                            rcv_ack = seq;
                            nxt_state = CT_SYN_RECV;
                            cflags[0:0] = ~meta.dir;
                        } else if (cur_state == CT_SYN_RECV && from_init && ack == rcv_end
                                   && seg_end == snd_end) {
                            /* simultaneous open: the initiator's SYN+ACK acknowledges the
                             * responder's SYN */
                            snd_ack = ack;
                            snd_win = win;
                            snd_synwin = 1;
                            nxt_state = CT_ESTABLISHED;
                        } else {
                            verdict = DROP_TCP_INVALID;
                        }
                    }
                } else if (cur_state == CT_SYN_SENT || cur_state == CT_SYN_SENT2) {
                    /* before a SYN+ACK only a reset of a SYN is valid: the answer to the
                     * initiator's SYN, or a reset at the sender's exact next sequence number */
                    if (f_rst && ((cur_state == CT_SYN_SENT && f_ack && !from_init && ack == rcv_end)
                                  || (cur_state == CT_SYN_SENT2 && seq == snd_end))) {
                        nxt_state = CT_CLOSED;
                    } else {
                        verdict = DROP_TCP_INVALID;
                    }
                } else if (cur_state < CT_SYN_RECV || cur_state > CT_TIME_WAIT) {
                    /* CLOSED (or a slot without a state): nothing passes until a new SYN */
                    verdict = DROP_TCP_INVALID;
                } else {
                    /* The sequence-window check (after Rooij, "Real stateful TCP packet
                     * filtering"), sequence numbers modulo 2^32:
                     *   I   seg_end <= rcv_ack + rcv_wnd      (fits the receiver's window)
                     *   II  seg_end >= snd_end - rcv_wnd      (not older than one window)
                     *   III ack     <= rcv_end                (acks only data that was sent)
                     *   IV  ack     >= rcv_end - snd_wnd      (not older than one window)
                     * A window counts (field << shift) bytes when both SYNs announced a window
                     * scale, the field itself when it came from a SYN, plus CT_WIN_SLACK. */
                    bit<8> snd_sh = 0;
                    bit<8> rcv_sh = 0;
                    if (snd_ws != CT_WS_NONE && rcv_ws != CT_WS_NONE) {
                        if (snd_synwin == 0) {
                            snd_sh = (bit<8>) snd_ws;
                        }
                        if (rcv_synwin == 0) {
                            rcv_sh = (bit<8>) rcv_ws;
                        }
                    }
                    bit<32> rcv_wnd = ((bit<32>) rcv_win << rcv_sh) + CT_WIN_SLACK;
                    bit<32> snd_wnd = ((bit<32>) snd_win << snd_sh) + CT_WIN_SLACK;
                    /* Each distance is taken the way it stays below 2^31 (windows reach
                     * 2^30 + slack): how far the segment reaches past the receiver's ack, how far
                     * it lies behind the sender's end, how far the ack lies behind what was sent. */
                    bit<32> ahead = seg_end - rcv_ack;
                    bit<32> behind = snd_end - seg_end;
                    bool in_window = (ahead[31:31] == 1 || ahead <= rcv_wnd)
                                     && (behind[31:31] == 1 || behind <= rcv_wnd);
                    if (f_ack) {
                        bit<32> unacked = rcv_end - ack;
                        in_window = in_window && unacked[31:31] == 0 && unacked <= snd_wnd;
                    }
                    if (!in_window) {
                        verdict = DROP_OUT_OF_WINDOW;
                    } else if (f_rst) {
                        /* RFC 5961 §3: only a reset at the exact sequence number the receiver
                         * expects (the sender's next one, or the receiver's last ack) closes */
                        if (seq == snd_end || seq == rcv_ack) {
                            nxt_state = CT_CLOSED;
                        } else {
                            verdict = DROP_BAD_RST;
                        }
                    } else {
                        bit<32> grow = seg_end - snd_end;
                        if (grow[31:31] == 0) {
                            snd_end = seg_end;
                        }
                        bit<32> agrow = ack - snd_ack;
                        if (agrow[31:31] == 0) {
                            snd_ack = ack;
                        }
                        snd_win = win;
                        snd_synwin = 0;
                        if (cur_state == CT_SYN_RECV && from_init && ack == rcv_end) {
                            nxt_state = CT_ESTABLISHED;
                        }
                        if (f_fin) {
                            if (nxt_state == CT_ESTABLISHED) {
                                nxt_state = CT_FIN_WAIT;
                                cflags[1:1] = meta.dir;
                            } else if ((nxt_state == CT_FIN_WAIT || nxt_state == CT_CLOSE_WAIT)
                                       && !closer_is_sender) {
                                nxt_state = CT_LAST_ACK;
                            }
                        } else if (nxt_state == CT_FIN_WAIT && !closer_is_sender && ack == rcv_end) {
                            nxt_state = CT_CLOSE_WAIT;
                        } else if (nxt_state == CT_LAST_ACK && closer_is_sender && ack == rcv_end) {
                            nxt_state = CT_TIME_WAIT;
                        }
                    }
                }

                if (verdict == DROP_NONE) {
                    do_write = true;
                    if (meta.dir == DIR_OUT) {
                        n_state = st[63:48] ++ nxt_state ++ rcv_synwin ++ snd_synwin ++ cflags[1:0]
                                  ++ snd_ws ++ rcv_ws ++ snd_win ++ rcv_win;
                        n_seq = snd_end ++ rcv_end;
                        n_ack = snd_ack ++ rcv_ack;
                        n_pkts = (pk[63:32] + 1) ++ pk[31:0];
                        n_bytes_out = bo + ip_bytes;
                        n_bytes_in = bi;
                    } else {
                        n_state = st[63:48] ++ nxt_state ++ snd_synwin ++ rcv_synwin ++ cflags[1:0]
                                  ++ rcv_ws ++ snd_ws ++ rcv_win ++ snd_win;
                        n_seq = rcv_end ++ snd_end;
                        n_ack = rcv_ack ++ snd_ack;
                        n_pkts = pk[63:32] ++ (pk[31:0] + 1);
                        n_bytes_out = bo;
                        n_bytes_in = bi + ip_bytes;
                    }
                } else {
                    meta.drop_reason = verdict;
                }
            }

            if (do_write) {
                ct_key_addr.write(slot, want_addr);
                ct_key_port.write(slot, want_port);
                ct_state.write(slot, n_state);
                ct_seq.write(slot, n_seq);
                ct_ack.write(slot, n_ack);
                ct_last_seen.write(slot, (ct_seen_t) now);
                ct_pkts.write(slot, n_pkts);
                ct_bytes_out.write(slot, n_bytes_out);
                ct_bytes_in.write(slot, n_bytes_in);
                meta.ct_pass = true;

                /* Change log of the VM's tracker: the slot's first change in the round appends
                 * it (the digest carries its seq either way). */
                bit<8> dtracker = NO_TRACKER;
                bit<32> depoch = 0;
                bit<32> dseq = 0;
                bit<32> dchange = 0;
                if (meta.mig_track == 1 && meta.mig_tracker < TRACKERS) {
                    bit<32> t = (bit<32>) meta.mig_tracker;
                    bit<32> head;
                    bit<64> round;
                    bit<40> mark;
                    ct_trk_head.read(head, t);
                    ct_trk_round.read(round, t);
                    ct_mark.read(mark, slot);
                    bit<8> me = meta.mig_tracker + 1;
                    dseq = mark[31:0];
                    if (mark[39:32] != me || dseq - round[31:0] >= head - round[31:0]) {
                        dseq = head;
                        ct_trk_log.write(t * TRK_LOG_SIZE + (head & TRK_LOG_MASK), head ++ slot);
                        ct_mark.write(slot, me ++ head);
                        ct_trk_head.write(t, head + 1);
                    }
                    /* Every change is numbered, so a lost digest shows as a gap (p4/README.md "Delta push"). */
                    ct_trk_changes.read(dchange, t);
                    ct_trk_changes.write(t, dchange + 1);
                    dtracker = meta.mig_tracker;
                    depoch = round[63:32];
                }

                /* Dirty tracking and delta push for tracked VMs; also whenever a new flow
                 * evicts another flow's stale slot, since that flow's VM may be tracked. */
                if (meta.mig_track == 1 || reclaim) {
                    bit<32> epoch;
                    ct_epoch.read(epoch, 0);
                    bit<32> widx = slot >> 6;
                    if (epoch[0:0] == 1) {
                        widx = widx + DIRTY_WORDS_PER_BUFFER;
                    }
                    bit<64> dword;
                    ct_dirty.read(dword, widx);
                    dword = dword | (64w1 << slot[5:0]);
                    ct_dirty.write(widx, dword);

                    meta.delta.slot = slot;
                    meta.delta.vm_id = meta.vm_id;
                    meta.delta.tracker = dtracker;
                    meta.delta.epoch = depoch;
                    meta.delta.seq = dseq;
                    meta.delta.change = dchange;
                    meta.delta.ct_key_addr = want_addr;
                    meta.delta.ct_key_port = want_port;
                    meta.delta.ct_state = n_state;
                    meta.delta.ct_seq = n_seq;
                    meta.delta.ct_ack = n_ack;
                    meta.delta.ct_last_seen = (ct_seen_t) now;
                    meta.delta.ct_pkts = n_pkts;
                    meta.delta.ct_bytes_out = n_bytes_out;
                    meta.delta.ct_bytes_in = n_bytes_in;
                    digest<ct_delta_t>(1, meta.delta);
                } else if (insert) {
                    /* BMv2 keeps one digest per packet: a tracked VM's new flow is in its delta. */
                    meta.new_flow.slot = slot;
                    meta.new_flow.vm_id = meta.vm_id;
                    digest<ct_new_t>(1, meta.new_flow);
                }
            }
        }
    }
}

#endif
