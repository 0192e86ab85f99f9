/**
 * TEST DOUBLE — not a switch. A minimal P4Runtime gRPC server on 127.0.0.1:0 with just enough
 * semantics to exercise the client over real gRPC until the sim's spec-conformant switch exists:
 * arbitration (BMv2's "highest connected election id is primary", duplicate id rejected), pipeline
 * set/get with cookie, Write on exact-match tables (BMv2's error shape: UNKNOWN plus one p4.v1.Error
 * per update in `grpc-status-details-bin`), Read of tables, registers, counters and direct counters
 * (wildcards included), packet-out echoed as packet-in, and digests / idle-timeout notifications
 * sent on demand. It knows nothing about P4 semantics beyond ids and sizes from the P4Info; the
 * entities live in FakeEntityStore (fake-entity-store.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { google, p4, fromUint128, toBigInt, toLong, toUint128 } from '../../proto/index.js';
import type { LongLike } from '../../proto/index.js';
import { P4RUNTIME_SERVICE_DEFINITION } from '../service.js';
import { FakeEntityStore } from './fake-entity-store.js';

type StreamCall = grpc.ServerDuplexStream<p4.v1.StreamMessageRequest, p4.v1.StreamMessageResponse.$Properties>;

interface Controller {
  readonly call: StreamCall;
  deviceId: bigint;
  role: string;
  electionId: bigint;
}

/** Options of the test double. */
export interface FakeP4RuntimeServerOptions {
  readonly deviceId?: bigint;
  /** TLS: server key/cert; with `clientCa`, client certificates are required (mTLS). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer };
  /** Entities per ReadResponse message, to exercise multi-message reads. */
  readonly readChunk?: number;
  /** Clock for idle-time reads. */
  readonly now?: () => number;
}

const OK = 0;
const UNKNOWN = 2;
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const UNIMPLEMENTED = 12;

function serviceError(code: number, details: string, status?: google.rpc.Status.$Properties): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (status) metadata.set('grpc-status-details-bin', Buffer.from(google.rpc.Status.encode(status).finish()));
  return { code, details, metadata };
}

/** Ends a streaming call with a status (grpc-js turns an emitted error into the call's status). */
function endWith(call: { emit(event: 'error', e: unknown): boolean }, code: number, details: string): void {
  call.emit('error', Object.assign(new Error(details), { code, details }));
}

/** The test double; `start()` it, use `address`, `stop()` it. */
export class FakeP4RuntimeServer {
  private readonly server = new grpc.Server();
  private readonly controllers = new Set<Controller>();
  private readonly store = new FakeEntityStore(() => this.now());
  private readonly ackWaiters: Array<(ack: p4.v1.DigestListAck.$Properties) => void> = [];
  private p4info: p4.config.v1.P4Info | undefined;
  private deviceConfig: Uint8Array = new Uint8Array();
  private cookie: bigint | undefined;
  private port = 0;

  readonly deviceId: bigint;
  /** Every WriteRequest received, in order. */
  readonly writes: p4.v1.WriteRequest[] = [];
  /** Every SetForwardingPipelineConfig received. */
  readonly pipelineSets: p4.v1.SetForwardingPipelineConfigRequest[] = [];
  /** Digest acks received. */
  readonly acks: p4.v1.DigestListAck.$Properties[] = [];
  /** Digest configurations written (DigestEntry), by digest id. */
  readonly digestConfigs = this.store.digestConfigs;
  /** ReadResponse messages sent, over all reads. */
  readResponses = 0;
  /** Packet-outs received. */
  readonly packetOuts: p4.v1.PacketOut.$Properties[] = [];

  constructor(private readonly options: FakeP4RuntimeServerOptions = {}) {
    this.deviceId = options.deviceId ?? 1n;
    this.server.addService(P4RUNTIME_SERVICE_DEFINITION, {
      Capabilities: (_call: unknown, cb: grpc.sendUnaryData<p4.v1.CapabilitiesResponse.$Properties>) => cb(null, { p4runtimeApiVersion: '1.3.0' }),
      Write: (call: grpc.ServerUnaryCall<p4.v1.WriteRequest, unknown>, cb: grpc.sendUnaryData<object>) => this.onWrite(call.request, cb),
      Read: (call: grpc.ServerWritableStream<p4.v1.ReadRequest, p4.v1.ReadResponse.$Properties>) => this.onRead(call),
      SetForwardingPipelineConfig: (call: grpc.ServerUnaryCall<p4.v1.SetForwardingPipelineConfigRequest, unknown>, cb: grpc.sendUnaryData<object>) =>
        this.onSetPipeline(call.request, cb),
      GetForwardingPipelineConfig: (call: grpc.ServerUnaryCall<p4.v1.GetForwardingPipelineConfigRequest, unknown>, cb: grpc.sendUnaryData<p4.v1.GetForwardingPipelineConfigResponse.$Properties>) =>
        this.onGetPipeline(call.request, cb),
      StreamChannel: (call: StreamCall) => this.onStream(call),
    });
  }

