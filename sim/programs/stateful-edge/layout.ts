/**
 * The constants of p4/stateful_edge.p4 (p4/include/defines.p4 and headers.p4) that the model
 * shares with the P4 program. p4info-contract.test.ts checks each of them against the P4 sources
 * and the P4Info, so the model cannot drift from the program unnoticed.
 */

/** Sizes of the connection-tracking slot group (defines.p4). */
export const CT_WAYS = 2;
export const CT_REGION0_SIZE = 262144;
export const CT_REGION1_SIZE = 65536;
export const CT_REGION0_BUCKETS = CT_REGION0_SIZE / CT_WAYS;
export const CT_REGION1_BUCKETS = CT_REGION1_SIZE / CT_WAYS;
export const CT_SLOTS = CT_REGION0_SIZE + CT_REGION1_SIZE;
export const DIRTY_WORDS_PER_BUFFER = CT_SLOTS / 64;
export const DIRTY_WORDS = 2 * DIRTY_WORDS_PER_BUFFER;
export const MAX_VMS = 1024;
/** Width of ct_last_seen's cells (CT_LAST_SEEN_BITS; a variant may widen it to 64). */
export const CT_LAST_SEEN_BITS = 48;

/** Change logs (defines.p4): trackers, entries per tracker's ring, and the log register's cells. */
export const TRACKERS = 4;
export const TRK_LOG_SIZE = 8192;
export const TRK_LOG_MASK = TRK_LOG_SIZE - 1;
export const TRK_LOG_CELLS = TRACKERS * TRK_LOG_SIZE;
/** The digest's tracker when a change was not logged (and vm_migration's default). */
export const NO_TRACKER = 255;
export const DROP_REASONS = 16;

/** The port that means "to/from the controller" in the P4 (`CPU_PORT`). */
export const P4_CPU_PORT = 255;

export const ETHERTYPE_IPV4 = 0x0800;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;

/** Packet direction relative to its VM. */
export const DIR_OUT = 0;
export const DIR_IN = 1;
export type Direction = typeof DIR_OUT | typeof DIR_IN;

/** Connection states (ct_state[47:44]). SYN_SENT2: both sides sent a SYN (simultaneous open). */
export const CtState = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSED: 8,
  SYN_SENT2: 9,
} as const;
export type CtStateValue = (typeof CtState)[keyof typeof CtState];

/** Flags (ct_state[43:40]). SYN_WIN_*: that side's window is still the one of its SYN (unscaled). */
export const CT_FLAG_REMOTE_INIT = 0x1;
export const CT_FLAG_REMOTE_CLOSER = 0x2;
export const CT_FLAG_SYN_WIN_OUT = 0x4;
export const CT_FLAG_SYN_WIN_IN = 0x8;

/** Slot reuse timeouts in microseconds. */
export const CT_TIMEOUT_ESTABLISHED_US = 600_000_000n;
export const CT_TIMEOUT_OTHER_US = 60_000_000n;

/**
 * Window scaling (ct_state[39:36] ws_out, [35:32] ws_in): the shift each side announced in its
 * SYN, capped at CT_WS_MAX; CT_WS_NONE = no option (yet). A mid-stream pickup takes
 * CT_WS_PICKUP for both. Every window gets CT_WIN_SLACK bytes on top.
 */
export const CT_WS_NONE = 15;
export const CT_WS_MAX = 14;
export const CT_WS_PICKUP = 14;
export const CT_WIN_SLACK = 65536;

/** The TCP flag bits the validity check looks at (FIN SYN RST ACK URG) and the valid combinations. */
export const TCP_FLAGS_CHECKED = 0x37;
export const TCP_VALID_FLAG_COMBINATIONS: readonly number[] = Object.freeze([0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30]);

/** TCP option kinds the parser understands, and the size of its option byte stack. */
export const TCP_OPT_EOL = 0;
export const TCP_OPT_NOP = 1;
export const TCP_OPT_WS = 3;
export const TCP_OPT_BYTES = 40;

