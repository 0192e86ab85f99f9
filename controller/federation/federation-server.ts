/**
 * Serves the federation service to peer controllers: mutual TLS with this controller's federation
 * certificate, clients verified against the union of the peers' CAs and then bound to one peer
 * (its identity, issued by its own CA). Each migration a peer proposes becomes an
 * IncomingMigration driving this domain's destination devices; only the peer that proposed it
 * may drive it. A migration the peer stops driving before activation is rolled back here after
 * `idleMs`; an activated one waits for the peer's word (the VM may run here).
 *
 * @example
 * const srv = await serveFederation({ inventory: loadInventory('dc-b.yaml'), defaultP4info });
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { Server } from '@grpc/grpc-js';
import type { ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { PROTOCOL_VERSION, batchFromWire, capabilitiesFromWire, capabilitiesToWire, footprintToWire, listenMutualTls, refFromWire, shutDownServer, ticketFromWire, ticketToWire } from '../../plugin/index.js';
import type { Decoded, MigrationRef, WireMessage } from '../../plugin/index.js';
import { connectPlanDevices, controllerTicketIssuer } from '../devices/connect-plan-devices.js';
import type { DeviceConnector } from '../devices/connect-plan-devices.js';
import { ControllerError, isFailureReason } from '../errors.js';
import type { Inventory } from '../inventory/inventory.js';
import { FileJournal } from '../journal/file-journal.js';
import type { MigrationJournal } from '../journal/journal.js';
import { recoverMigrations, unfinishedMigrations } from '../migrate/recover-migrations.js';
import { isIncoming } from '../migrate/recover-incoming.js';
import { recoveryAction, replay } from '../migration/transition.js';
import type { MigrationState } from '../migration/transition.js';
import { federationStatus } from './federation-status.js';
import { FEDERATION_SERVICE, FEDERATION_VERSION } from './federation-wire.js';
import type { FederationMethod } from './federation-wire.js';
import { IncomingMigration } from './incoming-migration.js';
import { checkIncoming } from './incoming-check.js';
import type { PeerMigrationStatus } from './peer-status.js';
import { callingPeer } from './peer-identity.js';
import type { PeerTrust } from './peer-identity.js';

/** Options of serveFederation. */
export interface FederationServerOptions {
  /** This domain's inventory: federation (certificate), peers, controller (signing key), devices. */
  readonly inventory: Inventory;
  /** `host:port` to listen on (default: the inventory's federation.listen). */
  readonly listen?: string;
  /** P4Info for in-process devices whose inventory entry names none. */
  readonly defaultP4info: string;
  /** How this domain's devices are reached (default: as the inventory says). */
  readonly connect?: DeviceConnector;
  /** Where incoming migrations are journalled (default: the inventory's journal directory). */
  readonly journal?: MigrationJournal;
  /** A migration not driven for this long before activation is rolled back. Default 5 minutes. */
  readonly idleMs?: number;
  readonly maxMessageBytes?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** Defaults of the optional options. */
export const DEFAULT_FEDERATION_SERVER_OPTIONS = Object.freeze({ idleMs: 5 * 60_000, maxMessageBytes: 64 * 1024 * 1024 });

/** One call the server answered or refused (for tests and health). */
export interface FederationCallRecord {
  readonly method: FederationMethod;
  readonly peer: string | undefined;
  readonly migrationId: string | undefined;
  readonly ok: boolean;
}

/** A running federation server. */
export interface FederationServer {
  readonly address: string;
  readonly port: number;
  /** Every call, in arrival order. */
  calls(): readonly FederationCallRecord[];
  /** The migrations in progress here: id, peer, phase. */
  migrations(): { readonly migrationId: string; readonly peer: string; readonly phase: string }[];
  /** Stops serving; migrations in progress are left as journalled. Idempotent. */
  stop(): Promise<void>;
}

const text = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v === '') throw new ControllerError('PEER_REJECTED', `malformed request: ${what} is missing`);
  return v;
};

