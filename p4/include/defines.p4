/* stateful_edge — sizes and constants.
 *
 * Sizes are plain integer literals on purpose: they also appear inside @migrate_* annotations
 * (the preprocessor expands them there), and the controller reads those annotations from the
 * P4Info, so an expression like (A + B) would reach it unevaluated. */
#ifndef __STATEFUL_EDGE_DEFINES__
#define __STATEFUL_EDGE_DEFINES__

/* ---- sizes ------------------------------------------------------------------------------- */

/* Connection-tracking slot group: two hash regions in one index space, each cut into buckets of
 * CT_WAYS adjacent slots. Region 0 (first choice, CT_HASH0 = crc32) is [0, CT_REGION0_SIZE);
 * region 1 (second choice, CT_HASH1 = crc16, whose 16-bit output cannot address more than 65536
 * buckets) is [CT_REGION0_SIZE, CT_SLOTS). A flow may sit in any slot of its bucket in either
 * region: four candidates, which keeps 10^5 flows in 327680 slots with about 0.04% collisions
 * where single slots would lose 2%. BUCKETS = SIZE / CT_WAYS.
 *
 * A variant of the program (another size, other hashes) is built by overriding these on the
 * command line, every one of a group together, as literals (annotations carry them unevaluated):
 *   p4c-bm2-ss -DCT_HASH0=crc16 -DCT_HASH1=crc32 -DCT_REGION0_SIZE=131072 -DCT_REGION1_SIZE=524288 \
 *     -DCT_REGION0_BUCKETS=65536 -DCT_REGION1_BUCKETS=262144 -DCT_SLOTS=655360 \
 *     -DDIRTY_WORDS_PER_BUFFER=10240 -DDIRTY_WORDS=20480 stateful_edge.p4
 * The checks below refuse a set that does not add up. The controller needs no change: it reads
 * sizes and hashes from the P4Info, and capability negotiation translates between variants. */
#ifndef CT_HASH0
#define CT_HASH0 crc32
#endif
#ifndef CT_HASH1
#define CT_HASH1 crc16
#endif
#define CT_WAYS 2
#ifndef CT_REGION0_SIZE
#define CT_REGION0_SIZE 262144
#endif
#ifndef CT_REGION1_SIZE
#define CT_REGION1_SIZE 65536
#endif
#ifndef CT_REGION0_BUCKETS
#define CT_REGION0_BUCKETS 131072
#endif
#ifndef CT_REGION1_BUCKETS
#define CT_REGION1_BUCKETS 32768
#endif
#ifndef CT_SLOTS
#define CT_SLOTS 327680
#endif

/* Dirty bitmap: 64 slots per 64-bit word, two buffers of CT_SLOTS / 64 words each. */
#ifndef DIRTY_WORDS_PER_BUFFER
#define DIRTY_WORDS_PER_BUFFER 5120
#endif
#ifndef DIRTY_WORDS
#define DIRTY_WORDS 10240
#endif

#if CT_REGION0_SIZE + CT_REGION1_SIZE != CT_SLOTS
#error "CT_SLOTS must be CT_REGION0_SIZE + CT_REGION1_SIZE"
#endif
#if CT_REGION0_BUCKETS * CT_WAYS != CT_REGION0_SIZE || CT_REGION1_BUCKETS * CT_WAYS != CT_REGION1_SIZE
#error "CT_REGIONn_BUCKETS must be CT_REGIONn_SIZE / CT_WAYS"
#endif
#if DIRTY_WORDS_PER_BUFFER * 64 < CT_SLOTS || (DIRTY_WORDS_PER_BUFFER - 1) * 64 >= CT_SLOTS || DIRTY_WORDS != 2 * DIRTY_WORDS_PER_BUFFER
#error "DIRTY_WORDS_PER_BUFFER must be ceil(CT_SLOTS / 64) and DIRTY_WORDS twice that"
#endif

/* Width of the slot's last_seen cell (word 5, ct_last_seen): 48 bits holds v1model's
 * ingress_global_timestamp as it is; a variant built with -DCT_LAST_SEEN_BITS=64 keeps it in a
 * 64-bit cell, as a target with a wider clock would (the timestamp is zero-extended into it and
 * ages are still taken over its low 48 bits). A migration between the two builds translates the
 * field either way: the destination rebases it to its own clock and writes it at its own width. */
