/**
 * One HTTP/2 connection to a gRPC server and the calls on it (grpc/PROTOCOL-HTTP2.md), on
 * node:http2 directly: a request's headers, length-prefixed messages both ways, the status from the
 * trailers. No name resolution, load balancing, retries or interceptors — a P4Runtime client talks
 * to one switch — so a unary call runs far less JavaScript than through grpc-js (see BENCHMARKS.md).
 * The connection is made on the first call and again after it is lost; a call in flight on a lost
 * connection ends UNAVAILABLE.
 */
import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders, SecureClientSessionOptions } from 'node:http2';
import { CONNECTION_WINDOW_BYTES, USER_AGENT, endpoint } from './http2-endpoint.js';
import { FrameError, MessageDeframer } from './grpc-frames.js';
import { Code, ResponseMetadata, checkResponseHeaders, grpcTimeoutHeader, statusFromTrailers } from './grpc-status.js';
import type { ResolvedCredentials } from './options.js';
import type { TransportStatus } from './transport.js';

/** What a connection needs to know. */
export interface Http2ConnectionOptions {
  /** `host:port`, `[v6]:port` or `unix:/path`. */
  readonly address: string;
  readonly credentials: ResolvedCredentials;
  readonly maxReceiveMessageBytes: number;
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
}

/** Callbacks of one call; `onEnd` comes exactly once, after the last `onMessage`. */
export interface CallHandlers {
  onMessage(message: Buffer): void;
  onEnd(status: TransportStatus): void;
}

/** A call in progress. */
export interface Http2Call {
  /** Sends one framed message (see frameMessage). */
  write(frame: Buffer): void;
  /** Half-closes, optionally with a last framed message. */
  end(frame?: Buffer): void;
  /** Ends the call now with CANCELLED (nothing more is delivered). */
  cancel(): void;
  /** Stops reading (HTTP/2 flow control holds the server back) until `resume`. */
  pause(): void;
  resume(): void;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY } = http2.constants;

/** The status of a stream that closed without one from the server. */
function statusForClose(stream: ClientHttp2Stream, error: Error | undefined, connectionLost: boolean, address: string): TransportStatus {
  const code = stream.rstCode;
  if (error !== undefined || connectionLost) {
    const why = error ? ((error.cause as Error | undefined)?.message ?? error.message) : 'the connection closed';
    return { code: Code.UNAVAILABLE, details: `${address}: ${why}` };
  }
  if (code === NGHTTP2_REFUSED_STREAM) return { code: Code.UNAVAILABLE, details: `${address} refused the stream (RST_STREAM REFUSED_STREAM)` };
  if (code === NGHTTP2_CANCEL) return { code: Code.CANCELLED, details: `${address} cancelled the call (RST_STREAM CANCEL)` };
  if (code === NGHTTP2_ENHANCE_YOUR_CALM) return { code: Code.RESOURCE_EXHAUSTED, details: `${address} reset the stream: ENHANCE_YOUR_CALM` };
  if (code === NGHTTP2_INADEQUATE_SECURITY) return { code: Code.PERMISSION_DENIED, details: `${address} reset the stream: INADEQUATE_SECURITY` };
  return { code: Code.INTERNAL, details: `${address} ended the call without a status (RST_STREAM code ${code ?? 'none'})` };
}

/** A stream whose request headers went out; a call binds its handlers to it (Http2Connection.open). */
interface OpenedStream {
  /** Whether a call can still take it: open, on `current` (the connection new calls use), nothing heard. */
  usable(current: ClientHttp2Session | undefined): boolean;
  /** Resets it unused. */
  discard(now?: boolean): void;
  bind(deadlineMs: number, h: CallHandlers): Http2Call;
}

/** A call that failed before it started: its status arrives on the next microtask. */
function failedCall(s: TransportStatus, h: CallHandlers): Http2Call {
  queueMicrotask(() => h.onEnd(s));
  return { write: () => undefined, end: () => undefined, cancel: () => undefined, pause: () => undefined, resume: () => undefined };
}

/**
 * The connection and its calls.
 * @example
 * const conn = new Http2Connection({ address: '127.0.0.1:9559', credentials: { kind: 'insecure' }, maxReceiveMessageBytes: 4 << 20, keepaliveMs: 0, keepaliveTimeoutMs: 0 });
 * const call = conn.start('/p4.v1.P4Runtime/Write', 5000, { onMessage: () => {}, onEnd: (s) => console.log(s.code) });
 * call.end(frameMessage(bytes));
 */
