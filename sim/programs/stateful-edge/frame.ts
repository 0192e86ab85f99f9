/**
 * Parses Ethernet/IPv4/TCP/UDP frames exactly as EdgeParser (p4/include/parser.p4) does, so the
 * model sees the headers BMv2 would: transport headers only after a 20-byte IPv4 header of a
 * first fragment; the option list of a SYN walked byte by byte; a header that does not fit the
 * remaining bytes is not extracted (BMv2 stops the parser with PacketTooShort and ingress runs
 * with the headers extracted so far).
 */
import { ETHERTYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP, TCP_OPT_EOL, TCP_OPT_NOP, TCP_OPT_WS } from './layout.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export interface EthernetHeader {
  readonly dst: number;
  readonly src: number;
  readonly etherType: number;
}

export interface Ipv4Header {
  readonly version: number;
  readonly ihl: number;
  readonly dscpEcn: number;
  readonly totalLen: number;
  readonly identification: number;
  readonly flags: number;
  readonly fragOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly src: number;
  readonly dst: number;
}

export interface TcpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly dataOffset: number;
  readonly flags: number;
  readonly window: number;
  readonly checksum: number;
  readonly urgentPtr: number;
}

export interface UdpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly len: number;
  readonly checksum: number;
}

/** What the parser learnt from a SYN's option list (meta.syn_ws_seen, meta.syn_ws, meta.opt_bad). */
export interface TcpSynOptions {
  readonly wsSeen: boolean;
  /** The last window scale shift count announced (0..255, not capped). */
  readonly ws: number;
  /** The list is malformed: a length below 2, or an option running past the data offset. */
  readonly bad: boolean;
}

/** The headers EdgeParser extracted; absent ones are invalid in the P4. */
export interface ParsedFrame {
  readonly ethernet?: EthernetHeader;
  readonly ipv4?: Ipv4Header;
  readonly tcp?: TcpHeader;
  /** Present when the parser walked the options: a SYN with a data offset above 5. */
  readonly synOptions?: TcpSynOptions;
  readonly udp?: UdpHeader;
}

export const ETHERNET_BYTES = 14;
export const IPV4_BYTES = 20;
export const TCP_BYTES = 20;
export const UDP_BYTES = 8;

const u16 = (b: Uint8Array, o: number): number => (((b[o] ?? 0) << 8) | (b[o + 1] ?? 0)) >>> 0;
const u32 = (b: Uint8Array, o: number): number => (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
const u48 = (b: Uint8Array, o: number): number => u16(b, o) * 2 ** 32 + u32(b, o + 2);

/** Parses one Ethernet frame the way the P4 parser does. */
export function parseFrame(bytes: Uint8Array, offset = 0): ParsedFrame {
  if (bytes.length - offset < ETHERNET_BYTES) return {};
  const ethernet: EthernetHeader = { dst: u48(bytes, offset), src: u48(bytes, offset + 6), etherType: u16(bytes, offset + 12) };
  let o = offset + ETHERNET_BYTES;
  if (ethernet.etherType !== ETHERTYPE_IPV4 || bytes.length - o < IPV4_BYTES) return { ethernet };
  const b0 = bytes[o] ?? 0;
  const flagsFrag = u16(bytes, o + 6);
  const ipv4: Ipv4Header = {
    version: b0 >>> 4,
    ihl: b0 & 0x0f,
    dscpEcn: bytes[o + 1] ?? 0,
    totalLen: u16(bytes, o + 2),
    identification: u16(bytes, o + 4),
    flags: flagsFrag >>> 13,
    fragOffset: flagsFrag & 0x1fff,
    ttl: bytes[o + 8] ?? 0,
    protocol: bytes[o + 9] ?? 0,
    checksum: u16(bytes, o + 10),
    src: u32(bytes, o + 12),
    dst: u32(bytes, o + 16),
  };
  o += IPV4_BYTES;
  if (ipv4.ihl !== 5 || ipv4.fragOffset !== 0) return { ethernet, ipv4 };
  if (ipv4.protocol === IP_PROTO_TCP && bytes.length - o >= TCP_BYTES) {
    const tcp: TcpHeader = {
      srcPort: u16(bytes, o),
      dstPort: u16(bytes, o + 2),
      seq: u32(bytes, o + 4),
      ack: u32(bytes, o + 8),
      dataOffset: (bytes[o + 12] ?? 0) >>> 4,
      flags: bytes[o + 13] ?? 0,
      window: u16(bytes, o + 14),
      checksum: u16(bytes, o + 16),
      urgentPtr: u16(bytes, o + 18),
    };
    const synOptions = (tcp.flags & TCP_SYN) !== 0 && tcp.dataOffset >= 6 ? parseSynOptions(bytes, o + TCP_BYTES, tcp.dataOffset) : undefined;
    return synOptions ? { ethernet, ipv4, tcp, synOptions } : { ethernet, ipv4, tcp };
  }
  if (ipv4.protocol === IP_PROTO_UDP && bytes.length - o >= UDP_BYTES) {
    const udp: UdpHeader = { srcPort: u16(bytes, o), dstPort: u16(bytes, o + 2), len: u16(bytes, o + 4), checksum: u16(bytes, o + 6) };
    return { ethernet, ipv4, udp };
  }
  return { ethernet, ipv4 };
}

/**
 * The option walk of parser.p4 (parse_tcp_opt_*), state for state: one byte at a time, at most
 * (dataOffset - 5) * 4 bytes; where the frame ends first, the parser stops (PacketTooShort) with
 * what it learnt so far.
 */
function parseSynOptions(bytes: Uint8Array, start: number, dataOffset: number): TcpSynOptions {
  let left = ((dataOffset << 2) - 20) & 0xff;
  let pos = start;
  let kind = 0;
  let data = 0;
  let wsSeen = false;
  let ws = 0;
  const result = (bad: boolean): TcpSynOptions => ({ wsSeen, ws, bad });
  const take = (): number | undefined => {
    if (pos >= bytes.length) return undefined;
    left = (left - 1) & 0xff;
    return bytes[pos++] ?? 0;
  };
  type State = 'kind' | 'len' | 'data' | 'pad';
  let state: State = 'kind';
  for (;;) {
    if (state === 'kind') {
      const b = take();
      if (b === undefined) return result(false);
      kind = b;
      if (b === TCP_OPT_EOL) state = 'pad';
      else if (b === TCP_OPT_NOP) {
        if (left === 0) return result(false);
      } else if (left === 0) return result(true);
      else state = 'len';
    } else if (state === 'len') {
      const b = take();
      if (b === undefined) return result(false);
      data = (b - 2) & 0xff;
      if (b < 2) return result(true);
      if (kind === TCP_OPT_WS && b === 3) {
        if (left === 0) return result(true);
        const shift = take();
        if (shift === undefined) return result(false);
        data = 0;
        ws = shift;
        wsSeen = true;
      }
      state = 'data';
    } else if (state === 'data') {
      if (data === 0) {
        if (left === 0) return result(false);
        state = 'kind';
      } else if (left === 0) {
        return result(true);
      } else {
        if (take() === undefined) return result(false);
        data = (data - 1) & 0xff;
      }
    } else {
      if (left === 0) return result(false);
      if (take() === undefined) return result(false);
    }
  }
}

/** Dotted-quad text of an IPv4 address held as an unsigned 32-bit number. */
export function formatIpv4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff].join('.');
}

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit number. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`IPv4 address '${text}' is malformed; expected four decimal octets like 10.0.0.5`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}