#ifndef CT_LAST_SEEN_BITS
#define CT_LAST_SEEN_BITS 48
#endif
#if CT_LAST_SEEN_BITS < 48 || CT_LAST_SEEN_BITS > 64
#error "CT_LAST_SEEN_BITS must be 48..64: it holds a 48-bit timestamp in a cell of at most 64 bits"
#endif

/* A name as a string literal (the hash algorithm inside @migrate_hash, last_seen's layout). */
#define CT_STR_(x) #x
#define CT_STR(x) CT_STR_(x)

/* Change tracking per migration (p4/README.md "Change logs"): TRACKERS trackers, each with a ring
 * of TRK_LOG_SIZE log entries (a power of two; TRK_LOG_MASK = TRK_LOG_SIZE - 1) in one register of
 * TRK_LOG_CELLS = TRACKERS * TRK_LOG_SIZE cells. NO_TRACKER in a digest: the change was not logged. */
#define TRACKERS 4
#define TRK_LOG_SIZE 8192
#define TRK_LOG_MASK 8191
#define TRK_LOG_CELLS 32768
const bit<8> NO_TRACKER = 255;

#define MAX_VMS 1024
#define PORT_TABLE_SIZE 512
#define VM_TABLE_SIZE 1024
#define MIGRATION_TABLE_SIZE 1024
#define STATIC_ACL_SIZE 1024
#define DYN_ACL_SIZE 65536
#define DROP_REASONS 16

/* TCP options (40 bytes at most) are parsed one byte at a time into a stack of this size. */
#define TCP_OPT_BYTES 40

/* ---- ports, protocols ---------------------------------------------------------------------- */

const bit<9> CPU_PORT = 255;
/* Length of the packet_out header BMv2 counts in front of an injected frame. */
const bit<32> PACKET_OUT_BYTES = 85;
const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8> IP_PROTO_TCP = 6;
const bit<8> IP_PROTO_UDP = 17;

/* Direction of a packet relative to the VM it belongs to. */
const bit<1> DIR_OUT = 0;   /* from a VM-facing port towards the uplink */
const bit<1> DIR_IN = 1;    /* from the uplink towards a VM */

/* ---- connection tracking --------------------------------------------------------------- */

/* ct_state[47:44]: the state machine. 0 means "never used". SYN_SENT2: both sides sent a SYN
 * before either answered (simultaneous open, RFC 793 §3.4). */
const bit<4> CT_NONE = 0;
const bit<4> CT_SYN_SENT = 1;
const bit<4> CT_SYN_RECV = 2;
const bit<4> CT_ESTABLISHED = 3;
const bit<4> CT_FIN_WAIT = 4;
const bit<4> CT_CLOSE_WAIT = 5;
const bit<4> CT_LAST_ACK = 6;
const bit<4> CT_TIME_WAIT = 7;
/* A macro as well: @migrate_reclaim names it (annotations take no P4 constants). */
#define CT_STATE_CLOSED 8
const bit<4> CT_CLOSED = CT_STATE_CLOSED;
const bit<4> CT_SYN_SENT2 = 9;

/* ct_state[43:40]: flags. Bit 0: the remote side opened the connection (else the VM did).
 * Bit 1: the remote side sent the first FIN (else the VM did); meaningful from FIN_WAIT on.
 * Bits 2 and 3: win_out (win_in) still holds the window of a SYN segment, which is never
 * scaled (RFC 7323 §2.2). */
const bit<4> CT_FLAG_REMOTE_INIT = 0x1;
const bit<4> CT_FLAG_REMOTE_CLOSER = 0x2;
const bit<4> CT_FLAG_SYN_WIN_OUT = 0x4;
const bit<4> CT_FLAG_SYN_WIN_IN = 0x8;

/* A slot may be reused for another flow when its last packet is older than this
 * (microseconds, the unit of standard_metadata.ingress_global_timestamp on BMv2). */
const bit<48> CT_TIMEOUT_ESTABLISHED_US = 600000000;
#define CT_TIMEOUT_SHORTEST 60000000
const bit<48> CT_TIMEOUT_OTHER_US = CT_TIMEOUT_SHORTEST;

