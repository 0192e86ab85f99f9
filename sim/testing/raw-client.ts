/**
 * A bare P4Runtime client for the sim's tests and bench: raw grpc-js calls with our generated
 * codecs, no library logic in between, so callers see exactly what the switch sends (codes,
 * messages, status details, stream messages).
 */
import { Client, credentials as grpcCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { ChannelCredentials, ClientDuplexStream, Metadata, ServiceError } from '@grpc/grpc-js';
import { google, p4, toUint128 } from 'p4runtime-ts/proto';
import { P4RUNTIME_PATHS } from '../p4rt/service-definition.js';

/** A gRPC outcome: code, details, and any p4.v1.Error entries from the status details. */
export interface RpcOutcome {
  readonly code: number;
  readonly details: string;
  /** One per update/request when the server sent google.rpc.Status details. */
  readonly errors: readonly { readonly code: number; readonly message: string }[];
}

const enc =
  <T>(codec: { encode(m: T): { finish(): Uint8Array } }) =>
  (m: T): Buffer => {
    const b = codec.encode(m).finish();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  };
const dec =
  <T>(codec: { decode(b: Uint8Array): T }) =>
  (b: Buffer): T =>
    codec.decode(b);

/** Decodes the p4.v1.Error list from a status's `grpc-status-details-bin` trailer. */
export function statusErrors(metadata: Metadata | undefined): RpcOutcome['errors'] {
  const raw = metadata?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return [];
  const st = google.rpc.Status.decode(raw);
  return st.details.map((d) => {
    const e = p4.v1.Error.decode(d.value ?? new Uint8Array());
    return { code: e.canonicalCode, message: e.message };
  });
}

function outcome(err: ServiceError | null | { code: number; details: string; metadata?: Metadata }): RpcOutcome {
  if (!err) return { code: GrpcStatus.OK, details: '', errors: [] };
  return { code: err.code ?? GrpcStatus.UNKNOWN, details: err.details ?? '', errors: statusErrors(err.metadata) };
}

/** Options for connecting. */
export interface RawClientOptions {
  readonly credentials?: ChannelCredentials;
  /** TLS target name override (when the cert names `localhost` and we dial 127.0.0.1). */
  readonly serverName?: string;
}

/** A raw P4Runtime client. */
export class RawP4RuntimeClient {
  readonly client: Client;

  constructor(address: string, options: RawClientOptions = {}) {
    const opts: Record<string, string | number> = { 'grpc.max_receive_message_length': 256 * 1024 * 1024 };
    if (options.serverName) opts['grpc.ssl_target_name_override'] = options.serverName;
    this.client = new Client(address, options.credentials ?? grpcCredentials.createInsecure(), opts);
  }

  close(): void {
    this.client.close();
  }

  private unary<Req, Res>(path: string, reqCodec: { encode(m: Req): { finish(): Uint8Array } }, resCodec: { decode(b: Uint8Array): Res }, req: Req): Promise<{ outcome: RpcOutcome; response: Res | undefined }> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, enc(reqCodec), dec(resCodec), req, (err, response) => resolve({ outcome: outcome(err ?? null), response }));
    });
  }

  /** Capabilities; the API version or the error. */
  async capabilities(): Promise<{ outcome: RpcOutcome; version: string | undefined }> {
    const r = await this.unary(P4RUNTIME_PATHS.Capabilities, p4.v1.CapabilitiesRequest, p4.v1.CapabilitiesResponse, {});
    return { outcome: r.outcome, version: r.response?.p4runtimeApiVersion };
  }

  write(req: p4.v1.WriteRequest.$Properties): Promise<RpcOutcome> {
    return this.unary(P4RUNTIME_PATHS.Write, p4.v1.WriteRequest, p4.v1.WriteResponse, req).then((r) => r.outcome);
  }

  setPipeline(req: p4.v1.SetForwardingPipelineConfigRequest.$Properties): Promise<RpcOutcome> {
    return this.unary(P4RUNTIME_PATHS.SetForwardingPipelineConfig, p4.v1.SetForwardingPipelineConfigRequest, p4.v1.SetForwardingPipelineConfigResponse, req).then((r) => r.outcome);
  }

  async getPipeline(req: p4.v1.GetForwardingPipelineConfigRequest.$Properties): Promise<{ outcome: RpcOutcome; response: p4.v1.GetForwardingPipelineConfigResponse | undefined }> {
    return this.unary(P4RUNTIME_PATHS.GetForwardingPipelineConfig, p4.v1.GetForwardingPipelineConfigRequest, p4.v1.GetForwardingPipelineConfigResponse, req);
  }

  /** Read: every ReadResponse in order, the entities flattened, and the final status. */
  read(req: p4.v1.ReadRequest.$Properties): Promise<{ outcome: RpcOutcome; responses: p4.v1.ReadResponse[]; entities: p4.v1.Entity[] }> {
    return new Promise((resolve) => {
      const responses: p4.v1.ReadResponse[] = [];
      const call = this.client.makeServerStreamRequest(P4RUNTIME_PATHS.Read, enc(p4.v1.ReadRequest), dec(p4.v1.ReadResponse), req);
      call.on('data', (r: p4.v1.ReadResponse) => responses.push(r));
      let done = false;
      const finish = (o: RpcOutcome): void => {
        if (done) return;
        done = true;
        resolve({ outcome: o, responses, entities: responses.flatMap((r) => r.entities as p4.v1.Entity[]) });
      };
      call.on('error', (e: ServiceError) => finish(outcome(e)));
      call.on('status', (s: { code: number; details: string; metadata: Metadata }) => {
        if (s.code === GrpcStatus.OK) finish(outcome(null));
      });
    });
  }

  /** Sends arbitrary bytes to a unary method (malformed-protobuf tests). */
  rawUnary(path: string, bytes: Uint8Array): Promise<RpcOutcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(bytes), (err) => resolve(outcome(err ?? null)));
    });
  }

  /** Opens a StreamChannel. */
  stream(): RawStream {
    return new RawStream(this.client.makeBidiStreamRequest(P4RUNTIME_PATHS.StreamChannel, enc(p4.v1.StreamMessageRequest), dec(p4.v1.StreamMessageResponse)));
  }
}

