/**
 * The in-band request engine: sends state requests through the pipeline (PacketOut) and matches
 * the answers (PacketIn) by request id. What the lab measured on BMv2 shapes it: ≈20k requests/s
 * with up to ~64 in flight, ≈1 % silently lost at 256 in flight — so the window of requests in
 * flight is bounded, every attempt gets a fresh id and a deadline, an unanswered attempt is
 * retried a bounded number of times, and answers that arrive late or twice are counted and
 * dropped. Time comes from a `Clock` so tests drive timeouts with virtual time.
 */
import { randomInt } from 'node:crypto';
import { systemClock } from 'p4runtime-ts';
import type { Clock, Logger, TimerHandle } from 'p4runtime-ts';
import { silentLogger } from 'p4runtime-ts';
import type { Observable, Subscription } from 'rxjs';
import { INBAND_OP, INBAND_STATUS, decodeInbandAnswer, encodeInbandRequest } from '../contract/index.js';
import type { InbandAnswer, InbandSpec } from '../contract/index.js';
import { EdgePluginError } from '../errors.js';
import type { RegisterAccessStats } from './register-access.js';

/** Where requests go and answers come from: PacketOut metadata out, PacketIn metadata in. */
export interface InbandChannel {
  /** Sends one PacketOut with this packet_out metadata and an empty payload. */
  send(metadata: Readonly<Record<string, bigint>>): void;
  /** The metadata of every PacketIn. */
  readonly answers$: Observable<Readonly<Record<string, bigint>>>;
}

/** Knobs of the in-band engine. */
export interface InbandOptions {
  /** Attempts in flight at most (the lab: ~64 is safe on BMv2, 256 loses ≈1 %). */
  readonly window: number;
  /** How long an attempt may stay unanswered before it counts as lost. */
  readonly timeoutMs: number;
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
}

/** Defaults of the in-band engine. */
export const DEFAULT_INBAND_OPTIONS: InbandOptions = Object.freeze({ window: 64, timeoutMs: 250, maxAttempts: 5 });

/** Validates in-band options over the defaults; BAD_OPTIONS names the field and the range. */
export function parseInbandOptions(input: Partial<InbandOptions> = {}, where = 'inband'): InbandOptions {
  const o = { ...DEFAULT_INBAND_OPTIONS, ...input };
  const int = (name: keyof InbandOptions, min: number, max: number): number => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new EdgePluginError('BAD_OPTIONS', `${where}.${name}: got ${JSON.stringify(v)}; expected an integer in ${min}..${max}`);
    }
    return v;
  };
  const timeoutMs = o.timeoutMs;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new EdgePluginError('BAD_OPTIONS', `${where}.timeoutMs: got ${JSON.stringify(timeoutMs)}; expected a positive number of milliseconds, e.g. 250`);
  }
  return Object.freeze({ window: int('window', 1, 65536), timeoutMs, maxAttempts: int('maxAttempts', 1, 100) });
}

/** One request as the caller made it. */
interface Pending {
  readonly op: number;
  readonly index: number;
  readonly mask: number;
  readonly words: readonly bigint[];
  /** What the request is about, for errors: e.g. `READ_SLOT slot 42`. */
  readonly what: string;
  readonly maxAttempts: number;
  readonly ids: number[];
  attempts: number;
  settled: boolean;
  resolve(a: InbandAnswer): void;
  reject(e: EdgePluginError): void;
}

/** One sending of a request. */
interface Attempt {
  readonly id: number;
  readonly req: Pending;
  readonly deadline: number;
  /** Sent and neither answered nor timed out: it holds a window slot. */
  live: boolean;
}

/** One request of a batch. */
export interface InbandBatchItem {
  readonly op: number;
  readonly index: number;
  readonly what: string;
  readonly mask?: number;
  readonly words?: readonly bigint[];
}

/** A batch being fed into the window lazily, one request per free window slot. */
interface Source {
  next(): Pending | undefined;
}

