/**
 * A QMP client of our own: connects to a QEMU monitor, reads the greeting, negotiates
 * capabilities, then runs commands (each with a unique id and its own timeout) while delivering
 * asynchronous events, interleaved with the replies, as an RxJS Observable.
 *
 * Failure rules: a QMP error reply rejects that command only (COMMAND_FAILED). Anything that
 * means the conversation can no longer be trusted — malformed JSON, a reply to an id we never
 * sent, a second greeting, the socket vanishing — fails every pending command at once with the
 * same error and ends the event stream with it; nothing waits forever.
 */
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { Clock, Logger, TimerHandle } from 'p4runtime-ts';
import { QmpError } from './errors.js';
import { JsonFramer } from './json-framer.js';
import { parseQmpMessage } from './messages.js';
import type { QmpEvent, QmpGreeting, QmpMessage } from './messages.js';
import { parseQmpClientOptions } from './options.js';
import type { QmpClientOptions, ResolvedQmpClientOptions } from './options.js';
import type { QmpConnection } from './transport.js';

/** Per-call options of `execute`. */
export interface QmpCommandOptions {
  /** Reply timeout of this command; default `commandTimeoutMs` of the client. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly command: string;
  readonly resolve: (v: { value: unknown; seq: number }) => void;
  readonly reject: (e: QmpError) => void;
  readonly timer: TimerHandle;
}

/** Ids of timed-out commands kept so their late replies are recognised (bounded). */
const MAX_ABANDONED = 1024;

/** A connected, negotiated QMP session. */
export class QmpClient {
  /** Asynchronous events in arrival order; errors with the QmpError that ended the session. */
  readonly events: Observable<QmpEvent>;
  private readonly eventSubject = new Subject<QmpEvent>();
  private readonly pending = new Map<string, Pending>();
  private readonly abandoned = new Set<string>();
  private readonly framer: JsonFramer;
  private readonly log: Logger;
  /** The clock events' `receivedAt` and the timeouts are read on (QmpClientOptions.clock). */
  readonly clock: Clock;
  private nextId = 1;
  /** Messages received so far (greeting included); orders replies against events. */
  private seq = 0;
  private greetingValue: QmpGreeting | undefined;
  private greetingWaiter: { resolve(g: QmpGreeting): void; reject(e: QmpError): void } | undefined;
  private endError: QmpError | undefined;
  private ended = false;
  private closingByUs = false;

  private constructor(
    private readonly opts: ResolvedQmpClientOptions,
    private readonly conn: QmpConnection,
  ) {
    this.events = this.eventSubject.asObservable();
    this.framer = new JsonFramer(opts.maxMessageBytes);
    this.log = opts.logger.child({ qmp: opts.transport.description });
    this.clock = opts.clock;
  }

