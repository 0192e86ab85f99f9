/**
 * The demo VM's connections, as both ends would send them: TCP flows that open (SYN, SYN+ACK,
 * ACK), move data both ways and close (FIN both ways), and UDP flows (a request out, a reply in).
 * Sequence numbers follow each flow, so every segment is one a stateful firewall tracking windows
 * accepts — and the "next segment" of an open flow after the migration is exactly what the remote
 * host would send. Seeded: the same flows and packets every run.
 */
import { buildTcpFrame, buildUdpFrame, createPrng, hostSynOptions } from '../../sim/workload/index.js';
import type { HostProfile, Prng, SynOptionSpec } from '../../sim/workload/index.js';

/** Where a packet enters a switch: from the VM (its port) or from the network (the uplink). */
export type Direction = 'out' | 'in';

/** One packet of the VM's traffic. */
export interface VmPacket {
  readonly flow: number;
  readonly dir: Direction;
  readonly frame: Uint8Array;
}

/** One flow of the VM. */
export interface VmFlow {
  readonly id: number;
  readonly protocol: 6 | 17;
  readonly vmPort: number;
  readonly remoteAddr: number;
  readonly remotePort: number;
  state: 'new' | 'open' | 'closed';
  /** What each end announces in its SYN: the VM is a Linux guest; remotes vary. */
  readonly vmHost: HostProfile;
  readonly remoteHost: HostProfile;
  vmSeq: number;
  remoteSeq: number;
}

const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const FIN_ACK = 0x11;
const VM_WINDOW = 64240;
const REMOTE_WINDOW = 65160;
const REMOTES = [0xc6336409, 0xc633640a, 0xcb00710b, 0xcb00710c] as const;

/** A real host's SYN options (Linux defaults: scale 7, SACK, timestamps; a large-buffer host: scale 14). */
function synOptions(host: HostProfile, tsVal: number, tsEcr: number): Uint8Array | undefined {
  const spec: SynOptionSpec | undefined =
    host === 'linux' ? { mss: 1460, windowScale: 7, sackPermitted: true, timestamps: { val: tsVal, ecr: tsEcr } } : host === 'large-buffer' ? { mss: 8960, windowScale: 14, sackPermitted: true, timestamps: { val: tsVal, ecr: tsEcr } } : undefined;
  return spec ? hostSynOptions(spec) : undefined;
}

/** The VM's flows and the packets that move them on. */
export class VmTraffic {
  readonly flows: VmFlow[] = [];
  private readonly rng: Prng;

  /** A VM at `vmAddr` (IPv4 as a number); `seed` fixes every flow and packet. */
  constructor(
    readonly vmAddr: number,
    seed: number,
  ) {
    this.rng = createPrng(seed);
  }

  /** Adds a flow (not yet opened); about one in five is UDP. */
  addFlow(): VmFlow {
    const id = this.flows.length;
    const udp = this.rng.chance(0.2);
    const f: VmFlow = {
      id,
      protocol: udp ? 17 : 6,
      vmPort: 20_000 + id,
      remoteAddr: REMOTES[id % REMOTES.length] as number,
      remotePort: udp ? 53 : this.rng.pick([443, 80]),
      state: 'new',
      vmHost: 'linux',
      remoteHost: this.rng.pick<HostProfile>(['linux', 'linux', 'large-buffer', 'minimal']),
      vmSeq: this.rng.int(1, 0x7fff_0000),
      remoteSeq: this.rng.int(1, 0x7fff_0000),
    };
    this.flows.push(f);
    return f;
  }

  /** The flows still open. */
  open(): VmFlow[] {
    return this.flows.filter((f) => f.state === 'open');
  }

  /** A random open flow, if any. */
  pickOpen(): VmFlow | undefined {
    const open = this.open();
    return open.length === 0 ? undefined : this.rng.pick(open);
  }

