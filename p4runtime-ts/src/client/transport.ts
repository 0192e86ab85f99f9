/**
 * The wire under the client: one interface (`P4RuntimeTransport`) with the six P4Runtime RPCs, and
 * its gRPC implementation. Everything above talks to the interface, so an in-process target or a
 * test can stand in for the network. Failed calls reject with the gRPC status as grpc-js reports it
 * (`code`, `details`, `metadata`), because write error decoding needs the status-details trailer.
 */
import * as grpc from '@grpc/grpc-js';
import type { p4 } from '../proto/index.js';
import { decodeStreamResponse } from './encoded-packet-in.js';
import type { ResolvedCredentials, ResolvedP4SwitchOptions } from './options.js';
import { P4RUNTIME_SERVICE } from './service.js';
import { UnaryP4RuntimeMethods } from './unary-methods.js';
import type { UnaryMethod } from './unary-methods.js';

/** Callbacks of one StreamChannel call. */
export interface StreamHandlers {
  onMessage(msg: p4.v1.StreamMessageResponse): void;
  /** The call ended with a non-OK status (or OK: the server closed the stream). */
  onClose(status: TransportStatus): void;
}

/** The end of a call as the transport saw it. */
export interface TransportStatus {
  readonly code: number;
  readonly details: string;
  /** Trailing metadata, e.g. `grpc-status-details-bin`. */
  readonly metadata?: { get(key: string): Array<string | Buffer> };
}

/** One open StreamChannel. */
export interface StreamChannelHandle {
  send(msg: p4.v1.StreamMessageRequest.$Properties): void;
  /** Optional: sends a StreamMessageRequest already encoded (PacketOuts written straight to the wire). */
  sendEncoded?(bytes: Uint8Array): void;
  /** Half-closes and cancels the call; no more callbacks arrive afterwards. */
  close(): void;
}

/** The P4Runtime RPCs as the client uses them. */
export interface P4RuntimeTransport {
  capabilities(): Promise<p4.v1.CapabilitiesResponse>;
  write(req: p4.v1.WriteRequest.$Properties): Promise<void>;
  /**
   * Optional: sends a WriteRequest already encoded. Lets a batched write encode batch k+1 while
   * batch k is on the wire, so encoding overlaps the target's work instead of adding to it.
   */
  writeEncoded?(bytes: Uint8Array): Promise<void>;
  /** The server stream of a Read; aborting `signal` cancels the call and ends the iteration quietly. */
  read(req: p4.v1.ReadRequest.$Properties, signal?: AbortSignal): AsyncIterable<p4.v1.ReadResponse>;
  /**
   * Optional: the same stream with each ReadResponse still encoded, so reads by name decode table
   * entries straight from the bytes instead of building protobuf objects first.
   */
  readEncoded?(req: p4.v1.ReadRequest.$Properties | Uint8Array, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  setPipeline(req: p4.v1.SetForwardingPipelineConfigRequest.$Properties): Promise<void>;
  getPipeline(req: p4.v1.GetForwardingPipelineConfigRequest.$Properties): Promise<p4.v1.GetForwardingPipelineConfigResponse>;
  openStream(handlers: StreamHandlers): StreamChannelHandle;
  close(): void;
}

/** The grpc-js channel credentials for our credential options. */
export function channelCredentials(c: ResolvedCredentials): grpc.ChannelCredentials {
  switch (c.kind) {
    case 'insecure':
      return grpc.credentials.createInsecure();
    case 'tls':
      return grpc.credentials.createSsl(c.ca ?? null);
    case 'mtls':
      return grpc.credentials.createSsl(c.ca, c.key, c.cert);
  }
}

/** The grpc-js channel options derived from the switch options. */
export function channelOptions(o: ResolvedP4SwitchOptions): grpc.ChannelOptions {
  const opts: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': o.maxReceiveMessageBytes,
    'grpc.max_send_message_length': o.maxSendMessageBytes,
  };
  if (o.keepaliveMs > 0) {
    opts['grpc.keepalive_time_ms'] = o.keepaliveMs;
    opts['grpc.keepalive_timeout_ms'] = o.keepaliveTimeoutMs;
    opts['grpc.keepalive_permit_without_calls'] = 0;
  }
  const serverName = o.credentials.kind === 'insecure' ? undefined : o.credentials.serverName;
  if (serverName !== undefined) {
    opts['grpc.ssl_target_name_override'] = serverName;
    opts['grpc.default_authority'] = serverName;
  }
  return opts;
}

/** Subset of the switch options the gRPC transport needs. */
export type GrpcTransportOptions = Pick<
  ResolvedP4SwitchOptions,
  'address' | 'credentials' | 'maxReceiveMessageBytes' | 'maxSendMessageBytes' | 'keepaliveMs' | 'keepaliveTimeoutMs' | 'rpcTimeoutMs'
