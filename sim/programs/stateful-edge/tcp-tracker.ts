/**
 * The TCP connection-tracking state machine and sequence-window check of conntrack.p4, as pure
 * functions over a decoded slot. Arithmetic is the P4's: 32-bit wrap-around, "a <= b" tested as
 * the sign bit of (b - a), 16-bit header-length arithmetic, 32/64-bit counter wrap-around.
 * Segments reach it only after tcp-check.ts let them through (valid flags, sane lengths).
 */
import type { Ipv4Header, TcpHeader, TcpSynOptions } from './frame.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './frame.js';
import {
  CT_FLAG_REMOTE_INIT,
  CT_FLAG_SYN_WIN_IN,
  CT_FLAG_SYN_WIN_OUT,
  CT_WIN_SLACK,
  CT_WS_MAX,
  CT_WS_NONE,
  CT_WS_PICKUP,
  CtState,
  DIR_OUT,
  DropReason,
} from './layout.js';
import type { Direction, DropReasonValue } from './layout.js';
import { MASK48, MASK64 } from './slot.js';
import type { CtSlot } from './slot.js';
import type { FlowKey } from './placement.js';

/** The parts of one TCP segment the tracker looks at. */
export interface TcpSegment {
  readonly dir: Direction;
  readonly flags: number;
  readonly seq: number;
  readonly ack: number;
  readonly window: number;
  /** The window scale shift a SYN announces (capped at 14), CT_WS_NONE without the option. */
  readonly ws: number;
  /** Payload bytes + SYN + FIN, modulo 2^32 (see segmentLength). */
  readonly segLen: number;
  /** IPv4 total length: what the byte counters add. */
  readonly ipBytes: number;
}

export type TrackOutcome =
  | { readonly ok: true; readonly slot: CtSlot }
  | { readonly ok: false; readonly drop: DropReasonValue };

/** Payload length + SYN + FIN the way conntrack.p4 computes it (16-bit header arithmetic). */
export function segmentLength(ipv4: Ipv4Header, tcp: TcpHeader): number {
  const hdrBytes = ((ipv4.ihl << 2) + (tcp.dataOffset << 2)) & 0xffff;
  const payload = (ipv4.totalLen - hdrBytes) & 0xffff;
  return (payload + ((tcp.flags & TCP_SYN) ? 1 : 0) + ((tcp.flags & TCP_FIN) ? 1 : 0)) >>> 0;
}

/** The shift a SYN announces, as conntrack.p4's my_ws. */
function announcedShift(tcp: TcpHeader, opts: TcpSynOptions | undefined): number {
  if ((tcp.flags & TCP_SYN) === 0 || !opts?.wsSeen) return CT_WS_NONE;
  return opts.ws > CT_WS_MAX ? CT_WS_MAX : opts.ws & 0xf;
}

/** The segment a parsed packet carries, for a given direction. */
export function tcpSegment(ipv4: Ipv4Header, tcp: TcpHeader, dir: Direction, opts?: TcpSynOptions): TcpSegment {
  return { dir, flags: tcp.flags, seq: tcp.seq, ack: tcp.ack, window: tcp.window, ws: announcedShift(tcp, opts), segLen: segmentLength(ipv4, tcp), ipBytes: ipv4.totalLen };
}