  /** `127.0.0.1:<port>` once started. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Binds to 127.0.0.1 on an ephemeral port. */
  async start(): Promise<this> {
    const t = this.options.tls;
    const creds = t
      ? grpc.ServerCredentials.createSsl(t.clientCa ?? null, [{ private_key: t.key, cert_chain: t.cert }], t.clientCa !== undefined)
      : grpc.ServerCredentials.createInsecure();
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port)));
    });
    return this;
  }

  /** Stops at once, breaking every call. */
  stop(): void {
    this.server.forceShutdown();
  }

  /** The election ids of the connected controllers, for assertions. */
  connectedElectionIds(): bigint[] {
    return [...this.controllers].map((c) => c.electionId).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Breaks every StreamChannel with UNAVAILABLE, as a network failure would. */
  breakStreams(): void {
    for (const c of [...this.controllers]) {
      this.controllers.delete(c);
      endWith(c.call, grpc.status.UNAVAILABLE, 'connection reset (test double)');
    }
  }

  /** Sends a DigestList to the primary; resolves with its ack. */
  sendDigest(digestId: number, listId: bigint, data: p4.v1.P4Data.$Properties[]): Promise<p4.v1.DigestListAck.$Properties> {
    const acked = new Promise<p4.v1.DigestListAck.$Properties>((resolve) => {
      const waiter = (ack: p4.v1.DigestListAck.$Properties): void => {
        if (ack.digestId === digestId && toBigInt(ack.listId as LongLike) === listId) resolve(ack);
        else this.ackWaiters.push(waiter);
      };
      this.ackWaiters.push(waiter);
    });
    this.toPrimary({ digest: { digestId, listId: toLong(listId), data, timestamp: toLong(BigInt(this.now()) * 1_000_000n, true) } });
    return acked;
  }

  /** Sends an IdleTimeoutNotification for stored entries of `tableId` (all of them by default). */
  sendIdleTimeout(tableId: number, filter: (e: p4.v1.TableEntry.$Properties) => boolean = () => true): number {
    const entries = this.store.entries(tableId).filter(filter);
    this.toPrimary({ idleTimeoutNotification: { tableEntry: entries, timestamp: toLong(BigInt(this.now()) * 1_000_000n, true) } });
    return entries.length;
  }

  /** Sends a StreamError to every controller. */
  sendStreamError(err: p4.v1.StreamError.$Properties): void {
    for (const c of this.controllers) c.call.write({ error: err });
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private primaryOf(deviceId: bigint, role: string): Controller | undefined {
    let best: Controller | undefined;
    for (const c of this.controllers) {
      if (c.deviceId === deviceId && c.role === role && (!best || c.electionId > best.electionId)) best = c;
    }
    return best;
  }

  private toPrimary(msg: p4.v1.StreamMessageResponse.$Properties): void {
    const p = this.primaryOf(this.deviceId, '');
    if (!p) throw new Error('test double: no primary connected to send to');
    p.call.write(msg);
  }

  private isPrimary(deviceId: LongLike | null | undefined, electionId: p4.v1.Uint128.$Properties | null | undefined, role: string | null | undefined): boolean {
    const p = this.primaryOf(toBigInt(deviceId), role ?? '');
    return p !== undefined && electionId != null && p.electionId === fromUint128(electionId);
  }

  private notify(c: Controller, primary: Controller | undefined): void {
    const isPrimary = c === primary;
    c.call.write({
      arbitration: {
        deviceId: toLong(c.deviceId),
        role: c.role === '' ? null : { name: c.role },
        electionId: toUint128(primary?.electionId ?? 0n),
        status: isPrimary ? { code: OK, message: 'Is primary' } : { code: ALREADY_EXISTS, message: 'Is backup' },
      },
    });
  }

  private onStream(call: StreamCall): void {
    let me: Controller | undefined;
    const leave = (): void => {
      if (!me || !this.controllers.has(me)) return;
      const before = this.primaryOf(me.deviceId, me.role);
      this.controllers.delete(me);
      const after = this.primaryOf(me.deviceId, me.role);
      if (after && after !== before) for (const c of this.controllers) if (c.deviceId === me.deviceId && c.role === me.role) this.notify(c, after);
    };
    call.on('data', (msg: p4.v1.StreamMessageRequest) => {
      if (msg.arbitration) {
        const a = msg.arbitration;
        const deviceId = toBigInt(a.deviceId as LongLike);
        const role = a.role?.name ?? '';
        const electionId = fromUint128(a.electionId);
        if (deviceId !== this.deviceId) {
          endWith(call, NOT_FOUND, `Invalid device id ${deviceId}`);
          return;
        }
        for (const c of this.controllers) {
          if (c !== me && c.deviceId === deviceId && c.role === role && c.electionId === electionId) {
            endWith(call, INVALID_ARGUMENT, 'Election id already exists');
            return;
          }
        }
        const before = this.primaryOf(deviceId, role);
        if (!me) {
          me = { call, deviceId, role, electionId };
          this.controllers.add(me);
        } else me.electionId = electionId;
        const after = this.primaryOf(deviceId, role);
        if (after !== before) {
          for (const c of this.controllers) if (c.deviceId === deviceId && c.role === role) this.notify(c, after);
        } else this.notify(me, after);
        return;
      }
      if (!me) return;
      if (msg.packet) {
        this.packetOuts.push(msg.packet);
        call.write({ packet: { payload: msg.packet.payload, metadata: this.outToInMetadata(msg.packet.metadata ?? []) } });
      } else if (msg.digestAck) {
        this.acks.push(msg.digestAck);
        const waiters = this.ackWaiters.splice(0);
        for (const w of waiters) w(msg.digestAck);
      }
    });
    call.on('end', () => {
      leave();
      call.end();
    });
    call.on('error', () => leave());
    call.on('cancelled', () => leave());
    call.on('close', () => leave());
  }

  /** Maps packet_out metadata ids to the packet_in ids of the same names (PSA/v1model convention). */
  private outToInMetadata(md: p4.v1.PacketMetadata.$Properties[]): p4.v1.PacketMetadata.$Properties[] {
    const headers = this.p4info?.controllerPacketMetadata ?? [];
    const out = headers.find((h) => h.preamble?.name === 'packet_out');
    const inn = headers.find((h) => h.preamble?.name === 'packet_in');
    if (!out || !inn) return md;
    // Same name first (e.g. `reason`), else same id (egress_port comes back as ingress_port).
    return md.flatMap((m) => {
      const name = (out.metadata ?? []).find((x) => x.id === m.metadataId)?.name;
      const target = (inn.metadata ?? []).find((x) => x.name === name) ?? (inn.metadata ?? []).find((x) => x.id === m.metadataId);
      return target ? [{ metadataId: target.id, value: m.value }] : [];
    });
  }

  private onSetPipeline(req: p4.v1.SetForwardingPipelineConfigRequest, cb: grpc.sendUnaryData<object>): void {
    if (!this.isPrimary(req.deviceId, req.electionId, req.role)) return cb(serviceError(PERMISSION_DENIED, 'Not primary'));
    this.pipelineSets.push(req);
    if (req.action !== p4.v1.SetForwardingPipelineConfigRequest.Action.VERIFY_AND_COMMIT) return cb(serviceError(UNIMPLEMENTED, 'only VERIFY_AND_COMMIT in the test double'));
    this.p4info = req.config?.p4info ? p4.config.v1.P4Info.fromObject(req.config.p4info) : undefined;
    this.deviceConfig = req.config?.p4DeviceConfig ?? new Uint8Array();
    this.cookie = req.config?.cookie ? toBigInt(req.config.cookie.cookie as LongLike) : undefined;
    this.store.reset(this.p4info);
    cb(null, {});
  }

  private onGetPipeline(req: p4.v1.GetForwardingPipelineConfigRequest, cb: grpc.sendUnaryData<p4.v1.GetForwardingPipelineConfigResponse.$Properties>): void {
    if (!this.p4info) return cb(serviceError(FAILED_PRECONDITION, 'No forwarding pipeline config set for this device'));
    const T = p4.v1.GetForwardingPipelineConfigRequest.ResponseType;
    const rt = req.responseType ?? T.ALL;
    cb(null, {
      config: {
        p4info: rt === T.ALL || rt === T.P4INFO_AND_COOKIE ? this.p4info : null,
        p4DeviceConfig: rt === T.ALL || rt === T.DEVICE_CONFIG_AND_COOKIE ? this.deviceConfig : new Uint8Array(),
        cookie: this.cookie === undefined ? null : { cookie: toLong(this.cookie) },
      },
    });
  }

  private onWrite(req: p4.v1.WriteRequest, cb: grpc.sendUnaryData<object>): void {
    this.writes.push(req);
    if (!this.isPrimary(req.deviceId, req.electionId, req.role)) return cb(serviceError(PERMISSION_DENIED, 'Not primary'));
    if (!this.p4info) return cb(serviceError(FAILED_PRECONDITION, 'No forwarding pipeline config set for this device'));
    if ((req.atomicity ?? 0) !== 0) return cb(serviceError(UNIMPLEMENTED, 'Support for atomic write modes has not been implemented yet'));
    const results = req.updates.map((u) => this.store.apply(u));
    if (results.every((r) => r.canonicalCode === OK)) return cb(null, {});
    const details = results.map((r) => ({
      type_url: 'type.googleapis.com/p4.v1.Error',
      value: p4.v1.Error.encode(r).finish(),
    }));
    cb(serviceError(UNKNOWN, 'Write failure.', { code: UNKNOWN, message: 'Write failure.', details }));
  }

  private onRead(call: grpc.ServerWritableStream<p4.v1.ReadRequest, p4.v1.ReadResponse.$Properties>): void {
    if (!this.p4info) {
      endWith(call, FAILED_PRECONDITION, 'No forwarding pipeline config set for this device');
      return;
    }
    const all = call.request.entities.flatMap((e) => this.store.read(e as p4.v1.Entity));
    const chunk = this.options.readChunk ?? 1000;
    for (let i = 0; i < all.length; i += chunk) {
      this.readResponses += 1;
      call.write({ entities: all.slice(i, i + chunk) });
    }
    call.end();
  }
}
