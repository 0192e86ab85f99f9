/**
 * Client arbitration (P4Runtime spec §5 / §16.2). Two models:
 * - `SpecArbiter`: one primary per role; the primary is the controller holding the highest
 *   election id ever seen for that role; unset election ids never become primary; when the
 *   primary leaves there is no primary until someone presents an id >= that highest one.
 * - `HighestConnectedArbiter`: PI / simple_switch_grpc as the lab observed it — roles ignored,
 *   the primary is the highest *connected* election id (unset counts as 0), at most 16 streams.
 * Both send the advisory MasterArbitrationUpdate messages the spec prescribes.
 */
import { toUint128 } from 'p4runtime-ts/proto';
import type { google, p4 } from 'p4runtime-ts/proto';
import { u64 } from '../p4rt/int64.js';
import type { Messages } from '../messages.js';
import { GrpcStatus } from '../p4rt/status.js';

/** One controller's stream, as arbitration sees it. */
export interface ControllerSession {
  readonly sessionId: number;
  /** Queues a message on the stream (dropped if the stream is closed). */
  send(message: p4.v1.StreamMessageResponse.$Properties): void;
}

/** What a MasterArbitrationUpdate from a controller asks for. */
export interface ArbitrationRequest {
  readonly deviceId: bigint;
  readonly role: string;
  readonly roleConfig: google.protobuf.Any.$Properties | null;
  /** null when the controller left election_id unset. */
  readonly electionId: bigint | null;
}

/** The outcome of an arbitration request or of a Write's primary check. */
export type ArbitrationOutcome = { readonly ok: true } | { readonly ok: false; readonly code: GrpcStatus; readonly message: string };

/** A read-only view of a role's arbitration, for tests and logs. */
export interface RoleView {
  readonly role: string;
  readonly primary: { readonly sessionId: number; readonly electionId: bigint | null } | null;
  readonly highestElectionId: bigint | null;
  readonly controllers: readonly { readonly sessionId: number; readonly electionId: bigint | null }[];
}

/** The arbitration state of one device. */
export interface Arbiter {
  /** Handles a MasterArbitrationUpdate (first or later) from `session`. */
  update(session: ControllerSession, req: ArbitrationRequest): ArbitrationOutcome;
  /** Forgets a closed stream and tells the others if the primary left. */
  remove(session: ControllerSession): void;
  /** The spec's checks for Write / SetForwardingPipelineConfig (NOT_FOUND role, PERMISSION_DENIED). */
  checkPrimary(role: string, electionId: bigint | null): ArbitrationOutcome;
  /** Every current primary (one per role). */
  primaries(): ControllerSession[];
  isPrimary(session: ControllerSession): boolean;
  /** Whether the session has arbitrated successfully. */
  knows(session: ControllerSession): boolean;
  view(): RoleView[];
}

interface Controller {
  readonly session: ControllerSession;
  readonly role: string;
  electionId: bigint | null;
}

function statusOf(code: GrpcStatus, message: string): google.rpc.Status.$Properties {
  return { code, message };
}

interface RoleGroup {
  readonly role: string;
  readonly controllers: Map<number, Controller>;
  primary: Controller | null;
  highest: bigint | null;
  roleConfig: google.protobuf.Any.$Properties | null;
}

const showId = (id: bigint | null): string => (id === null ? 'unset' : id.toString());

/** Arbitration as the specification defines it. */
export class SpecArbiter implements Arbiter {
  private readonly groups = new Map<string, RoleGroup>();
  private readonly bySession = new Map<number, Controller>();

  constructor(
    private readonly deviceId: bigint,
    private readonly msgs: Messages,
    private readonly maxConnections: number,
  ) {}

  private group(role: string): RoleGroup {
    let g = this.groups.get(role);
    if (!g) {
      g = { role, controllers: new Map(), primary: null, highest: null, roleConfig: null };
      this.groups.set(role, g);
    }
    return g;
  }

