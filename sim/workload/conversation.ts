/**
 * A scripted TCP conversation for hard-traffic cases: each side keeps its next sequence number
 * and what it has received, every segment is written down with what the firewall should do with
 * it (forward, or drop for a reason), and frames can be mangled afterwards (IPv4 options,
 * fragments, lengths, truncation) to build what real attackers and broken hosts send.
 */
import { TCP_ACK, TCP_FIN, TCP_SYN } from '../programs/stateful-edge/frame.js';
import { buildTcpFrame } from './frame-builder.js';

/** What the firewall should do with a packet: forward it, or drop it for this reason. */
export type Expectation = 'forward' | 'NOT_IPV4' | 'UNKNOWN_PORT' | 'UNKNOWN_VM' | 'VM_INACTIVE' | 'NOT_ADMITTED' | 'ACL_DENY' | 'OUT_OF_WINDOW' | 'TCP_INVALID' | 'MALFORMED' | 'BAD_RST' | 'IP_POLICY' | 'CPU_PORT';

/** One packet of a case. */
export interface CasePacket {
  /** 'out' = from the VM (enters on its port), 'in' = from the remote side (enters on the uplink). */
  readonly direction: 'out' | 'in';
  /** The port it enters on. */
  readonly ingressPort: number;
  readonly frame: Uint8Array;
  readonly expect: Expectation;
  /** What the packet is, for reports. */
  readonly note: string;
  /** The conversation's two ends (what the flow key is made of, even when the frame is mangled). */
  readonly ends: { readonly vmAddr: number; readonly vmPort: number; readonly remoteAddr: number; readonly remotePort: number };
}

/** One end of a conversation. */
export interface Endpoint {
  readonly addr: number;
  readonly port: number;
  /** The switch port its packets enter on. */
  readonly ingressPort: number;
}

/** Options of one segment. */
export interface SegmentSpec {
  readonly payload?: number;
  readonly window?: number;
  /** Sequence / acknowledgement numbers; default: the side's next / what it received. */
  readonly seq?: number;
  readonly ack?: number;
  readonly options?: Uint8Array;
  readonly expect?: Expectation;
  /** Whether the sender's sequence number moves on (default: when the packet is forwarded). */
  readonly advance?: boolean;
  /** Rewrites the built frame (mangling). */
  readonly mangle?: (frame: Uint8Array) => Uint8Array;
  readonly note?: string;
}

interface SideState {
  readonly end: Endpoint;
  nxt: number;
  rcv: number;
}

/** A scripted conversation between a VM and a remote peer. */
export class Conversation {
  private readonly sides: { vm: SideState; remote: SideState };

  constructor(
    vm: Endpoint,
    remote: Endpoint,
    vmIsn: number,
    remoteIsn: number,
    private readonly sink: CasePacket[],
    private readonly label: string,
  ) {
    this.sides = { vm: { end: vm, nxt: vmIsn >>> 0, rcv: 0 }, remote: { end: remote, nxt: remoteIsn >>> 0, rcv: 0 } };
  }

  /** The next sequence number `who` sends. */
  nxt(who: 'vm' | 'remote'): number {
    return this.sides[who].nxt;
  }

  /** Sends one segment from `who`; returns the sequence number it carried. */
  send(who: 'vm' | 'remote', flags: number, spec: SegmentSpec = {}): number {
    const from = this.sides[who];
    const to = this.sides[who === 'vm' ? 'remote' : 'vm'];
    const seq = (spec.seq ?? from.nxt) >>> 0;
    const payload = spec.payload ?? 0;
    const expect = spec.expect ?? 'forward';
    const built = buildTcpFrame({
      src: from.end.addr,
      dst: to.end.addr,
      srcPort: from.end.port,
      dstPort: to.end.port,
      seq,
      ack: (spec.ack ?? (flags & TCP_ACK ? from.rcv : 0)) >>> 0,
      flags,
      window: spec.window ?? 502,
      ...(spec.options ? { options: spec.options } : {}),
      payload,
    });
    const frame = spec.mangle ? spec.mangle(built) : built;
    const { vm, remote } = this.sides;
    const ends = { vmAddr: vm.end.addr, vmPort: vm.end.port, remoteAddr: remote.end.addr, remotePort: remote.end.port };
    this.sink.push({ direction: who === 'vm' ? 'out' : 'in', ingressPort: from.end.ingressPort, frame, expect, note: `${this.label}: ${spec.note ?? describeFlags(flags)}`, ends });
    if (spec.advance ?? expect === 'forward') {
      const end = (seq + payload + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0)) >>> 0;
      if (((end - from.nxt) | 0) > 0 || flags & TCP_SYN) from.nxt = end;
      to.rcv = from.nxt;
    }
    return seq;
  }

  /** SYN, SYN+ACK, ACK with `vm` or `remote` opening; every packet expected to pass. */
  handshake(opener: 'vm' | 'remote', synOptions?: Uint8Array, synAckOptions?: Uint8Array): void {
    const other = opener === 'vm' ? 'remote' : 'vm';
    this.send(opener, TCP_SYN, { window: 64240, ...(synOptions ? { options: synOptions } : {}), note: 'SYN' });
    this.send(other, TCP_SYN | TCP_ACK, { window: 65160, ...(synAckOptions ? { options: synAckOptions } : {}), note: 'SYN+ACK' });
    this.send(opener, TCP_ACK, { note: 'ACK' });
  }
}

/** "SYN+ACK", "FIN+ACK", "no flags", … */
export function describeFlags(flags: number): string {
  const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'];
  const set = names.filter((_, i) => flags & (1 << i));
  return set.length === 0 ? 'no flags' : set.join('+');
}

const ETH = 14;

/** Mangling: IPv4 options (ihl 6, one NOP word) inserted after the IPv4 header. */
export function withIpOptions(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + 4);
  out.set(frame.subarray(0, ETH + 20), 0);
  out.set([1, 1, 1, 0], ETH + 20);
  out.set(frame.subarray(ETH + 20), ETH + 24);
  out[ETH] = 0x46;
  const total = ((out[ETH + 2] ?? 0) << 8 | (out[ETH + 3] ?? 0)) + 4;
  out[ETH + 2] = total >>> 8;
  out[ETH + 3] = total & 0xff;
  return out;
}

/** Mangling: fragment flags and offset (the MF bit and a 13-bit offset in 8-byte units). */
export function asFragment(moreFragments: boolean, offset: number): (frame: Uint8Array) => Uint8Array {
  return (frame) => {
    const out = Uint8Array.from(frame);
    const v = (moreFragments ? 0x2000 : 0) | (offset & 0x1fff);
    out[ETH + 6] = v >>> 8;
    out[ETH + 7] = v & 0xff;
    return out;
  };
}

/** Mangling: the IPv4 total length field set to `n`. */
export function withTotalLength(n: number): (frame: Uint8Array) => Uint8Array {
  return (frame) => {
    const out = Uint8Array.from(frame);
    out[ETH + 2] = (n >>> 8) & 0xff;
    out[ETH + 3] = n & 0xff;
    return out;
  };
}

/** Mangling: the TCP data offset field set to `n` (4 bits). */
export function withDataOffset(n: number): (frame: Uint8Array) => Uint8Array {
  return (frame) => {
    const out = Uint8Array.from(frame);
    out[ETH + 20 + 12] = ((n & 0xf) << 4) | ((out[ETH + 20 + 12] ?? 0) & 0x0f);
    return out;
  };
}

/** Mangling: the frame cut to its first `n` bytes. */
export function truncatedTo(n: number): (frame: Uint8Array) => Uint8Array {
  return (frame) => frame.slice(0, n);
}
