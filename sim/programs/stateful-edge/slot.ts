/**
 * One connection-tracking slot, decoded from / encoded into its nine register words (layout in
 * p4/include/control/conntrack.p4 and the @migrate_layout annotations).
 */
import {
  CT_TIMEOUT_ESTABLISHED_US,
  CT_TIMEOUT_OTHER_US,
  CT_WORD_COUNT,
  CtState,
} from './layout.js';

const MASK32 = 0xffffffffn;
const MASK16 = 0xffffn;
const MASK8 = 0xffn;
export const MASK48 = (1n << 48n) - 1n;
export const MASK64 = (1n << 64n) - 1n;

/** A slot's fields. "Out" is the VM's side of the connection, "in" the remote side. */
export interface CtSlot {
  readonly vmAddr: number;
  readonly remoteAddr: number;
  readonly vmPort: number;
  readonly remotePort: number;
  /** IP protocol; 0 means the slot is empty. */
  readonly protocol: number;
  readonly vmId: number;
  readonly state: number;
  readonly flags: number;
  /** Window scale shift each side announced in its SYN (CT_WS_NONE: none). */
  readonly wsOut: number;
  readonly wsIn: number;
  /** The last window field each side sent. */
  readonly winOut: number;
  readonly winIn: number;
  /** Next sequence number expected from each side. */
  readonly endOut: number;
  readonly endIn: number;
  /** Highest acknowledgement each side sent. */
  readonly ackOut: number;
  readonly ackIn: number;
  /** Data-plane time of the last packet, microseconds (48 bits). */
  readonly lastSeenUs: bigint;
  readonly pktsOut: number;
  readonly pktsIn: number;
  readonly bytesOut: bigint;
  readonly bytesIn: bigint;
}

/** The all-zero slot: what an untouched register cell decodes to. */
export const EMPTY_SLOT: CtSlot = Object.freeze({
  vmAddr: 0, remoteAddr: 0, vmPort: 0, remotePort: 0, protocol: 0, vmId: 0, state: CtState.NONE, flags: 0,
  wsOut: 0, wsIn: 0, winOut: 0, winIn: 0, endOut: 0, endIn: 0, ackOut: 0, ackIn: 0, lastSeenUs: 0n, pktsOut: 0, pktsIn: 0,
  bytesOut: 0n, bytesIn: 0n,
});

const pair32 = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Word 0 (ct_key_addr) of a slot. */
export function keyAddrWord(vmAddr: number, remoteAddr: number): bigint {
  return pair32(vmAddr, remoteAddr);
}

/** Word 1 (ct_key_port) of a slot. */
export function keyPortWord(vmPort: number, remotePort: number, protocol: number): bigint {
  return (BigInt(vmPort & 0xffff) << 24n) | (BigInt(remotePort & 0xffff) << 8n) | BigInt(protocol & 0xff);
}

/** Word 2 (ct_state): vm_id 16 | state 4 | flags 4 | ws_out 4 | ws_in 4 | win_out 16 | win_in 16. */
export function stateWord(vmId: number, state: number, flags: number, wsOut: number, wsIn: number, winOut: number, winIn: number): bigint {
  return (
    (BigInt(vmId & 0xffff) << 48n) |
    (BigInt(state & 0xf) << 44n) |
    (BigInt(flags & 0xf) << 40n) |
    (BigInt(wsOut & 0xf) << 36n) |
    (BigInt(wsIn & 0xf) << 32n) |
    (BigInt(winOut & 0xffff) << 16n) |
    BigInt(winIn & 0xffff)
  );
}

/** The nine register words of a slot, in word order. */
export function encodeSlot(s: CtSlot): bigint[] {
  return [
    keyAddrWord(s.vmAddr, s.remoteAddr),
    keyPortWord(s.vmPort, s.remotePort, s.protocol),
    stateWord(s.vmId, s.state, s.flags, s.wsOut, s.wsIn, s.winOut, s.winIn),
    pair32(s.endOut, s.endIn),
    pair32(s.ackOut, s.ackIn),
    s.lastSeenUs & MASK48,
    pair32(s.pktsOut, s.pktsIn),
    s.bytesOut & MASK64,
    s.bytesIn & MASK64,
  ];
}

const hi32 = (w: bigint): number => Number((w >> 32n) & MASK32);
const lo32 = (w: bigint): number => Number(w & MASK32);

/** Decodes the nine register words of a slot (missing words read as zero). */
export function decodeSlot(words: readonly bigint[]): CtSlot {
  if (words.length > CT_WORD_COUNT) {
    throw new Error(`a conntrack slot has ${CT_WORD_COUNT} words; got ${words.length}`);
  }
  const w = (i: number): bigint => words[i] ?? 0n;
  const st = w(2);
  return {
    vmAddr: hi32(w(0)),
    remoteAddr: lo32(w(0)),
    vmPort: Number((w(1) >> 24n) & MASK16),
    remotePort: Number((w(1) >> 8n) & MASK16),
    protocol: Number(w(1) & MASK8),
    vmId: Number((st >> 48n) & MASK16),
    state: Number((st >> 44n) & 0xfn),
    flags: Number((st >> 40n) & 0xfn),
    wsOut: Number((st >> 36n) & 0xfn),
    wsIn: Number((st >> 32n) & 0xfn),
    winOut: Number((st >> 16n) & MASK16),
    winIn: Number(st & MASK16),
    endOut: hi32(w(3)),
    endIn: lo32(w(3)),
    ackOut: hi32(w(4)),
    ackIn: lo32(w(4)),
    lastSeenUs: w(5) & MASK48,
    pktsOut: hi32(w(6)),
    pktsIn: lo32(w(6)),
    bytesOut: w(7) & MASK64,
    bytesIn: w(8) & MASK64,
  };
}

/** True when the slot holds a flow (@migrate_valid("protocol")). */
export function isSlotOccupied(s: Pick<CtSlot, 'protocol'>): boolean {
  return s.protocol !== 0;
}

/**
 * True when a new flow may take the slot: empty, CLOSED, or idle past its timeout — the same
 * predicate as free0/free1 in conntrack.p4 (time in microseconds, 48-bit wrap-around).
 */
export function isSlotFree(s: Pick<CtSlot, 'protocol' | 'state' | 'lastSeenUs'>, nowUs: bigint): boolean {
  if (s.protocol === 0 || s.state === CtState.CLOSED) return true;
  const age = (nowUs - s.lastSeenUs) & MASK48;
  return s.state === CtState.ESTABLISHED ? age > CT_TIMEOUT_ESTABLISHED_US : age > CT_TIMEOUT_OTHER_US;
}
