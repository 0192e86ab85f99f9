/**
 * Builds real Ethernet/IPv4/TCP/UDP frames (valid IPv4 header and transport checksums), the
 * bytes a workload injects through PacketOut exactly as a lab would on BMv2.
 */

const ETH = 14;
const IP = 20;
const TCP = 20;
const UDP = 8;

/** Addressing shared by every frame. */
export interface FrameAddressing {
  readonly src: number;
  readonly dst: number;
  /** 48-bit MACs; default 02:00:<IPv4 address> of the respective side. */
  readonly srcMac?: number;
  readonly dstMac?: number;
  readonly ttl?: number;
  readonly identification?: number;
}

export interface TcpFrameSpec extends FrameAddressing {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** TCP flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  readonly flags: number;
  readonly window: number;
  /** TCP options, padded here to a multiple of 4 bytes. */
  readonly options?: Uint8Array;
  /** Payload bytes, or a length to fill with a deterministic pattern. */
  readonly payload?: Uint8Array | number;
}

export interface UdpFrameSpec extends FrameAddressing {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload?: Uint8Array | number;
}

/** The locally administered MAC the builder derives from an IPv4 address. */
export function macForIpv4(addr: number): number {
  return 0x02_00_0000_0000 + (addr >>> 0);
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function put48(b: Uint8Array, o: number, v: number): void {
  put16(b, o, Math.floor(v / 2 ** 32) & 0xffff);
  put32(b, o + 2, v % 2 ** 32);
}

/** Ones' complement sum of big-endian 16-bit words of `b[start, end)` added to `sum` (unfolded). */
function sum16(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  if (i < end) sum += (b[i] ?? 0) << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function payloadBytes(p: Uint8Array | number | undefined, seed: number): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  if (typeof p !== 'number') return p;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`payload length ${p} must be an integer in 0..65535`);
  const out = new Uint8Array(p);
  for (let i = 0; i < p; i++) out[i] = (seed + i * 31) & 0xff;
  return out;
}

function checkField(name: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new Error(`${name} ${v} does not fit ${bits} unsigned bits`);
}

/** Writes Ethernet + IPv4 headers; returns the frame with room for `l4Bytes` after them. */
function ipFrame(a: FrameAddressing, protocol: number, l4Bytes: number): Uint8Array {
  checkField('IPv4 source', a.src, 32);
  checkField('IPv4 destination', a.dst, 32);
  const totalLen = IP + l4Bytes;
  if (totalLen > 65535) throw new Error(`IPv4 packet of ${totalLen} bytes exceeds 65535`);
  const f = new Uint8Array(ETH + totalLen);
  put48(f, 0, a.dstMac ?? macForIpv4(a.dst));
  put48(f, 6, a.srcMac ?? macForIpv4(a.src));
  put16(f, 12, 0x0800);
  f[ETH] = 0x45;
  put16(f, ETH + 2, totalLen);
  put16(f, ETH + 4, a.identification ?? 0);
  put16(f, ETH + 6, 0x4000); // DF, no fragment offset
  f[ETH + 8] = a.ttl ?? 64;
  f[ETH + 9] = protocol;
  put32(f, ETH + 12, a.src >>> 0);
  put32(f, ETH + 16, a.dst >>> 0);
  put16(f, ETH + 10, fold(sum16(f, ETH, ETH + IP)));
  return f;
}

/** Transport checksum over the IPv4 pseudo-header and the segment. */
function transportChecksum(f: Uint8Array, protocol: number, l4Len: number): number {
  let sum = sum16(f, ETH + 12, ETH + 20); // source and destination addresses
  sum += protocol + l4Len;
  sum = sum16(f, ETH + IP, ETH + IP + l4Len, sum);
  return fold(sum);
}

