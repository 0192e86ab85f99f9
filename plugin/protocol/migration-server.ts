/**
 * Serves a DeviceApi over the migration protocol (gRPC, mutual TLS). Every call passes, in order:
 * a request that decodes; a client certificate (TLS verified it against the configured CA) naming
 * a trusted caller; for a migration's calls, a ticket that verifies against the trusted
 * coordinator keys, binds to this VM, migration and device, and grants this device's role (export
 * and freeze at a source, import and activate at a destination). Only then does the DeviceApi run —
 * so a refused call changes nothing. The DeviceApi is whatever the plugin uses in process (one
 * implementation, two transports).
 *
 * @example
 * const srv = await serveMigrationProtocol({ api: createDeviceApi(plugin, { name: 'edge-1' }), device: 'edge-1',
 *   tls: { ca, cert, key }, trustedCallers: ['controller-a'], tickets: new TicketVerifier({ trusted: { 'dc-a': pub } }) });
 */
import { performance } from 'node:perf_hooks';
import { Server } from '@grpc/grpc-js';
import type { ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import type { DaemonIdentity, DeviceApi, MigrationRef, StateBatch } from '../device-api/device-api.js';
import { transferState } from '../device-api/peer-transfer.js';
import { DeviceApiFailure } from '../device-api/migration-sessions.js';
import { EdgePluginError } from '../errors.js';
import type { MigrationTicket } from '../security/migration-ticket.js';
import { pemIdentities, trustedCaller } from './caller-identity.js';
import { batchFromWire, batchToWire, capabilitiesToWire, countersFromWire, importResultToWire, progressToWire, refFromWire, ticketFromWire, transferFromWire, wireToBigint } from './codec.js';
import { TransferPeers } from './transfer-peers.js';
import { DeltaCoalescer } from './delta-coalescer.js';
import { footprintToWire } from './footprint-codec.js';
import { str } from './wire-checks.js';
import { failureToStatus } from './status.js';
import { listenErrorHint, listenMutualTls } from './mutual-tls-listener.js';
import { shutDownServer } from './shutdown.js';
import { tlsIdentityProblem } from './tls-material.js';
import { MIGRATION_SERVICE, PROTOCOL_VERSION } from './wire.js';
import type { Decoded, MigrationMethod, WireMessage } from './wire.js';

import { parseMigrationServerOptions } from './migration-server-options.js';
import type { MigrationListenOptions, MigrationServerOptions, ParsedMigrationServerOptions } from './migration-server-options.js';

export { DEFAULT_MIGRATION_SERVER_OPTIONS, parseMigrationServerOptions } from './migration-server-options.js';
export type { MigrationListenOptions, MigrationServerOptions, ParsedMigrationServerOptions } from './migration-server-options.js';

/** What a running server has done (counted, for tests and health). */
export interface MigrationServerStats {
  readonly calls: number;
  readonly refused: number;
  /** Connections refused in the TLS handshake (no client certificate, another CA's, an expired one). */
  readonly refusedHandshakes: number;
  /** Delta batches merged while a reader lagged (flow control). */
  readonly mergedBatches: number;
}

/** A running migration-protocol server. */
export interface MigrationServer {
  readonly address: string;
  readonly port: number;
  stats(): MigrationServerStats;
  /** Ends every stream and closes the server. Idempotent. */
  stop(): Promise<void>;
}

/** Which role a call needs the ticket to grant this device. */
const ROLE: Partial<Record<MigrationMethod, 'source' | 'destination'>> = {
  ExportSnapshot: 'source',
  ExportDeltas: 'source',
  Freeze: 'source',
  PauseDelta: 'source',
  FinalDelta: 'source',
  DeleteAtSource: 'source',
  ImportStaged: 'destination',
  Activate: 'destination',
  Transfer: 'source',
  RenewTicket: 'source',
  FreezeFinal: 'source',
  ImportActivate: 'destination',
  Committed: 'destination',
};

type Call = ServerUnaryCall<Decoded<WireMessage>, WireMessage> | ServerWritableStream<Decoded<WireMessage>, WireMessage>;

class Handlers {
  calls = 0;
  refused = 0;
  merged = 0;
  readonly streams = new Set<Subscription>();
  /** The running Transfers' connections to destination plugins, by migration, with the ticket they present (RenewTicket replaces it). */
  private readonly transferPeers: TransferPeers;

  /** This daemon as a peer-to-peer party, told with its capabilities. */
  readonly daemon: DaemonIdentity;

  /** The device API served: undefined from the bind until the daemon's plugin runs (PendingMigrationServer.serve). */
  private served: DeviceApi | undefined;

  constructor(private readonly o: ParsedMigrationServerOptions) {
    this.transferPeers = new TransferPeers({ tls: o.tls, maxMessageBytes: o.maxMessageBytes });
    this.daemon = { identities: pemIdentities(o.tls.cert), clientAuth: tlsIdentityProblem(o.tls.cert, o.tls.key, 'client') === undefined, trustedCallers: [...o.trustedCallers] };
  }

  serve(api: DeviceApi): void {
    this.served = api;
  }

  /** The served API; every handler runs past admit(), which refuses calls until there is one. */
  private get api(): DeviceApi {
    if (!this.served) throw new DeviceApiFailure('DEVICE_UNREACHABLE', `device ${this.o.device}: no device API to serve yet`);
    return this.served;
  }

  /** The checks before any device work: decoded, trusted caller, valid ticket for this role. */
  admit(method: MigrationMethod, call: Call): { readonly req: WireMessage; readonly caller: string; readonly ref: MigrationRef | undefined; readonly repeated?: boolean } {
    this.calls++;
    if (!call.request.ok) throw new DeviceApiFailure('PEER_REJECTED', call.request.error);
    const req = call.request.value;
    const caller = trustedCaller(call.getAuthContext()?.sslPeerCertificate, this.o.trustedCallers);
    // The daemon binds before it touches its switch (a bad listen address must fail first): until its plugin runs there is nothing to serve.
    if (!this.served) throw new DeviceApiFailure('DEVICE_UNREACHABLE', `device ${this.o.device}: the plugin daemon is starting (connecting to its switch, checking its pipeline) and serves no call yet; retry once it runs`);
    // Read-only questions about the device need a trusted caller, no ticket.
    if (method === 'Capabilities' || method === 'Footprint') {
      this.o.serving();
      return { req, caller, ref: undefined };
    }
    const ref = refFromWire(req['ref']);
    const ticket = ticketFromWire(req['ticket']);
    let repeated: boolean;
    try {
      repeated = this.o.tickets.verify(ticket, { migrationId: ref.migrationId, vm: ref.vm, device: this.o.device, ...(method === 'Abort' ? { repeat: 'abort' as const } : method === 'DeleteAtSource' ? { repeat: 'delete' as const } : {}) }).repeated === true;
    } catch (e) {
      throw new DeviceApiFailure('UNAUTHORIZED', e instanceof Error ? e.message : String(e), { cause: e });
    }
    const role = ROLE[method];
    const c = ticket.claims;
    if (role === 'source' && !c.sources.includes(this.o.device)) throw new DeviceApiFailure('UNAUTHORIZED', `migration ticket refused: ${method} needs device '${this.o.device}' to be a source of migration '${c.migrationId}', the ticket names it a destination`);
    if (role === 'destination' && !c.destinations.includes(this.o.device)) throw new DeviceApiFailure('UNAUTHORIZED', `migration ticket refused: ${method} needs device '${this.o.device}' to be a destination of migration '${c.migrationId}', the ticket names it a source`);
    this.o.serving();
    return { req, caller, ref, ...(repeated ? { repeated } : {}) };
  }

  refuse(method: MigrationMethod, call: Call, e: unknown): ReturnType<typeof failureToStatus> {
    const status = failureToStatus(e, `device ${this.o.device}: ${method}`);
    if (e instanceof DeviceApiFailure && (e.reason === 'UNAUTHORIZED' || e.reason === 'PEER_REJECTED')) this.refused++;
    this.o.logger.warn('migration call failed', { method, peer: call.getPeer(), message: status.details });
    return status;
  }

  unary(method: MigrationMethod, run: (req: WireMessage, ref: MigrationRef, repeated: boolean) => Promise<WireMessage>) {
    return (call: ServerUnaryCall<Decoded<WireMessage>, WireMessage>, callback: sendUnaryData<WireMessage>): void => {
      void (async () => {
        try {
          const { req, caller, ref, repeated } = this.admit(method, call);
          const t0 = performance.now();
          this.o.logger.debug('migration call', { method, caller, migrationId: ref?.migrationId });
          const reply = await run(req, ref as MigrationRef, repeated === true);
          // At debug, how long the device took to serve it: where a pause's milliseconds go.
          this.o.logger.debug('migration call served', { method, migrationId: ref?.migrationId, ms: Math.round((performance.now() - t0) * 100) / 100 });
          callback(null, reply);
        } catch (e) {
          callback(this.refuse(method, call, e));
        }
      })();
    };
  }

  /** A newer ticket (admitted: valid, naming this device a source) for the migration's running Transfer, if one runs. */
  renewTransferTicket(ref: MigrationRef, ticket: MigrationTicket): void {
    this.transferPeers.renew(ref.migrationId, ticket);
  }

  /** ExportDeltas: the device's stream, written with flow control, ended with the device's. */
  exportDeltas(call: ServerWritableStream<Decoded<WireMessage>, WireMessage>): void {
    let ref: MigrationRef;
    let reportQuiet: boolean;
    try {
      const a = this.admit('ExportDeltas', call);
      ref = a.ref as MigrationRef;
      reportQuiet = a.req['reportQuiet'] === true;
    } catch (e) {
      call.emit('error', this.refuse('ExportDeltas', call, e));
      return;
    }
    void this.api.capabilities().then(
      (caps) => {
        if (call.cancelled) return;
        const out = new DeltaCoalescer(caps.keyFields.map((k) => k.name), (b) => call.write(batchToWire(b)));
        call.on('drain', () => out.drain());
        let sub: Subscription | undefined = undefined;
        let finished = false;
        const finish = (): void => {
          if (finished) return;
          finished = true;
          this.merged += out.stats.merged;
          if (sub) this.streams.delete(sub);
        };
        sub = this.api.exportDeltas(ref, reportQuiet ? { reportQuiet } : {}).subscribe({
          next: (b) => out.push(b),
          error: (e: unknown) => {
            finish();
            call.emit('error', this.refuse('ExportDeltas', call, e));
          },
          complete: () => {
            finish();
            // What merged while the reader lagged goes out before the end of the stream.
            if (out.pending) call.once('drain', () => call.end());
            else call.end();
          },
        });
        this.streams.add(sub);
        call.on('cancelled', () => {
          sub?.unsubscribe();
          finish();
        });
      },
      (e: unknown) => call.emit('error', this.refuse('ExportDeltas', call, e)),
    );
  }

  /**
   * Transfer: this source sends the migration's state straight to the destination plugins named
   * (which the ticket must name too), dialling them with this plugin's own certificate and the
   * call's ticket; each acknowledged batch is reported to the caller.
   */
  transfer(call: ServerWritableStream<Decoded<WireMessage>, WireMessage>): void {
    let ref: MigrationRef;
    let parsed: ReturnType<typeof transferFromWire>;
    let ticket: MigrationTicket;
    let caller: string;
    try {
      const a = this.admit('Transfer', call);
      ref = a.ref as MigrationRef;
      caller = a.caller;
      ticket = ticketFromWire(a.req['ticket']);
      parsed = transferFromWire(a.req);
      const stray = parsed.targets.find((t) => !ticket.claims.destinations.includes(t.name));
      if (stray) throw new DeviceApiFailure('UNAUTHORIZED', `migration ticket refused: Transfer to '${stray.name}', which the ticket does not name as a destination of migration '${ticket.claims.migrationId}'`);
    } catch (e) {
      call.emit('error', this.refuse('Transfer', call, e));
      return;
    }
    // The migration's connections to its destinations, shared with its other Transfer: the final
    // one (in the pause) reuses the pre-copy one's channels rather than open its own.
    const { peers, release } = this.transferPeers.acquire(ref.migrationId, parsed.targets, ticket);
    // At debug, as unary calls are: which Transfer (pre-copy, or the final one and whether it
    // froze here), and once it ended, how and after how long — a stream's share of a pause.
    const mode = parsed.request.mode;
    const kind = mode.kind === 'precopy' ? 'precopy' : `final${mode.freeze ? '+freeze' : ''}${mode.activate ? '+activate' : ''}`;
    const t0 = performance.now();
    this.o.logger.debug('migration call', { method: 'Transfer', caller, migrationId: ref.migrationId, transfer: kind });
    let done = false;
    const finish = (outcome: 'completed' | 'failed' | 'cancelled'): void => {
      if (done) return;
      done = true;
      this.streams.delete(sub);
      release();
      this.o.logger.debug('migration call served', { method: 'Transfer', migrationId: ref.migrationId, transfer: kind, outcome, ms: Math.round((performance.now() - t0) * 100) / 100 });
    };
    const sub: Subscription = transferState({ source: this.api, peer: (n) => peers.get(n) as DeviceApi }, ref, parsed.request).subscribe({
      next: (p) => call.write(progressToWire(p)),
      error: (e: unknown) => {
        finish('failed');
        call.emit('error', this.refuse('Transfer', call, e));
      },
      complete: () => {
        finish('completed');
        call.end();
      },
    });
    this.streams.add(sub);
    call.on('cancelled', () => {
      sub.unsubscribe();
      finish('cancelled');
    });
  }

  implementation(): UntypedServiceImplementation {
    const { tickets } = this.o;
    const ack = async (p: Promise<unknown>): Promise<WireMessage> => {
      await p;
      return {};
    };
    return {
      Capabilities: this.unary('Capabilities', async () => capabilitiesToWire({ ...(await this.api.capabilities()), daemon: this.daemon }, PROTOCOL_VERSION)),
      RenewTicket: this.unary('RenewTicket', async (r, ref) => {
        this.renewTransferTicket(ref, ticketFromWire(r['ticket']));
        return {};
      }),
      Footprint: this.unary('Footprint', async (r) => {
        const f = await this.api.footprint?.(str(r['vm'], 'FootprintRequest.vm'), r['awaitScan'] === true ? { awaitScan: true } : undefined);
        if (!f) throw new DeviceApiFailure('UNSUPPORTED_STATE', `device ${this.o.device} cannot tell what it holds of a VM`);
        return footprintToWire(f);
      }),
      Prepare: this.unary('Prepare', (_r, ref) => ack(this.api.prepare(ref))),
      ExportSnapshot: this.unary('ExportSnapshot', async (_r, ref) => batchToWire(await this.api.exportSnapshot(ref))),
      ExportDeltas: (call: ServerWritableStream<Decoded<WireMessage>, WireMessage>) => this.exportDeltas(call),
      Transfer: (call: ServerWritableStream<Decoded<WireMessage>, WireMessage>) => this.transfer(call),
      ImportStaged: this.unary('ImportStaged', async (r, ref) => importResultToWire(await this.api.importStaged(ref, batchOf(r, ref)))),
      // The same steps as ImportStaged then Activate (and FreezeFinal: Freeze then FinalDelta), in
      // one round trip; the second runs only once the first succeeded.
      ImportActivate: this.unary('ImportActivate', async (r, ref) => {
        const result = await this.api.importStaged(ref, batchOf(r, ref));
        await this.api.activate(ref);
        return importResultToWire(result);
      }),
      Freeze: this.unary('Freeze', (_r, ref) => ack(this.api.freeze(ref))),
      FreezeFinal: this.unary('FreezeFinal', async (r, ref) => {
        const since = wireToBigint(r['sinceSeq'], 'FinalDeltaRequest.since_seq');
        await this.api.freeze(ref);
        return batchToWire(await this.api.finalDelta(ref, since));
      }),
      PauseDelta: this.unary('PauseDelta', async (r, ref) => {
        const since = wireToBigint(r['sinceSeq'], 'FinalDeltaRequest.since_seq');
        // A device without it has nothing to send ahead: everything comes with the final delta.
        const b = this.api.pauseDelta ? await this.api.pauseDelta(ref, since) : { migrationId: ref.migrationId, round: 98, slots: [], removed: [], coversSeq: { from: since, to: since } };
        return batchToWire(b);
      }),
      FinalDelta: this.unary('FinalDelta', async (r, ref) => batchToWire(await this.api.finalDelta(ref, wireToBigint(r['sinceSeq'], 'FinalDeltaRequest.since_seq')))),
      Activate: this.unary('Activate', (r, ref) => {
        const carried = countersFromWire(r['carriedCounters'] ?? [], 'MigrationCall.carried_counters');
        return ack(Object.keys(carried).length > 0 ? this.api.activate(ref, carried) : this.api.activate(ref));
      }),
      DeleteAtSource: this.unary('DeleteAtSource', async (r, ref, repeated) => {
        // Deleted here already (a recovery repeating it): done, nothing more to delete.
        if (repeated) return { deleted: 0, skipped: 0 };
        const out = await this.api.deleteAtSource(ref, r['graceMs'] as number);
        // The migration ended here: its ticket is used up (but for this same call, repeated).
        tickets.retire(ref.migrationId, 'deleted');
        return { deleted: out.deleted, skipped: out.skipped };
      }),
      Committed: this.unary('Committed', async (_r, ref) => {
        await this.api.committed?.(ref);
        tickets.retire(ref.migrationId);
        return {};
      }),
      Abort: this.unary('Abort', async (r, ref, repeated) => {
        // Rolled back here already: done, nothing more to undo (and never undone a second time,
        // over whatever a later migration put here since).
        if (repeated) return {};
        await this.api.abort(ref, r['mayBeActive'] === true ? { mayBeActive: true } : undefined);
        tickets.retire(ref.migrationId, 'aborted');
        return {};
      }),
    };
  }
}

/** A bound migration-protocol listener; its device API is given once it exists. */
export interface PendingMigrationServer extends MigrationServer {
  /** Serves `api` from now on; until then every call is refused (DEVICE_UNREACHABLE: the daemon is starting). */
  serve(api: DeviceApi): void;
}

/**
 * Binds the migration protocol's listener before there is a device API to serve: the daemon does
 * this before it touches its switch, so an address it cannot listen on changes nothing there.
 * @throws EdgePluginError BAD_OPTIONS for invalid options, or naming the address that cannot be bound and the fix.
 */
export async function listenMigrationProtocol(options: MigrationListenOptions): Promise<PendingMigrationServer> {
  const o = parseMigrationServerOptions(options);
  const server = new Server({ 'grpc.max_receive_message_length': o.maxMessageBytes, 'grpc.max_send_message_length': o.maxMessageBytes });
  const handlers = new Handlers(o);
  server.addService(MIGRATION_SERVICE, handlers.implementation());
  const listener = await listenMutualTls(server, { listen: o.listen, ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, logger: o.logger, service: 'migration protocol' }).catch((err: Error) => {
    throw new EdgePluginError('BAD_OPTIONS', `migration protocol: cannot listen on ${o.listen} (${err.message}); ${listenErrorHint(err.message, 'migration.listen', '0.0.0.0:50051')}`, { cause: err });
  });
  const port = listener.port;
  const host = o.listen.slice(0, o.listen.lastIndexOf(':'));
  const address = `${host}:${port}`;
  o.logger.info('migration protocol listening', { address, device: o.device, trustedCallers: o.trustedCallers.join(',') });
  let stopped: Promise<void> | undefined;
  return {
    address,
    port,
    serve: (api) => handlers.serve(api),
    stats: () => ({ calls: handlers.calls, refused: handlers.refused, refusedHandshakes: listener.refused(), mergedBatches: handlers.merged }),
    stop: () => {
      if (!stopped) {
        for (const s of handlers.streams) s.unsubscribe();
        stopped = listener.close().then(() => shutDownServer(server));
      }
      return stopped;
    },
  };
}

/**
 * Starts serving `o.api` over mutual TLS; resolves once it listens.
 * @throws EdgePluginError BAD_OPTIONS for invalid options or an address that cannot be bound.
 */
export async function serveMigrationProtocol(options: MigrationServerOptions): Promise<MigrationServer> {
  const server = await listenMigrationProtocol(options);
  server.serve(options.api);
  return server;
}

/** The batch of an ImportRequest, refused when it belongs to another migration than the call's. */
function batchOf(r: WireMessage, ref: MigrationRef): StateBatch {
  const batch = batchFromWire(r['batch']);
  if (batch.migrationId !== ref.migrationId) throw new DeviceApiFailure('PEER_REJECTED', `the batch is of migration '${batch.migrationId}', the call names '${ref.migrationId}'`);
  return batch;
}
