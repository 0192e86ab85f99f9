/**
 * The source domain's side of a cross-domain migration, up to the engine: its own source devices
 * connected, the proposal to the peer domain (which plans and negotiates its destinations), the
 * migration journalled here, the ticket signed here and cosigned there — then the engine gets the
 * sources and the peer domain (PeerDomainDevice) as its devices. After the run, a commit is
 * confirmed to the peer (Finish); a rollback already reached it through the engine's abort.
 */
import { readFileSync } from 'node:fs';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import { PROTOCOL_VERSION, TicketVerifier, capabilitiesFromWire, capabilitiesToWire, issueTicket, refToWire, ticketFromWire, ticketToWire } from '../../plugin/index.js';
import type { DeviceApi, DeviceCapabilities, MigrationRef } from '../../plugin/index.js';
import type { DeviceConnector } from '../devices/connect-plan-devices.js';
import { ControllerError } from '../errors.js';
import type { InventoryFederation, InventoryPeer } from '../inventory/inventory.js';
import type { MigrationJournal } from '../journal/journal.js';
import { MigrationMachine } from '../migration/migration-machine.js';
import type { MigrationPlan } from '../plan/plan-migration.js';
import { AgreedTicket } from '../remote/agreed-ticket.js';
import { DEFAULT_FEDERATION_CLIENT_OPTIONS, federationClientFor } from './federation-client.js';
import { keepAgreedTicket } from './kept-ticket.js';
import { reasonOf } from './federation-status.js';
import { FEDERATION_VERSION } from './federation-wire.js';
import type { FederationMethod } from './federation-wire.js';
import { PeerDomainDevice } from './peer-domain-device.js';

/** What joining a peer domain needs. */
export interface JoinPeerDomainOptions {
  /** This domain's plan: its sources, and the peer domain as the one destination (planToPeer). */
  readonly plan: MigrationPlan;
  readonly migrationId: string;
  /** This domain's name and its coordinator's Ed25519 private key (PEM file). */
  readonly domain: string;
  readonly signingKey: string;
  readonly federation: InventoryFederation;
  readonly peer: InventoryPeer;
  /** The host the VM goes to, as the peer's inventory names it. */
  readonly toHost: string;
  readonly journal: MigrationJournal;
  readonly connect: DeviceConnector;
  /** Deadline of the commit inside the pause. */
  readonly pauseDeadlineMs: number;
  /**
   * What a commit past that deadline means (the migration's deadline policy): `abort` (default)
   * gives up on it at the deadline and rolls both domains back; `continue` waits for the peer's
   * activation (up to the federation call timeout), since the VM may already be on its way there.
   */
  readonly onDeadline?: 'abort' | 'continue';
  /** Lifetime of the agreed ticket (it is not renewed across domains). Default 30 minutes. */
  readonly ticketTtlMs?: number;
  /** The journal directory the agreed ticket is kept in (kept-ticket.ts); not kept when absent. */
  readonly ticketDir?: string;
  readonly progress?: (line: string) => void;
  readonly logger?: Logger;
}

/** How long Finish is retried before the commit is left to carryover recover (ms). */
const FINISH_RETRY_MS = 10_000;