export class Http2Connection {
  private session: ClientHttp2Session | undefined;
  private readonly url: string;
  private readonly authority: string;
  private readonly connectOptions: SecureClientSessionOptions;
  private closed = false;
  private active = 0;
  private keepalive: NodeJS.Timeout | undefined;
  /** Connections with a liveness ping in flight (checkAlive). */
  private readonly pinging = new WeakSet<ClientHttp2Session>();
  /** Streams opened ahead, one per path at most (start's `ahead`). */
  private readonly spares = new Map<string, OpenedStream>();
  private readonly aheadScheduled = new Set<string>();
  /** Every stream not yet closed (calls, spares, StreamChannel): reset before their session is destroyed. */
  private readonly streams = new Set<ClientHttp2Stream>();

  constructor(private readonly o: Http2ConnectionOptions) {
    const e = endpoint(o);
    this.url = e.url;
    this.authority = e.authority;
    this.connectOptions = e.options;
  }

  /** The open connection, or a new one. */
  private connection(): ClientHttp2Session {
    const s = this.session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const sess = http2.connect(this.url, this.connectOptions);
    // Failures reach the calls as stream errors; the session's own 'error' only needs a listener.
    sess.on('error', () => undefined);
    // After GOAWAY the server takes no new streams here: the next call opens a new connection at
    // once. The spares are reset a turn later, not inside nghttp2's reading of the GOAWAY (see stop).
    const forget = (now: boolean) => (): void => {
      if (this.session !== sess) return;
      this.session = undefined;
      const spares = [...this.spares.values()];
      this.spares.clear();
      const reset = (): void => {
        for (const spare of spares) spare.discard(true);
      };
      if (now) reset();
      else setImmediate(reset);
    };
    sess.once('goaway', forget(false));
    sess.once('close', forget(true));
    sess.once('connect', () => {
      if (!sess.destroyed) sess.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    });
    this.session = sess;
    this.armKeepalive();
    return sess;
  }

  /** Pings while calls are open; an unanswered ping drops the connection, ending its calls UNAVAILABLE. */
  private armKeepalive(): void {
    if (this.o.keepaliveMs <= 0 || this.keepalive !== undefined) return;
    this.keepalive = setInterval(() => {
      const sess = this.session;
      if (sess === undefined || this.active === 0 || sess.destroyed || !sess.socket) return;
      this.checkAlive(sess, 'keepalive');
    }, this.o.keepaliveMs);
    this.keepalive.unref();
  }

  /**
   * Starts a call to `path`; `deadlineMs` > 0 bounds it (unary calls), 0 leaves it open (streams).
   * With `ahead`, the call takes the stream opened ahead for its path when there is a usable one,
   * and once it has ended another is opened for the next call (openAheadSoon).
   */
  start(path: string, deadlineMs: number, h: CallHandlers, ahead = false): Http2Call {
    if (this.closed) return failedCall({ code: Code.CANCELLED, details: 'the transport is closed' }, h);
    let opened: OpenedStream | TransportStatus | undefined;
    let handlers = h;
    if (ahead) {
      const spare = this.spares.get(path);
      this.spares.delete(path);
      if (spare?.usable(this.session)) opened = spare;
      else spare?.discard();
      handlers = {
        onMessage: (m) => h.onMessage(m),
        onEnd: (s) => {
          this.openAheadSoon(path);
          h.onEnd(s);
        },
      };
    }
    opened ??= this.open(path, deadlineMs);
    return 'bind' in opened ? opened.bind(deadlineMs, handlers) : failedCall(opened, handlers);
  }

  /**
   * Opens the next call's stream for `path` on the turn after a call ended: its HEADERS (and the
   * server's work on them) are then done before the next call, not on its way — and not while
   * a server is still on the call before, nor while the caller works on that call's answer (a
   * pause's chain of dependent calls runs its code in microtasks, before this turn ends). No
   * `grpc-timeout` on it: the call's deadline counts from the call, on our side.
   */
  private openAheadSoon(path: string): void {
    if (this.aheadScheduled.has(path)) return;
    this.aheadScheduled.add(path);
    setImmediate(() => {
      this.aheadScheduled.delete(path);
      // Never a connection made for a spare: after a lost one, the next call reconnects.
      const sess = this.session;
      if (this.closed || this.spares.has(path) || sess === undefined || sess.closed || sess.destroyed) return;
      const o = this.open(path, 0);
      if ('bind' in o) this.spares.set(path, o);
    });
  }

