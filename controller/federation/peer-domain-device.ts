/**
 * A destination domain as one device of the source domain's migration engine: the engine stages
 * batches into it and activates it like any destination, while the peer controller places and
 * drives its own devices. The pause window costs one boundary round trip: the final batches the
 * engine hands over after the freeze are held here and travel with the activation, as one Commit
 * (bounded by the pause deadline) — the engine's completeness proof is over what was handed over,
 * and the peer either installs and activates all of it or rolls back and fails.
 */
import { performance } from 'node:perf_hooks';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { DeviceApiFailure, batchToWire, footprintFromWire, refToWire } from '../../plugin/index.js';
import type { DeviceApi, DeviceCapabilities, FootprintOptions, ImportResult, MigrationRef, StateBatch, VmFootprint } from '../../plugin/index.js';
import type { MigrationPhase } from '../migration/events.js';
import type { MigrationState } from '../migration/transition.js';
import type { FederationClient } from './federation-client.js';
import type { FederationMethod } from './federation-wire.js';

/** Options of PeerDomainDevice. */
export interface PeerDomainDeviceOptions {
  readonly client: FederationClient;
  /** What the peer's destinations offer (from Propose): the engine negotiates against it. */
  readonly capabilities: DeviceCapabilities;
  /** The source domain's migration state (its phase says whether a batch is final; its abort says why). */
  readonly state: () => MigrationState;
  /** Deadline of the commit inside the pause (ms). */
  readonly commitTimeoutMs: number;
  /**
   * Tell the peer what is left of the deadline with the Commit, so that it does not begin
   * activating past it (the deadline policy `abort`: this side gives up then). Default false.
   */
  readonly commitBudget?: boolean;
}

/** Phases inside the VM's pause, as the source domain records them. */
const IN_PAUSE: readonly MigrationPhase[] = ['FROZEN', 'SYNCED'];

/** The peer domain behind the DeviceApi the engine drives. */
export class PeerDomainDevice implements DeviceApi {
  private pending: StateBatch[] = [];
  /**
   * Set when the engine's pause began (pauseStarted): from then on a batch is a final one, held for
   * the Commit. Not the journalled phase: `frozen` is recorded while the final batches are handed
   * over, and a batch that saw PRECOPY crossed on a Stage round trip of its own inside the pause
   * (field walkthrough 17: the default 50 ms deadline never committed on BMv2).
   */
  private paused = false;
  /** When the pause began (performance.now()): the Commit gets what is left of the deadline. */
  private pausedAt: number | undefined;
  /** Federation calls made while the VM was paused (the pause window's boundary crossings). */
  readonly callsInPause: FederationMethod[] = [];
  /** How long the commit took at this end (ms): one round trip plus the peer's staging and activation. */
  commitMs: number | undefined;
  /** The peer's own share of it (ms), as it reported: the rest is the wire between the domains. */
  peerCommitWorkMs: number | undefined;

  constructor(private readonly o: PeerDomainDeviceOptions) {}

  private get peer(): string {
    return this.o.client.peer;
  }

