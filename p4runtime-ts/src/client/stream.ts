/**
 * The StreamChannel's messages as RxJS Observables, decoded by name: packet-in (metadata by field
 * name), digest lists (members by name, acked automatically after delivery), idle-timeout
 * notifications (entries by name), and stream errors. Each message is decoded once and shared by
 * every subscriber; the observables are hot and survive reconnects of the underlying stream.
 */
import { Subject, filter } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import { GRPC_CODE_NAMES, P4RuntimeError, grpcCodeName } from '../errors.js';
import type { GrpcCodeName } from '../errors.js';
import type { ValueInput } from '../codec/index.js';
import type { Logger } from '../logger.js';
import { toBigInt, toLong } from '../proto/index.js';
import type { LongLike, p4 } from '../proto/index.js';
import type { ControllerHeaderInfo, P4Schema } from '../schema/index.js';
import type { ArbitrationSession } from './arbitration.js';
import { decodeDigestData, decodePacketMetadata, decodeTableEntry } from './entity-codec.js';
import { EncodedPacketIn } from './encoded-packet-in.js';
import { decodePacketIn, encodePacketOut } from './packet-metadata.js';
import type { TableEntryRead } from './entity-codec.js';

/** A packet sent to the controller. */
export interface PacketIn {
  readonly payload: Uint8Array;
  /** packet_in metadata by field name (`#<id>` for ids the P4Info does not declare). */
  readonly metadata: Readonly<Record<string, bigint>>;
}

/** One DigestList, decoded. */
export interface DigestList {
  /** The digest's full P4Info name. */
  readonly digest: string;
  readonly digestId: number;
  readonly listId: bigint;
  readonly timestampNs: bigint;
  /** One record per digest message, values by member name. */
  readonly entries: ReadonlyArray<Readonly<Record<string, bigint>>>;
}

/** One IdleTimeoutNotification, decoded. */
export interface IdleTimeoutNotice {
  readonly timestampNs: bigint;
  readonly entries: readonly TableEntryRead[];
}

/** A StreamError from the target, or a message we could not decode (`kind: 'decode'`). */
export interface StreamErrorEvent {
  readonly kind: 'packetOut' | 'digestAck' | 'other' | 'decode';
  readonly code: GrpcCodeName;
  readonly message: string;
  readonly space?: string;
  readonly targetCode?: number;
  /** The P4RuntimeError of a decode failure. */
  readonly error?: P4RuntimeError;
}

/** The names of the controller headers (P4 `@controller_header("packet_in")` convention). */
const PACKET_IN = 'packet_in';
const PACKET_OUT = 'packet_out';
const NO_METADATA: Readonly<Record<string, ValueInput>> = Object.freeze({});

