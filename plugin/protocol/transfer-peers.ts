/**
 * A source daemon's connections to the destination plugins of its Transfers, shared by the
 * Transfers of one migration: the final one (sent in the pause) reuses the channel the pre-copy
 * one opened, instead of a TLS handshake of its own in the pause. Closed once no Transfer of the
 * migration uses them.
 */
import type { MigrationTicket } from '../security/migration-ticket.js';
import { connectMigrationPeer } from './migration-client.js';
import type { RemoteDeviceApi } from './migration-client.js';
import type { MutualTls } from './tls-material.js';

/** A destination plugin as a Transfer names it. */
export interface TransferPeerTarget {
  readonly name: string;
  readonly address: string;
  readonly serverName?: string;
}

/** What a migration's shared connections need. */
export interface TransferPeersOptions {
  readonly tls: MutualTls;
  readonly maxMessageBytes: number;
}

/** The connections of one migration's Transfers, and how many Transfers hold them. */
interface Shared {
  readonly peers: Map<string, RemoteDeviceApi>;
  users: number;
  /** The ticket presented to the destinations: the newest a Transfer of the migration brought. */
  ticket: MigrationTicket;
}

const keyOf = (t: TransferPeerTarget): string => `${t.name}\u0000${t.address}\u0000${t.serverName ?? ''}`;

/** Connections to destination plugins by migration. */
export class TransferPeers {
  private readonly byMigration = new Map<string, Shared>();

  constructor(private readonly o: TransferPeersOptions) {}

  /**
   * The connections a Transfer of migration `id` uses, by destination name (opened where no
   * Transfer of it has one to that address); `release` once it ended. A newer ticket than the one
   * the connections present replaces it.
   */
  acquire(id: string, targets: readonly TransferPeerTarget[], ticket: MigrationTicket): { readonly peers: ReadonlyMap<string, RemoteDeviceApi>; release: () => void } {
    let shared = this.byMigration.get(id);
    if (!shared) {
      shared = { peers: new Map(), users: 0, ticket };
      this.byMigration.set(id, shared);
    }
    const s = shared;
    if (ticket.claims.expiresAtMs > s.ticket.claims.expiresAtMs) s.ticket = ticket;
    s.users++;
    const mine = new Map<string, RemoteDeviceApi>();
    for (const t of targets) {
      const key = keyOf(t);
      let peer = s.peers.get(key);
      if (!peer) {
        const tls = this.o.tls;
        peer = connectMigrationPeer({
          address: t.address, name: t.name, ticket: () => s.ticket, maxMessageBytes: this.o.maxMessageBytes,
          tls: { ca: tls.ca, cert: tls.cert, key: tls.key, ...(t.serverName ? { serverName: t.serverName } : {}) },
        });
        s.peers.set(key, peer);
      }
      mine.set(t.name, peer);
    }
    let released = false;
    return {
      peers: mine,
      release: () => {
        if (released) return;
        released = true;
        s.users--;
        if (s.users > 0 || this.byMigration.get(id) !== s) return;
        this.byMigration.delete(id);
        for (const p of s.peers.values()) p.close();
      },
    };
  }

  /** A newer ticket (admitted by the caller) for the running Transfers of migration `id`; false when none runs. */
  renew(id: string, ticket: MigrationTicket): boolean {
    const s = this.byMigration.get(id);
    if (!s) return false;
    if (ticket.claims.expiresAtMs > s.ticket.claims.expiresAtMs) s.ticket = ticket;
    return true;
  }

  /** Connections open now, over every migration (for tests and stats). */
  get open(): number {
    let n = 0;
    for (const s of this.byMigration.values()) n += s.peers.size;
    return n;
  }
}
