/**
 * One StreamChannel: arbitration messages (a failed arbitration terminates the stream with its
 * code, as the spec requires), packet-out into the data plane, digest acks; and the server's side:
 * arbitration updates, packet-in, digest lists, idle-timeout notifications, stream errors.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { fromUint128, toBigInt } from 'p4runtime-ts/proto';
import type { LongLike, p4 } from 'p4runtime-ts/proto';
import { GrpcStatus } from '../p4rt/status.js';
import type { Decoded } from '../p4rt/service-definition.js';
import type { Arbiter } from './arbitration.js';
import type { ClosableSession, SimDevice } from './sim-device.js';

type Call = ServerDuplexStream<Decoded<p4.v1.StreamMessageRequest>, p4.v1.StreamMessageResponse.$Properties>;

function updateKind(m: p4.v1.StreamMessageRequest.$Properties): string | undefined {
  const declared = (m as { update?: string }).update;
  if (declared) return declared;
  for (const k of ['arbitration', 'packet', 'digestAck', 'other'] as const) if (m[k] != null) return k;
  return undefined;
}

/** The server side of one StreamChannel call. */
export class StreamSession implements ClosableSession {
  readonly sessionId: number;
  private closed = false;
  private deviceId: bigint | null = null;
  private arbiter: Arbiter | null = null;

  constructor(
    private readonly dev: SimDevice,
    private readonly call: Call,
  ) {
    this.sessionId = dev.newSessionId();
    dev.sessions.add(this);
    call.on('data', (d: Decoded<p4.v1.StreamMessageRequest>) => this.onData(d));
    call.on('end', () => {
      // The client half-closed: finish our side with OK.
      if (!this.closed) {
        this.cleanup();
        call.end();
      }
    });
    call.on('cancelled', () => this.cleanup());
    call.on('close', () => this.cleanup());
    call.on('error', () => this.cleanup());
  }

  send(message: p4.v1.StreamMessageResponse.$Properties): void {
    if (this.closed) return;
    try {
      this.call.write(message);
    } catch (e) {
      this.dev.logger.debug('stream write failed; closing', { session: this.sessionId, error: e instanceof Error ? e.message : String(e) });
      this.cleanup();
    }
  }

  /** Terminates the stream with a status (arbitration errors, faults, restart, stop). */
  close(code: GrpcStatus, message: string): void {
    if (this.closed) return;
    this.cleanup();
    this.call.emit('error', { code, details: message });
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.dev.sessions.delete(this);
    this.arbiter?.remove(this);
  }

  private streamError(code: GrpcStatus, message: string, details: Partial<p4.v1.StreamError.$Properties>): void {
    if (!this.dev.profile.streamErrors) return;
    this.send({ error: { canonicalCode: code, message, ...details } });
  }

  private onData(d: Decoded<p4.v1.StreamMessageRequest>): void {
    if (this.closed) return;
    if (!d.ok) {
      this.close(GrpcStatus.INVALID_ARGUMENT, `${d.error}; send a valid p4.v1.StreamMessageRequest`);
      return;
    }
    const m = d.value;
    switch (updateKind(m)) {
      case 'arbitration':
        this.onArbitration(m.arbitration ?? {});
        return;
      case 'packet':
        this.onPacketOut(m.packet ?? {});
        return;
      case 'digestAck':
        this.onDigestAck(m.digestAck ?? {});
        return;
      case 'other':
        this.streamError(GrpcStatus.UNIMPLEMENTED, 'StreamMessageRequest.other is not supported by the sim', { other: { other: m.other ?? {} } });
        return;
      default:
        this.streamError(GrpcStatus.INVALID_ARGUMENT, 'empty StreamMessageRequest: set arbitration, packet or digest_ack', { other: {} });
    }
  }

  private onArbitration(a: p4.v1.MasterArbitrationUpdate.$Properties): void {
    const deviceId = toBigInt(a.deviceId as LongLike);
    if (this.deviceId !== null && deviceId !== this.deviceId) {
      const msg = this.dev.profile.dialect === 'pi' ? 'Invalid device id' : `device id ${deviceId} differs from this stream's device id ${this.deviceId}; open another stream for another device`;
      this.close(GrpcStatus.FAILED_PRECONDITION, msg);
      return;
    }
    const arbiter = this.dev.arbiterFor(deviceId);
    if (!arbiter) {
      this.close(GrpcStatus.NOT_FOUND, this.dev.unknownDevice(deviceId));
      return;
    }
    const outcome = arbiter.update(this, {
      deviceId,
      role: this.dev.profile.arbitration === 'spec' ? (a.role?.name ?? '') : '',
      roleConfig: this.dev.profile.arbitration === 'spec' ? (a.role?.config ?? null) : null,
      electionId: a.electionId != null ? fromUint128(a.electionId) : null,
    });
    if (!outcome.ok) {
      this.close(outcome.code, outcome.message);
      return;
    }
    this.deviceId = deviceId;
    this.arbiter = arbiter;
  }

  private onPacketOut(po: p4.v1.PacketOut.$Properties): void {
    if (!this.arbiter) {
      this.streamError(GrpcStatus.PERMISSION_DENIED, 'PacketOut before arbitration: send a MasterArbitrationUpdate first', { packetOut: { packetOut: po } });
      return;
    }
    if (!this.arbiter.isPrimary(this)) {
      this.streamError(GrpcStatus.PERMISSION_DENIED, this.dev.msgs.notPrimary('only the primary controller may send PacketOut'), { packetOut: { packetOut: po } });
      return;
    }
    const dp = this.deviceId === this.dev.deviceId ? this.dev.dataplane : null;
    if (!dp) {
      this.streamError(GrpcStatus.FAILED_PRECONDITION, this.dev.msgs.noPipeline(), { packetOut: { packetOut: po } });
      return;
    }
    const rejected = dp.packetOut(po);
    if (rejected) this.streamError(GrpcStatus.INVALID_ARGUMENT, rejected.message, { packetOut: { packetOut: po } });
  }

  private onDigestAck(ack: p4.v1.DigestListAck.$Properties): void {
    const id = ack.digestId ?? 0;
    const p = this.dev.committed;
    if (!this.arbiter || !p) return;
    if (!p.index.digests.has(id)) {
      this.streamError(GrpcStatus.INVALID_ARGUMENT, `DigestListAck names digest id ${id}, which is not a digest in the P4Info`, { digestListAck: { digestListAck: ack } });
      return;
    }
    this.dev.digests.ack(id, toBigInt(ack.listId as LongLike));
  }
}