/**
 * Starts serving peers; resolves once it listens.
 * @throws ControllerError BAD_CONFIG when the inventory lacks what federation needs or the address cannot be bound.
 */
export async function serveFederation(o: FederationServerOptions): Promise<FederationServer> {
  const inv = o.inventory;
  const fed = inv.federation;
  const listen = o.listen ?? fed?.listen;
  if (!fed || !listen) throw new ControllerError('BAD_CONFIG', `${inv.source}: federation.listen and federation.tls are needed to serve peer controllers`);
  if (!inv.controller) throw new ControllerError('BAD_CONFIG', `${inv.source}: a controller section (its signingKey cosigns cross-domain tickets) is needed to serve peer controllers`);
  if (inv.peers.size === 0) throw new ControllerError('BAD_CONFIG', `${inv.source}: no peers: list each trusted peer domain under 'peers' (ca, identity, ticketKey)`);
  const logger = (o.logger ?? silentLogger).child({ component: 'federation', domain: inv.domain });
  const now = o.now ?? Date.now;
  const read = (path: string): string => readFileSync(path, 'utf8');
  const peers: PeerTrust[] = [...inv.peers.values()].map((p) => ({ name: p.name, identity: p.identity, caPem: read(p.ca) }));
  const peerKeys = new Map([...inv.peers.values()].map((p) => [p.name, read(p.ticketKey)]));
  const signingKey = read(inv.controller.signingKey);
  controllerTicketIssuer(inv.domain, inv.controller); // the key must be usable before anyone relies on it
  const controller = inv.controller;
  const connect: DeviceConnector = o.connect ?? ((devices, c) => connectPlanDevices(devices, { defaultP4info: o.defaultP4info, domain: inv.domain, controller, scope: c.scope, ...(c.tickets ? { tickets: c.tickets } : {}), logger }));
  const journal = o.journal ?? new FileJournal(inv.journal, logger);
  const sessions = new Map<string, IncomingMigration>();
  const calls: FederationCallRecord[] = [];

  const session = (peer: PeerTrust, ref: MigrationRef): IncomingMigration => {
    const s = sessions.get(ref.migrationId);
    // Only the domain that proposed a migration may drive it: another peer learns nothing of it.
    if (!s || s.proposal.peer !== peer.name) throw new ControllerError('PEER_REJECTED', `no migration '${ref.migrationId}' proposed by ${peer.name} here`);
    if (s.proposal.ref.vm !== ref.vm) throw new ControllerError('PEER_REJECTED', `migration '${ref.migrationId}' is of VM ${s.proposal.ref.vm}, not ${ref.vm}`);
    return s;
  };
  const forget = (s: IncomingMigration): void => {
    if (s.ended && sessions.get(s.migrationId) === s) sessions.delete(s.migrationId);
  };
  /** A migration that ended here (committed, or rolled back on either side's failure) is forgotten. */
  const forgetEnded = (migrationId: string | undefined): void => {
    const s = migrationId === undefined ? undefined : sessions.get(migrationId);
    if (s) forget(s);
  };

  /** `migrationId` as this domain's journal holds it, if it does. */
  const journalled = async (migrationId: string): Promise<MigrationState | undefined> => ((await journal.list()).includes(migrationId) ? replay(await journal.load(migrationId)) : undefined);
  /** `migrationId` as this domain's journal holds it, when it is an incoming migration. */
  const incomingHere = async (migrationId: string): Promise<MigrationState | undefined> => {
    const st = await journalled(migrationId);
    return st && isIncoming(inv, st) ? st : undefined;
  };
  /** Whether this domain's journal has `migrationId` committed and finished (a Finish repeated). */
  const committedHere = async (migrationId: string): Promise<boolean> => {
    const st = await incomingHere(migrationId);
    return st?.phase === 'COMMITTED' && recoveryAction(st).kind === 'none';
  };
  /** Its phase when left unfinished here (a migration this server drove before it restarted). */
  const unfinishedHere = async (migrationId: string): Promise<string | undefined> => {
    const st = await incomingHere(migrationId);
    return st && recoveryAction(st).kind !== 'none' ? st.phase : undefined;
  };
  /** Recovers it as `carryover recover` here would (`vmAt`: where the peer's word puts the VM, for an activated one). */
  const recoverHere = async (migrationId: string, vmAt?: 'source' | 'destination'): Promise<void> => {
    // The peer's call is its word on where the VM runs: not asked again (federation Status).
    const askPeer = async (): Promise<PeerMigrationStatus> => ({ kind: 'unavailable', peer: undefined, why: 'the source domain said so in its call' });
    const [r] = await recoverMigrations({ inventory: inv, journal, migrationId, connect, defaultP4info: o.defaultP4info, progress: (l) => logger.info(l), logger, askPeer, ...(vmAt ? { vmAt } : {}) });
    if (r?.outcome === 'failed') throw new ControllerError('DEVICE_UNREACHABLE', `migration ${migrationId}: ${r.detail}`);
    logger.warn('a migration left unfinished before this server restarted was recovered', { migrationId, outcome: r?.outcome, detail: r?.detail });
  };

  const handlers: Record<FederationMethod, (peer: PeerTrust, req: WireMessage) => Promise<WireMessage>> = {
    Propose: async (peer, req) => {
      if (req['protocolVersion'] !== FEDERATION_VERSION) throw new ControllerError('PEER_REJECTED', `the peer speaks federation version ${String(req['protocolVersion'])}; this domain speaks ${FEDERATION_VERSION}`);
      const ref = refFromWire(req['ref']);
      if (sessions.has(ref.migrationId)) throw new ControllerError('PEER_REJECTED', `migration '${ref.migrationId}' is already in progress here`);
      const names = Array.isArray(req['sources']) ? (req['sources'] as unknown[]).map((n) => text(n, 'a source name')) : [];
      const caps = Array.isArray(req['sourceCapabilities']) ? (req['sourceCapabilities'] as unknown[]).map((c) => capabilitiesFromWire(c).capabilities) : [];
      if (caps.length !== names.length) throw new ControllerError('PEER_REJECTED', `malformed proposal: ${names.length} sources but ${caps.length} capabilities`);
      const s = await IncomingMigration.propose({
        peer: peer.name, peerKey: peerKeys.get(peer.name) as string, ref,
        vmName: text(req['vmName'], 'vm_name'), fromHost: text(req['fromHost'], 'from_host'), toHost: text(req['toHost'], 'to_host'),
        sources: names.map((name, i) => ({ name, capabilities: caps[i] as (typeof caps)[number] })),
      }, { inventory: inv, journal, connect, signingKey, now, logger });
      sessions.set(ref.migrationId, s);
      return { protocolVersion: FEDERATION_VERSION, destinations: s.destinations.map((d) => d.name), destinationCapabilities: s.destinations.map((d) => capabilitiesToWire(d.capabilities, PROTOCOL_VERSION)) };
    },
    Agree: async (peer, req) => ({ ticket: ticketToWire(await session(peer, refFromWire(req['ref'])).agree(ticketFromWire(req['ticket']))) }),
    Prepare: async (peer, req) => {
      await session(peer, refFromWire(req['ref'])).prepare();
      return {};
    },
    Stage: async (peer, req) => {
      const ref = refFromWire(req['ref']);
      const s = session(peer, ref);
      const batch = batchFromWire(req['batch']);
      if (batch.migrationId !== ref.migrationId) throw new ControllerError('PEER_REJECTED', `the batch is of migration '${batch.migrationId}', the call names '${ref.migrationId}'`);
      return { installed: await s.stage(batch), alreadyPresent: 0 };
    },
    Commit: async (peer, req) => {
      const s = session(peer, refFromWire(req['ref']));
      const finals = Array.isArray(req['finalBatches']) ? (req['finalBatches'] as unknown[]).map(batchFromWire) : [];
      const t0 = performance.now();
      const budget = typeof req['budgetMs'] === 'number' && req['budgetMs'] > 0 ? req['budgetMs'] : undefined;
      const installed = await s.commit(finals, budget === undefined ? undefined : { budgetMs: budget, receivedAt: t0 });
      return { installed, workUs: Math.round((performance.now() - t0) * 1000) };
    },
    Finish: async (peer, req) => {
      const ref = refFromWire(req['ref']);
      // Activated here before this server restarted: the peer's word says the VM stays here.
      if (!sessions.has(ref.migrationId) && (await unfinishedHere(ref.migrationId)) === 'ACTIVATED') {
        await recoverHere(ref.migrationId, 'destination');
        return {};
      }
      // Recorded already (the answer to an earlier Finish was lost): done, as asked.
      if (!sessions.has(ref.migrationId) && (await committedHere(ref.migrationId))) return {};
      const s = session(peer, ref);
      await s.finish(typeof req['sourceDeleted'] === 'number' ? req['sourceDeleted'] : 0);
      return {};
    },
    Footprint: async (peer, req) => {
      const s = session(peer, refFromWire(req['ref']));
      return { destinations: (await s.footprints(req['awaitScan'] === true)).map(footprintToWire) };
    },
    Check: async (peer, req) => {
      if (req['protocolVersion'] !== FEDERATION_VERSION) throw new ControllerError('PEER_REJECTED', `the peer speaks federation version ${String(req['protocolVersion'])}; this domain speaks ${FEDERATION_VERSION}`);
      const sources = Array.isArray(req['sources']) ? (req['sources'] as unknown[]).map((n) => text(n, 'a source name')) : [];
      const answers = await checkIncoming(inv, connect, { peer: peer.name, vm: text(req['vm'], 'vm'), toHost: text(req['toHost'], 'to_host'), sources, awaitScan: req['awaitScan'] === true }, logger);
      return {
        protocolVersion: FEDERATION_VERSION,
        destinations: answers.map((a) => ({
          name: a.name, via: a.via,
          ...(a.capabilities ? { capabilities: capabilitiesToWire(a.capabilities, PROTOCOL_VERSION) } : {}),
          ...(a.footprint ? { footprint: footprintToWire(a.footprint) } : {}),
          ...(a.failure ? { failureReason: a.failure.reason, failureDetail: a.failure.detail } : {}),
        })),
      };
    },
    Status: async (peer, req) => {
      const ref = refFromWire(req['ref']);
      // Only a migration towards the caller (its domain this journal's one destination) is its business.
      const st = await journalled(ref.migrationId);
      const address = st ? inv.vms.get(st.vm)?.address : undefined;
      if (!st || !st.destinations.includes(peer.name) || (address !== undefined && address !== ref.vm)) return { known: false };
      return { known: true, phase: st.phase, finished: recoveryAction(st).kind === 'none', ...(st.abort ? { abortReason: st.abort.reason } : {}) };
    },
    Abort: async (peer, req) => {
      const ref = refFromWire(req['ref']);
      const s = sessions.get(ref.migrationId);
      // Left unfinished by this server before it restarted: undone from the journal and the kept ticket.
      if (!s && (await unfinishedHere(ref.migrationId)) !== undefined) {
        await recoverHere(ref.migrationId, 'source');
        return {};
      }
      if (!s || s.ended) return {}; // never proposed here, or already rolled back: nothing to undo
      session(peer, ref);
      const reason = req['reason'];
      await s.abort(typeof reason === 'string' && isFailureReason(reason) ? reason : 'PEER_REJECTED', `${peer.name}: ${typeof req['detail'] === 'string' && req['detail'] !== '' ? req['detail'] : 'rolled back'}`);
      return {};
    },
  };

  const implementation: UntypedServiceImplementation = {};
  for (const method of Object.keys(handlers) as FederationMethod[]) {
    implementation[method] = (call: ServerUnaryCall<Decoded<WireMessage>, WireMessage>, callback: sendUnaryData<WireMessage>): void => {
      let peer: PeerTrust | undefined;
      let migrationId: string | undefined;
      void (async () => {
        try {
          if (!call.request.ok) throw new ControllerError('PEER_REJECTED', call.request.error);
          peer = callingPeer(call.getAuthContext()?.sslPeerCertificate, peers);
          const ref = call.request.value['ref'] as { migrationId?: unknown } | undefined;
          migrationId = typeof ref?.migrationId === 'string' ? ref.migrationId : undefined;
          const out = await handlers[method](peer, call.request.value);
          forgetEnded(migrationId);
          calls.push({ method, peer: peer.name, migrationId, ok: true });
          callback(null, out);
        } catch (e) {
          forgetEnded(migrationId);
          calls.push({ method, peer: peer?.name, migrationId, ok: false });
          const status = federationStatus(e, `domain ${inv.domain}: ${method}`);
          logger.warn('federation call failed', { method, peer: peer?.name ?? call.getPeer(), migrationId, message: status.details });
          callback(status);
        }
      })();
    };
  }

  const server = new Server({ 'grpc.max_receive_message_length': o.maxMessageBytes ?? DEFAULT_FEDERATION_SERVER_OPTIONS.maxMessageBytes, 'grpc.max_send_message_length': o.maxMessageBytes ?? DEFAULT_FEDERATION_SERVER_OPTIONS.maxMessageBytes });
  server.addService(FEDERATION_SERVICE, implementation);
  const listener = await listenMutualTls(server, { listen, ca: Buffer.from(peers.map((p) => p.caPem).join('\n')), cert: Buffer.from(read(fed.tls.cert)), key: Buffer.from(read(fed.tls.key)), logger, service: 'federation' }).catch((err: Error) => {
    throw new ControllerError('BAD_CONFIG', `federation: cannot listen on ${listen}: ${err.message}`, { cause: err });
  });
  const port = listener.port;
  const address = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
  logger.info('federation listening', { address, peers: peers.map((p) => p.name).join(',') });

  // What this server left unfinished before it stopped: not activated, nothing depends on it — rolled
  // back now, as the idle sweep would have; activated, it waits for the peer's word (Finish, Abort).
  void (async () => {
    for (const st of await unfinishedMigrations(journal)) {
      if (!isIncoming(inv, st) || sessions.has(st.migrationId)) continue;
      if (st.phase === 'ACTIVATED') logger.warn('a migration activated here before this server stopped waits for the source domain\'s word (its carryover recover), or carryover recover --vm-at here', { migrationId: st.migrationId });
      else await recoverHere(st.migrationId);
    }
  })().catch((e: unknown) => logger.error('recovering the migrations left unfinished failed; run carryover recover', { error: (e as Error).message }));

  const idleMs = o.idleMs ?? DEFAULT_FEDERATION_SERVER_OPTIONS.idleMs;
  const sweep = setInterval(() => {
    for (const s of sessions.values()) {
      const phase = s.phase;
      if (phase === 'ACTIVATED' || now() - s.lastCallAtMs < idleMs) continue;
      void s.abort('DEVICE_UNREACHABLE', `no call from ${s.proposal.peer} for ${idleMs} ms before activation; rolled back here`).then(() => forget(s), (e: unknown) => logger.error('idle rollback failed', { migrationId: s.migrationId, error: (e as Error).message }));
    }
  }, Math.max(50, Math.min(idleMs / 4, 5_000)));
  sweep.unref();

  let stopped: Promise<void> | undefined;
  return {
    address,
    port,
    calls: () => calls,
    migrations: () => [...sessions.values()].map((s) => ({ migrationId: s.migrationId, peer: s.proposal.peer, phase: s.phase })),
    stop: () => {
      stopped ??= (async () => {
        clearInterval(sweep);
        await listener.close();
        await shutDownServer(server);
        for (const s of sessions.values()) await s.close().catch(() => undefined);
      })();
      return stopped;
    },
  };
}