type Predicate = (m: p4.v1.StreamMessageResponse) => boolean;

/** One StreamChannel, with a queue of received messages. */
export class RawStream {
  private readonly queue: p4.v1.StreamMessageResponse[] = [];
  private waiters: { pred: Predicate; resolve: (m: p4.v1.StreamMessageResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private endStatus: RpcOutcome | null = null;
  private endWaiters: ((o: RpcOutcome) => void)[] = [];
  /** Every message received, in order (the queue drains as `next` takes them). */
  readonly received: p4.v1.StreamMessageResponse[] = [];

  constructor(readonly call: ClientDuplexStream<p4.v1.StreamMessageRequest.$Properties, p4.v1.StreamMessageResponse>) {
    call.on('data', (m: p4.v1.StreamMessageResponse) => {
      this.received.push(m);
      const w = this.waiters.find((x) => x.pred(m));
      if (w) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      } else this.queue.push(m);
    });
    const end = (o: RpcOutcome): void => {
      if (this.endStatus) return;
      this.endStatus = o;
      for (const r of this.endWaiters) r(o);
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`stream ended (code ${o.code}: ${o.details}) while waiting for a message`));
      }
      this.waiters = [];
    };
    call.on('error', (e: ServiceError) => end(outcome(e)));
    call.on('status', (s: { code: number; details: string }) => {
      if (s.code === GrpcStatus.OK) end(outcome(null));
    });
  }

  send(m: p4.v1.StreamMessageRequest.$Properties): void {
    this.call.write(m);
  }

  /** Sends a MasterArbitrationUpdate. */
  arbitrate(o: { deviceId: bigint | number; electionId?: bigint; role?: string }): void {
    const arbitration: p4.v1.MasterArbitrationUpdate.$Properties = { deviceId: Number(o.deviceId) };
    if (o.electionId !== undefined) arbitration.electionId = toUint128(o.electionId);
    if (o.role !== undefined) arbitration.role = { name: o.role };
    this.send({ arbitration });
  }

  /** The next message matching `pred` (already queued or arriving within `timeoutMs`). */
  next(pred: Predicate = () => true, timeoutMs = 3000): Promise<p4.v1.StreamMessageResponse> {
    const i = this.queue.findIndex(pred);
    if (i >= 0) {
      const [m] = this.queue.splice(i, 1);
      if (m) return Promise.resolve(m);
    }
    if (this.endStatus) return Promise.reject(new Error(`stream already ended (code ${this.endStatus.code}: ${this.endStatus.details})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`no matching stream message within ${timeoutMs} ms (queued: ${this.queue.map((m) => m.update).join(', ') || 'none'})`));
      }, timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  /** Next arbitration update. */
  nextArbitration(timeoutMs?: number): Promise<p4.v1.MasterArbitrationUpdate> {
    return this.next((m) => m.update === 'arbitration', timeoutMs).then((m) => m.arbitration as p4.v1.MasterArbitrationUpdate);
  }

  /** Messages of a kind currently queued (not yet taken by `next`). */
  queued(kind: string): p4.v1.StreamMessageResponse[] {
    return this.queue.filter((m) => m.update === kind);
  }

  /** Resolves with the final status when the server ends the stream. */
  ended(): Promise<RpcOutcome> {
    if (this.endStatus) return Promise.resolve(this.endStatus);
    return new Promise((r) => this.endWaiters.push(r));
  }

  /** Whether the stream has ended. */
  get isEnded(): boolean {
    return this.endStatus !== null;
  }

  /** Cancels the call from the client side. */
  cancel(): void {
    this.call.cancel();
  }
}

/** The status code names, for readable assertions. */
export { GrpcStatus };