  private tcp(f: VmFlow, dir: Direction, flags: number, payload: number, options?: Uint8Array): VmPacket {
    const opt = options ? { options } : {};
    const frame =
      dir === 'out'
        ? buildTcpFrame({ src: this.vmAddr, dst: f.remoteAddr, srcPort: f.vmPort, dstPort: f.remotePort, seq: f.vmSeq, ack: f.remoteSeq, flags, window: VM_WINDOW, payload, ...opt })
        : buildTcpFrame({ src: f.remoteAddr, dst: this.vmAddr, srcPort: f.remotePort, dstPort: f.vmPort, seq: f.remoteSeq, ack: f.vmSeq, flags, window: REMOTE_WINDOW, payload, ...opt });
    return { flow: f.id, dir, frame };
  }

  private udp(f: VmFlow, dir: Direction, payload: number): VmPacket {
    const frame =
      dir === 'out'
        ? buildUdpFrame({ src: this.vmAddr, dst: f.remoteAddr, srcPort: f.vmPort, dstPort: f.remotePort, payload })
        : buildUdpFrame({ src: f.remoteAddr, dst: this.vmAddr, srcPort: f.remotePort, dstPort: f.vmPort, payload });
    return { flow: f.id, dir, frame };
  }

  /** Opens a new flow: the three-way handshake, or a UDP request and its reply. */
  openFlow(f: VmFlow): VmPacket[] {
    f.state = 'open';
    if (f.protocol === 17) return [this.udp(f, 'out', 40), this.udp(f, 'in', 120)];
    const syn = this.tcp(f, 'out', SYN, 0, synOptions(f.vmHost, 1000 + f.id, 0));
    f.vmSeq = (f.vmSeq + 1) >>> 0;
    const synAck = this.tcp(f, 'in', SYN | ACK, 0, synOptions(f.remoteHost, 5000 + f.id, 1000 + f.id));
    f.remoteSeq = (f.remoteSeq + 1) >>> 0;
    return [syn, synAck, this.tcp(f, 'out', ACK, 0)];
  }

  /** Data both ways on an open flow: a request out, a response in. */
  exchange(f: VmFlow): VmPacket[] {
    if (f.protocol === 17) return [this.udp(f, 'out', 40), this.udp(f, 'in', 120)];
    return [this.send(f, 'out', 100), this.send(f, 'in', 600)];
  }

  /** One data segment of `bytes` from one end; the sequence moves on. */
  send(f: VmFlow, dir: Direction, bytes: number): VmPacket {
    if (f.protocol === 17) return this.udp(f, dir, bytes);
    const p = this.tcp(f, dir, PSH_ACK, bytes);
    if (dir === 'out') f.vmSeq = (f.vmSeq + bytes) >>> 0;
    else f.remoteSeq = (f.remoteSeq + bytes) >>> 0;
    return p;
  }

  /** Closes a TCP flow from the VM's side (FIN, ACK, FIN, ACK); a UDP flow just stops. */
  close(f: VmFlow): VmPacket[] {
    f.state = 'closed';
    if (f.protocol === 17) return [];
    const fin = this.tcp(f, 'out', FIN_ACK, 0);
    f.vmSeq = (f.vmSeq + 1) >>> 0;
    const ack = this.tcp(f, 'in', ACK, 0);
    const fin2 = this.tcp(f, 'in', FIN_ACK, 0);
    f.remoteSeq = (f.remoteSeq + 1) >>> 0;
    return [fin, ack, fin2, this.tcp(f, 'out', ACK, 0)];
  }

  /**
   * One step of a running VM: data on a few open flows, now and then a new flow or a close.
   * Returns the packets in the order the ends send them.
   */
  step(exchanges: number): VmPacket[] {
    const out: VmPacket[] = [];
    for (let i = 0; i < exchanges; i++) {
      const f = this.pickOpen();
      if (f) out.push(...this.exchange(f));
    }
    if (this.rng.chance(0.5)) out.push(...this.openFlow(this.addFlow()));
    if (this.rng.chance(0.3)) {
      const f = this.pickOpen();
      if (f) out.push(...this.close(f));
    }
    return out;
  }
}
