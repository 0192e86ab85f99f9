/**
 * The TCP connection-tracking state machine and sequence-window check of conntrack.p4, as pure
 * functions over a decoded slot. Arithmetic is the P4's: 32-bit wrap-around, "a <= b" tested as
 * the sign bit of (b - a), 16-bit header-length arithmetic, 32/64-bit counter wrap-around.
 */
import type { Ipv4Header, TcpHeader } from './frame.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './frame.js';
import {
  CT_FLAG_REMOTE_INIT,
  CT_WIN_SHIFT,
  CT_WIN_SLACK,
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

/** The segment a parsed packet carries, for a given direction. */
export function tcpSegment(ipv4: Ipv4Header, tcp: TcpHeader, dir: Direction): TcpSegment {
  return { dir, flags: tcp.flags, seq: tcp.seq, ack: tcp.ack, window: tcp.window, segLen: segmentLength(ipv4, tcp), ipBytes: ipv4.totalLen };
}

/** True when the segment is a SYN without ACK and RST: the only one that opens a slot. */
export function isPureSyn(flags: number): boolean {
  return (flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0 && (flags & TCP_RST) === 0;
}

/** a <= b in sequence space (the sign bit of b - a is clear). */
const seqLe = (a: number, b: number): boolean => ((b - a) >>> 31) === 0;

/** The slot a new connection gets from its first SYN (the P4's insert branch). */
export function openSlot(key: FlowKey, vmId: number, seg: TcpSegment, nowUs: bigint): CtSlot {
  const end = (seg.seq + seg.segLen) >>> 0;
  const ip = BigInt(seg.ipBytes);
  const out = seg.dir === DIR_OUT;
  return {
    vmAddr: key.vmAddr >>> 0,
    remoteAddr: key.remoteAddr >>> 0,
    vmPort: key.vmPort,
    remotePort: key.remotePort,
    protocol: key.protocol,
    vmId,
    state: CtState.SYN_SENT,
    flags: out ? 0 : CT_FLAG_REMOTE_INIT,
    winOut: out ? seg.window : 0,
    winIn: out ? 0 : seg.window,
    endOut: out ? end : 0,
    endIn: out ? 0 : end,
    ackOut: 0,
    ackIn: 0,
    lastSeenUs: nowUs & MASK48,
    pktsOut: out ? 1 : 0,
    pktsIn: out ? 0 : 1,
    bytesOut: out ? ip : 0n,
    bytesIn: out ? 0n : ip,
  };
}

/** Advances a tracked connection by one segment, or says why the segment is dropped. */
export function trackSegment(slot: CtSlot, seg: TcpSegment, nowUs: bigint): TrackOutcome {
  const out = seg.dir === DIR_OUT;
  let sndEnd = out ? slot.endOut : slot.endIn;
  const rcvEnd = out ? slot.endIn : slot.endOut;
  let sndAck = out ? slot.ackOut : slot.ackIn;
  let rcvAck = out ? slot.ackIn : slot.ackOut;
  let sndWin = out ? slot.winOut : slot.winIn;
  const rcvWin = out ? slot.winIn : slot.winOut;
  let cflags = slot.flags;
  const cur = slot.state;
  const fromInit = (cflags & 1) === seg.dir;
  const closerIsSender = ((cflags >> 1) & 1) === seg.dir;
  const fFin = (seg.flags & TCP_FIN) !== 0;
  const fSyn = (seg.flags & TCP_SYN) !== 0;
  const fRst = (seg.flags & TCP_RST) !== 0;
  const fAck = (seg.flags & TCP_ACK) !== 0;
  const seq = seg.seq >>> 0;
  const ack = seg.ack >>> 0;
  const segEnd = (seq + seg.segLen) >>> 0;
  let next: number = cur;

  if (fSyn) {
    if (!fAck) {
      // The initiator repeating its SYN before the answer.
      if (!(cur === CtState.SYN_SENT && fromInit)) return { ok: false, drop: DropReason.TCP_INVALID };
      sndEnd = segEnd;
      sndWin = seg.window;
    } else {
      // The responder's SYN+ACK must acknowledge the initiator's SYN.
      if (!((cur === CtState.SYN_SENT || cur === CtState.SYN_RECV) && !fromInit && ack === rcvEnd)) {
        return { ok: false, drop: DropReason.TCP_INVALID };
      }
      sndEnd = segEnd;
      sndAck = ack;
      sndWin = seg.window;
      rcvAck = seq;
      next = CtState.SYN_RECV;
    }
  } else if (cur === CtState.SYN_SENT) {
    // Before the SYN+ACK only a reset of the SYN is valid.
    if (!(fRst && fAck && !fromInit && ack === rcvEnd)) return { ok: false, drop: DropReason.TCP_INVALID };
    next = CtState.CLOSED;
  } else {
    const rcvWnd = ((rcvWin << CT_WIN_SHIFT) + CT_WIN_SLACK) >>> 0;
    const sndWnd = ((sndWin << CT_WIN_SHIFT) + CT_WIN_SLACK) >>> 0;
    let inWindow = seqLe(segEnd, (rcvAck + rcvWnd) >>> 0) && seqLe((sndEnd - rcvWnd) >>> 0, segEnd);
    if (fAck) inWindow = inWindow && seqLe(ack, rcvEnd) && seqLe((rcvEnd - sndWnd) >>> 0, ack);
    if (!inWindow) return { ok: false, drop: DropReason.OUT_OF_WINDOW };
    if (seqLe(sndEnd, segEnd)) sndEnd = segEnd;
    if (fAck && seqLe(sndAck, ack)) sndAck = ack;
    sndWin = seg.window;
    if (fRst) {
      next = CtState.CLOSED;
    } else {
      if (cur === CtState.SYN_RECV && fromInit && fAck && ack === rcvEnd) next = CtState.ESTABLISHED;
      if (fFin) {
        if (next === CtState.ESTABLISHED) {
          next = CtState.FIN_WAIT;
          cflags = (cflags & 0xfd) | (seg.dir << 1);
        } else if ((next === CtState.FIN_WAIT || next === CtState.CLOSE_WAIT) && !closerIsSender) {
          next = CtState.LAST_ACK;
        }
      } else if (fAck) {
        if (next === CtState.FIN_WAIT && !closerIsSender && ack === rcvEnd) next = CtState.CLOSE_WAIT;
        else if (next === CtState.LAST_ACK && closerIsSender && ack === rcvEnd) next = CtState.TIME_WAIT;
      }
    }
  }

  const ip = BigInt(seg.ipBytes);
  return {
    ok: true,
    slot: {
      ...slot,
      state: next,
      flags: cflags,
      winOut: out ? sndWin : rcvWin,
      winIn: out ? rcvWin : sndWin,
      endOut: out ? sndEnd : rcvEnd,
      endIn: out ? rcvEnd : sndEnd,
      ackOut: out ? sndAck : rcvAck,
      ackIn: out ? rcvAck : sndAck,
      lastSeenUs: nowUs & MASK48,
      pktsOut: out ? (slot.pktsOut + 1) >>> 0 : slot.pktsOut,
      pktsIn: out ? slot.pktsIn : (slot.pktsIn + 1) >>> 0,
      bytesOut: out ? (slot.bytesOut + ip) & MASK64 : slot.bytesOut,
      bytesIn: out ? slot.bytesIn : (slot.bytesIn + ip) & MASK64,
    },
  };
}