> &
  Partial<Pick<ResolvedP4SwitchOptions, 'openStreamsAhead'>>;

/** Bytes encoded ahead of sending, as the Buffer grpc-js wants (no copy). */
const passThrough = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** The Write method with a pass-through serializer, for requests encoded ahead of sending. */
const ENCODED_WRITE = {
  path: P4RUNTIME_SERVICE.Write.path,
  requestSerialize: passThrough,
  responseDeserialize: P4RUNTIME_SERVICE.Write.responseDeserialize,
};

/** StreamMessageRequests as protobufjs encodes them, or passed through when already encoded. */
function streamRequestSerialize(msg: p4.v1.StreamMessageRequest.$Properties | Uint8Array): Buffer {
  if (!(msg instanceof Uint8Array)) return P4RUNTIME_SERVICE.StreamChannel.requestSerialize(msg);
  return passThrough(msg);
}

/** P4Runtime over a grpc-js channel, with protobufjs static code as (de)serializers. */
export class GrpcTransport extends UnaryP4RuntimeMethods implements P4RuntimeTransport {
  private readonly client: grpc.Client;
  private readonly rpcTimeoutMs: number;

  constructor(o: GrpcTransportOptions) {
    super();
    this.client = new grpc.Client(o.address, channelCredentials(o.credentials), channelOptions(o as ResolvedP4SwitchOptions));
    this.rpcTimeoutMs = o.rpcTimeoutMs;
  }

  private callOptions(): grpc.CallOptions {
    return this.rpcTimeoutMs > 0 ? { deadline: Date.now() + this.rpcTimeoutMs } : {};
  }

  protected unary<Req, Res>(m: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new grpc.Metadata(), this.callOptions(), (err, res) => {
        if (err) reject(err);
        else resolve(res as Res);
      });
    });
  }

  /** Sends one WriteRequest encoded beforehand. */
  async writeEncoded(bytes: Uint8Array): Promise<void> {
    await this.unary(ENCODED_WRITE, bytes);
  }

  /** Streams the ReadResponses of one Read. */
  read(req: p4.v1.ReadRequest.$Properties, signal?: AbortSignal): AsyncIterable<p4.v1.ReadResponse> {
    return this.serverStream(req, P4RUNTIME_SERVICE.Read.responseDeserialize as (b: Buffer) => p4.v1.ReadResponse, signal);
  }

  /** Streams the ReadResponses of one Read as their encoded bytes. */
  readEncoded(req: p4.v1.ReadRequest.$Properties | Uint8Array, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.serverStream(req, (b: Buffer) => b, signal);
  }

  private async *serverStream<T>(req: p4.v1.ReadRequest.$Properties | Uint8Array, deserialize: (b: Buffer) => T, signal?: AbortSignal): AsyncIterable<T> {
    const m = P4RUNTIME_SERVICE.Read;
    const serialize = req instanceof Uint8Array ? passThrough : m.requestSerialize;
    const call = this.client.makeServerStreamRequest(m.path, serialize as (r: typeof req) => Buffer, deserialize, req, new grpc.Metadata(), {});
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const res of call as AsyncIterable<T>) yield res;
    } catch (e) {
      if (!signal?.aborted) throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Breaking out of the loop early must not leave the call running on the server.
      call.cancel();
    }
  }

  /** Opens a StreamChannel; exactly one `onClose` follows unless we close it first. */
  openStream(handlers: StreamHandlers): StreamChannelHandle {
    const m = P4RUNTIME_SERVICE.StreamChannel;
    const call = this.client.makeBidiStreamRequest(m.path, streamRequestSerialize, decodeStreamResponse, new grpc.Metadata(), {});
    let closed = false;
    call.on('data', (msg: p4.v1.StreamMessageResponse) => {
      if (!closed) handlers.onMessage(msg);
    });
    // 'status' arrives once for every call, after the last message; 'error' duplicates it for
    // non-OK codes and must be listened to so it is not thrown as an unhandled event.
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => {
      if (closed) return;
      closed = true;
      handlers.onClose({ code: s.code, details: s.details, metadata: s.metadata });
    });
    return {
      send: (msg) => {
        if (!closed) call.write(msg);
      },
      sendEncoded: (bytes) => {
        if (!closed) call.write(bytes);
      },
      close: () => {
        if (closed) return;
        closed = true;
        call.end();
        call.cancel();
      },
    };
  }

  /** Closes the channel; calls in flight fail with CANCELLED. */
  close(): void {
    this.client.close();
  }
}
