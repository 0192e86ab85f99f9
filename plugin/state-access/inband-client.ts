/**
 * The in-band request engine: sends state requests through the pipeline (PacketOut) and matches
 * the answers (PacketIn) by request id. What the lab measured on BMv2 shapes it: ≈20k requests/s
 * with up to ~64 in flight, ≈1 % silently lost at 256 in flight — so the window of requests in
 * flight is bounded, every attempt gets a fresh id and a deadline, an unanswered attempt is
 * retried a bounded number of times, and answers that arrive late or twice are counted and
 * dropped. Time comes from a `Clock` so tests drive timeouts with virtual time.
 */
import { systemClock } from 'p4runtime-ts';
import type { Clock, Logger, TimerHandle } from 'p4runtime-ts';
import { silentLogger } from 'p4runtime-ts';
import type { Observable, Subscription } from 'rxjs';
import { INBAND_OP, INBAND_STATUS, decodeInbandAnswer, encodeInbandRequest } from '../contract/index.js';
import type { InbandAnswer, InbandSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import { DEFAULT_INBAND_OPTIONS } from './inband-options.js';
import type { InbandOptions } from './inband-options.js';
import type { RegisterAccessStats } from './register-access.js';
import { RequestIds } from './request-ids.js';

export { DEFAULT_INBAND_OPTIONS, parseInbandOptions } from './inband-options.js';
export type { InbandOptions } from './inband-options.js';

/** Where requests go and answers come from: PacketOut metadata out, PacketIn metadata in. */
export interface InbandChannel {
  /** Sends one PacketOut with this packet_out metadata and an empty payload. */
  send(metadata: Readonly<Record<string, bigint>>): void;
  /** The metadata of every PacketIn. */
  readonly answers$: Observable<Readonly<Record<string, bigint>>>;
}

/** A batch being fed into the window lazily, one request per free window slot. */
interface Batch {
  readonly count: number;
  readonly make: (i: number) => InbandBatchItem;
  readonly onAnswer: (i: number, answer: InbandAnswer) => void;
  readonly describe: (op: number, index: number) => string;
  readonly resolve: () => void;
  readonly reject: (e: EdgePluginError) => void;
  next: number;
  done: number;
  failed: boolean;
}

/**
 * One request: a single one (resolve/reject set) or item `i` of a batch. One shape for both, and
 * no closure or description string per request — descriptions are built only for errors.
 */
interface Pending {
  readonly op: number;
  readonly index: number;
  readonly mask: number;
  readonly words: readonly bigint[] | undefined;
  readonly maxAttempts: number;
  readonly batch: Batch | undefined;
  readonly i: number;
  readonly what: string | undefined;
  readonly resolve: ((a: InbandAnswer) => void) | undefined;
  readonly reject: ((e: EdgePluginError) => void) | undefined;
  attempts: number;
  settled: boolean;
  /** The newest attempt; older ones hang off `prev`. */
  last: Attempt | undefined;
}

/** One sending of a request. */
interface Attempt {
  readonly id: number;
  readonly req: Pending;
  readonly deadline: number;
  readonly prev: Attempt | undefined;
  /** Sent and neither answered nor timed out: it holds a window slot. */
  live: boolean;
}

/** One request of a batch. */
export interface InbandBatchItem {
  readonly op: number;
  readonly index: number;
  readonly mask?: number;
  readonly words?: readonly bigint[];
}

const OP_NAMES = new Map<number, string>(Object.entries(INBAND_OP).map(([k, v]) => [v, k]));
const STATUS_NAMES = new Map<number, string>(Object.entries(INBAND_STATUS).map(([k, v]) => [v, k]));

/** Name of an in-band op code, for messages. */
export function inbandOpName(op: number): string {
  return OP_NAMES.get(op) ?? `op ${op}`;
}

const defaultDescribe = (op: number, index: number): string => `${inbandOpName(op)} index ${index}`;

/** Sends in-band requests with a bounded window, ids, timeouts and retries. */
export class InbandClient {
  /** Single requests and retries, sent before batch items. */
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private readonly batches: Batch[] = [];
  private readonly attempts = new Map<number, Attempt>();
  /** Attempts in send order; deadlines grow with it because every attempt gets the same timeout. */
  private readonly deadlines: Attempt[] = [];
  private deadlineHead = 0;
  private timer: TimerHandle | undefined;
  private timerDue = Infinity;
  private readonly ids: RequestIds;
  private inFlight = 0;
  private closed = false;
  private readonly sub: Subscription;
  private readonly counts = { requests: 0, retries: 0, timeouts: 0, duplicateAnswers: 0, strayAnswers: 0, maxInFlight: 0 };

  constructor(
    private readonly spec: InbandSpec,
    private readonly channel: InbandChannel,
    readonly options: InbandOptions = DEFAULT_INBAND_OPTIONS,
    private readonly clock: Clock = systemClock,
    private readonly logger: Logger = silentLogger,
  ) {
    this.ids = new RequestIds(spec.reqIdBits, options);
    this.sub = channel.answers$.subscribe({ next: (md) => this.onAnswer(md) });
  }

  /** Counts so far. */
  stats(): RegisterAccessStats {
    return { ...this.counts, inFlight: this.inFlight };
  }

  /**
   * Sends one request and resolves with its answer; rejects with INBAND_TIMEOUT after
   * `maxAttempts` unanswered attempts, INBAND_REJECTED for a non-OK status, CLOSED on close().
   * @param retry false for requests that must not run twice (FLIP_EPOCH): one attempt only.
   */
  request(op: number, index: number, what: string, extra: { readonly mask?: number; readonly words?: readonly bigint[]; readonly retry?: boolean } = {}): Promise<InbandAnswer> {
    if (this.closed) return Promise.reject(new EdgePluginError('CLOSED', `in-band ${what}: the in-band client is closed`));
    return new Promise<InbandAnswer>((resolve, reject) => {
      this.queue.push({
        op,
        index,
        mask: extra.mask ?? 0,
        words: extra.words,
        maxAttempts: extra.retry === false ? 1 : this.options.maxAttempts,
        batch: undefined,
        i: 0,
        what,
        resolve,
        reject,
        attempts: 0,
        settled: false,
        last: undefined,
      });
      this.counts.requests++;
      this.pump();
    });
  }

  /**
   * Sends `count` requests, `make(i)` building the i-th when a window slot frees — a scan of
   * 327,680 slots never holds more than the window in memory, and each answer sends the next
   * request at once. `onAnswer` sees every answer (in arrival order); the first failure rejects
   * the batch and stops feeding it. `describe(op, index)` names a request in error messages.
   */
  runBatch(count: number, make: (i: number) => InbandBatchItem, onAnswer: (i: number, answer: InbandAnswer) => void, describe: (op: number, index: number) => string = defaultDescribe): Promise<void> {
    if (this.closed) return Promise.reject(new EdgePluginError('CLOSED', 'in-band batch: the in-band client is closed'));
    if (count === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.batches.push({ count, make, onAnswer, describe, resolve, reject, next: 0, done: 0, failed: false });
      this.pump();
    });
  }

  /** Rejects everything pending with CLOSED and stops listening. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sub.unsubscribe();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const err = (what: string): EdgePluginError => new EdgePluginError('CLOSED', `in-band ${what}: closed while the request was pending`);
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const r = this.queue[i];
      if (r) this.settle(r, undefined, err(this.describe(r)));
    }
    for (const a of this.attempts.values()) this.settle(a.req, undefined, err(this.describe(a.req)));
    for (const b of this.batches) this.failBatch(b, err('batch'));
    this.batches.length = 0;
    this.queue.length = 0;
    this.queueHead = 0;
    this.attempts.clear();
  }

  private describe(req: Pending): string {
    return req.what ?? (req.batch ? req.batch.describe(req.op, req.index) : defaultDescribe(req.op, req.index));
  }

  private failBatch(b: Batch, e: EdgePluginError): void {
    if (b.failed) return;
    b.failed = true;
    b.reject(e);
  }

  /** Drops an attempt id; its late answers then count as duplicates (see RequestIds). */
  private forget(id: number): void {
    this.attempts.delete(id);
  }

  /** The next request to send: retries and single requests first, then batch items. */
  private nextPending(): Pending | undefined {
    while (this.queueHead < this.queue.length) {
      const req = this.queue[this.queueHead++];
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (req && !req.settled) return req;
    }
    while (this.batches.length > 0) {
      const b = this.batches[0] as Batch;
      if (!b.failed && b.next < b.count) {
        const i = b.next++;
        const item = b.make(i);
        this.counts.requests++;
        return {
          op: item.op,
          index: item.index,
          mask: item.mask ?? 0,
          words: item.words,
          maxAttempts: this.options.maxAttempts,
          batch: b,
          i,
          what: undefined,
          resolve: undefined,
          reject: undefined,
          attempts: 0,
          settled: false,
          last: undefined,
        };
      }
      this.batches.shift();
    }
    return undefined;
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.options.window) {
      const req = this.nextPending();
      if (!req) return;
      this.send(req);
    }
  }

  private send(req: Pending): void {
    const id = this.ids.take(this.attempts);
    const attempt: Attempt = { id, req, deadline: this.clock.now() + this.options.timeoutMs, prev: req.last, live: true };
    this.attempts.set(id, attempt);
    req.last = attempt;
    req.attempts++;
    this.inFlight++;
    if (this.inFlight > this.counts.maxInFlight) this.counts.maxInFlight = this.inFlight;
    this.deadlines.push(attempt);
    if (this.timer === undefined) this.arm();
    try {
      this.channel.send(encodeInbandRequest(this.spec, { op: req.op, reqId: id, index: req.index, mask: req.mask, words: req.words }));
    } catch (e) {
      attempt.live = false;
      this.inFlight--;
      this.settle(req, undefined, EdgePluginError.from(e, `in-band ${this.describe(req)}: sending the PacketOut failed`));
    }
  }

  private arm(): void {
    // Skip attempts already answered: the timer then fires only when something can time out.
    while (this.deadlineHead < this.deadlines.length && !(this.deadlines[this.deadlineHead] as Attempt).live) this.deadlineHead++;
    const head = this.deadlines[this.deadlineHead];
    if (!head || head.deadline >= this.timerDue) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDue = head.deadline;
    this.timer = this.clock.setTimeout(() => this.onTimer(), Math.max(0, head.deadline - this.clock.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    if (this.closed) return;
    const now = this.clock.now();
    for (;;) {
      const a = this.deadlines[this.deadlineHead];
      if (!a || a.deadline > now) break;
      this.deadlineHead++;
      if (!a.live) continue;
      a.live = false;
      this.inFlight--;
      this.counts.timeouts++;
      const req = a.req;
      if (req.settled) {
        this.forget(a.id);
        continue;
      }
      if (req.attempts >= req.maxAttempts) {
        const msg =
          `in-band ${this.describe(req)}: no answer after ${req.attempts} attempt(s) of ${this.options.timeoutMs} ms each ` +
          `(window ${this.options.window}); the switch dropped the requests or does not serve in-band access — ` +
          'check the pipeline is the one the P4Info describes, lower the window or raise timeoutMs/maxAttempts';
        this.settle(req, undefined, new EdgePluginError('INBAND_TIMEOUT', msg));
      } else {
        this.counts.retries++;
        this.logger.debug('in-band request retried', { what: this.describe(req), attempt: req.attempts + 1 });
        // Retries go first: they are the oldest work, and a scan should not wait behind its tail.
        if (this.queueHead > 0) this.queue[--this.queueHead] = req;
        else this.queue.unshift(req);
      }
    }
    this.compactDeadlines();
    this.pump();
    this.arm();
  }

  private compactDeadlines(): void {
    if (this.deadlineHead > 1024 && this.deadlineHead * 2 > this.deadlines.length) {
      this.deadlines.splice(0, this.deadlineHead);
      this.deadlineHead = 0;
    }
  }

  private onAnswer(md: Readonly<Record<string, bigint>>): void {
    const ans = decodeInbandAnswer(this.spec, md);
    if (!ans) return;
    const a = this.attempts.get(ans.reqId);
    if (!a) {
      if (this.ids.recentlyIssued(ans.reqId)) this.counts.duplicateAnswers++;
      else this.counts.strayAnswers++;
      return;
    }
    const req = a.req;
    if (ans.op !== req.op || ans.index !== req.index >>> 0) {
      // Someone else's request with a colliding id (another client on this switch): not ours.
      this.counts.strayAnswers++;
      return;
    }
    this.forget(ans.reqId);
    if (a.live) {
      a.live = false;
      this.inFlight--;
      // Answered in order most of the time: drop it from the deadline queue's head at once.
      if (this.deadlines[this.deadlineHead] === a) {
        this.deadlineHead++;
        this.compactDeadlines();
      }
    }
    if (req.settled) {
      this.counts.duplicateAnswers++;
    } else if (ans.status !== INBAND_STATUS.OK) {
      const status = STATUS_NAMES.get(ans.status) ?? `status ${ans.status}`;
      const fix = status === 'BAD_INDEX' ? 'the index is past the register — check the P4Info sizes match the loaded pipeline' : 'the pipeline does not serve this op — check it implements the in-band service of p4/README.md';
      this.settle(req, undefined, new EdgePluginError('INBAND_REJECTED', `in-band ${this.describe(req)}: the pipeline answered ${status}; ${fix}`));
    } else {
      this.settle(req, ans, undefined);
    }
    this.pump();
    if (this.timer === undefined) this.arm();
  }

  private settle(req: Pending, ans: InbandAnswer | undefined, err: EdgePluginError | undefined): void {
    if (req.settled) return;
    req.settled = true;
    // Forget attempts that no longer hold a window slot; live ones stay until answered or timed out.
    for (let a = req.last; a; a = a.prev) if (!a.live) this.forget(a.id);
    const b = req.batch;
    if (!b) {
      if (err) req.reject?.(err);
      else if (ans) req.resolve?.(ans);
      return;
    }
    if (b.failed) return;
    if (err) return this.failBatch(b, err);
    try {
      b.onAnswer(req.i, ans as InbandAnswer);
    } catch (e) {
      return this.failBatch(b, EdgePluginError.from(e, 'in-band batch'));
    }
    if (++b.done === b.count) b.resolve();
  }
}