  /** A stream for `path` with its request headers sent, its handlers bound later; or why it could not be opened. */
  private open(path: string, timeoutHeaderMs: number): OpenedStream | TransportStatus {
    const headers: OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': path,
      ':authority': this.authority,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-accept-encoding': 'identity',
      'user-agent': USER_AGENT,
    };
    if (timeoutHeaderMs > 0) headers['grpc-timeout'] = grpcTimeoutHeader(timeoutHeaderMs);
    const sess = this.connection();
    let stream: ClientHttp2Stream;
    try {
      stream = sess.request(headers, { endStream: false });
      this.streams.add(stream);
    } catch (e) {
      // A connection that can take no more streams (closing, out of stream ids): the next call
      // opens a new one.
      if (this.session === sess) this.session = undefined;
      return { code: Code.UNAVAILABLE, details: `${this.o.address}: ${(e as Error).message}` };
    }
    let h: CallHandlers | undefined;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    // What ended the stream before a call was bound to it (the stream is then not used).
    let endedEarly: TransportStatus | undefined;
    const finish = (s: TransportStatus): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      if (h === undefined) {
        endedEarly = s;
        return;
      }
      this.active--;
      h.onEnd(s);
    };
    const md = new ResponseMetadata();
    let deframer: MessageDeframer | undefined;
    let status: TransportStatus | undefined;
    let error: Error | undefined;
    // The reset waits a turn of the event loop unless `now`: called from a stream's or the
    // session's event (a message, its end, a GOAWAY), which Node delivers while nghttp2 is still
    // reading, a reset then re-enters nghttp2 — the path Node's HTTP/2 corrupts its heap on (glibc
    // abort, "corrupted size vs. prev_size": a test worker died where a switch went away mid-call).
    const stop = (s: TransportStatus, now = false): void => {
      status ??= s;
      if (now) resetNow(stream);
      else if (!stream.closed) setImmediate(() => resetNow(stream));
    };
    // Node emits 'response' on the next tick but 'data' as it reads: when the headers and the first
    // message arrive in one read (a small answer on a stream opened ahead, over TLS), the message
    // comes first. It waits here for the headers, which name its encoding.
    let early: Buffer[] | undefined;
    const take = (chunk: Buffer): void => {
      if (status !== undefined || deframer === undefined) return;
      try {
        for (const m of deframer.push(chunk)) {
          // A message before any request was sent: the stream is not a call's to take.
          if (h === undefined) return stop({ code: Code.INTERNAL, details: `${path}: the server answered before the request` });
          h.onMessage(m);
        }
      } catch (e) {
        stop(e instanceof FrameError ? { code: e.grpcCode, details: e.message } : { code: Code.INTERNAL, details: `cannot take a response message of ${path}: ${(e as Error).message}` });
      }
    };
    stream.on('response', (hd) => {
      const bad = checkResponseHeaders(hd);
      if (bad) return stop(bad);
      md.addHeaders(hd);
      // Trailers-Only: the status comes in the headers, with no message before it.
      if (hd['grpc-status'] !== undefined) status ??= statusFromTrailers(hd, md);
      const enc = hd['grpc-encoding'];
      deframer = new MessageDeframer(this.o.maxReceiveMessageBytes, typeof enc === 'string' ? enc : 'identity');
      const waiting = early;
      early = undefined;
      if (waiting) for (const chunk of waiting) take(chunk);
    });
    stream.on('data', (chunk: Buffer) => {
      if (deframer === undefined && status === undefined) (early ??= []).push(chunk);
      else take(chunk);
    });
    stream.on('trailers', (t) => {
      md.addHeaders(t);
      status ??= statusFromTrailers(t, md);
    });
    stream.on('error', (e: Error) => {
      error ??= e;
    });
    // The server's trailers end the call even while our side is still open (a StreamChannel the
    // server closes): the status goes out once every message before it has been read.
    const leftOver = (): void => {
      if (deframer !== undefined && deframer.buffered > 0 && status?.code === Code.OK) {
        status = { code: Code.INTERNAL, details: `${path}: the response ended inside a message (${deframer.buffered} bytes left over)` };
      }
    };
    stream.on('end', () => {
      if (status === undefined) return;
      leftOver();
      finish(status);
      // Only a call we have not half-closed needs a reset to end; a unary call or a Read closes by
      // itself now. (A reset per call would also look like a "rapid reset" flood to the server:
      // Node's HTTP/2 server answers that with GOAWAY and drops the connection.)
      if (!stream.writableEnded && !stream.closed) setImmediate(() => resetNow(stream));
    });
    stream.on('close', () => {
      this.streams.delete(stream);
      leftOver();
      if (status === undefined && this.closed) status = { code: Code.CANCELLED, details: `the transport was closed (${path})` };
      // No listener per call on the session (many calls at once would trip Node's listener limit):
      // by the time a stream of a lost connection closes, the session is already destroyed.
      finish(status ?? statusForClose(stream, error, sess.destroyed || sess.closed, this.o.address));
    });
    const call: Http2Call = {
      write: (frame) => {
        if (!done && !stream.closed) stream.write(frame);
      },
      end: (frame) => {
        if (done || stream.closed) return;
        if (frame) stream.end(frame);
        else stream.end();
      },
      cancel: () => {
        if (!done) stop({ code: Code.CANCELLED, details: `cancelled by the client (${path})` });
      },
      pause: () => stream.pause(),
      resume: () => stream.resume(),
    };
    return {
      usable: (current) => !done && endedEarly === undefined && status === undefined && current === sess && !stream.closed && !stream.destroyed,
      discard: (now) => stop({ code: Code.CANCELLED, details: `${path}: a stream opened ahead, not used` }, now),
      bind: (deadlineMs, handlers) => {
        h = handlers;
        this.active++;
        if (endedEarly !== undefined) {
          // Not usable() any more: only a stream that ended as it was opened gets here.
          const s = endedEarly;
          queueMicrotask(() => {
            this.active--;
            handlers.onEnd(s);
          });
        } else if (deadlineMs > 0) {
          timer = setTimeout(() => {
            stop({ code: Code.DEADLINE_EXCEEDED, details: `deadline of ${deadlineMs} ms exceeded (${path})` });
            this.checkAlive(sess, `a ${path} call exceeded its deadline`);
          }, deadlineMs);
        }
        return call;
      },
    };
  }

  /**
   * Pings `sess` once and destroys it when no answer comes within keepaliveTimeoutMs, ending its
   * calls UNAVAILABLE so the next ones reconnect. A call past its deadline may be the sign of a
   * wedged connection: a server's header field over 64 KiB (e.g. the per-update errors of a large
   * failing Write batch) makes Node's HTTP/2 client (nghttp2) end the connection with
   * COMPRESSION_ERROR and then stop reading it — no call on it ever ends, no ping is answered.
   */
  private checkAlive(sess: ClientHttp2Session, why: string): void {
    // One ping in flight per connection: many calls past their deadline at once send one, not a
    // burst a gRPC server would answer with GOAWAY "too_many_pings".
    if (sess.destroyed || sess.closed || this.o.keepaliveTimeoutMs <= 0 || this.pinging.has(sess)) return;
    this.pinging.add(sess);
    const answered = (): void => {
      clearTimeout(timer);
      this.pinging.delete(sess);
    };
    const timer = setTimeout(
      () => sess.destroy(new Error(`${this.o.address}: the connection stopped answering (${why}; a ping got no answer within ${this.o.keepaliveTimeoutMs} ms): reconnecting`)),
      this.o.keepaliveTimeoutMs,
    );
    timer.unref();
    try {
      sess.ping(answered);
    } catch {
      answered();
    }
  }

  /**
   * Resets every stream still open on `sess` (calls in flight, the StreamChannel) before it is
   * destroyed: as with idle spares, Node 20.20 corrupted its heap (glibc abort, "corrupted size vs.
   * prev_size") when a session was destroyed with a call still open on it — a controller that
   * stopped its plugins mid-call (BENCHMARKS.md).
   */
  private resetStreams(sess: ClientHttp2Session): void {
    for (const stream of this.streams) {
      if (stream.session !== sess) continue;
      this.streams.delete(stream);
      resetNow(stream);
    }
  }

  /**
   * Closes the connection; calls in flight end CANCELLED. The streams are reset and the session
   * destroyed a turn later: close() may be called from a call's own message or end (a caller that
   * is done with the switch), i.e. while nghttp2 is still reading (see stop in open()). Every
   * stream, spares included, is reset before the destroy: Node 20.20 corrupted its heap when a
   * session went with a stream still open on it (BENCHMARKS.md).
   */
  close(): void {
    this.closed = true;
    if (this.keepalive !== undefined) clearInterval(this.keepalive);
    this.keepalive = undefined;
    const spares = [...this.spares.values()];
    this.spares.clear();
    const s = this.session;
    this.session = undefined;
    setImmediate(() => {
      for (const spare of spares) spare.discard(true);
      if (s) this.resetStreams(s);
      s?.destroy();
    });
  }
}

/** Resets `stream` (RST_STREAM CANCEL) unless it is already closed or destroyed. */
function resetNow(stream: ClientHttp2Stream): void {
  if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
}