/** Whether `o` has an own enumerable key (Object.keys(o).length > 0, without the array). */
function hasOwnKeys(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

/** Fans the stream's messages out into decoded observables. */
export class StreamMessages {
  private readonly packetIns = new Subject<PacketIn>();
  private readonly digestLists = new Subject<DigestList>();
  private readonly idleTimeouts = new Subject<IdleTimeoutNotice>();
  private readonly errors = new Subject<StreamErrorEvent>();
  private readonly sub: Subscription;
  private outSchema: P4Schema | undefined;
  private outHeader: ControllerHeaderInfo | undefined;

  /** Every packet-in. */
  readonly packetIn$: Observable<PacketIn> = this.packetIns.asObservable();
  /** Every digest list of every digest. */
  readonly digestLists$: Observable<DigestList> = this.digestLists.asObservable();
  /** Every idle-timeout notification. */
  readonly idleTimeouts$: Observable<IdleTimeoutNotice> = this.idleTimeouts.asObservable();
  /** Stream errors from the target, and messages that could not be decoded. */
  readonly streamErrors$: Observable<StreamErrorEvent> = this.errors.asObservable();

  constructor(
    private readonly session: ArbitrationSession,
    private readonly schema: () => P4Schema | undefined,
    private readonly autoAck: boolean,
    private readonly logger: Logger,
  ) {
    this.sub = session.messages$.subscribe({
      next: (m) => this.dispatch(m),
      complete: () => this.complete(),
    });
  }

  /** The digest lists of one digest. */
  digests$(digestId: number): Observable<DigestList> {
    return this.digestLists$.pipe(filter((d) => d.digestId === digestId));
  }

  /** Sends a packet to the data plane with packet_out metadata by field name. */
  packetOut(payload: Uint8Array, metadata: Readonly<Record<string, ValueInput>> = NO_METADATA): void {
    // Written straight to the wire (packet-metadata.ts): the in-band path sends one per request.
    this.session.sendEncoded(encodePacketOut(hasOwnKeys(metadata) ? this.packetOutHeader() : undefined, payload, metadata));
  }

  /** packet_out's header, looked up once per bound schema; undefined without a schema. */
  private packetOutHeader(): ControllerHeaderInfo | undefined {
    const schema = this.schema();
    if (schema !== this.outSchema || this.outHeader === undefined) {
      const header = schema?.controllerHeader(PACKET_OUT);
      this.outSchema = schema;
      this.outHeader = header;
    }
    return this.outHeader;
  }

  /** Acks a digest list (done automatically unless `autoAckDigests` is false). */
  ackDigest(digestId: number, listId: bigint): void {
    this.session.send({ digestAck: { digestId, listId: toLong(listId) } });
  }

  /** Stops dispatching and completes the observables. */
  close(): void {
    this.sub.unsubscribe();
    this.complete();
  }

  private complete(): void {
    this.packetIns.complete();
    this.digestLists.complete();
    this.idleTimeouts.complete();
    this.errors.complete();
  }

  private dispatch(m: p4.v1.StreamMessageResponse): void {
    try {
      if (m.packet) this.onPacket(m.packet);
      else if (m.digest) this.onDigest(m.digest);
      else if (m.idleTimeoutNotification) this.onIdle(m.idleTimeoutNotification);
      else if (m.error) this.onError(m.error);
    } catch (e) {
      const err = P4RuntimeError.from(e, 'decoding a stream message');
      this.logger.warn('stream message not decoded', { code: err.code, message: err.message });
      const code = (GRPC_CODE_NAMES as readonly string[]).includes(err.code) ? (err.code as GrpcCodeName) : 'INVALID_ARGUMENT';
      this.errors.next({ kind: 'decode', code, message: err.message, error: err });
    }
  }

  private packetInHeader(): ControllerHeaderInfo | undefined {
    const s = this.schema();
    return s?.find('controller_header', PACKET_IN) as ControllerHeaderInfo | undefined;
  }

  private onPacket(p: p4.v1.PacketIn.$Properties): void {
    // From the gRPC transport a packet-in is still encoded: decoded by name straight from the bytes.
    if (p instanceof EncodedPacketIn) this.packetIns.next(decodePacketIn(this.packetInHeader(), p.buf, p.start, p.end));
    else this.packetIns.next({ payload: p.payload ?? new Uint8Array(), metadata: decodePacketMetadata(this.packetInHeader(), p.metadata) });
  }

  private onDigest(d: p4.v1.DigestList.$Properties): void {
    const digestId = d.digestId ?? 0;
    const listId = toBigInt(d.listId as LongLike);
    try {
      const schema = this.schema();
      if (!schema) throw new P4RuntimeError('FAILED_PRECONDITION', `digest list ${listId} (digest id ${digestId}) arrived before a P4Info was bound; it cannot be decoded`);
      const info = schema.digest(digestId);
      this.digestLists.next({
        digest: info.name,
        digestId,
        listId,
        timestampNs: toBigInt(d.timestamp as LongLike, true),
        entries: (d.data ?? []).map((x) => decodeDigestData(info, x)),
      });
    } finally {
      // Ack even when decoding failed: an un-acked list blocks the target from sending more.
      if (this.autoAck) {
        try {
          this.ackDigest(digestId, listId);
        } catch (e) {
          this.logger.warn('digest ack not sent', { digestId, listId, message: (e as Error).message });
        }
      }
    }
  }

  private onIdle(n: p4.v1.IdleTimeoutNotification.$Properties): void {
    const schema = this.schema();
    if (!schema) throw new P4RuntimeError('FAILED_PRECONDITION', 'idle-timeout notification arrived before a P4Info was bound; it cannot be decoded');
    this.idleTimeouts.next({ timestampNs: toBigInt(n.timestamp as LongLike, true), entries: (n.tableEntry ?? []).map((te) => decodeTableEntry(schema, te)) });
  }

  private onError(e: p4.v1.StreamError.$Properties): void {
    const kind = e.packetOut ? 'packetOut' : e.digestListAck ? 'digestAck' : 'other';
    const ev: { -readonly [K in keyof StreamErrorEvent]: StreamErrorEvent[K] } = { kind, code: grpcCodeName(e.canonicalCode ?? 2), message: e.message ?? '' };
    if (e.space) ev.space = e.space;
    if (e.code) ev.targetCode = e.code;
    this.errors.next(ev);
  }
}