  update(session: ControllerSession, req: ArbitrationRequest): ArbitrationOutcome {
    const existing = this.bySession.get(session.sessionId);
    if (existing && existing.role !== req.role) {
      return { ok: false, code: GrpcStatus.FAILED_PRECONDITION, message: `role '${req.role}' differs from this stream's role '${existing.role}'; open a new stream to change role` };
    }
    const g = this.group(req.role);
    if (req.electionId !== null) {
      for (const c of g.controllers.values()) {
        if (c.session !== session && c.electionId === req.electionId) {
          const detail = `election id ${req.electionId} is held by another live controller for device ${this.deviceId}, role '${req.role}'; choose a unique id`;
          return { ok: false, code: GrpcStatus.INVALID_ARGUMENT, message: existing ? this.msgs.newElectionIdExists(detail) : this.msgs.electionIdExists(detail) };
        }
      }
    }
    let c = existing;
    if (!c) {
      if (g.controllers.size >= this.maxConnections) return { ok: false, code: GrpcStatus.RESOURCE_EXHAUSTED, message: this.msgs.tooManyConnections(this.maxConnections) };
      c = { session, role: req.role, electionId: req.electionId };
      g.controllers.set(session.sessionId, c);
      this.bySession.set(session.sessionId, c);
    } else {
      c.electionId = req.electionId;
    }
    const wasPrimary = g.primary === c;
    if (req.electionId !== null && (g.highest === null || req.electionId >= g.highest)) {
      const hadPrimary = g.primary !== null;
      g.primary = c;
      g.highest = req.electionId;
      g.roleConfig = req.roleConfig;
      if (!hadPrimary) this.notifyAll(g);
      else {
        for (const other of g.controllers.values()) if (other !== c) this.notify(g, other);
        this.notify(g, c);
      }
    } else if (wasPrimary) {
      g.primary = null;
      this.notifyAll(g);
    } else {
      this.notify(g, c);
    }
    return { ok: true };
  }

  remove(session: ControllerSession): void {
    const c = this.bySession.get(session.sessionId);
    if (!c) return;
    this.bySession.delete(session.sessionId);
    const g = this.group(c.role);
    g.controllers.delete(session.sessionId);
    if (g.primary === c) {
      g.primary = null;
      this.notifyAll(g);
    }
  }

  checkPrimary(role: string, electionId: bigint | null): ArbitrationOutcome {
    const g = this.groups.get(role);
    if (!g && role === '') {
      // The default role always exists; it just has no primary yet.
      return { ok: false, code: GrpcStatus.PERMISSION_DENIED, message: this.msgs.notPrimary('no controller has arbitrated for the default role; open a StreamChannel and send a MasterArbitrationUpdate first') };
    }
    if (!g) {
      return { ok: false, code: GrpcStatus.NOT_FOUND, message: `role '${role}' is unknown on device ${this.deviceId}: no controller has arbitrated for it; open a StreamChannel and send a MasterArbitrationUpdate first` };
    }
    if (!g.primary) {
      return { ok: false, code: GrpcStatus.PERMISSION_DENIED, message: this.msgs.notPrimary(`role '${role}' has no primary (highest election id seen: ${showId(g.highest)}); arbitrate with an election id >= it`) };
    }
    if (electionId === null || g.primary.electionId !== electionId) {
      return { ok: false, code: GrpcStatus.PERMISSION_DENIED, message: this.msgs.notPrimary(`election id ${showId(electionId)} is not the primary's (${showId(g.primary.electionId)}) for role '${role}'`) };
    }
    return { ok: true };
  }

  primaries(): ControllerSession[] {
    const out: ControllerSession[] = [];
    for (const g of this.groups.values()) if (g.primary) out.push(g.primary.session);
    return out;
  }

  isPrimary(session: ControllerSession): boolean {
    const c = this.bySession.get(session.sessionId);
    return c !== undefined && this.group(c.role).primary === c;
  }

  knows(session: ControllerSession): boolean {
    return this.bySession.has(session.sessionId);
  }

  view(): RoleView[] {
    return [...this.groups.values()].map((g) => ({
      role: g.role,
      primary: g.primary ? { sessionId: g.primary.session.sessionId, electionId: g.primary.electionId } : null,
      highestElectionId: g.highest,
      controllers: [...g.controllers.values()].map((c) => ({ sessionId: c.session.sessionId, electionId: c.electionId })),
    }));
  }

  private notifyAll(g: RoleGroup): void {
    for (const c of g.controllers.values()) this.notify(g, c);
  }