/** In-band op codes (packet_out.op) and status codes (packet_in.status). */
export const InbandOp = {
  INJECT: 0,
  READ_SLOT: 1,
  WRITE_SLOT: 2,
  READ_DIRTY: 3,
  CLEAR_DIRTY: 4,
  FLIP_EPOCH: 5,
  READ_EPOCH: 6,
  WRITE_IF: 7,
  CLEAR_IF: 8,
  READ_CLOCK: 9,
  TRK_FLIP: 10,
  TRK_READ: 11,
  LOG_READ: 12,
} as const;
export type InbandOpValue = (typeof InbandOp)[keyof typeof InbandOp];

export const InbandStatus = {
  OK: 0,
  BAD_INDEX: 1,
  BAD_OP: 2,
  CONFLICT: 3,
} as const;

/** Indices of the `drops` counter. */
export const DropReason = {
  NONE: 0,
  NOT_IPV4: 1,
  UNKNOWN_PORT: 2,
  UNKNOWN_VM: 3,
  VM_INACTIVE: 4,
  NOT_ADMITTED: 5,
  ACL_DENY: 6,
  OUT_OF_WINDOW: 7,
  TCP_INVALID: 8,
  MALFORMED: 9,
  BAD_RST: 10,
  IP_POLICY: 11,
  CPU_PORT: 12,
} as const;
export type DropReasonValue = (typeof DropReason)[keyof typeof DropReason];

/** Name of a drop reason, for PacketEgress.reason and reports. */
export function dropReasonName(reason: number): string {
  for (const [name, value] of Object.entries(DropReason)) if (value === reason) return name;
  return `REASON_${reason}`;
}

/** The slot group's registers in word order (@migrate_group("conntrack", n)) with their widths. */
export const CT_WORDS = [
  { register: 'ct_key_addr', bits: 64 },
  { register: 'ct_key_port', bits: 40 },
  { register: 'ct_state', bits: 64 },
  { register: 'ct_seq', bits: 64 },
  { register: 'ct_ack', bits: 64 },
  { register: 'ct_last_seen', bits: CT_LAST_SEEN_BITS },
  { register: 'ct_pkts', bits: 64 },
  { register: 'ct_bytes_out', bits: 64 },
  { register: 'ct_bytes_in', bits: 64 },
] as const;
export const CT_WORD_COUNT = CT_WORDS.length;
/** ct_last_seen's word in a slot (the one a variant may widen). */
export const LAST_SEEN_WORD: number = CT_WORDS.findIndex((w) => w.register === 'ct_last_seen');

/** Names (P4Info aliases) of everything the model touches. */
export const Names = {
  tables: {
    portRole: 'port_role',
    vmTable: 'vm_table',
    vmMigration: 'vm_migration',
    staticAcl: 'static_acl',
    dynAcl: 'dyn_acl',
  },
  registers: {
    dirty: 'ct_dirty',
    epoch: 'ct_epoch',
    trkLog: 'ct_trk_log',
    trkHead: 'ct_trk_head',
    trkRound: 'ct_trk_round',
    trkChanges: 'ct_trk_changes',
    mark: 'ct_mark',
  },
  counters: {
    drops: 'drops',
    vmTx: 'vm_tx',
    vmRx: 'vm_rx',
    collisions: 'ct_collisions',
  },
  digests: {
    pinhole: 'pinhole_t',
    delta: 'ct_delta_t',
    newFlow: 'ct_new_t',
  },
} as const;

/** packet_out header fields in order with widths (headers.p4): 85 bytes. */
export const PACKET_OUT_FIELDS = [
  { name: 'op', bits: 8 },
  { name: 'req_id', bits: 32 },
  { name: 'port', bits: 16 },
  { name: 'index', bits: 32 },
  { name: 'mask', bits: 16 },
  ...CT_WORDS.map((_, i) => ({ name: `w${i}`, bits: 64 })),
] as const;

/** packet_in header fields in order with widths (headers.p4): 88 bytes. */
export const PACKET_IN_FIELDS = [
  { name: 'op', bits: 8 },
  { name: 'status', bits: 8 },
  { name: 'req_id', bits: 32 },
  { name: 'index', bits: 32 },
  { name: 'ts', bits: 48 },
  ...CT_WORDS.map((_, i) => ({ name: `w${i}`, bits: 64 })),
] as const;

export const PACKET_OUT_BYTES = PACKET_OUT_FIELDS.reduce((n, f) => n + f.bits, 0) / 8;
export const PACKET_IN_BYTES = PACKET_IN_FIELDS.reduce((n, f) => n + f.bits, 0) / 8;