/** Finish at the peer, retried with waits of 250 ms doubling to 2 s for FINISH_RETRY_MS. */
async function finishAtPeer(remote: PeerDomainDevice, ref: MigrationRef, deleted: number, peer: string, logger: Logger, progress: (line: string) => void): Promise<void> {
  const t0 = Date.now();
  for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      await remote.finish(ref, deleted);
      return;
    } catch (e) {
      const error = (e as Error).message;
      if (Date.now() - t0 + wait > FINISH_RETRY_MS) {
        logger.error('the peer domain did not record the commit; it keeps the migration activated until told', { peer, error });
        throw new ControllerError('DEVICE_UNREACHABLE', `the VM runs at ${peer} and this domain's sources are cleaned, but ${peer} did not record the commit (${error}): run carryover recover here once ${peer}'s federation answers — it tells ${peer} (Finish); never roll ${peer} back`, { cause: e });
      }
      if (wait === 250) progress(`${peer} did not record the commit (${error}); retrying for up to ${FINISH_RETRY_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** A cross-domain migration ready for the engine. */
export interface JoinedPeerDomain {
  readonly machine: MigrationMachine;
  readonly devices: ReadonlyMap<string, DeviceApi>;
  /** The peer's destination devices. */
  readonly destinations: readonly string[];
  /** Federation calls while the VM was paused (one: Commit) and in all. */
  callsInPause(): readonly FederationMethod[];
  calls(): readonly FederationMethod[];
  /** The commit's duration at this end (ms), once it answered. */
  commitMs(): number | undefined;
  /** The peer's own time on the commit (ms), as it reported. */
  peerCommitWorkMs(): number | undefined;
  /**
   * Has the peer record the commit (Finish), retried for a while (a federation restarting); the
   * engine calls it before it journals the sources cleaned (MigrationEngineOptions.beforeSourceCleaned).
   * @throws ControllerError naming the peer and carryover recover, which repeats it.
   */
  finish(sourceDeleted: number): Promise<void>;
  stop(): Promise<void>;
}

/** Proposes, journals and agrees the migration with the peer domain; connects this domain's sources. */
export async function joinPeerDomain(o: JoinPeerDomainOptions): Promise<JoinedPeerDomain> {
  const logger = o.logger ?? silentLogger;
  const progress = o.progress ?? (() => undefined);
  const peer = o.peer;
  if (!peer.address) throw new ControllerError('BAD_CONFIG', `peers.${peer.name}: no address; a migration to ${peer.name} needs where its controller serves federation`);
  const ref: MigrationRef = { migrationId: o.migrationId, vm: o.plan.vm.address };
  const sources = o.plan.sources.map((d) => d.name);
  const tickets = new AgreedTicket();
  const local = await o.connect(o.plan.sources, { scope: { sources, destinations: [] }, tickets });
  const client = federationClientFor({ ...peer, address: peer.address }, o.federation);
  let machine: MigrationMachine | undefined;
  let proposed = false;
  try {
    const caps = await Promise.all(sources.map(async (s) => (local.apis.get(s) as DeviceApi).capabilities()));
    progress(`proposing to ${peer.name} (${peer.address}): VM ${o.plan.vm.name} to its host ${o.toHost}`);
    const answer = await client.call('Propose', {
      protocolVersion: FEDERATION_VERSION, ref: refToWire(ref), vmName: o.plan.vm.name, fromHost: o.plan.fromHost, toHost: o.toHost,
      sources, sourceCapabilities: caps.map((c) => capabilitiesToWire(c, PROTOCOL_VERSION)),
    });
    proposed = true;
    if (answer['protocolVersion'] !== FEDERATION_VERSION) throw new ControllerError('PEER_REJECTED', `peer domain ${peer.name} speaks federation version ${String(answer['protocolVersion'])}; this domain speaks ${FEDERATION_VERSION}`);
    const destinations = (answer['destinations'] as string[] | undefined) ?? [];
    const destCaps = ((answer['destinationCapabilities'] as unknown[] | undefined) ?? []).map((c) => capabilitiesFromWire(c).capabilities);
    if (destinations.length === 0 || destCaps.length !== destinations.length) throw new ControllerError('PEER_REJECTED', `peer domain ${peer.name} answered the proposal without destinations`);
    progress(`${peer.name} plans destinations ${destinations.join(', ')}`);
    machine = await MigrationMachine.plan({ migrationId: o.migrationId, vm: o.plan.vm.name, sources, destinations: [peer.name] }, { journal: o.journal, now: () => Date.now(), logger });
    const mine = issueTicket({ migrationId: o.migrationId, vm: ref.vm, sources, destinations, ttlMs: o.ticketTtlMs ?? 30 * 60_000 }, o.domain, readFileSync(o.signingKey, 'utf8'));
    const both = ticketFromWire((await client.call('Agree', { ref: refToWire(ref), ticket: ticketToWire(mine) }))['ticket']);
    try {
      // The cosigned claims must be ours, and the peer's signature must verify with the key we trust for it.
      if (both.claims.nonce !== mine.claims.nonce) throw new Error('the peer returned other claims than the ones signed here');
      new TicketVerifier({ trusted: { [peer.name]: readFileSync(peer.ticketKey, 'utf8') }, required: [peer.name] }).verify(both, { migrationId: o.migrationId, vm: ref.vm, device: sources[0] as string });
    } catch (e) {
      throw new ControllerError('PEER_REJECTED', `peer domain ${peer.name}: its signature on the ticket is refused: ${(e as Error).message}`, { cause: e });
    }
    tickets.agree(both);
    if (o.ticketDir) keepAgreedTicket(o.ticketDir, o.migrationId, both);
    const m = machine;
    // The peer domain as one destination: its first device's schema, the room of all of them (dc-b checks each at staging).
    const first = destCaps[0] as DeviceCapabilities;
    const slots = { total: destCaps.reduce((n, c) => n + c.slots.total, 0), free: destCaps.reduce((n, c) => n + c.slots.free, 0) };
    const remote = new PeerDomainDevice({ client, capabilities: { ...first, slots }, state: () => m.state, commitTimeoutMs: o.onDeadline === 'continue' ? Math.max(o.pauseDeadlineMs, DEFAULT_FEDERATION_CLIENT_OPTIONS.callTimeoutMs) : o.pauseDeadlineMs, commitBudget: o.onDeadline !== 'continue' });
    return {
      machine: m,
      devices: new Map<string, DeviceApi>([...local.apis, [peer.name, remote]]),
      destinations,
      callsInPause: () => remote.callsInPause,
      calls: () => client.calls,
      commitMs: () => remote.commitMs,
      peerCommitWorkMs: () => remote.peerCommitWorkMs,
      finish: (deleted) => finishAtPeer(remote, ref, deleted, peer.name, logger, progress),
      stop: async () => {
        client.close();
        await local.stop();
      },
    };
  } catch (e) {
    const { reason, message } = reasonOf(e);
    if (proposed) await client.call('Abort', { ref: refToWire(ref), reason, detail: message }).catch(() => undefined);
    if (machine) {
      await machine.record({ type: 'abort', reason, detail: message });
      await machine.record({ type: 'rolled-back' });
    }
    client.close();
    await local.stop();
    throw e;
  }
}
