/**
 * The simulated device behind the gRPC service: the pipeline (committed and saved), its forwarding
 * state, arbitration, the open streams, the data plane, digests and idle-timeout scanning. The
 * RPC handlers are thin functions over this object; a restart replaces all of it but the socket.
 */
import type { Logger } from 'p4runtime-ts';
import type { p4 } from 'p4runtime-ts/proto';
import type { Scheduler } from '../clock.js';
import { messagesFor } from '../messages.js';
import type { Messages } from '../messages.js';
import type { ParsedSimSwitchOptions } from '../options.js';
import type { SimProfile } from '../profiles.js';
import type { SimProgram } from '../program.js';
import { programRegisters } from '../program-registers.js';
import { i64 } from '../p4rt/int64.js';
import { GrpcStatus } from '../p4rt/status.js';
import type { CodecContext } from '../pipeline/codec-context.js';
import type { ForwardingState } from '../pipeline/forwarding-state.js';
import type { P4InfoIndex, TableInfo } from '../pipeline/p4info-index.js';
import { encodeMatch } from '../pipeline/table-entry-codec.js';
import type { TableEntryState } from '../pipeline/table-store.js';
import { HighestConnectedArbiter, SpecArbiter } from './arbitration.js';
import type { Arbiter, ControllerSession } from './arbitration.js';
import { Dataplane } from './dataplane.js';
import type { EgressPacket } from './dataplane.js';
import { DigestEngine } from './digest-engine.js';
import { IdleTimeoutScanner } from './idle-timeout-scanner.js';

/** A pipeline the device holds: what was pushed, its index and state, and the model running it. */
export interface InstalledPipeline {
  readonly p4info: p4.config.v1.P4Info.$Properties;
  readonly deviceConfig: Uint8Array;
  readonly cookie: bigint | null;
  readonly index: P4InfoIndex;
  readonly state: ForwardingState;
  readonly program: SimProgram;
}

/** A stream the device can close (faults, restart, stop). */
export interface ClosableSession extends ControllerSession {
  close(code: GrpcStatus, message: string): void;
}

/** The device state and behaviour shared by every RPC. */
export class SimDevice {
  readonly msgs: Messages;
  readonly deviceId: bigint;
  readonly cpuPort: number;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  committed: InstalledPipeline | null = null;
  saved: InstalledPipeline | null = null;
  dataplane: Dataplane | null = null;
  readonly sessions = new Set<ClosableSession>();
  readonly digests: DigestEngine;
  readonly idle: IdleTimeoutScanner;
  /** Scheduler time until which every RPC answers UNAVAILABLE (a restart in progress). */
  downUntil = -Infinity;
  private arbiters = new Map<bigint, Arbiter>();
  private readonly egressListeners = new Set<(p: EgressPacket) => void>();
  private nextSessionId = 1;
  /** Fault injection: whether the digest message being emitted is lost (wired to SimFaults). */
  digestLoss: () => boolean = () => false;

  constructor(
    readonly options: ParsedSimSwitchOptions,
    readonly profile: SimProfile,
  ) {
    this.msgs = messagesFor(profile.dialect);
    this.deviceId = options.deviceId;
    this.cpuPort = options.cpuPort ?? profile.defaultCpuPort;
    this.scheduler = options.scheduler;
    this.logger = options.logger;
    this.digests = new DigestEngine({
      scheduler: this.scheduler,
      timing: profile.digests.timing,
      configOf: (id) => this.committed?.state.digestConfigs.get(id),
      send: (list) => this.toPrimaries({ digest: list }) > 0,
      lose: () => this.digestLoss(),
    });
    this.idle = new IdleTimeoutScanner({
      scheduler: this.scheduler,
      intervalMs: options.idleScanIntervalMs ?? profile.idleTimeout.scanIntervalMs,
      rule: profile.idleTimeout.rule,
      state: () => this.committed?.state ?? null,
      notify: (table, entries) => this.notifyIdle(table, entries),
    });
    if (profile.idleTimeout.notifications) this.idle.start();
  }

  /** A fresh id for a new stream. */
  newSessionId(): number {
    return this.nextSessionId++;
  }

