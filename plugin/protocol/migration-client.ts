/**
 * A DeviceApi that calls a plugin over the migration protocol (gRPC, mutual TLS), so the
 * controller's MigrationEngine — or a source plugin sending state peer to peer — works unchanged
 * over the network. Each migration call carries the ticket `ticket(m)` returns. Failures come back
 * as the DeviceApiFailure the server raised (its reason travels in the `carryover-reason`
 * trailer); a peer that cannot be reached is DEVICE_UNREACHABLE, a refused certificate
 * UNAUTHORIZED.
 *
 * @example
 * const dst = connectMigrationPeer({ address: 'edge-2.dc-a:50051', name: 'edge-2', tls: { ca, cert, key }, ticket: () => ticket });
 * const caps = await dst.capabilities();
 */
import { Client, Metadata, credentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import type { AbortOptions, DeviceApi, DeviceCapabilities, ExportDeltasOptions, FootprintOptions, ImportResult, MigrationRef, StateBatch, VmFootprint } from '../device-api/device-api.js';
import type { TransferProgress, TransferRequest } from '../device-api/peer-transfer.js';
import { DeviceApiFailure } from '../device-api/migration-sessions.js';
import { EdgePluginError } from '../errors.js';
import type { MigrationTicket } from '../security/migration-ticket.js';
import { batchFromWire, batchToWire, bigintToWire, capabilitiesFromWire, countersToWire, deleteResultFromWire, importResultFromWire, progressFromWire, refToWire, ticketToWire, transferToWire } from './codec.js';
import type { TransferTarget } from './codec.js';
import { footprintFromWire } from './footprint-codec.js';
import { statusToFailure } from './status.js';
import { diagnoseTls } from './tls-diagnosis.js';
import { loadMutualTls, tlsIdentityProblem } from './tls-material.js';
import type { LoadedTls, MutualTls } from './tls-material.js';
import { PROTOCOL_VERSION, decodeWire, encodeWire, methodPath, methodTypes } from './wire.js';
import type { MigrationMethod, WireMessage } from './wire.js';

/** Options of connectMigrationPeer. */
export interface MigrationClientOptions {
  /** `host:port` of the plugin's migration protocol. */
  readonly address: string;
  /** The device's name, for messages (default: the address). */
  readonly name?: string;
  readonly tls: MutualTls;
  /** The ticket to present with each call of migration `m` (the coordinator issued it). */
  readonly ticket: (m: MigrationRef) => MigrationTicket;
  /** Deadline of each unary call. Default 30 s. */
  readonly callTimeoutMs?: number;
  /** Largest message sent or accepted. Default 64 MiB. */
  readonly maxMessageBytes?: number;
}

/** The shortest wait between two ticket renewals of a running Transfer. */
const RENEW_MIN_MS = 250;

/** Defaults of the optional options. */
export const DEFAULT_MIGRATION_CLIENT_OPTIONS = Object.freeze({ callTimeoutMs: 30_000, maxMessageBytes: 64 * 1024 * 1024 });

/** A remote device: the DeviceApi, and closing its channel. */
export interface RemoteDeviceApi extends DeviceApi {
  readonly address: string;
  /** Always offered here: a peer that predates PauseDelta gives an empty batch (everything comes with the final delta). */
  pauseDelta(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch>;
  /** Always offered here: a peer that predates FreezeFinal is sent Freeze, then FinalDelta. */
  freezeFinal(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch>;
  /** Always offered here: a peer that predates Footprint gives undefined (it cannot tell). */
  footprint(vm: string, o?: FootprintOptions): Promise<VmFootprint | undefined>;
  /** Always offered here: a peer that predates ImportActivate is sent ImportStaged, then Activate. */
  importActivate(m: MigrationRef, batch: StateBatch): Promise<ImportResult>;
  /** Always offered here: a peer that predates Committed is not told (it keeps its record until the VM moves on). */
  committed(m: MigrationRef): Promise<void>;
  /** Peer to peer: asks this device (a source) to send the migration's state straight to `targets`. */
  transfer(m: MigrationRef, request: TransferRequest, targets: readonly TransferTarget[]): Observable<TransferProgress>;
  /** The protocol version the peer reported in its last capabilities answer (undefined before). */
  readonly peerProtocolVersion: number | undefined;
  close(): void;
}

class RemoteDevice implements RemoteDeviceApi {
  private readonly client: Client;
  private readonly name: string;
  private readonly timeoutMs: number;
  /** Methods the peer answered UNIMPLEMENTED (it predates them): their two-call form is used instead. */
  private readonly predates = new Set<MigrationMethod>();
  private readonly tls: LoadedTls;
  peerProtocolVersion: number | undefined;

  constructor(private readonly o: MigrationClientOptions) {
    const tls = loadMutualTls(o.tls, 'MigrationClientOptions.tls');
    this.tls = tls;
    const max = o.maxMessageBytes ?? DEFAULT_MIGRATION_CLIENT_OPTIONS.maxMessageBytes;
    this.name = o.name ?? o.address;
    this.timeoutMs = o.callTimeoutMs ?? DEFAULT_MIGRATION_CLIENT_OPTIONS.callTimeoutMs;
    if (!(Number.isInteger(this.timeoutMs) && this.timeoutMs > 0)) throw new EdgePluginError('BAD_OPTIONS', `MigrationClientOptions.callTimeoutMs: expected a positive integer, got ${String(o.callTimeoutMs)}`);
    this.client = new Client(o.address, credentials.createSsl(tls.ca, tls.key, tls.cert), {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
      // A restarted daemon is reached within 2 s, not after grpc-js' backoff of up to 120 s: a
      // rollback retrying it holds a frozen source meanwhile (walkthrough 15: 3.6–9.6 s late).
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2_000,
      ...(tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {}),
    });
  }

  get address(): string {
    return this.o.address;
  }

  private call(method: MigrationMethod, req: WireMessage): Promise<WireMessage> {
    const { request, response } = methodTypes(method);
    const what = `device ${this.name}: ${method}`;
    return new Promise((resolve, reject) => {
      let payload: Buffer;
      try {
        payload = encodeWire(request, req);
      } catch (e) {
        reject(e instanceof DeviceApiFailure ? e : new DeviceApiFailure('PEER_REJECTED', `${what}: the request does not encode: ${(e as Error).message}`, { cause: e }));
        return;
      }
      this.client.makeUnaryRequest(
        methodPath(method),
        (b: Buffer) => b,
        (b: Buffer) => decodeWire(response, b),
        payload,
        new Metadata(),
        // A snapshot may scan the whole slot group while the plugin's index is still being reconciled.
        { deadline: Date.now() + (String(method) === 'ExportSnapshot' ? 4 * this.timeoutMs : this.timeoutMs) },
        (err: ServiceError | null, res?: WireMessage) => (err || !res ? this.explain(statusToFailure(err, what), what).then(reject) : resolve(res)),
      );
    });
  }

  /**
   * A connection failure with its real cause: gRPC says only "failed to connect", so one plain
   * TLS handshake tells a refused certificate (UNAUTHORIZED) from an absent peer.
   */
  private async explain(f: DeviceApiFailure, what: string): Promise<DeviceApiFailure> {
    // The name checked is not on the daemon's certificate: a configuration matter, said as one.
    const names = /Host: (.*?)\.? is not (?:in the cert's altnames|cert's CN): (.*?)\.?(?: Resolution note:| \(gRPC|$)/.exec(f.message);
    if (names) {
      const name = this.tls.serverName ?? names[1] ?? '?';
      return new DeviceApiFailure('UNAUTHORIZED', `${what}: the daemon at ${this.o.address} presents a certificate for ${names[2] ?? '?'}, not for '${name}'${this.tls.serverName ? " (the inventory's plugin.serverName)" : ''}; set serverName to one of its names, or give the daemon a certificate with subjectAltName DNS:${name}`, { cause: f });
    }
    // Never connected: refused outright, or a deadline spent waiting for a connection (a peer that accepts TCP and says nothing).
    if (!neverConnected(f)) return f;
    const d = await diagnoseTls(this.o.address, this.tls);
    if (d.kind === 'silent') return new DeviceApiFailure('DEVICE_UNREACHABLE', `${what}: no plugin daemon answers at ${this.o.address}: ${d.message}; check that the inventory's plugin address is the daemon's migration.listen (not another service, or its P4Runtime port) and that the daemon is not hung`, { cause: f });
    if (d.kind === 'refused') {
      // Our own certificate not made for clients (a daemon's, sending peer to peer) is the likeliest cause: say it first.
      const ours = tlsIdentityProblem(this.tls.cert, this.tls.key, 'client');
      const hint = ours ? `this side's ${ours}` : "check that both sides' certificates are valid and signed by the CA the other trusts";
      return new DeviceApiFailure('UNAUTHORIZED', `device ${this.name}: mutual TLS with ${this.o.address} refused: ${d.message}; ${hint}`, { cause: f });
    }
    // gRPC's own text repeats the socket error; the diagnosis says it once.
    if (d.kind === 'unreachable') return new DeviceApiFailure('DEVICE_UNREACHABLE', `${what}: no plugin daemon answers at ${this.o.address} (${d.message}); check that it runs and that the inventory's plugin address is its migration.listen`, { cause: f });
    return f;
  }

  /** The body of a migration call: its ref and ticket (a ticket that cannot be had fails the call). */
  private scoped(m: MigrationRef, extra: WireMessage = {}): WireMessage {
    let ticket: MigrationTicket;
    try {
      ticket = this.o.ticket(m);
    } catch (e) {
      throw new DeviceApiFailure('UNAUTHORIZED', `device ${this.name}: no ticket for migration ${m.migrationId}: ${(e as Error).message}`, { cause: e });
    }
    return { ref: refToWire(m), ticket: ticketToWire(ticket), ...extra };
  }

  private async scopedCall(method: MigrationMethod, m: MigrationRef, extra: WireMessage = {}): Promise<WireMessage> {
    return this.call(method, this.scoped(m, extra));
  }

  async capabilities(): Promise<DeviceCapabilities> {
    const { capabilities, protocolVersion } = capabilitiesFromWire(await this.call('Capabilities', {}));
    if (protocolVersion !== PROTOCOL_VERSION) throw new DeviceApiFailure('PEER_REJECTED', `device ${this.name} speaks migration protocol version ${protocolVersion}; this side speaks ${PROTOCOL_VERSION}`);
    this.peerProtocolVersion = protocolVersion;
    return capabilities;
  }

  /** What the daemon holds of `vm`; undefined from a daemon that predates Footprint. */
  async footprint(vm: string, o: FootprintOptions = {}): Promise<VmFootprint | undefined> {
    const one = await this.unlessPredated('Footprint', () => this.call('Footprint', { vm, ...(o.awaitScan ? { awaitScan: true } : {}) }));
    return one ? footprintFromWire(one) : undefined;
  }

  async prepare(m: MigrationRef): Promise<void> {
    await this.scopedCall('Prepare', m);
  }

  async exportSnapshot(m: MigrationRef): Promise<StateBatch> {
    return batchFromWire(await this.scopedCall('ExportSnapshot', m));
  }

  exportDeltas(m: MigrationRef, o: ExportDeltasOptions = {}): Observable<StateBatch> {
    return this.serverStream('ExportDeltas', 'MigrationCall', () => this.scoped(m, o.reportQuiet ? { reportQuiet: true } : {}), batchFromWire);
  }

  transfer(m: MigrationRef, request: TransferRequest, targets: readonly TransferTarget[]): Observable<TransferProgress> {
    const stream = this.serverStream('Transfer', 'TransferRequest', () => this.scoped(m, transferToWire(request, targets)), progressFromWire);
    // The source presents this call's ticket to the destinations for as long as it sends: renewed
    // while the stream runs, or a pre-copy longer than a ticket's lifetime would end refused there.
    return new Observable<TransferProgress>((sub) => {
      const stopRenewing = this.renewWhileRunning(m);
      const s = stream.subscribe(sub);
      return () => {
        stopRenewing();
        s.unsubscribe();
      };
    });
  }

  /**
   * Sends the migration's current ticket (RenewTicket) when half of what is left of the last one
   * has passed: the issuer hands out a new one in the last quarter of its life. A peer that
   * predates RenewTicket keeps the Transfer's ticket. Returns the stop.
   */
  private renewWhileRunning(m: MigrationRef): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const next = (): void => {
      if (stopped || this.predates.has('RenewTicket')) return;
      let left: number;
      try {
        left = this.o.ticket(m).claims.expiresAtMs - Date.now();
      } catch {
        return;
      }
      timer = setTimeout(() => {
        // A failed renewal is tried again at the next turn; the Transfer fails on its own if the ticket runs out.
        void this.unlessPredated('RenewTicket', () => this.scopedCall('RenewTicket', m)).catch(() => undefined).finally(next);
      }, Math.max(RENEW_MIN_MS, left / 2));
      timer.unref();
    };
    next();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  /** A server-streaming call as an Observable: each message decoded, failures with their reason, unsubscribing cancels. */
  private serverStream<T>(method: MigrationMethod, requestType: string, body: () => WireMessage, decode: (msg: WireMessage) => T): Observable<T> {
    return new Observable<T>((sub) => {
      const what = `device ${this.name}: ${method}`;
      let stream: ClientReadableStream<WireMessage>;
      try {
        stream = this.client.makeServerStreamRequest(methodPath(method), (b: Buffer) => b, (b: Buffer) => decodeWire(methodTypes(method).response, b), encodeWire(requestType, body()), new Metadata(), {});
      } catch (e) {
        sub.error(statusToFailure(e, what));
        return undefined;
      }
      let done = false;
      stream.on('data', (msg: WireMessage) => {
        try {
          sub.next(decode(msg));
        } catch (e) {
          done = true;
          stream.cancel();
          sub.error(statusToFailure(e, what));
        }
      });
      stream.on('error', (e: Error) => {
        if (done) return;
        done = true;
        void this.explain(statusToFailure(e, what), what).then((f) => sub.error(f));
      });
      stream.on('end', () => {
        if (done) return;
        done = true;
        sub.complete();
      });
      return () => {
        if (!done) {
          done = true;
          stream.cancel();
        }
      };
    });
  }

  async importStaged(m: MigrationRef, batch: StateBatch): Promise<ImportResult> {
    return importResultFromWire(await this.scopedCall('ImportStaged', m, { batch: batchToWire(batch) }));
  }

  /** Not sent: the peer reads its clock when the final batch arrives (one round trip it already makes). */
  pauseStarted(_m: MigrationRef): void {}

  async freeze(m: MigrationRef): Promise<void> {
    await this.scopedCall('Freeze', m);
  }

  async pauseDelta(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch> {
    // A peer from before PauseDelta: nothing goes ahead, the final delta brings it all.
    const one = await this.unlessPredated('PauseDelta', () => this.scopedCall('PauseDelta', m, { sinceSeq: bigintToWire(sinceSeq, 'sinceSeq') }));
    return one ? batchFromWire(one) : { migrationId: m.migrationId, round: 98, slots: [], removed: [], coversSeq: { from: sinceSeq, to: sinceSeq } };
  }

  async freezeFinal(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch> {
    const one = await this.unlessPredated('FreezeFinal', () => this.scopedCall('FreezeFinal', m, { sinceSeq: bigintToWire(sinceSeq, 'sinceSeq') }));
    if (one) return batchFromWire(one);
    await this.freeze(m);
    return this.finalDelta(m, sinceSeq);
  }

  async importActivate(m: MigrationRef, batch: StateBatch): Promise<ImportResult> {
    const one = await this.unlessPredated('ImportActivate', () => this.scopedCall('ImportActivate', m, { batch: batchToWire(batch) }));
    if (one) return importResultFromWire(one);
    const r = await this.importStaged(m, batch);
    await this.activate(m);
    return r;
  }

  /** `send()`'s answer, or undefined when the peer predates `method` (UNIMPLEMENTED: it did nothing); not asked again. */
  private async unlessPredated(method: MigrationMethod, send: () => Promise<WireMessage>): Promise<WireMessage | undefined> {
    if (this.predates.has(method)) return undefined;
    try {
      return await send();
    } catch (e) {
      if ((e as { cause?: { code?: unknown } }).cause?.code !== GrpcStatus.UNIMPLEMENTED) throw e;
      this.predates.add(method);
      return undefined;
    }
  }

  async finalDelta(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch> {
    return batchFromWire(await this.scopedCall('FinalDelta', m, { sinceSeq: bigintToWire(sinceSeq, 'sinceSeq') }));
  }

  async activate(m: MigrationRef, carried?: Readonly<Record<string, { readonly packets: bigint; readonly bytes: bigint }>>): Promise<void> {
    await this.scopedCall('Activate', m, carried && Object.keys(carried).length > 0 ? { carriedCounters: countersToWire(carried) } : {});
  }

  async deleteAtSource(m: MigrationRef, graceMs: number): Promise<{ readonly deleted: number; readonly skipped: number }> {
    if (!(Number.isInteger(graceMs) && graceMs >= 0 && graceMs <= 0xffff_ffff)) throw new DeviceApiFailure('PEER_REJECTED', `device ${this.name}: graceMs ${graceMs}: expected an integer 0..2^32-1`);
    return deleteResultFromWire(await this.scopedCall('DeleteAtSource', m, { graceMs }));
  }

  async abort(m: MigrationRef, o?: AbortOptions): Promise<void> {
    await this.scopedCall('Abort', m, o?.mayBeActive === true ? { mayBeActive: true } : {});
  }

  async committed(m: MigrationRef): Promise<void> {
    // A daemon from before Committed keeps its record until the VM moves on: nothing to do.
    await this.unlessPredated('Committed', () => this.scopedCall('Committed', m));
  }

  close(): void {
    this.client.close();
  }
}

/** Whether a failed call never had a connection: refused outright, or its deadline passed while gRPC waited for one. */
export function neverConnected(f: { readonly reason: string; readonly message: string }): boolean {
  return f.reason === 'DEVICE_UNREACHABLE' && /No connection established|Failed to connect|Waiting for LB pick|Waiting for connection/i.test(f.message);
}

/** A DeviceApi for the plugin at `o.address` (the channel connects lazily, on the first call). */
export function connectMigrationPeer(o: MigrationClientOptions): RemoteDeviceApi {
  return new RemoteDevice(o);
}
