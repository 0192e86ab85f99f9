/**
 * P4Runtime over p4runtime-ts' own gRPC-over-HTTP/2 calls (http2-calls.ts), with the same protobufjs
 * (de)serializers as the grpc-js transport. The default transport: a unary call costs the client
 * roughly half the CPU it costs through grpc-js, which is most of a migration's pause window
 * (BENCHMARKS.md, "the client's own gRPC"). Failed calls reject with a TransportCallError, which
 * has grpc-js' ServiceError fields.
 */
import { p4 } from '../proto/index.js';
import { decodeStreamResponse } from './encoded-packet-in.js';
import { frameMessage } from './grpc-frames.js';
import { Code, TransportCallError } from './grpc-status.js';
import { Http2Connection } from './http2-calls.js';
import { DEFAULT_P4SWITCH_OPTIONS } from './options.js';
import type { Http2Call } from './http2-calls.js';
import { P4RUNTIME_SERVICE } from './service.js';
import { UnaryP4RuntimeMethods } from './unary-methods.js';
import type { UnaryMethod } from './unary-methods.js';
import type { GrpcTransportOptions, P4RuntimeTransport, StreamChannelHandle, StreamHandlers, TransportStatus } from './transport.js';

/** Read responses held before the transport stops reading (HTTP/2 flow control then holds the server). */
const READ_QUEUE_HIGH = 16;

/** Write's path: the one unary method whose calls take a stream opened ahead. */
const WRITE_PATH = P4RUNTIME_SERVICE.Write.path;

/** The Write method for requests encoded ahead of sending: bytes in, bytes out. */
const ENCODED_WRITE: UnaryMethod<Uint8Array, Buffer> = {
  path: WRITE_PATH,
  requestSerialize: (b) => b as Buffer,
  responseDeserialize: (b) => b,
};

/**
 * P4Runtime over one HTTP/2 connection.
 * @example
 * const t = new Http2Transport(parseP4SwitchOptions({ address: '127.0.0.1:9559', deviceId: 1 }));
 * const caps = await t.capabilities();
 */
export class Http2Transport extends UnaryP4RuntimeMethods implements P4RuntimeTransport {
  private readonly conn: Http2Connection;
  private readonly rpcTimeoutMs: number;
  private readonly maxSendMessageBytes: number;
  /** Write and Read calls take a stream opened ahead (Http2Connection.start; openStreamsAhead). */
  private readonly openAhead: boolean;

  constructor(o: GrpcTransportOptions) {
    super();
    this.conn = new Http2Connection(o);
    this.rpcTimeoutMs = o.rpcTimeoutMs;
    this.maxSendMessageBytes = o.maxSendMessageBytes;
    this.openAhead = o.openStreamsAhead ?? DEFAULT_P4SWITCH_OPTIONS.openStreamsAhead;
  }

  /** The framed request, or the RESOURCE_EXHAUSTED status grpc-js gives for an over-long one. */
  private frame(bytes: Uint8Array, path: string): Buffer {
    if (this.maxSendMessageBytes >= 0 && bytes.byteLength > this.maxSendMessageBytes) {
      throw new TransportCallError({ code: Code.RESOURCE_EXHAUSTED, details: `Sent message larger than max (${bytes.byteLength} vs. ${this.maxSendMessageBytes})` }, path);
    }
    return frameMessage(bytes);
  }

  protected unary<Req, Res>(m: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      let frame: Buffer;
      try {
        frame = this.frame(m.requestSerialize(req), m.path);
      } catch (e) {
        reject(e);
        return;
      }
      let response: Buffer | undefined;
      let count = 0;
      const call = this.conn.start(m.path, this.rpcTimeoutMs, {
        onMessage: (b) => {
          count++;
          response = b;
        },
        onEnd: (s) => {
          if (s.code !== Code.OK) return reject(new TransportCallError(s, m.path));
          if (count !== 1 || response === undefined) {
            return reject(new TransportCallError({ code: Code.INTERNAL, details: `the server answered a unary call with ${count} messages, not 1` }, m.path));
          }
          try {
            resolve(m.responseDeserialize(response));
          } catch (e) {
            reject(new TransportCallError({ code: Code.INTERNAL, details: `cannot decode the response: ${(e as Error).message}` }, m.path));
          }
        },
      }, this.openAhead && m.path === WRITE_PATH);
      call.end(frame);
    });
  }

  /** Sends one WriteRequest encoded beforehand. */
  async writeEncoded(bytes: Uint8Array): Promise<void> {
    await this.unary(ENCODED_WRITE, bytes);
  }

  /** Streams the ReadResponses of one Read. */
  read(req: p4.v1.ReadRequest.$Properties, signal?: AbortSignal): AsyncIterable<p4.v1.ReadResponse> {
    return this.serverStream(P4RUNTIME_SERVICE.Read.requestSerialize(req), (b) => p4.v1.ReadResponse.decode(b), signal);
  }

  /** Streams the ReadResponses of one Read as their encoded bytes. */
  readEncoded(req: p4.v1.ReadRequest.$Properties | Uint8Array, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.serverStream(req instanceof Uint8Array ? req : P4RUNTIME_SERVICE.Read.requestSerialize(req), (b) => b, signal);
  }

  private async *serverStream<T>(bytes: Uint8Array, decode: (b: Buffer) => T, signal?: AbortSignal): AsyncIterable<T> {
    const path = P4RUNTIME_SERVICE.Read.path;
    const frame = this.frame(bytes, path);
    if (signal?.aborted) return;
    const queue: T[] = [];
    let head = 0;
    let end: TransportStatus | undefined;
    let wake: (() => void) | undefined;
    let paused = false;
    const call: Http2Call = this.conn.start(path, 0, {
      onMessage: (b) => {
        queue.push(decode(b));
        if (!paused && queue.length - head >= READ_QUEUE_HIGH) {
          paused = true;
          call.pause();
        }
        wake?.();
      },
      onEnd: (s) => {
        end = s;
        wake?.();
      },
    }, this.openAhead);
    call.end(frame);
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (head < queue.length) {
          const item = queue[head] as T;
          queue[head++] = undefined as T;
          if (head === queue.length) {
            queue.length = 0;
            head = 0;
          }
          if (paused && queue.length - head < READ_QUEUE_HIGH / 2) {
            paused = false;
            call.resume();
          }
          yield item;
          continue;
        }
        if (end !== undefined) {
          if (end.code !== Code.OK && !signal?.aborted) throw new TransportCallError(end, path);
          return;
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Breaking out of the loop early must not leave the call running on the server.
      call.cancel();
    }
  }

  /** Opens a StreamChannel; exactly one `onClose` follows unless we close it first. */
  openStream(handlers: StreamHandlers): StreamChannelHandle {
    const m = P4RUNTIME_SERVICE.StreamChannel;
    let closed = false;
    const call = this.conn.start(m.path, 0, {
      onMessage: (b) => {
        if (!closed) handlers.onMessage(decodeStreamResponse(b));
      },
      onEnd: (s) => {
        if (closed) return;
        closed = true;
        handlers.onClose(s);
      },
    });
    return {
      send: (msg) => {
        if (!closed) call.write(this.frame(m.requestSerialize(msg), m.path));
      },
      sendEncoded: (bytes) => {
        if (!closed) call.write(this.frame(bytes, m.path));
      },
      close: () => {
        if (closed) return;
        closed = true;
        call.cancel();
      },
    };
  }

  /** Closes the connection; calls in flight fail with CANCELLED. */
  close(): void {
    this.conn.close();
  }
}
