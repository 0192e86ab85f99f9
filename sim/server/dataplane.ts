/**
 * The data plane of one committed pipeline: runs the program on each packet against the
 * forwarding state (the same state P4Runtime reads and writes), turns PacketOut metadata into the
 * program's input and its to-CPU output into PacketIn metadata, and hands digests to the engine.
 */
import type { Logger } from 'p4runtime-ts';
import type { p4 } from 'p4runtime-ts/proto';
import type { Scheduler } from '../clock.js';
import type { PacketEgress, PacketIngress, PipelineEnv, ProgramInstance, TableHit } from '../program.js';
import { bitLength, bytesToBigInt, canonicalBytes, isCanonical, toHex, widthMask } from '../p4rt/bytestring.js';
import type { ForwardingState } from '../pipeline/forwarding-state.js';
import type { ControllerHeaderInfo, DigestInfo, P4InfoIndex, TableInfo } from '../pipeline/p4info-index.js';
import type { SimProfile } from '../profiles.js';

/** A packet leaving on a data port. */
export interface EgressPacket {
  readonly port: number;
  readonly payload: Uint8Array;
  /** The replica's instance (egress_rid) when the packet is a multicast copy. */
  readonly instance?: number;
}

/** Counters of what the data plane did, for tests. */
export interface DataplaneStats {
  packetsIn: number;
  packetOuts: number;
  packetIns: number;
  forwarded: number;
  dropped: number;
  programErrors: number;
}

export interface DataplaneOptions {
  readonly index: P4InfoIndex;
  readonly state: ForwardingState;
  readonly program: ProgramInstance;
  readonly programName: string;
  readonly cpuPort: number;
  readonly profile: SimProfile;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly digest: (digestId: number, data: p4.v1.P4Data.$Properties) => void;
  readonly packetIn: (packet: p4.v1.PacketIn.$Properties) => void;
  readonly egress: (packet: EgressPacket) => void;
}

/** A PacketOut the data plane refused: why, for a StreamError. */
export interface PacketOutRejection {
  readonly message: string;
}

/** Runs packets through one program instance. */
export class Dataplane {
  readonly stats: DataplaneStats = { packetsIn: 0, packetOuts: 0, packetIns: 0, forwarded: 0, dropped: 0, programErrors: 0 };
  private readonly tableCache = new Map<string, TableInfo>();
  private readonly digestCache = new Map<string, DigestInfo>();
  private readonly packetOutHeader: ControllerHeaderInfo | undefined;
  private readonly packetInHeader: ControllerHeaderInfo | undefined;
  readonly env: PipelineEnv;

  constructor(private readonly o: DataplaneOptions) {
    this.packetOutHeader = o.index.controllerHeaders.get('packet_out');
    this.packetInHeader = o.index.controllerHeaders.get('packet_in');
    this.env = {
      applyTable: (table, key, bytes) => this.applyTable(table, key, bytes),
      registerRead: (name, index) => this.registerArray(name, index).get(index),
      registerWrite: (name, index, value) => this.registerArray(name, index).set(index, value),
      counterCount: (name, index, bytes) => {
        const id = o.index.idOf('counter', name);
        const arr = id !== undefined ? o.state.counters.get(id) : undefined;
        if (!arr) throw new Error(`program ${o.programName}: no counter '${name}' in the P4Info`);
        if (!Number.isInteger(index) || index < 0 || index >= arr.size) throw new RangeError(`program ${o.programName}: counter '${name}' index ${index} out of range (size ${arr.size})`);
        arr.count(index, bytes);
      },
      digest: (name, fields) => this.digest(name, fields),
      nowNs: () => BigInt(Math.round(o.scheduler.now() * 1e6)),
    };
  }

  private table(name: string): TableInfo {
    let t = this.tableCache.get(name);
    if (!t) {
      t = this.o.index.tableByName(name);
      this.tableCache.set(name, t);
    }
    return t;
  }

  private applyTable(name: string, key: Readonly<Record<string, bigint>>, bytes: number): TableHit {
    const t = this.table(name);
    const store = this.o.state.table(t.id);
    const values = t.matchFields.map((f) => {
      const v = key[f.name] ?? key[f.name.split('.').pop() ?? f.name];
      if (v === undefined) throw new Error(`program ${this.o.programName}: applyTable('${name}') lacks key field '${f.name}'`);
      return v & widthMask(f.bitwidth);
    });
    const entry = store.lookup(values);
    const cell = entry ? entry.counter : store.defaultEntry.counter;
    if (cell) {
      cell.bytes += BigInt(bytes);
      cell.packets += 1n;
    }
    if (entry) {
      entry.lastHitMs = this.o.scheduler.now();
      entry.idleSinceMs = entry.lastHitMs;
    }
    const call = entry ? entry.action : store.defaultEntry.action;
    const info = call ? this.o.index.actions.get(call.actionId) : undefined;
    const params: Record<string, bigint> = {};
    info?.params.forEach((p, i) => {
      params[p.name] = call?.params[i] ?? 0n;
    });
    return { action: info?.shortName ?? 'NoAction', params, hit: entry !== null };
  }

