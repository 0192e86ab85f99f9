/**
 * The behavioural model of p4/stateful_edge.p4 for the sim (`--program stateful_edge`): the same
 * parser, tables, registers, counters and digests, reached only through PipelineEnv so the state
 * is exactly what P4Runtime reads and writes. Each step below mirrors a block of the P4 ingress.
 */
import type { InstantiateOptions, PacketEgress, PacketIngress, PipelineEnv, ProgramInstance, SimProgram, TableHit } from '../../program.js';
import { parseFrame } from './frame.js';
import type { ParsedFrame } from './frame.js';
import {
  decodePacketOutBytes,
  decodePacketOutMetadata,
  encodePacketInMetadata,
  serveInband,
} from './inband.js';
import type { PacketOutHeader } from './inband.js';
import {
  CT_WORDS,
  CtState,
  DIR_IN,
  DIR_OUT,
  DROP_REASONS,
  DropReason,
  InbandOp,
  IP_PROTO_TCP,
  MAX_VMS,
  NO_TRACKER,
  P4_CPU_PORT,
  Names,
  PACKET_OUT_BYTES,
  dropReasonName,
} from './layout.js';
import type { Direction } from './layout.js';
import { DEFAULT_CT_GEOMETRY, candidateSlotsIn, geometryFromRegisters, isDefaultGeometry } from './ct-geometry.js';
import type { CtGeometry } from './ct-geometry.js';
import { candidateSlots } from './placement.js';
import type { FlowKey } from './placement.js';
import { decodeSlot, encodeSlot, isSlotFree, keyAddrWord, keyPortWord, MASK48 } from './slot.js';
import type { CtSlot } from './slot.js';
import { logChange, UNLOGGED } from './change-log.js';
import { tcpCheck } from './tcp-check.js';
import { isPickup, isPureSyn, openSlot, pickupSlot, tcpSegment, trackSegment } from './tcp-tracker.js';

/** The program name the sim registers (P4Info pkg_info.name). */
export const STATEFUL_EDGE_PROGRAM_NAME = 'stateful_edge';

/** Per-packet state of the ingress (local_metadata_t). */
interface Meta {
  inPort: number;
  dir: Direction;
  outPort: number;
  vmId: number;
  drop: number;
  track: boolean;
  tracker: number;
  dynAllow: boolean;
  dynDeny: boolean;
  staticAllow: boolean;
  staticDeny: boolean;
  staticAny: boolean;
  aclAdmit: boolean;
  ctPass: boolean;
}

const num = (hit: TableHit, param: string): number => {
  const v = hit.params[param];
  if (v === undefined) throw new Error(`stateful_edge: action '${hit.action}' returned without parameter '${param}'`);
  return Number(v);
};

function unexpectedAction(table: string, hit: TableHit): never {
  throw new Error(`stateful_edge: table '${table}' returned action '${hit.action}', which the P4 program does not attach to it`);
}

/**
 * counter.count(index) as BMv2 runs it: an index past the counter's size updates nothing (BMv2
 * logs an error and the packet goes on), so a VM id >= MAX_VMS is forwarded uncounted.
 */
function countCell(env: PipelineEnv, counter: string, index: number, size: number, wireLen: number): void {
  if (index < size) env.counterCount(counter, index, wireLen);
}

/** Reads every word of a slot. */
function readSlot(env: PipelineEnv, slot: number): CtSlot {
  return decodeSlot(CT_WORDS.map((w) => env.registerRead(w.register, slot)));
}

class StatefulEdgeInstance implements ProgramInstance {
  /** A flow's candidate slots: the committed program's own code path, or the variant's regions. */
  private readonly candidates: (key: FlowKey) => readonly [number, number, number, number];

  constructor(
    private readonly cpuPort: number,
    private readonly geometry: CtGeometry,
  ) {
    this.candidates = isDefaultGeometry(geometry) ? candidateSlots : (key) => candidateSlotsIn(geometry, key);
  }