  private async call(method: FederationMethod, req: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>> {
    const phase = this.o.state().phase;
    if ((this.paused && phase !== 'ABORTED') || IN_PAUSE.includes(phase)) this.callsInPause.push(method);
    return this.o.client.call(method, req, timeoutMs, timeoutMs === undefined ? 'DEVICE_UNREACHABLE' : 'PAUSE_DEADLINE_MISSED');
  }

  private notHere(what: string): DeviceApiFailure {
    return new DeviceApiFailure('WRONG_PHASE', `peer domain ${this.peer}: ${what}: a destination domain holds no state of this VM to export, freeze or delete`);
  }

  /**
   * What the peer's destinations offer; and its Abort cleans an activated destination whatever
   * happened meanwhile (the peer controller answers from its journal), so a rollback retries it
   * once the pause began as it retries a source (field walkthrough 17: both domains active 5 s).
   */
  async capabilities(): Promise<DeviceCapabilities> {
    return { ...this.o.capabilities, device: this.peer, abortCleansActive: true };
  }

  /**
   * The peer domain's destinations as one footprint of the VM (Footprint): where the VM may run
   * (mapped, not marked left), their id and their flows summed; not mapped anywhere, none. A
   * peer that predates the call, or a destination that could not count, leaves it unknown.
   */
  async footprint(vm: string, o: FootprintOptions = {}): Promise<VmFootprint> {
    // Asked within this migration: the peer answers about the VM of a migration proposed to it only.
    const r = await this.call('Footprint', { ref: refToWire({ migrationId: this.o.state().migrationId, vm }), awaitScan: o.awaitScan === true });
    const each = (Array.isArray(r['destinations']) ? (r['destinations'] as unknown[]) : []).map(footprintFromWire);
    return domainFootprint(this.peer, each);
  }

  async prepare(m: MigrationRef): Promise<void> {
    await this.call('Prepare', { ref: refToWire(m) });
  }

  exportSnapshot(_m: MigrationRef): Promise<StateBatch> {
    return Promise.reject(this.notHere('exportSnapshot'));
  }

  exportDeltas(_m: MigrationRef): Observable<StateBatch> {
    return throwError(() => this.notHere('exportDeltas'));
  }

  async importStaged(m: MigrationRef, batch: StateBatch): Promise<ImportResult> {
    if (this.paused || this.o.state().phase === 'FROZEN') {
      // A final batch: it crosses with the commit, not on its own round trip.
      this.pending.push(batch);
      return { installed: batch.slots.length, alreadyPresent: 0 };
    }
    const r = await this.call('Stage', { ref: refToWire(m), batch: batchToWire(batch) });
    return { installed: Number(r['installed'] ?? 0), alreadyPresent: Number(r['alreadyPresent'] ?? 0) };
  }

  /** The peer domain's devices run their own pause; batches from now on are final ones, held for the Commit. */
  pauseStarted(_m: MigrationRef): void {
    this.paused = true;
    this.pausedAt ??= performance.now();
  }

  freeze(_m: MigrationRef): Promise<void> {
    return Promise.reject(this.notHere('freeze'));
  }

  finalDelta(_m: MigrationRef, _sinceSeq: bigint): Promise<StateBatch> {
    return Promise.reject(this.notHere('finalDelta'));
  }

  async activate(m: MigrationRef): Promise<void> {
    const finals = this.pending;
    const t0 = performance.now();
    // What is left of the pause deadline, not all of it (walkthrough 19: the source stayed frozen
    // ≈125 ms past the deadline while a Commit used a whole one of its own).
    const left = this.pausedAt === undefined ? this.o.commitTimeoutMs : Math.max(1, Math.ceil(this.o.commitTimeoutMs - (performance.now() - this.pausedAt)));
    const r = await this.call('Commit', { ref: refToWire(m), finalBatches: finals.map(batchToWire), ...(this.o.commitBudget === true ? { budgetMs: left } : {}) }, left);
    this.commitMs = performance.now() - t0;
    this.peerCommitWorkMs = Number(r['workUs'] ?? 0) / 1000;
    this.pending = [];
    // Activated: the pause's part of the boundary is over (Finish follows after the commit).
    this.paused = false;
  }

  deleteAtSource(_m: MigrationRef, _graceMs: number): Promise<{ readonly deleted: number; readonly skipped: number }> {
    return Promise.reject(this.notHere('deleteAtSource'));
  }

  async abort(m: MigrationRef): Promise<void> {
    this.pending = [];
    const a = this.o.state().abort;
    await this.call('Abort', { ref: refToWire(m), reason: a?.reason ?? 'PEER_REJECTED', detail: a?.detail ?? 'rolled back by the source domain' });
  }

  /** After the commit at the source domain: the peer records it (its destinations keep the VM). */
  async finish(m: MigrationRef, sourceDeleted: number): Promise<void> {
    await this.call('Finish', { ref: refToWire(m), sourceDeleted });
  }
}

/** The footprints of a domain's destinations as one (see PeerDomainDevice.footprint). */
export function domainFootprint(domain: string, each: readonly VmFootprint[]): VmFootprint {
  const running = each.filter((f) => f.vmId !== undefined && f.runsHere);
  const counted = running.every((f) => f.slots !== undefined);
  const first = running[0];
  const unfinished = each.find((f) => f.unfinished)?.unfinished;
  return {
    device: domain,
    ...(first?.vmId !== undefined ? { vmId: first.vmId } : {}),
    runsHere: running.length > 0,
    controlled: each.some((f) => f.controlled),
    ...(counted && each.length > 0 ? { slots: running.reduce((n, f) => n + (f.slots ?? 0), 0) } : {}),
    indexComplete: each.length > 0 && each.every((f) => f.indexComplete),
    migrations: [...new Set(each.flatMap((f) => f.migrations))],
    ...(unfinished ? { unfinished } : {}),
  };
}
