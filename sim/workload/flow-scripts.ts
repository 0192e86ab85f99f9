/**
 * The packets of one flow, in order, with realistic TCP behaviour: SYN/SYN+ACK/ACK with the
 * options each side's host profile announces, request/response exchanges cut at the MSS with
 * delayed ACKs (one per two segments) so nothing in flight exceeds the peer's window, sequence
 * and acknowledgement numbers advancing by exactly the bytes (and SYN/FIN) sent, timestamps on
 * every segment when both sides offered them, and an orderly FIN close, an RST, or none.
 * UDP flows alternate a datagram from the VM and a reply.
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../programs/stateful-edge/frame.js';
import { buildTcpFrame, buildUdpFrame, hostSynOptions, synOptions, timestampOptions } from './frame-builder.js';
import type { Prng } from './prng.js';

export type PacketKind = 'syn' | 'syn-ack' | 'ack' | 'data' | 'fin' | 'rst' | 'udp' | 'hard';
export type CloseKind = 'fin' | 'rst' | 'open';

/** One packet of a flow: who sent it and the frame. */
export interface FlowPacket {
  /** 'out' = from the VM, 'in' = from the remote side. */
  readonly direction: 'out' | 'in';
  readonly kind: PacketKind;
  readonly frame: Uint8Array;
}

/** The two ends of a flow. */
export interface FlowEnds {
  readonly vmAddr: number;
  readonly vmPort: number;
  readonly remoteAddr: number;
  readonly remotePort: number;
}

/**
 * How a host's TCP stack talks: `minimal` announces MSS and window scale (`windowScale` of the
 * plan) only; `linux` is Linux's defaults (MSS, SACK-permitted, timestamps, window scale 7,
 * buffers up to 6 MiB); `large-buffer` a host tuned for long fat pipes (window scale 14,
 * buffers up to 1 GiB).
 */
export type HostProfile = 'minimal' | 'linux' | 'large-buffer';

/** What a TCP flow does. */
export interface TcpFlowPlan {
  readonly initiator: 'vm' | 'remote';
  /** Bytes of each request (client to server) and its response. */
  readonly exchanges: readonly { readonly request: number; readonly response: number }[];
  readonly close: CloseKind;
  readonly closer: 'vm' | 'remote';
  readonly mss: number;
  /** The window scale of a `minimal` host. */
  readonly windowScale: number;
  /** Each side's host profile (default: minimal). */
  readonly vmProfile?: HostProfile;
  readonly remoteProfile?: HostProfile;
}

interface ProfileTraits {
  readonly ws: number;
  readonly timestamps: boolean;
  readonly sack: boolean;
  /** Receive buffer range in KiB. */
  readonly bufferKiB: readonly [number, number];
}

function traits(profile: HostProfile, minimalWs: number): ProfileTraits {
  if (profile === 'linux') return { ws: 7, timestamps: true, sack: true, bufferKiB: [128, 6 * 1024] };
  if (profile === 'large-buffer') return { ws: 14, timestamps: true, sack: true, bufferKiB: [16 * 1024, 1024 * 1024] };
  return { ws: minimalWs, timestamps: false, sack: false, bufferKiB: [128, 1024] };
}

interface Side {
  readonly who: 'vm' | 'remote';
  readonly traits: ProfileTraits;
  /** Timestamp clock (TSval). */
  ts: number;
  readonly addr: number;
  readonly port: number;
  /** Next sequence number this side sends. */
  nxt: number;
  /** Next sequence number this side expects (what it acknowledges). */
  rcvNxt: number;
  /** Receive buffer it advertises, in bytes. */
  readonly buffer: number;
  ipId: number;
}