  process(packet: PacketIngress, env: PipelineEnv): PacketEgress {
    const nowUs = (env.nowNs() / 1000n) & MASK48;
    let frame = packet.payload;
    // Counters count the packet as it entered the pipeline: with the packet_out header for a
    // PacketOut (BMv2 counts its ingress length, header included).
    let wireLen = packet.payload.length;
    let po: PacketOutHeader | undefined;
    if (packet.ingressPort === this.cpuPort) {
      if (packet.packetOutMetadata) {
        po = decodePacketOutMetadata(packet.packetOutMetadata);
        wireLen += PACKET_OUT_BYTES;
      } else if (packet.payload.length >= PACKET_OUT_BYTES) {
        po = decodePacketOutBytes(packet.payload);
        frame = packet.payload.subarray(PACKET_OUT_BYTES);
      } else {
        frame = new Uint8Array(0); // the parser ran out of bytes in packet_out: nothing is valid
      }
    }

    if (po && po.op !== InbandOp.INJECT) {
      const reply = serveInband(po, env, nowUs, this.geometry);
      // The parser stopped after packet_out: whatever followed is re-emitted after packet_in.
      return { kind: 'to-cpu', payload: frame, metadata: encodePacketInMetadata(reply) };
    }

    const parsed = parseFrame(frame);
    const meta: Meta = {
      inPort: po ? po.port & 0x1ff : packet.ingressPort,
      dir: DIR_OUT,
      outPort: 0,
      vmId: 0,
      drop: DropReason.NONE,
      track: false,
      tracker: NO_TRACKER,
      dynAllow: false,
      dynDeny: false,
      staticAllow: false,
      staticDeny: false,
      staticAny: false,
      aclAdmit: false,
      ctPass: false,
    };

    let key: FlowKey | undefined;
    if (!parsed.ipv4) {
      meta.drop = DropReason.NOT_IPV4;
    } else {
      this.forwarding(parsed, meta, env, wireLen);
      if (meta.drop === DropReason.NONE) this.vmControl(meta, env, wireLen);
      if (meta.drop === DropReason.NONE && parsed.ipv4.protocol === IP_PROTO_TCP) meta.drop = tcpCheck(parsed, frame.length);
      if (meta.drop === DropReason.NONE) {
        key = flowKey(parsed, meta.dir);
        this.dynAcl(parsed, key, meta, env, wireLen);
        this.staticAcl(key, meta, env, wireLen);
        // A deny stops the flow both ways, before it can change any state.
        if (meta.dynDeny || meta.staticDeny) meta.drop = DropReason.ACL_DENY;
        meta.aclAdmit = meta.dynAllow || meta.staticAllow;
      }
    }

    if (meta.drop === DropReason.NONE && parsed.tcp && parsed.ipv4 && key) {
      this.conntrack(parsed, key, meta, env, nowUs, wireLen);
    }

    // Inbound TCP needs the tracker (or static_allow_any for what no connection claims).
    if (meta.drop === DropReason.NONE && meta.dir === DIR_IN) {
      const admitted = parsed.tcp ? meta.ctPass || meta.staticAny : meta.aclAdmit;
      if (!admitted) meta.drop = DropReason.NOT_ADMITTED;
    }
    if (meta.drop !== DropReason.NONE) {
      countCell(env, Names.counters.drops, meta.drop, DROP_REASONS, wireLen);
      return { kind: 'drop', reason: dropReasonName(meta.drop) };
    }
    countCell(env, meta.dir === DIR_OUT ? Names.counters.vmTx : Names.counters.vmRx, meta.vmId, MAX_VMS, wireLen);
    return { kind: 'forward', port: meta.outPort, payload: frame };
  }

  /** forwarding.p4: port role, VM lookup, anti-spoofing, output port. */
  private forwarding(parsed: ParsedFrame, meta: Meta, env: PipelineEnv, wireLen: number): void {
    const role = env.applyTable(Names.tables.portRole, { port: BigInt(meta.inPort) }, wireLen);
    if (role.action === 'vm_port_role') {
      meta.dir = DIR_OUT;
      meta.outPort = num(role, 'uplink_port');
    } else if (role.action === 'uplink_role') {
      meta.dir = DIR_IN;
    } else if (role.action === 'unknown_port') {
      meta.drop = DropReason.UNKNOWN_PORT;
      return;
    } else {
      unexpectedAction(Names.tables.portRole, role);
    }
    const ipv4 = parsed.ipv4;
    if (!ipv4) return;
    const vmAddr = meta.dir === DIR_OUT ? ipv4.src : ipv4.dst;
    const vm = env.applyTable(Names.tables.vmTable, { vm_addr: BigInt(vmAddr) }, wireLen);
    if (vm.action === 'unknown_vm') {
      meta.drop = DropReason.UNKNOWN_VM;
      return;
    }
    if (vm.action !== 'set_vm') unexpectedAction(Names.tables.vmTable, vm);
    meta.vmId = num(vm, 'vm_id');
    const vmPort = num(vm, 'port');
    if (meta.dir === DIR_OUT) {
      if (vmPort !== meta.inPort) meta.drop = DropReason.UNKNOWN_VM;
    } else {
      meta.outPort = vmPort;
    }
    // A port role or VM on the CPU port is a configuration error: never hand tenant traffic to the controller.
    if (meta.drop === DropReason.NONE && meta.outPort === P4_CPU_PORT) meta.drop = DropReason.CPU_PORT;
  }