/** A complete Ethernet/IPv4/TCP frame. */
export function buildTcpFrame(spec: TcpFrameSpec): Uint8Array {
  checkField('TCP source port', spec.srcPort, 16);
  checkField('TCP destination port', spec.dstPort, 16);
  checkField('TCP window', spec.window, 16);
  checkField('TCP flags', spec.flags, 8);
  const rawOpts = spec.options ?? new Uint8Array(0);
  const optLen = Math.ceil(rawOpts.length / 4) * 4;
  if (optLen > 40) throw new Error(`TCP options of ${rawOpts.length} bytes exceed the 40-byte maximum`);
  const payload = payloadBytes(spec.payload, spec.seq);
  const hdrLen = TCP + optLen;
  const f = ipFrame(spec, 6, hdrLen + payload.length);
  const o = ETH + IP;
  put16(f, o, spec.srcPort);
  put16(f, o + 2, spec.dstPort);
  put32(f, o + 4, spec.seq >>> 0);
  put32(f, o + 8, spec.ack >>> 0);
  f[o + 12] = (hdrLen / 4) << 4;
  f[o + 13] = spec.flags;
  put16(f, o + 14, spec.window);
  f.set(rawOpts, o + TCP); // padding bytes stay 0 (end of option list)
  f.set(payload, o + hdrLen);
  put16(f, o + 16, transportChecksum(f, 6, hdrLen + payload.length));
  return f;
}

/** A complete Ethernet/IPv4/UDP frame. */
export function buildUdpFrame(spec: UdpFrameSpec): Uint8Array {
  checkField('UDP source port', spec.srcPort, 16);
  checkField('UDP destination port', spec.dstPort, 16);
  const payload = payloadBytes(spec.payload, spec.srcPort);
  const f = ipFrame(spec, 17, UDP + payload.length);
  const o = ETH + IP;
  put16(f, o, spec.srcPort);
  put16(f, o + 2, spec.dstPort);
  put16(f, o + 4, UDP + payload.length);
  f.set(payload, o + UDP);
  const c = transportChecksum(f, 17, UDP + payload.length);
  put16(f, o + 6, c === 0 ? 0xffff : c); // 0 means "no checksum" in UDP
  return f;
}

/** TCP options of a SYN: MSS, NOP, window scale (8 bytes). */
export function synOptions(mss: number, windowScale: number): Uint8Array {
  checkField('MSS', mss, 16);
  if (!Number.isInteger(windowScale) || windowScale < 0 || windowScale > 14) throw new Error(`window scale ${windowScale} must be 0..14 (RFC 7323)`);
  return Uint8Array.from([2, 4, mss >>> 8, mss & 0xff, 1, 3, 3, windowScale]);
}

/** What a SYN of a real host announces (RFC 7323, RFC 2018). */
export interface SynOptionSpec {
  readonly mss: number;
  /** Window scale shift; absent = no window scale option. */
  readonly windowScale?: number;
  readonly sackPermitted?: boolean;
  /** Timestamps option values; absent = no timestamps. */
  readonly timestamps?: { readonly val: number; readonly ecr: number };
}

function timestampBytes(val: number, ecr: number): number[] {
  return [8, 10, (val >>> 24) & 0xff, (val >>> 16) & 0xff, (val >>> 8) & 0xff, val & 0xff, (ecr >>> 24) & 0xff, (ecr >>> 16) & 0xff, (ecr >>> 8) & 0xff, ecr & 0xff];
}

/**
 * SYN options in the order Linux writes them: MSS, SACK-permitted, timestamps, NOP, window scale
 * (20 bytes with everything); without timestamps, NOPs pad SACK-permitted as Linux does.
 */
export function hostSynOptions(spec: SynOptionSpec): Uint8Array {
  checkField('MSS', spec.mss, 16);
  const out = [2, 4, spec.mss >>> 8, spec.mss & 0xff];
  if (spec.timestamps) {
    if (spec.sackPermitted) out.push(4, 2);
    else out.push(1, 1);
    out.push(...timestampBytes(spec.timestamps.val, spec.timestamps.ecr));
  } else if (spec.sackPermitted) {
    out.push(1, 1, 4, 2);
  }
  if (spec.windowScale !== undefined) {
    checkField('window scale', spec.windowScale, 8);
    out.push(1, 3, 3, spec.windowScale);
  }
  return Uint8Array.from(out);
}

/** The timestamps option of a non-SYN segment, NOP-aligned (12 bytes). */
export function timestampOptions(val: number, ecr: number): Uint8Array {
  return Uint8Array.from([1, 1, ...timestampBytes(val, ecr)]);
}