const OP_NAMES = new Map<number, string>(Object.entries(INBAND_OP).map(([k, v]) => [v, k]));

/** Name of an in-band op code, for messages. */
export function inbandOpName(op: number): string {
  return OP_NAMES.get(op) ?? `op ${op}`;
}

/** Sends in-band requests with a bounded window, ids, timeouts and retries. */
export class InbandClient {
  /** Single requests and retries, sent before batch items. */
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private readonly sources: Source[] = [];
  private readonly attempts = new Map<number, Attempt>();
  /** Attempts in send order; deadlines grow with it because every attempt gets the same timeout. */
  private readonly deadlines: Attempt[] = [];
  private deadlineHead = 0;
  private timer: TimerHandle | undefined;
  private timerDue = Infinity;
  private nextId: number;
  private readonly idSpace: number;
  private inFlight = 0;
  private closed = false;
  /** Ids of recently answered or abandoned attempts, oldest first: their answers are duplicates, not strays. */
  private readonly recent = new Set<number>();
  private readonly sub: Subscription;
  private readonly counts = { requests: 0, retries: 0, timeouts: 0, duplicateAnswers: 0, strayAnswers: 0, maxInFlight: 0 };

  constructor(
    private readonly spec: InbandSpec,
    private readonly channel: InbandChannel,
    readonly options: InbandOptions = DEFAULT_INBAND_OPTIONS,
    private readonly clock: Clock = systemClock,
    private readonly logger: Logger = silentLogger,
  ) {
    this.idSpace = 2 ** spec.reqIdBits;
    // A random start keeps a restarted client from taking a predecessor's late answers as its own.
    this.nextId = randomInt(0, Math.min(this.idSpace, 2 ** 31));
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
        words: extra.words ?? [],
        what,
        maxAttempts: extra.retry === false ? 1 : this.options.maxAttempts,
        ids: [],
        attempts: 0,
        settled: false,
        resolve,
        reject,
      });
      this.counts.requests++;
      this.pump();
    });
  }

  /**
   * Sends `count` requests, `make(i)` building the i-th when a window slot frees — a scan of
   * 327,680 slots never holds more than the window in memory, and each answer sends the next
   * request at once. `onAnswer` sees every answer (in arrival order); the first failure rejects
   * the batch and stops feeding it.
   */
  runBatch(count: number, make: (i: number) => InbandBatchItem, onAnswer: (i: number, answer: InbandAnswer) => void): Promise<void> {
    if (this.closed) return Promise.reject(new EdgePluginError('CLOSED', 'in-band batch: the in-band client is closed'));
    if (count === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let nextIndex = 0;
      let done = 0;
      let failed = false;
      const source: Source = {
        next: () => {
          if (failed || nextIndex >= count) return undefined;
          const i = nextIndex++;
          const item = make(i);
          this.counts.requests++;
          return {
            op: item.op,
            index: item.index,
            mask: item.mask ?? 0,
            words: item.words ?? [],
            what: item.what,
            maxAttempts: this.options.maxAttempts,
            ids: [],
            attempts: 0,
            settled: false,
            resolve: (a) => {
              if (failed) return;
              try {
                onAnswer(i, a);
              } catch (e) {
                failed = true;
                reject(EdgePluginError.from(e, 'in-band batch'));
                return;
              }
              if (++done === count) resolve();
            },
            reject: (e) => {
              if (failed) return;
              failed = true;
              reject(e);
            },
          };
        },
      };
      this.sources.push(source);
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
      if (r && !r.settled) {
        r.settled = true;
        r.reject(err(r.what));
      }
    }
    for (const a of this.attempts.values()) {
      if (!a.req.settled) {
        a.req.settled = true;
        a.req.reject(err(a.req.what));
      }
    }
    for (const src of this.sources) {
      // Pulling one item from a source and rejecting it fails the whole batch.
      src.next()?.reject(err('batch'));
    }
    this.sources.length = 0;
    this.queue.length = 0;
    this.queueHead = 0;
    this.attempts.clear();
  }

  /** Drops an attempt id, remembering it for a while so its late answers count as duplicates. */
  private forget(id: number): void {
    this.attempts.delete(id);
    this.recent.delete(id);
    this.recent.add(id);
    const cap = Math.max(4096, 4 * this.options.window);
    if (this.recent.size > cap) {
      const oldest = this.recent.values().next();
      if (!oldest.done) this.recent.delete(oldest.value);
    }
  }

  private takeId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = (this.nextId + 1) % this.idSpace;
      if (!this.attempts.has(id) && !this.recent.has(id)) return id;
    }
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
    while (this.sources.length > 0) {
      const req = this.sources[0]?.next();
      if (req) return req;
      this.sources.shift();
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
    const id = this.takeId();
    const attempt: Attempt = { id, req, deadline: this.clock.now() + this.options.timeoutMs, live: true };
    this.attempts.set(id, attempt);
    req.ids.push(id);
    req.attempts++;
    this.inFlight++;
    if (this.inFlight > this.counts.maxInFlight) this.counts.maxInFlight = this.inFlight;
    this.deadlines.push(attempt);
    this.arm();
    try {
      this.channel.send(encodeInbandRequest(this.spec, { op: req.op, reqId: id, index: req.index, mask: req.mask, words: req.words }));
    } catch (e) {
      attempt.live = false;
      this.inFlight--;
      this.settle(req, undefined, EdgePluginError.from(e, `in-band ${req.what}: sending the PacketOut failed`));
    }
  }

  private arm(): void {
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
          `in-band ${req.what}: no answer after ${req.attempts} attempt(s) of ${this.options.timeoutMs} ms each ` +
          `(window ${this.options.window}); the switch dropped the requests or does not serve in-band access — ` +
          'check the pipeline is the one the P4Info describes, lower the window or raise timeoutMs/maxAttempts';
        this.settle(req, undefined, new EdgePluginError('INBAND_TIMEOUT', msg));
      } else {
        this.counts.retries++;
        this.logger.debug('in-band request retried', { what: req.what, attempt: req.attempts + 1 });
        // Retries go first: they are the oldest work, and a scan should not wait behind its tail.
        if (this.queueHead > 0) this.queue[--this.queueHead] = req;
        else this.queue.unshift(req);
      }
    }
    if (this.deadlineHead > 1024 && this.deadlineHead * 2 > this.deadlines.length) {
      this.deadlines.splice(0, this.deadlineHead);
      this.deadlineHead = 0;
    }
    this.pump();
    this.arm();
  }

  private onAnswer(md: Readonly<Record<string, bigint>>): void {
    const ans = decodeInbandAnswer(this.spec, md);
    if (!ans) return;
    const a = this.attempts.get(ans.reqId);
    if (!a) {
      if (this.recent.has(ans.reqId)) this.counts.duplicateAnswers++;
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
    }
    if (req.settled) {
      this.counts.duplicateAnswers++;
    } else if (ans.status !== INBAND_STATUS.OK) {
      const status = Object.entries(INBAND_STATUS).find(([, v]) => v === ans.status)?.[0] ?? `status ${ans.status}`;
      this.settle(req, undefined, new EdgePluginError('INBAND_REJECTED', `in-band ${req.what}: the pipeline answered ${status}; ${status === 'BAD_INDEX' ? 'the index is past the register — check the P4Info sizes match the loaded pipeline' : 'the pipeline does not serve this op — check it implements the in-band service of p4/README.md'}`));
    } else {
      this.settle(req, ans, undefined);
    }
    this.pump();
  }

  private settle(req: Pending, ans: InbandAnswer | undefined, err: EdgePluginError | undefined): void {
    if (req.settled) return;
    req.settled = true;
    // Forget attempts that no longer hold a window slot; live ones stay until answered or timed out.
    for (const id of req.ids) {
      const a = this.attempts.get(id);
      if (a && !a.live) this.forget(id);
    }
    if (err) req.reject(err);
    else if (ans) req.resolve(ans);
  }
}