  private notify(g: RoleGroup, c: Controller): void {
    const arbitration: p4.v1.MasterArbitrationUpdate.$Properties = { deviceId: u64(this.deviceId) };
    if (g.role !== '' || g.roleConfig) arbitration.role = { name: g.role, ...(g.roleConfig ? { config: g.roleConfig } : {}) };
    if (g.highest !== null) arbitration.electionId = toUint128(g.highest);
    if (g.primary === c) arbitration.status = statusOf(GrpcStatus.OK, this.msgs.isPrimary());
    else if (g.primary) arbitration.status = statusOf(GrpcStatus.ALREADY_EXISTS, this.msgs.isBackup());
    else arbitration.status = statusOf(GrpcStatus.NOT_FOUND, this.msgs.noPrimary());
    c.session.send({ arbitration });
  }
}

/** PI's arbitration: roles ignored, primary = highest connected election id. */
export class HighestConnectedArbiter implements Arbiter {
  private readonly controllers = new Map<number, Controller>();

  constructor(
    private readonly deviceId: bigint,
    private readonly msgs: Messages,
    private readonly maxConnections: number,
  ) {}

  private primary(): Controller | null {
    let best: Controller | null = null;
    for (const c of this.controllers.values()) if (best === null || (c.electionId ?? 0n) > (best.electionId ?? 0n)) best = c;
    return best;
  }

  update(session: ControllerSession, req: ArbitrationRequest): ArbitrationOutcome {
    const id = req.electionId ?? 0n;
    const existing = this.controllers.get(session.sessionId);
    if (existing && (existing.electionId ?? 0n) === id) return { ok: true };
    for (const c of this.controllers.values()) {
      if (c.session !== session && (c.electionId ?? 0n) === id) {
        const detail = `election id ${id} is held by another connected controller`;
        return { ok: false, code: GrpcStatus.INVALID_ARGUMENT, message: existing ? this.msgs.newElectionIdExists(detail) : this.msgs.electionIdExists(detail) };
      }
    }
    const before = this.primary();
    if (!existing) {
      if (this.controllers.size >= this.maxConnections) return { ok: false, code: GrpcStatus.RESOURCE_EXHAUSTED, message: this.msgs.tooManyConnections(this.maxConnections) };
      const c: Controller = { session, role: '', electionId: id };
      this.controllers.set(session.sessionId, c);
      if (this.primary() === c) this.notifyAll();
      else this.notify(c);
      return { ok: true };
    }
    existing.electionId = id;
    const after = this.primary();
    const changed = (before === existing) !== (after === existing);
    if (changed) this.notifyAll();
    else this.notify(existing);
    return { ok: true };
  }

  remove(session: ControllerSession): void {
    const c = this.controllers.get(session.sessionId);
    if (!c) return;
    const wasPrimary = this.primary() === c;
    this.controllers.delete(session.sessionId);
    if (wasPrimary) this.notifyAll();
  }

  checkPrimary(_role: string, electionId: bigint | null): ArbitrationOutcome {
    const p = this.primary();
    if (p === null) {
      return electionId === null ? { ok: true } : { ok: false, code: GrpcStatus.PERMISSION_DENIED, message: this.msgs.notPrimary('no controller has arbitrated for this device') };
    }
    if ((p.electionId ?? 0n) !== (electionId ?? 0n)) {
      return { ok: false, code: GrpcStatus.PERMISSION_DENIED, message: this.msgs.notPrimary(`election id ${showId(electionId)} is not the primary's (${showId(p.electionId)})`) };
    }
    return { ok: true };
  }

  primaries(): ControllerSession[] {
    const p = this.primary();
    return p ? [p.session] : [];
  }

  isPrimary(session: ControllerSession): boolean {
    return this.primary()?.session === session;
  }

  knows(session: ControllerSession): boolean {
    return this.controllers.has(session.sessionId);
  }

  view(): RoleView[] {
    const p = this.primary();
    return [
      {
        role: '',
        primary: p ? { sessionId: p.session.sessionId, electionId: p.electionId } : null,
        highestElectionId: p?.electionId ?? null,
        controllers: [...this.controllers.values()].map((c) => ({ sessionId: c.session.sessionId, electionId: c.electionId })),
      },
    ];
  }

  private notifyAll(): void {
    for (const c of this.controllers.values()) this.notify(c);
  }

  private notify(c: Controller): void {
    const p = this.primary();
    const arbitration: p4.v1.MasterArbitrationUpdate.$Properties = {
      deviceId: u64(this.deviceId),
      electionId: toUint128(p?.electionId ?? 0n),
      status: p === c ? statusOf(GrpcStatus.OK, this.msgs.isPrimary()) : statusOf(GrpcStatus.ALREADY_EXISTS, this.msgs.isBackup()),
    };
    c.session.send({ arbitration });
  }
}