  private registerArray(name: string, index: number): { get(i: number): bigint; set(i: number, v: bigint): void } {
    const id = this.o.index.idOf('register', name);
    const arr = id !== undefined ? this.o.state.registers.get(id) : undefined;
    if (!arr) throw new Error(`program ${this.o.programName}: no register '${name}' in the P4Info`);
    if (!Number.isInteger(index) || index < 0 || index >= arr.size) throw new RangeError(`program ${this.o.programName}: register '${name}' index ${index} out of range (size ${arr.size})`);
    return arr;
  }

  private digest(name: string, fields: Readonly<Record<string, bigint>>): void {
    let d = this.digestCache.get(name);
    if (!d) {
      const id = this.o.index.idOf('digest', name);
      d = id !== undefined ? this.o.index.digests.get(id) : undefined;
      if (!d) throw new Error(`program ${this.o.programName}: no digest '${name}' in the P4Info`);
      this.digestCache.set(name, d);
    }
    const value = (m: { name: string; bitwidth: number }): p4.v1.P4Data.$Properties => {
      const v = fields[m.name];
      if (v === undefined) throw new Error(`program ${this.o.programName}: digest '${name}' lacks member '${m.name}'`);
      return { bitstring: canonicalBytes(v & widthMask(m.bitwidth)) };
    };
    const members = d.members.map(value);
    const data: p4.v1.P4Data.$Properties = d.shape === 'struct' ? { struct: { members } } : d.shape === 'tuple' ? { tuple: { members } } : (members[0] ?? { bitstring: Uint8Array.of(0) });
    this.o.digest(d.id, data);
  }

  /** Validates a PacketOut's metadata and runs it from the CPU port; returns a rejection to report, if any. */
  packetOut(po: p4.v1.PacketOut.$Properties): PacketOutRejection | null {
    const strict = this.o.profile.streamErrors;
    const header = this.packetOutHeader;
    const meta: Record<string, bigint> = {};
    const seen = new Set<number>();
    for (const m of po.metadata ?? []) {
      const info = header?.metadataById.get(m.metadataId ?? 0);
      if (!info) {
        if (strict) return { message: `PacketOut metadata id ${m.metadataId ?? 0} is not in the P4Info's packet_out header (${header ? header.metadata.map((x) => `${x.id} '${x.name}'`).join(', ') : 'the P4Info has no packet_out header'})` };
        continue;
      }
      if (seen.has(info.id)) {
        if (strict) return { message: `PacketOut metadata '${info.name}' is given twice` };
        continue;
      }
      seen.add(info.id);
      const bytes = m.value ?? new Uint8Array();
      const v = bytesToBigInt(bytes);
      if (bytes.length === 0 || bitLength(v) > info.bitwidth) {
        if (strict) return { message: `PacketOut metadata '${info.name}' value ${toHex(bytes)} does not fit within ${info.bitwidth} bits` };
        this.stats.dropped++;
        return null;
      }
      if (strict && this.o.profile.bytestrings === 'canonical-only' && !isCanonical(bytes)) {
        return { message: `PacketOut metadata '${info.name}': bytestring ${toHex(bytes)} is not canonical; send ${toHex(canonicalBytes(v))} (strict canonical bytestrings are on: canonicalBytestrings / --canonical-bytestrings)` };
      }
      meta[info.name] = v;
    }
    for (const info of header?.metadata ?? []) {
      if (!(info.name in meta)) {
        if (strict) return { message: `PacketOut lacks metadata '${info.name}' (id ${info.id}); send one value per packet_out metadata field` };
        meta[info.name] = 0n;
      }
    }
    this.stats.packetOuts++;
    this.run({ ingressPort: this.o.cpuPort, payload: po.payload ?? new Uint8Array(), packetOutMetadata: meta });
    return null;
  }

  /** A packet arriving on data port `port`. */
  inject(port: number, payload: Uint8Array): PacketEgress {
    return this.run({ ingressPort: port, payload });
  }

  private run(packet: PacketIngress): PacketEgress {
    this.stats.packetsIn++;
    let out: PacketEgress;
    try {
      out = this.o.program.process(packet, this.env);
    } catch (e) {
      this.stats.programErrors++;
      this.o.logger.warn('program failed on a packet; dropped', { program: this.o.programName, error: e instanceof Error ? e.message : String(e) });
      out = { kind: 'drop', reason: 'program error' };
    }
    if (out.kind === 'drop') this.stats.dropped++;
    else if (out.kind === 'forward') {
      this.stats.forwarded++;
      this.o.egress({ port: out.port, payload: out.payload });
    } else if (out.kind === 'multicast') {
      // The replication engine copies the packet once per replica; a group with no entry (or no
      // replicas) produces no copy, as on BMv2.
      const replicas = this.o.state.replication.multicastGroup(out.group) ?? [];
      if (replicas.length === 0) this.stats.dropped++;
      // Copies leave on their ports as they are: turning one into a PacketIn is the egress
      // pipeline's job, which the sim's programs do not model for replicas.
      for (const r of replicas) {
        this.stats.forwarded++;
        this.o.egress({ port: r.port, payload: out.payload, instance: r.instance });
      }
    } else {
      this.stats.packetIns++;
      const metadata = (this.packetInHeader?.metadata ?? []).map((m) => ({ metadataId: m.id, value: canonicalBytes((out.kind === 'to-cpu' ? (out.metadata[m.name] ?? 0n) : 0n) & widthMask(m.bitwidth)) }));
      this.o.packetIn({ payload: out.payload, metadata });
    }
    return out;
  }
}