/** Generates the packets of one TCP flow. */
export function* tcpFlowPackets(ends: FlowEnds, plan: TcpFlowPlan, prng: Prng): Generator<FlowPacket> {
  const vmTraits = traits(plan.vmProfile ?? 'minimal', plan.windowScale);
  const remoteTraits = traits(plan.remoteProfile ?? 'minimal', plan.windowScale);
  const side = (who: 'vm' | 'remote', t: ProfileTraits, addr: number, port: number): Side => ({
    who, traits: t, ts: prng.next(), addr, port, nxt: prng.next(), rcvNxt: 0, buffer: prng.int(t.bufferKiB[0], t.bufferKiB[1]) * 1024, ipId: prng.int(0, 0xffff),
  });
  const vm = side('vm', vmTraits, ends.vmAddr, ends.vmPort);
  const remote = side('remote', remoteTraits, ends.remoteAddr, ends.remotePort);
  const peer = (s: Side): Side => (s === vm ? remote : vm);
  // RFC 7323: timestamps are used only when both SYNs offered them.
  const timestamps = vmTraits.timestamps && remoteTraits.timestamps;
  const windowField = (s: Side): number => Math.min(0xffff, Math.floor(s.buffer / 2 ** s.traits.ws) - prng.int(0, 3));
  const synOpts = (s: Side): Uint8Array => {
    const t = s.traits;
    if (!t.timestamps && !t.sack) return synOptions(plan.mss, t.ws);
    return hostSynOptions({ mss: plan.mss, windowScale: t.ws, sackPermitted: t.sack, ...(t.timestamps ? { timestamps: { val: s.ts, ecr: peer(s).ts } } : {}) });
  };

  const send = (from: Side, flags: number, payload: number, kind: PacketKind, syn = false): FlowPacket => {
    const to = peer(from);
    from.ts = (from.ts + 1) >>> 0;
    const options = syn ? synOpts(from) : timestamps ? timestampOptions(from.ts, to.ts) : undefined;
    const frame = buildTcpFrame({
      src: from.addr,
      dst: to.addr,
      srcPort: from.port,
      dstPort: to.port,
      seq: from.nxt,
      ack: flags & TCP_ACK ? from.rcvNxt : 0,
      flags,
      // Windows in SYN segments are never scaled (RFC 7323 §2.2).
      window: syn ? 64240 : windowField(from),
      ...(options ? { options } : {}),
      payload,
      identification: from.ipId,
    });
    from.ipId = (from.ipId + 1) & 0xffff;
    from.nxt = (from.nxt + payload + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0)) >>> 0;
    to.rcvNxt = from.nxt; // in-order delivery
    return { direction: from === vm ? 'out' : 'in', kind, frame };
  };

  /** A message cut at the MSS; the receiver acknowledges every second segment and the last. */
  function* message(from: Side, bytes: number): Generator<FlowPacket> {
    let unacked = 0;
    for (let left = bytes; left > 0; ) {
      const n = Math.min(left, plan.mss);
      left -= n;
      yield send(from, TCP_ACK | (left === 0 ? TCP_PSH : 0), n, 'data');
      if (++unacked === 2 || left === 0) {
        yield send(peer(from), TCP_ACK, 0, 'ack');
        unacked = 0;
      }
    }
  }

  const client = plan.initiator === 'vm' ? vm : remote;
  const server = peer(client);
  yield send(client, TCP_SYN, 0, 'syn', true);
  yield send(server, TCP_SYN | TCP_ACK, 0, 'syn-ack', true);
  yield send(client, TCP_ACK, 0, 'ack');
  for (const x of plan.exchanges) {
    yield* message(client, x.request);
    yield* message(server, x.response);
  }
  const closer = plan.closer === 'vm' ? vm : remote;
  if (plan.close === 'fin') {
    yield send(closer, TCP_FIN | TCP_ACK, 0, 'fin');
    yield send(peer(closer), TCP_ACK, 0, 'ack');
    yield send(peer(closer), TCP_FIN | TCP_ACK, 0, 'fin');
    yield send(closer, TCP_ACK, 0, 'ack');
  } else if (plan.close === 'rst') {
    yield send(closer, TCP_RST | TCP_ACK, 0, 'rst');
  }
}

/** Generates the packets of one UDP flow: `datagrams` requests from the VM, each answered. */
export function* udpFlowPackets(ends: FlowEnds, datagrams: number, prng: Prng): Generator<FlowPacket> {
  for (let i = 0; i < datagrams; i++) {
    yield { direction: 'out', kind: 'udp', frame: buildUdpFrame({ src: ends.vmAddr, dst: ends.remoteAddr, srcPort: ends.vmPort, dstPort: ends.remotePort, payload: prng.int(20, 200), identification: i }) };
    yield { direction: 'in', kind: 'udp', frame: buildUdpFrame({ src: ends.remoteAddr, dst: ends.vmAddr, srcPort: ends.remotePort, dstPort: ends.vmPort, payload: prng.int(40, 1200), identification: i }) };
  }
}