  /**
   * Opens the monitor, waits for its greeting and runs `qmp_capabilities`, all within
   * `connectTimeoutMs`.
   * @example
   * const qmp = await QmpClient.connect({ address: 'unix:/run/vm1.qmp' });
   * qmp.events.subscribe((e) => log.info('qemu event', { event: e.event, data: e.data }));
   * const status = await qmp.execute<{ status: string }>('query-status');
   */
  static async connect(options: QmpClientOptions): Promise<QmpClient> {
    const opts = parseQmpClientOptions(options);
    const where = opts.transport.description;
    let timer: TimerHandle | undefined;
    let client: QmpClient | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = opts.clock.setTimeout(() => {
        timedOut = true;
        client?.fail(new QmpError('CONNECT_FAILED', `no QMP greeting and negotiation from ${where} within ${opts.connectTimeoutMs} ms`));
        reject(new QmpError('CONNECT_FAILED', `no QMP greeting and negotiation from ${where} within ${opts.connectTimeoutMs} ms; is QEMU running with -qmp ${where},server=on and no other client attached?`));
      }, opts.connectTimeoutMs);
    });
    try {
      const setup = (async () => {
        let conn: QmpConnection;
        try {
          conn = await opts.transport.open();
        } catch (e) {
          throw new QmpError('CONNECT_FAILED', `cannot open the QMP socket ${where} (${(e as Error).message}); check QEMU's -qmp option and that QEMU runs`, { cause: e });
        }
        if (timedOut) {
          conn.destroy();
          throw new QmpError('CONNECT_FAILED', `QMP socket ${where} opened after the connect timeout`);
        }
        client = new QmpClient(opts, conn);
        const greeting = await client.start();
        await client.execute('qmp_capabilities', undefined, { timeoutMs: opts.connectTimeoutMs });
        client.log.debug('qmp negotiated', { qemu: greeting.version });
        return client;
      })();
      return await Promise.race([setup, timeout]);
    } catch (e) {
      client?.fail(QmpError.from(e));
      const err = QmpError.from(e, `connecting to ${where}`);
      throw err.code === 'CLOSED' || err.code === 'PROTOCOL' ? new QmpError('CONNECT_FAILED', `connecting to ${where}: ${err.message}`, { cause: err }) : err;
    } finally {
      opts.clock.clearTimeout(timer);
    }
  }

  /** The server's greeting (QEMU version, offered capabilities). */
  get greeting(): QmpGreeting {
    return this.greetingValue!;
  }

  /** Where this client is connected, e.g. `unix:/run/vm1.qmp`. */
  get description(): string {
    return this.opts.transport.description;
  }

  /** True once the session has ended (closed by us, or failed). */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Why the session ended abnormally, if it did. */
  get failure(): QmpError | undefined {
    return this.endError;
  }

  /**
   * Runs one command and resolves with its `return` value; rejects COMMAND_FAILED on an error
   * reply, TIMEOUT when no reply comes in time, CLOSED/PROTOCOL when the session ends first.
   * @example
   * await qmp.execute('migrate-continue', { state: 'pre-switchover' }, { timeoutMs: 1000 });
   */
  execute<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>, options: QmpCommandOptions = {}): Promise<T> {
    return this.executeOrdered<T>(command, args, options).then((r) => r.value);
  }

  /**
   * Like `execute`, and also says where the reply fell among the events (`seq`, comparable to
   * `QmpEvent.seq`): events with a smaller seq happened before the reply, larger ones after. This
   * is how a query's answer is reconciled with events that arrived while it was in flight.
   */
  executeOrdered<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>, options: QmpCommandOptions = {}): Promise<{ value: T; seq: number }> {
    if (this.ended) {
      return Promise.reject(this.endError ?? new QmpError('CLOSED', `cannot run '${command}': the QMP session with ${this.description} is closed`, { command }));
    }
    const timeoutMs = options.timeoutMs ?? this.opts.commandTimeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
      return Promise.reject(new QmpError('BAD_OPTIONS', `execute('${command}'): timeoutMs must be an integer >= 1, got ${String(timeoutMs)}`, { command }));
    }
    const id = `${this.opts.idPrefix}-${this.nextId++}`;
    return new Promise<{ value: T; seq: number }>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => this.timeOut(id), timeoutMs);
      this.pending.set(id, { command, resolve: resolve as Pending['resolve'], reject, timer });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.log.debug('qmp command', { command, id });
      this.conn.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /**
   * Resolves with the next event matching `predicate`; rejects TIMEOUT after `timeoutMs`, or with
   * the session's error if it ends first, or CLOSED when `signal` aborts. Call it before
   * triggering what causes the event.
   */
  nextEvent(predicate: (e: QmpEvent) => boolean, timeoutMs: number, what = 'the event', signal?: AbortSignal): Promise<QmpEvent> {
    return new Promise<QmpEvent>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        sub.unsubscribe();
        reject(new QmpError('TIMEOUT', `${what} did not arrive from ${this.description} within ${timeoutMs} ms`));
      }, timeoutMs);
      signal?.addEventListener('abort', () => {
        this.clock.clearTimeout(timer);
        sub.unsubscribe();
        reject(new QmpError('CLOSED', `stopped waiting for ${what}`));
      }, { once: true });
      const sub = this.events.subscribe({
        next: (e) => {
          if (!predicate(e)) return;
          this.clock.clearTimeout(timer);
          sub.unsubscribe();
          resolve(e);
        },
        error: (e: unknown) => {
          this.clock.clearTimeout(timer);
          reject(QmpError.from(e));
        },
        complete: () => {
          this.clock.clearTimeout(timer);
          reject(new QmpError('CLOSED', `the QMP session with ${this.description} closed while waiting for ${what}`));
        },
      });
    });
  }

  /** Closes the session: pending commands fail with CLOSED, the event stream completes. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.closingByUs = true;
    this.end(new QmpError('CLOSED', `the QMP session with ${this.description} was closed by this client`), false);
  }

  private start(): Promise<QmpGreeting> {
    const greeting = new Promise<QmpGreeting>((resolve, reject) => {
      this.greetingWaiter = { resolve, reject };
    });
    this.conn.listen({
      data: (chunk) => this.onData(chunk),
      close: (error) => this.onClose(error),
    });
    return greeting;
  }

  private onData(chunk: string): void {
    if (this.ended) return;
    let texts: string[];
    try {
      texts = this.framer.push(chunk);
    } catch (e) {
      this.fail(QmpError.from(e));
      return;
    }
    for (const text of texts) {
      if (this.ended) return;
      let msg: QmpMessage;
      try {
        msg = parseQmpMessage(text);
      } catch (e) {
        this.fail(QmpError.from(e));
        return;
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: QmpMessage): void {
    const seq = ++this.seq;
    if (msg.kind === 'greeting') {
      if (this.greetingValue !== undefined) {
        this.fail(new QmpError('PROTOCOL', `${this.description} sent a second QMP greeting mid-session; another QEMU may have taken over the socket`));
        return;
      }
      this.greetingValue = msg.greeting;
      this.greetingWaiter?.resolve(msg.greeting);
      this.greetingWaiter = undefined;
      return;
    }
    if (this.greetingValue === undefined) {
      this.fail(new QmpError('PROTOCOL', `${this.description} sent a ${msg.kind} before its QMP greeting; is this a QMP socket (-qmp, not -monitor)?`));
      return;
    }
    if (msg.kind === 'event') {
      this.eventSubject.next({ event: msg.event, data: msg.data, timestampMs: msg.timestampMs, receivedAt: this.clock.now(), seq });
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (p === undefined) {
      if (id !== undefined && this.abandoned.delete(id)) {
        this.log.debug('qmp late reply to a timed-out command ignored', { id, kind: msg.kind });
        return;
      }
      const what = msg.kind === 'error' ? `error reply (${msg.qmpClass}: ${msg.desc})` : 'reply';
      this.fail(new QmpError('PROTOCOL', `${this.description} sent a ${what} with id ${JSON.stringify(msg.id)}, which matches no command of this client; the session can no longer be trusted`));
      return;
    }
    this.pending.delete(id!);
    this.clock.clearTimeout(p.timer);
    if (msg.kind === 'return') p.resolve({ value: msg.value, seq });
    else p.reject(new QmpError('COMMAND_FAILED', `QEMU refused '${p.command}': ${msg.qmpClass}: ${msg.desc}`, { command: p.command, qmpClass: msg.qmpClass }));
  }

  private timeOut(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.abandoned.add(id);
    if (this.abandoned.size > MAX_ABANDONED) this.abandoned.delete(this.abandoned.values().next().value!);
    p.reject(new QmpError('TIMEOUT', `no reply to '${p.command}' from ${this.description} within its timeout; QEMU may still carry it out`, { command: p.command }));
  }

  private onClose(error: Error | undefined): void {
    if (this.ended) return;
    const commands = [...this.pending.values()].map((p) => p.command);
    const how = error ? `failed (${error.message})` : 'was closed by the other side';
    const pendingText = commands.length > 0 ? `; pending command(s) failed: ${commands.join(', ')}` : '';
    this.fail(new QmpError('CLOSED', `the QMP socket ${this.description} ${how}; did QEMU exit?${pendingText}`, { cause: error }));
  }

  /** Ends the session abnormally: every pending command and the event stream get `err`. */
  private fail(err: QmpError): void {
    if (this.ended) return;
    this.log.warn('qmp session failed', { code: err.code, error: err.message });
    this.end(err, true);
  }

  private end(err: QmpError, asError: boolean): void {
    this.ended = true;
    if (asError) this.endError = err;
    this.greetingWaiter?.reject(err);
    this.greetingWaiter = undefined;
    for (const [id, p] of this.pending) {
      this.clock.clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
    if (asError && !this.closingByUs) this.eventSubject.error(err);
    else this.eventSubject.complete();
    this.conn.destroy();
  }
}