/* Window scaling (RFC 7323). ct_state[39:36] / [35:32] hold the shift each side announced in
 * its SYN, capped at CT_WS_MAX; CT_WS_NONE means its SYN carried no window scale option (or
 * was not seen yet). Scaling is in effect only when both sides announced one; then a window
 * field counts (window << shift) bytes. A connection picked up mid-stream takes CT_WS_PICKUP
 * for both sides. The window check adds CT_WIN_SLACK bytes to every window, for zero-window
 * probes and retransmissions after a receiver shrank its window. */
const bit<4> CT_WS_NONE = 15;
const bit<4> CT_WS_MAX = 14;
const bit<4> CT_WS_PICKUP = 14;
const bit<32> CT_WIN_SLACK = 65536;

/* TCP flags (hdr.tcp.flags). A segment is valid only with one of the combinations of
 * FIN/SYN/RST/ACK/URG listed in p4/README.md ("Flag validation"); PSH, ECE and CWR are ignored. */
const bit<8> TCP_FIN = 0x01;
const bit<8> TCP_SYN = 0x02;
const bit<8> TCP_RST = 0x04;
const bit<8> TCP_ACK = 0x10;
const bit<8> TCP_URG = 0x20;
const bit<8> TCP_FLAGS_CHECKED = 0x37;

/* TCP option kinds the parser understands; every other kind is skipped by its length. */
const bit<8> TCP_OPT_EOL = 0;
const bit<8> TCP_OPT_NOP = 1;
const bit<8> TCP_OPT_WS = 3;

/* ---- in-band state access (PacketOut op codes, PacketIn status codes) ------------------ */

const bit<8> OP_INJECT = 0;         /* payload is an Ethernet frame entering on packet_out.port */
const bit<8> OP_READ_SLOT = 1;      /* read every word of slot `index` */
const bit<8> OP_WRITE_SLOT = 2;     /* write the words of slot `index` selected by `mask`, answer the slot */
const bit<8> OP_READ_DIRTY = 3;     /* read dirty word `index` */
const bit<8> OP_CLEAR_DIRTY = 4;    /* read dirty word `index`, then zero it */
const bit<8> OP_FLIP_EPOCH = 5;     /* epoch = epoch + 1, answer the new epoch */
const bit<8> OP_READ_EPOCH = 6;     /* answer the epoch */
const bit<8> OP_WRITE_IF = 7;       /* WRITE_SLOT only if the slot is empty or holds the key in w0, w1 */
const bit<8> OP_CLEAR_IF = 8;       /* zero the slot only if it holds the key in w0, w1 and the VM in w2 */
const bit<8> OP_READ_CLOCK = 9;     /* answer the data-plane clock */
const bit<8> OP_TRK_FLIP = 10;      /* tracker `index`: a new round (epoch + 1, start = head) */
const bit<8> OP_TRK_READ = 11;      /* tracker `index`: answer epoch, head, start */
const bit<8> OP_LOG_READ = 12;      /* answer 9 log cells from `index` on, within the tracker's ring */

const bit<8> IB_OK = 0;
const bit<8> IB_BAD_INDEX = 1;
const bit<8> IB_BAD_OP = 2;
const bit<8> IB_CONFLICT = 3;       /* a conditional op found its condition false and changed nothing */

/* ---- drop reasons (index of the `drops` counter) --------------------------------------- */

const bit<8> DROP_NONE = 0;
const bit<8> DROP_NOT_IPV4 = 1;
const bit<8> DROP_UNKNOWN_PORT = 2;
const bit<8> DROP_UNKNOWN_VM = 3;
const bit<8> DROP_VM_INACTIVE = 4;
const bit<8> DROP_NOT_ADMITTED = 5;
const bit<8> DROP_ACL_DENY = 6;
const bit<8> DROP_OUT_OF_WINDOW = 7;
const bit<8> DROP_TCP_INVALID = 8;
const bit<8> DROP_MALFORMED = 9;
const bit<8> DROP_BAD_RST = 10;
const bit<8> DROP_IP_POLICY = 11;
const bit<8> DROP_CPU_PORT = 12;

#endif