  /**
   * The arbitration state for `deviceId`. The spec model knows only this device (undefined for
   * others); PI creates state for any device id on first use, as simple_switch_grpc does.
   */
  arbiterFor(deviceId: bigint): Arbiter | undefined {
    let a = this.arbiters.get(deviceId);
    if (a) return a;
    if (this.profile.deviceIds === 'spec' && deviceId !== this.deviceId) return undefined;
    a = this.profile.arbitration === 'spec'
      ? new SpecArbiter(deviceId, this.msgs, this.profile.maxConnections)
      : new HighestConnectedArbiter(deviceId, this.msgs, this.profile.maxConnections);
    this.arbiters.set(deviceId, a);
    return a;
  }

  /** The pipeline Read/Write refer to: the saved one if a VERIFY_AND_SAVE is pending, else the committed one. */
  current(): InstalledPipeline | null {
    return this.saved ?? this.committed;
  }

  /** The codec context of a pipeline. */
  ctx(p: InstalledPipeline): CodecContext {
    return { index: p.index, profile: this.profile, msgs: this.msgs };
  }

  /** NOT_FOUND text for a device id this switch does not answer to. */
  unknownDevice(deviceId: bigint): string {
    return `device id ${deviceId} is not known to this switch (it is device ${this.deviceId}); use device_id ${this.deviceId}`;
  }

  /** Makes `p` the running pipeline: new data plane, digests and idle timers start from it. */
  commit(p: InstalledPipeline): void {
    this.saved = null;
    this.committed = p;
    this.digests.reset();
    this.dataplane = new Dataplane({
      index: p.index,
      state: p.state,
      program: p.program.instantiate({ cpuPort: this.cpuPort, registers: programRegisters(p.p4info) }),
      programName: p.program.name,
      cpuPort: this.cpuPort,
      profile: this.profile,
      scheduler: this.scheduler,
      logger: this.logger,
      digest: (id, data) => this.digests.emit(id, data),
      packetIn: (packet) => this.toPrimaries({ packet }),
      egress: (packet) => {
        for (const l of this.egressListeners) l(packet);
      },
    });
    this.logger.info('pipeline committed', { program: p.program.name, pkg: p.index.pkgName, cookie: p.cookie?.toString() });
  }

  /** Sends a stream message to every current primary of this device; returns how many got it. */
  toPrimaries(message: p4.v1.StreamMessageResponse.$Properties): number {
    const primaries = this.arbiters.get(this.deviceId)?.primaries() ?? [];
    for (const s of primaries) s.send(message);
    return primaries.length;
  }

  private notifyIdle(table: TableInfo, entries: readonly TableEntryState[]): void {
    const tableEntry = entries.map((e) => {
      const te: p4.v1.TableEntry.$Properties = { tableId: table.id, match: encodeMatch(table, e.match), priority: e.priority, idleTimeoutNs: i64(e.idleTimeoutNs) };
      if (e.metadata.length > 0) te.metadata = e.metadata;
      if (e.controllerMetadata !== 0n) te.controllerMetadata = i64(e.controllerMetadata);
      return te;
    });
    this.toPrimaries({ idleTimeoutNotification: { tableEntry, timestamp: i64(this.scheduler.wallNs()) } });
  }

  /** Subscribes to packets leaving on data ports; returns the unsubscribe function. */
  onEgress(listener: (p: EgressPacket) => void): () => void {
    this.egressListeners.add(listener);
    return () => this.egressListeners.delete(listener);
  }

  /** Closes every stream with `code`; returns how many were open. */
  closeAllStreams(code: GrpcStatus, message: string): number {
    const all = [...this.sessions];
    for (const s of all) s.close(code, message);
    return all.length;
  }

  /** Loses all state, as a power cycle would: pipeline, forwarding state, arbitration, streams. */
  reset(): void {
    this.closeAllStreams(GrpcStatus.UNAVAILABLE, 'switch restarting: all state is lost; reconnect and push the pipeline again');
    this.committed = null;
    this.saved = null;
    this.dataplane = null;
    this.digests.reset();
    this.arbiters = new Map();
    this.logger.warn('switch restarted: all state lost');
  }

  /** Stops timers (the switch is shutting down). */
  shutdown(): void {
    this.idle.stop();
    this.digests.reset();
  }
}