/** True for a SYN without ACK: the only segment that opens a connection. */
export function isPureSyn(flags: number): boolean {
  return (flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0;
}

/** True for a plain ACK from the VM (no SYN, RST, FIN): it may pick a flow up mid-stream. */
export function isPickup(flags: number, dir: Direction): boolean {
  return dir === DIR_OUT && (flags & TCP_ACK) !== 0 && (flags & (TCP_SYN | TCP_RST | TCP_FIN)) === 0;
}

/** a <= b in sequence space (the sign bit of b - a is clear). */
const seqLe = (a: number, b: number): boolean => ((b - a) >>> 31) === 0;

/** Fields common to a freshly written slot. */
function freshSlot(key: FlowKey, vmId: number, nowUs: bigint): Pick<CtSlot, 'vmAddr' | 'remoteAddr' | 'vmPort' | 'remotePort' | 'protocol' | 'vmId' | 'lastSeenUs'> {
  return { vmAddr: key.vmAddr >>> 0, remoteAddr: key.remoteAddr >>> 0, vmPort: key.vmPort, remotePort: key.remotePort, protocol: key.protocol, vmId, lastSeenUs: nowUs & MASK48 };
}

/** The slot a new connection gets from its first SYN (the P4's insert branch). */
export function openSlot(key: FlowKey, vmId: number, seg: TcpSegment, nowUs: bigint): CtSlot {
  const end = (seg.seq + seg.segLen) >>> 0;
  const ip = BigInt(seg.ipBytes);
  const out = seg.dir === DIR_OUT;
  return {
    ...freshSlot(key, vmId, nowUs),
    state: CtState.SYN_SENT,
    flags: out ? CT_FLAG_SYN_WIN_OUT : CT_FLAG_REMOTE_INIT | CT_FLAG_SYN_WIN_IN,
    wsOut: out ? seg.ws : CT_WS_NONE,
    wsIn: out ? CT_WS_NONE : seg.ws,
    winOut: out ? seg.window : 0,
    winIn: out ? 0 : seg.window,
    endOut: out ? end : 0,
    endIn: out ? 0 : end,
    ackOut: 0,
    ackIn: 0,
    pktsOut: out ? 1 : 0,
    pktsIn: out ? 0 : 1,
    bytesOut: out ? ip : 0n,
    bytesIn: out ? 0n : ip,
  };
}

/**
 * The slot of a connection picked up mid-stream from a VM's ACK: ESTABLISHED, the remote side's
 * window unknown (the largest), both shifts CT_WS_PICKUP (the P4's pickup branch).
 */
export function pickupSlot(key: FlowKey, vmId: number, seg: TcpSegment, nowUs: bigint): CtSlot {
  return {
    ...freshSlot(key, vmId, nowUs),
    state: CtState.ESTABLISHED,
    flags: 0,
    wsOut: CT_WS_PICKUP,
    wsIn: CT_WS_PICKUP,
    winOut: seg.window,
    winIn: 0xffff,
    endOut: (seg.seq + seg.segLen) >>> 0,
    endIn: seg.ack >>> 0,
    ackOut: seg.ack >>> 0,
    ackIn: seg.seq >>> 0,
    pktsOut: 1,
    pktsIn: 0,
    bytesOut: BigInt(seg.ipBytes),
    bytesIn: 0n,
  };
}

/** One side of the connection as the tracker sees it (sender or receiver of the segment). */
interface Side {
  end: number;
  ack: number;
  win: number;
  ws: number;
  /** The window is still the one of this side's SYN (never scaled). */
  synWin: boolean;
}

/** The window a side grants, in bytes, plus the slack (conntrack.p4's rcv_wnd / snd_wnd). */
function windowBytes(side: Side, scaled: boolean): number {
  const shift = scaled && !side.synWin ? side.ws : 0;
  return ((side.win * 2 ** shift) + CT_WIN_SLACK) >>> 0;
}

type Verdict = { next: number; flags: number } | DropReasonValue;

/** The SYN and SYN+ACK rules: retransmissions, simultaneous open, the handshake. */
function synVerdict(cur: number, flags: number, fromInit: boolean, seg: TcpSegment, segEnd: number, snd: Side, rcv: Side): Verdict {
  const ack = seg.ack >>> 0;
  const announce = (): void => {
    snd.end = segEnd;
    snd.win = seg.window;
    snd.synWin = true;
    snd.ws = seg.ws;
  };
  if ((seg.flags & TCP_ACK) === 0) {
    if ((cur === CtState.SYN_SENT && fromInit) || cur === CtState.SYN_SENT2) {
      announce();
      return { next: cur, flags };
    }
    if (cur === CtState.SYN_SENT) {
      announce();
      return { next: CtState.SYN_SENT2, flags };
    }
    if (cur === CtState.SYN_RECV && fromInit && segEnd === snd.end) return { next: cur, flags };
    return DropReason.TCP_INVALID;
  }
  const acksPeerSyn = ack === rcv.end;
  if ((cur === CtState.SYN_SENT || cur === CtState.SYN_RECV) && !fromInit && acksPeerSyn) {
    announce();
    snd.ack = ack;
    rcv.ack = seg.seq >>> 0;
    return { next: CtState.SYN_RECV, flags };
  }
  if (cur === CtState.SYN_SENT2 && acksPeerSyn) {
    announce();
    snd.ack = ack;
    rcv.ack = seg.seq >>> 0;
    // The sender becomes the responder: the other side counts as the initiator.
    return { next: CtState.SYN_RECV, flags: (flags & ~1) | (seg.dir ^ 1) };
  }
  if (cur === CtState.SYN_RECV && fromInit && acksPeerSyn && segEnd === snd.end) {
    snd.ack = ack;
    snd.win = seg.window;
    snd.synWin = true;
    return { next: CtState.ESTABLISHED, flags };
  }
  return DropReason.TCP_INVALID;
}

/** The rules of a synchronised connection: window check, exact RST, FIN handshake. */
function windowVerdict(cur: number, flags: number, fromInit: boolean, closerIsSender: boolean, seg: TcpSegment, segEnd: number, snd: Side, rcv: Side): Verdict {
  const seq = seg.seq >>> 0;
  const ack = seg.ack >>> 0;
  const scaled = snd.ws !== CT_WS_NONE && rcv.ws !== CT_WS_NONE;
  const rcvWnd = windowBytes(rcv, scaled);
  const sndWnd = windowBytes(snd, scaled);
  // Each distance taken the way it stays below 2^31 (windows reach 2^30 + slack), as the P4 does.
  const ahead = (segEnd - rcv.ack) >>> 0;
  const behind = (snd.end - segEnd) >>> 0;
  let inWindow = (ahead >>> 31 === 1 || ahead <= rcvWnd) && (behind >>> 31 === 1 || behind <= rcvWnd);
  if (seg.flags & TCP_ACK) {
    const unacked = (rcv.end - ack) >>> 0;
    inWindow = inWindow && unacked >>> 31 === 0 && unacked <= sndWnd;
  }
  if (!inWindow) return DropReason.OUT_OF_WINDOW;
  if (seg.flags & TCP_RST) {
    // RFC 5961 §3: only the exact sequence number the receiver expects closes the connection.
    return seq === snd.end || seq === rcv.ack ? { next: CtState.CLOSED, flags } : DropReason.BAD_RST;
  }
  if (seqLe(snd.end, segEnd)) snd.end = segEnd;
  if (seqLe(snd.ack, ack)) snd.ack = ack;
  snd.win = seg.window;
  snd.synWin = false;
  let next = cur;
  let f = flags;
  if (cur === CtState.SYN_RECV && fromInit && ack === rcv.end) next = CtState.ESTABLISHED;
  if (seg.flags & TCP_FIN) {
    if (next === CtState.ESTABLISHED) {
      next = CtState.FIN_WAIT;
      f = (f & 0xd) | (seg.dir << 1);
    } else if ((next === CtState.FIN_WAIT || next === CtState.CLOSE_WAIT) && !closerIsSender) {
      next = CtState.LAST_ACK;
    }
  } else if (next === CtState.FIN_WAIT && !closerIsSender && ack === rcv.end) {
    next = CtState.CLOSE_WAIT;
  } else if (next === CtState.LAST_ACK && closerIsSender && ack === rcv.end) {
    next = CtState.TIME_WAIT;
  }
  return { next, flags: f };
}

/** Advances a tracked connection by one segment, or says why the segment is dropped. */
export function trackSegment(slot: CtSlot, seg: TcpSegment, nowUs: bigint): TrackOutcome {
  const out = seg.dir === DIR_OUT;
  const outSide: Side = { end: slot.endOut, ack: slot.ackOut, win: slot.winOut, ws: slot.wsOut, synWin: (slot.flags & CT_FLAG_SYN_WIN_OUT) !== 0 };
  const inSide: Side = { end: slot.endIn, ack: slot.ackIn, win: slot.winIn, ws: slot.wsIn, synWin: (slot.flags & CT_FLAG_SYN_WIN_IN) !== 0 };
  const snd = out ? outSide : inSide;
  const rcv = out ? inSide : outSide;
  const cur = slot.state;
  const fromInit = (slot.flags & 1) === seg.dir;
  const closerIsSender = ((slot.flags >> 1) & 1) === seg.dir;
  const seq = seg.seq >>> 0;
  const segEnd = (seq + seg.segLen) >>> 0;

  let v: Verdict;
  if (seg.flags & TCP_SYN) {
    v = synVerdict(cur, slot.flags, fromInit, seg, segEnd, snd, rcv);
  } else if (cur === CtState.SYN_SENT || cur === CtState.SYN_SENT2) {
    // Before a SYN+ACK only a reset of a SYN is valid.
    const rst = (seg.flags & TCP_RST) !== 0;
    const answersSyn = cur === CtState.SYN_SENT && (seg.flags & TCP_ACK) !== 0 && !fromInit && seg.ack >>> 0 === rcv.end;
    const exact = cur === CtState.SYN_SENT2 && seq === snd.end;
    v = rst && (answersSyn || exact) ? { next: CtState.CLOSED, flags: slot.flags } : DropReason.TCP_INVALID;
  } else if (cur < CtState.SYN_RECV || cur > CtState.TIME_WAIT) {
    v = DropReason.TCP_INVALID; // CLOSED (or no state): nothing passes until a new SYN
  } else {
    v = windowVerdict(cur, slot.flags, fromInit, closerIsSender, seg, segEnd, snd, rcv);
  }
  if (typeof v === 'number') return { ok: false, drop: v };

  const ip = BigInt(seg.ipBytes);
  const flags = (v.flags & 0x3) | (outSide.synWin ? CT_FLAG_SYN_WIN_OUT : 0) | (inSide.synWin ? CT_FLAG_SYN_WIN_IN : 0);
  return {
    ok: true,
    slot: {
      ...slot,
      state: v.next,
      flags,
      wsOut: outSide.ws,
      wsIn: inSide.ws,
      winOut: outSide.win,
      winIn: inSide.win,
      endOut: outSide.end,
      endIn: inSide.end,
      ackOut: outSide.ack,
      ackIn: inSide.ack,
      lastSeenUs: nowUs & MASK48,
      pktsOut: out ? (slot.pktsOut + 1) >>> 0 : slot.pktsOut,
      pktsIn: out ? slot.pktsIn : (slot.pktsIn + 1) >>> 0,
      bytesOut: out ? (slot.bytesOut + ip) & MASK64 : slot.bytesOut,
      bytesIn: out ? slot.bytesIn : (slot.bytesIn + ip) & MASK64,
    },
  };
}