  /** vm_control.p4: the migration phase gate. */
  private vmControl(meta: Meta, env: PipelineEnv, wireLen: number): void {
    const hit = env.applyTable(Names.tables.vmMigration, { vm_id: BigInt(meta.vmId) }, wireLen);
    let track = 0;
    let freeze = 0;
    let staged = 0;
    let active = 1;
    let tracker = NO_TRACKER;
    if (hit.action === 'set_migration') {
      track = num(hit, 'track');
      tracker = num(hit, 'tracker');
      freeze = num(hit, 'freeze');
      staged = num(hit, 'staged');
      active = num(hit, 'active');
    } else if (hit.action !== 'no_migration') {
      unexpectedAction(Names.tables.vmMigration, hit);
    }
    meta.track = track === 1;
    meta.tracker = tracker;
    if (active === 0 || freeze === 1 || staged === 1) meta.drop = DropReason.VM_INACTIVE;
  }

  /** dyn_acl.p4: pinhole lookup; an outbound UDP miss asks for a pinhole. */
  private dynAcl(parsed: ParsedFrame, key: FlowKey, meta: Meta, env: PipelineEnv, wireLen: number): void {
    const fields = {
      vm_id: BigInt(meta.vmId),
      vm_addr: BigInt(key.vmAddr),
      remote_addr: BigInt(key.remoteAddr),
      vm_port: BigInt(key.vmPort),
      remote_port: BigInt(key.remotePort),
      protocol: BigInt(key.protocol),
    };
    const hit = env.applyTable(Names.tables.dynAcl, fields, wireLen);
    if (hit.action === 'pinhole_allow') meta.dynAllow = true;
    else if (hit.action === 'pinhole_deny') meta.dynDeny = true;
    else if (hit.action !== 'pinhole_miss') unexpectedAction(Names.tables.dynAcl, hit);
    if (!hit.hit && meta.dir === DIR_OUT && parsed.udp) env.digest(Names.digests.pinhole, fields);
  }

  /** static_acl.p4: operator rules, looked up both ways with the canonical key. */
  private staticAcl(key: FlowKey, meta: Meta, env: PipelineEnv, wireLen: number): void {
    const hit = env.applyTable(
      Names.tables.staticAcl,
      { vm_addr: BigInt(key.vmAddr), remote_addr: BigInt(key.remoteAddr), vm_port: BigInt(key.vmPort), protocol: BigInt(key.protocol) },
      wireLen,
    );
    if (hit.action === 'static_allow') meta.staticAllow = true;
    else if (hit.action === 'static_allow_any') {
      meta.staticAllow = true;
      meta.staticAny = true;
    } else if (hit.action === 'static_deny') meta.staticDeny = true;
    else if (hit.action !== 'static_miss') unexpectedAction(Names.tables.staticAcl, hit);
  }

