/**
 * The StreamChannel session: opens the stream, bids for mastership with (device id, role, election
 * id), follows the target's arbitration updates, and re-opens and re-bids after the stream breaks.
 * Every non-arbitration message of the stream is passed on to `messages$` for the stream layer.
 *
 * Targets differ in who is primary: BMv2 picks the highest election id among the *connected*
 * controllers, the specification the highest ever seen (with "no primary" after it leaves). Both
 * are followed by trusting the target's answers rather than computing mastership locally: status
 * OK means primary, anything else backup, and the answer's election id is the primary's (or the
 * highest seen, when the status is NOT_FOUND: no primary at the moment).
 */
import { BehaviorSubject, Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { P4RuntimeError, grpcCodeName } from '../errors.js';
import type { Logger } from '../logger.js';
import { fromUint128, p4, toLong, toUint128 } from '../proto/index.js';
import type { Clock, TimerHandle } from './clock.js';
import type { ElectionIdConflictPolicy, ReconnectPolicy } from './options.js';
import type { P4RuntimeTransport, StreamChannelHandle, TransportStatus } from './transport.js';

/** Where the session stands; exposed as an Observable that replays the current value. */
export type ArbitrationState =
  | { readonly kind: 'connecting'; readonly electionId: bigint; readonly attempt: number }
  | { readonly kind: 'primary'; readonly electionId: bigint }
  /**
   * `primaryElectionId` is undefined when the target reports no primary at all (NOT_FOUND); then
   * `highestSeen` is the election id it reported: the highest it has seen, from a client gone since.
   */
  | { readonly kind: 'backup'; readonly electionId: bigint; readonly primaryElectionId: bigint | undefined; readonly highestSeen?: bigint }
  /** `retrying` tells whether a reconnect is scheduled; false means the session is over. */
  | { readonly kind: 'disconnected'; readonly error: P4RuntimeError; readonly retrying: boolean };

/** What the session needs to run. */
export interface ArbitrationConfig {
  readonly deviceId: bigint;
  readonly electionId: bigint;
  readonly role: string;
  readonly onElectionIdConflict: ElectionIdConflictPolicy;
  readonly reconnect: ReconnectPolicy;
  readonly connectTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

const GRPC_OK = 0;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
/** Codes after which re-opening the stream can help; others (bad device, auth, ...) are final. */
const RETRYABLE = new Set([1, 2, 4, 8, 10, 13, 14]); // CANCELLED UNKNOWN DEADLINE_EXCEEDED RESOURCE_EXHAUSTED ABORTED INTERNAL UNAVAILABLE
/** How many times in a row we raise our bid after "Election id already exists". */
const MAX_CONFLICT_BIDS = 16;

/** True for the target's answer to a bid that another controller of the role already holds. */
export function isElectionIdConflict(s: TransportStatus): boolean {
  return s.code === GRPC_INVALID_ARGUMENT && /election[ _-]?id/i.test(s.details) && /exist|in use/i.test(s.details);
}

function statusError(s: TransportStatus, context: string): P4RuntimeError {
  const name = grpcCodeName(s.code);
  const code = name === 'OK' ? 'UNAVAILABLE' : name;
  return new P4RuntimeError(code, `${context}: ${s.details || (s.code === GRPC_OK ? 'stream closed by the target' : name)}`, {
    grpcCode: s.code,
    cause: s,
  });
}

/** One StreamChannel session with arbitration, reconnect and re-bid. */
export class ArbitrationSession {
  private readonly state: BehaviorSubject<ArbitrationState>;
  private readonly messages = new Subject<p4.v1.StreamMessageResponse>();
  private stream: StreamChannelHandle | undefined;
  private bid: bigint;
  private attempt = 0;
  private conflictBids = 0;
  private established = false;
  private closing = false;
  private timer: TimerHandle | undefined;
  private startWaiter: { resolve(s: ArbitrationState): void; reject(e: P4RuntimeError): void } | undefined;
  private lastError: P4RuntimeError | undefined;

  /** Arbitration state changes, replaying the current one to each subscriber. */
  readonly state$: Observable<ArbitrationState>;
  /** Every stream message except arbitration updates (packets, digests, idle timeouts, errors). */
  readonly messages$: Observable<p4.v1.StreamMessageResponse> = this.messages.asObservable();

  constructor(
    private readonly transport: P4RuntimeTransport,
    private readonly config: ArbitrationConfig,
  ) {
    this.bid = config.electionId;
    this.state = new BehaviorSubject<ArbitrationState>({ kind: 'connecting', electionId: this.bid, attempt: 0 });
    this.state$ = this.state.asObservable();
  }

  /** The current arbitration state. */
  get current(): ArbitrationState {
    return this.state.value;
  }

  /** The election id we bid with now (it grows after a conflict when configured to). */
  get electionId(): bigint {
    return this.bid;
  }

  /**
   * Opens the stream and resolves with the first arbitration answer (primary or backup). Rejects
   * on a final error, or with the last error after `connectTimeoutMs` of failed attempts.
   */
  start(): Promise<ArbitrationState> {
    if (this.startWaiter || this.established || this.closing) throw new P4RuntimeError('BAD_OPTIONS', 'ArbitrationSession.start() may be called once');
    const p = new Promise<ArbitrationState>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    const deadline = this.config.clock.setTimeout(() => {
      const why = this.lastError ? `; last error: ${this.lastError.message}` : '';
      this.fail(
        new P4RuntimeError(this.lastError?.code ?? 'DEADLINE_EXCEEDED', `no arbitration answer within ${this.config.connectTimeoutMs} ms${why}`, {
          cause: this.lastError,
          grpcCode: this.lastError?.grpcCode,
        }),
      );
    }, this.config.connectTimeoutMs);
    p.then(
      () => this.config.clock.clearTimeout(deadline),
      () => this.config.clock.clearTimeout(deadline),
    );
    this.open();
    return p;
  }

  /** Sends a stream message (packet-out, digest ack); fails when no stream is open. */
  send(msg: p4.v1.StreamMessageRequest.$Properties): void {
    if (!this.stream || this.closing) {
      throw new P4RuntimeError('CONNECTION_CLOSED', `StreamChannel to device ${this.config.deviceId} is not open (state ${this.state.value.kind}); wait for arbitration$ to report primary or backup`);
    }
    this.stream.send(msg);
  }

  /** Sends a stream message already encoded (a PacketOut written straight to the wire). */
  sendEncoded(bytes: Uint8Array): void {
    if (!this.stream || this.closing) {
      throw new P4RuntimeError('CONNECTION_CLOSED', `StreamChannel to device ${this.config.deviceId} is not open (state ${this.state.value.kind}); wait for arbitration$ to report primary or backup`);
    }
    // A transport without encoded sends gets the message decoded (tests, in-process targets).
    if (this.stream.sendEncoded) this.stream.sendEncoded(bytes);
    else this.stream.send(p4.v1.StreamMessageRequest.decode(bytes));
  }

  /** Bids again on the open stream with a new election id (e.g. to take over as primary). */
  rebid(electionId: bigint): void {
    toUint128(electionId);
    this.bid = electionId;
    if (this.stream) this.sendArbitration();
  }

  /** Ends the session: closes the stream, cancels reconnects, completes the observables. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.timer !== undefined) this.config.clock.clearTimeout(this.timer);
    this.stream?.close();
    this.stream = undefined;
    const err = new P4RuntimeError('CONNECTION_CLOSED', `session to device ${this.config.deviceId} closed by the client`);
    this.startWaiter?.reject(err);
    this.startWaiter = undefined;
    this.setState({ kind: 'disconnected', error: err, retrying: false });
    this.state.complete();
    this.messages.complete();
  }

  private open(): void {
    this.timer = undefined;
    if (this.closing) return;
    this.setState({ kind: 'connecting', electionId: this.bid, attempt: this.attempt });
    const stream = this.transport.openStream({
      onMessage: (msg) => {
        if (this.stream === stream) this.onMessage(msg);
      },
      onClose: (status) => {
        if (this.stream === stream) this.onClose(status);
      },
    });
    this.stream = stream;
    this.sendArbitration();
  }

  private sendArbitration(): void {
    const update: p4.v1.MasterArbitrationUpdate.$Properties = {
      deviceId: toLong(this.config.deviceId),
      electionId: toUint128(this.bid),
    };
    if (this.config.role !== '') update.role = { name: this.config.role };
    this.stream?.send({ arbitration: update });
  }

  private onMessage(msg: p4.v1.StreamMessageResponse): void {
    const a = msg.arbitration;
    if (!a) {
      this.messages.next(msg);
      return;
    }
    const code = a.status?.code ?? GRPC_OK;
    const reported = a.electionId ? fromUint128(a.electionId) : undefined;
    const next: ArbitrationState =
      code === GRPC_OK
        ? { kind: 'primary', electionId: this.bid }
        : code === GRPC_NOT_FOUND
          ? { kind: 'backup', electionId: this.bid, primaryElectionId: undefined, ...(reported !== undefined && reported > this.bid ? { highestSeen: reported } : {}) }
          : { kind: 'backup', electionId: this.bid, primaryElectionId: reported };
    this.attempt = 0;
    this.conflictBids = 0;
    this.established = true;
    this.lastError = undefined;
    this.setState(next);
    if (this.startWaiter) {
      this.startWaiter.resolve(next);
      this.startWaiter = undefined;
    }
  }

  private onClose(status: TransportStatus): void {
    this.stream = undefined;
    if (this.closing) return;
    if (isElectionIdConflict(status)) {
      const err = statusError(status, `election id ${this.bid} for device ${this.config.deviceId} role "${this.config.role}"`);
      if (this.config.onElectionIdConflict === 'bid-higher' && this.conflictBids < MAX_CONFLICT_BIDS) {
        this.conflictBids += 1;
        const from = this.bid;
        this.bid += 1n;
        this.config.logger.warn('election id in use; bidding higher', { from, to: this.bid });
        this.lastError = err;
        this.open();
        return;
      }
      // On a first connect the id is simply taken; after a break it is most likely our own old
      // stream the target has not noticed is gone yet, so retrying with the same id is right.
      if (!this.established) {
        this.fail(new P4RuntimeError(err.code, `${err.message}; choose another electionId or set onElectionIdConflict: 'bid-higher'`, { cause: status, grpcCode: status.code, electionIdConflict: true }));
        return;
      }
      this.retry(err);
      return;
    }
    const err = statusError(status, `StreamChannel to ${this.config.deviceId}`);
    if (status.code !== GRPC_OK && !RETRYABLE.has(status.code)) {
      this.fail(err);
      return;
    }
    this.retry(err);
  }

  private retry(err: P4RuntimeError): void {
    const r = this.config.reconnect;
    this.lastError = err;
    // Before the first answer, `start()`'s deadline bounds the attempts; afterwards the policy does.
    const allowed = this.established ? r.enabled && this.attempt < r.maxAttempts : true;
    if (!allowed) {
      this.fail(err);
      return;
    }
    const delay = Math.min(r.maxDelayMs, r.initialDelayMs * r.multiplier ** this.attempt);
    this.attempt += 1;
    this.setState({ kind: 'disconnected', error: err, retrying: true });
    this.config.logger.warn('stream broken; reconnecting', { code: err.code, message: err.message, attempt: this.attempt, delayMs: delay });
    this.timer = this.config.clock.setTimeout(() => this.open(), delay);
  }

  private fail(err: P4RuntimeError): void {
    if (this.closing) return;
    if (this.timer !== undefined) this.config.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.stream?.close();
    this.stream = undefined;
    this.setState({ kind: 'disconnected', error: err, retrying: false });
    this.config.logger.error('stream session failed', { code: err.code, message: err.message });
    if (this.startWaiter) {
      this.startWaiter.reject(err);
      this.startWaiter = undefined;
    }
  }

  private setState(s: ArbitrationState): void {
    const prev = this.state.value;
    if (sameState(prev, s)) return;
    this.config.logger.info('arbitration', { from: prev.kind, to: s.kind, electionId: this.bid, ...describeState(s) });
    this.state.next(s);
  }
}

function sameState(a: ArbitrationState, b: ArbitrationState): boolean {
  switch (a.kind) {
    case 'primary':
      return b.kind === 'primary' && a.electionId === b.electionId;
    case 'backup':
      return b.kind === 'backup' && a.electionId === b.electionId && a.primaryElectionId === b.primaryElectionId;
    case 'connecting':
      return b.kind === 'connecting' && a.electionId === b.electionId && a.attempt === b.attempt;
    case 'disconnected':
      return false;
  }
}

function describeState(s: ArbitrationState): Record<string, unknown> {
  switch (s.kind) {
    case 'backup':
      return { primaryElectionId: s.primaryElectionId };
    case 'disconnected':
      return { code: s.error.code, error: s.error.message, retrying: s.retrying };
    case 'connecting':
      return { attempt: s.attempt };
    default:
      return {};
  }
}
