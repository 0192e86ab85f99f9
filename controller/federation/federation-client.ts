/**
 * A controller's client of a peer domain's federation service: mutual TLS with this controller's
 * federation certificate, trusting only the peer's CA for the peer's server certificate. Every
 * failure is a ControllerError carrying the peer's reason; a refused handshake is diagnosed (the
 * real TLS cause, not gRPC's bare "failed to connect").
 */
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { PemSource } from 'p4runtime-ts';
import { certificateIdentities, diagnoseTls, loadMutualTls, neverConnected } from '../../plugin/index.js';
import type { LoadedTls, WireMessage } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { InventoryFederation, InventoryPeer } from '../inventory/inventory.js';
import type { FailureReason } from '../errors.js';
import { federationFailure } from './federation-status.js';
import { FEDERATION_SERVICE, decodeFederation, encodeFederation, federationTypes } from './federation-wire.js';
import type { FederationMethod } from './federation-wire.js';

/** Options of FederationClient. */
export interface FederationClientOptions {
  /** The peer's domain name (for messages). */
  readonly peer: string;
  /** `host:port` of its federation service. */
  readonly address: string;
  /** The name its server certificate carries, when the address's host is not it. */
  readonly serverName?: string;
  /**
   * The identity its controller's certificate must name (CN or subjectAltName, `peers.<name>.identity`):
   * any other certificate its CA issued (a plugin daemon's, say) is refused before a call is made.
   */
  readonly identity?: string;
  /** The peer's CA (trusted for its server certificate), and this controller's certificate and key. */
  readonly tls: { readonly ca: PemSource; readonly cert: PemSource; readonly key: PemSource };
  /** Deadline of each call outside the pause. Default 30 s. */
  readonly callTimeoutMs?: number;
  /** Largest message sent or accepted. Default 64 MiB. */
  readonly maxMessageBytes?: number;
}

/** Defaults of the optional options. */
export const DEFAULT_FEDERATION_CLIENT_OPTIONS = Object.freeze({ callTimeoutMs: 30_000, maxMessageBytes: 64 * 1024 * 1024 });

/** Calls of one peer domain's controller. */
export class FederationClient {
  private readonly client: Client;
  private readonly tls: LoadedTls;
  private readonly timeoutMs: number;
  /** Why the last handshake refused the peer's certificate for its identity (for the call's error). */
  private identityRefusal: string | undefined;
  /** Calls made, by method (what crossed the boundary, for tests and reports). */
  readonly calls: FederationMethod[] = [];

  constructor(private readonly o: FederationClientOptions) {
    try {
      this.tls = loadMutualTls({ ...o.tls, ...(o.serverName ? { serverName: o.serverName } : {}) }, `peer ${o.peer}`);
    } catch (e) {
      throw new ControllerError('BAD_CONFIG', (e as Error).message, { cause: e });
    }
    this.timeoutMs = o.callTimeoutMs ?? DEFAULT_FEDERATION_CLIENT_OPTIONS.callTimeoutMs;
    const max = o.maxMessageBytes ?? DEFAULT_FEDERATION_CLIENT_OPTIONS.maxMessageBytes;
    // Beside the host name, the certificate must name the peer's controller: the peer's CA may
    // issue others (its plugin daemons', its own servers') that a host-name check alone accepts
    // (field walkthrough 17: a migration committed to a server naming another identity).
    const verify = o.identity === undefined ? {} : {
      checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => {
        const byHost = checkServerIdentity(host, cert);
        if (byHost) return byHost;
        const names = certificateIdentities(cert);
        if (names.includes(o.identity as string)) return undefined;
        this.identityRefusal = `its certificate names '${names.join("', '") || 'nothing'}', not '${o.identity as string}' (peers.${o.peer}.identity): another server answers at ${o.address}, or the identity configured for ${o.peer} is wrong`;
        return new Error(this.identityRefusal);
      },
    };
    this.client = new Client(o.address, credentials.createSsl(this.tls.ca, this.tls.key, this.tls.cert, verify), {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
      ...(o.serverName ? { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName } : {}),
    });
  }

  /** The peer's domain name. */
  get peer(): string {
    return this.o.peer;
  }

  /**
   * One call; `timeoutMs` overrides the deadline, `onDeadline` is the reason when it passes.
   * @throws ControllerError with the peer's reason, or the transport's.
   */
  call(method: FederationMethod, req: WireMessage, timeoutMs = this.timeoutMs, onDeadline: FailureReason = 'DEVICE_UNREACHABLE'): Promise<WireMessage> {
    const what = `peer domain ${this.o.peer}: ${method}`;
    const { request, response } = federationTypes(method);
    this.calls.push(method);
    return new Promise((resolve, reject) => {
      let payload: Buffer;
      try {
        payload = encodeFederation(request, req);
      } catch (e) {
        reject(new ControllerError('INTERNAL', `${what}: the request does not encode: ${(e as Error).message}`, { cause: e }));
        return;
      }
      this.client.makeUnaryRequest(
        FEDERATION_SERVICE[method].path,
        (b: Buffer) => b,
        (b: Buffer) => decodeFederation(response, b),
        payload,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, res?: WireMessage) => (err || !res ? void this.explain(federationFailure(err, what, onDeadline)).then(reject) : resolve(res)),
      );
    });
  }

  /** A connection failure with its TLS cause (a refused certificate is PEER_REJECTED, not "unreachable"). */
  private async explain(f: ControllerError): Promise<ControllerError> {
    if (!neverConnected({ reason: f.code, message: f.message })) return f;
    if (this.identityRefusal !== undefined) return new ControllerError('PEER_REJECTED', `peer domain ${this.o.peer}: refused the server at ${this.o.address}: ${this.identityRefusal}`, { cause: f });
    const d = await diagnoseTls(this.o.address, this.tls);
    if (d.kind === 'refused') return new ControllerError('PEER_REJECTED', `peer domain ${this.o.peer}: mutual TLS with ${this.o.address} refused: ${d.message}; check that each side's federation certificate is signed by the CA the other lists for it under peers`, { cause: f });
    if (d.kind === 'unreachable') return new ControllerError('DEVICE_UNREACHABLE', `${f.message}: ${d.message}`, { cause: f });
    if (d.kind === 'silent') return new ControllerError('DEVICE_UNREACHABLE', `peer domain ${this.o.peer}: no federation service answers at ${this.o.address}: ${d.message}; check peers.${this.o.peer}.address (its controller's federation.listen) and that its carryover federation is not hung`, { cause: f });
    return f;
  }

  close(): void {
    this.client.close();
  }
}

/**
 * A client of `peer`'s controller as the inventory trusts it: its address, server name, CA and
 * identity, with this controller's federation certificate. The caller has checked the address.
 * @throws ControllerError BAD_CONFIG when the TLS material cannot be loaded.
 */
export function federationClientFor(peer: InventoryPeer & { readonly address: string }, federation: InventoryFederation): FederationClient {
  return new FederationClient({
    peer: peer.name, address: peer.address, ...(peer.serverName ? { serverName: peer.serverName } : {}), identity: peer.identity,
    tls: { ca: peer.ca, cert: federation.tls.cert, key: federation.tls.key },
  });
}