  /** conntrack.p4, tracking branch: find or open the flow's slot, check and advance it. */
  private conntrack(parsed: ParsedFrame, key: FlowKey, meta: Meta, env: PipelineEnv, nowUs: bigint, wireLen: number): void {
    const { ipv4, tcp } = parsed;
    if (!ipv4 || !tcp) return;
    const candidates = this.candidates(key);
    const wantAddr = keyAddrWord(key.vmAddr, key.remoteAddr);
    const wantPort = keyPortWord(key.vmPort, key.remotePort, key.protocol);
    const probes = candidates.map((slot) => {
      const addr = env.registerRead('ct_key_addr', slot);
      const port = env.registerRead('ct_key_port', slot);
      const st = env.registerRead('ct_state', slot);
      const seen = env.registerRead('ct_last_seen', slot);
      const state = Number((st >> 44n) & 0xfn);
      const protocol = Number(port & 0xffn);
      return {
        slot,
        hit: addr === wantAddr && port === wantPort,
        free: isSlotFree({ protocol, state, lastSeenUs: seen }, nowUs),
        used: protocol !== 0,
        timeWait: state === CtState.TIME_WAIT,
      };
    });
    const pureSyn = isPureSyn(tcp.flags);
    const mayInsert = meta.dir === DIR_OUT || meta.aclAdmit;
    const pickup = isPickup(tcp.flags, meta.dir);

    // The candidate holding this key; else, for a new flow, the first free one.
    const held = probes.find((p) => p.hit);
    let slot = candidates[0];
    let insert = false;
    let reclaim = false;
    if (held) {
      slot = held.slot;
      insert = pureSyn && mayInsert && (held.free || held.timeWait);
    } else if ((pureSyn && mayInsert) || pickup) {
      const free = probes.find((p) => p.free);
      if (free) {
        slot = free.slot;
        insert = true;
        reclaim = free.used;
      } else {
        countCell(env, Names.counters.collisions, meta.vmId, MAX_VMS, wireLen);
      }
    }
    const found = held !== undefined;

    const seg = tcpSegment(ipv4, tcp, meta.dir, parsed.synOptions);
    let next: CtSlot | undefined;
    if (insert) {
      next = pureSyn ? openSlot(key, meta.vmId, seg, nowUs) : pickupSlot(key, meta.vmId, seg, nowUs);
    } else if (found) {
      const outcome = trackSegment(readSlot(env, slot), seg, nowUs);
      if (outcome.ok) next = outcome.slot;
      else meta.drop = outcome.drop;
    }
    if (!next) return;

    const words = encodeSlot(next);
    CT_WORDS.forEach((w, i) => env.registerWrite(w.register, slot, words[i] ?? 0n));
    meta.ctPass = true;

    const logged = meta.track ? logChange(env, meta.tracker, slot) : UNLOGGED;
    if (meta.track || reclaim) {
      const epoch = env.registerRead(Names.registers.epoch, 0);
      const widx = (slot >>> 6) + ((epoch & 1n) === 1n ? this.geometry.dirtyWordsPerBuffer : 0);
      const dword = env.registerRead(Names.registers.dirty, widx) | (1n << BigInt(slot & 63));
      env.registerWrite(Names.registers.dirty, widx, dword);
      const delta: Record<string, bigint> = { slot: BigInt(slot), vm_id: BigInt(meta.vmId), tracker: BigInt(logged.tracker), epoch: logged.epoch, seq: logged.seq, change: logged.change };
      CT_WORDS.forEach((w, i) => {
        delta[w.register] = words[i] ?? 0n;
      });
      env.digest(Names.digests.delta, delta);
    } else if (insert) {
      // BMv2 keeps one digest per packet: a tracked VM's new flow is announced by its delta.
      env.digest(Names.digests.newFlow, { slot: BigInt(slot), vm_id: BigInt(meta.vmId) });
    }
  }
}

/** The flow key in canonical order (VM side first), as the P4 ingress builds meta.flow. */
function flowKey(parsed: ParsedFrame, dir: Direction): FlowKey {
  const ipv4 = parsed.ipv4;
  if (!ipv4) throw new Error('stateful_edge: flow key of a frame without IPv4');
  const l4 = parsed.tcp ?? parsed.udp;
  const src = l4?.srcPort ?? 0;
  const dst = l4?.dstPort ?? 0;
  return dir === DIR_OUT
    ? { vmAddr: ipv4.src, remoteAddr: ipv4.dst, vmPort: src, remotePort: dst, protocol: ipv4.protocol }
    : { vmAddr: ipv4.dst, remoteAddr: ipv4.src, vmPort: dst, remotePort: src, protocol: ipv4.protocol };
}

/** The P4's `default_action`s: BMv2 takes them from its JSON, the P4Info does not carry them. */
const DEFAULT_ACTIONS = Object.freeze({
  port_role: { action: 'unknown_port' },
  vm_table: { action: 'unknown_vm' },
  vm_migration: { action: 'no_migration' },
  static_acl: { action: 'static_miss' },
  dyn_acl: { action: 'pinhole_miss' },
});

/**
 * stateful_edge built with `geometry` (p4/include/defines.p4's -D options): for a switch's
 * `programs` option, with the variant's P4Info (variantP4InfoText) pushed to it. Without one, the
 * geometry is read from each pushed P4Info (geometryFromRegisters), else the committed one.
 */
export function statefulEdgeVariant(geometry?: CtGeometry): SimProgram {
  return Object.freeze({
    name: STATEFUL_EDGE_PROGRAM_NAME,
    defaultActions: DEFAULT_ACTIONS,
    instantiate(options: InstantiateOptions): ProgramInstance {
      if (!Number.isInteger(options.cpuPort) || options.cpuPort < 0 || options.cpuPort > 511) {
        throw new Error(`stateful_edge: cpuPort ${options.cpuPort} must be a 9-bit port number (0..511); the P4 uses 255`);
      }
      return new StatefulEdgeInstance(options.cpuPort, geometry ?? geometryFromRegisters(options.registers ?? []) ?? DEFAULT_CT_GEOMETRY);
    },
  });
}

/**
 * The stateful_edge program for the sim's program registry: the geometry of whatever build of
 * p4/stateful_edge.p4 is pushed (another size, other hashes, a wider last_seen), read from its P4Info.
 */
export const statefulEdgeProgram: SimProgram = statefulEdgeVariant();
