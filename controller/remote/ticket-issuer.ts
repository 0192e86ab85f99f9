/**
 * The coordinator's side of migration tickets: one ticket per migration, signed with this
 * coordinator's key, naming the VM, the migration id and every source and destination device of
 * its plan; presented with every device call of that migration. A ticket close to its expiry is
 * replaced by a fresh one (a long pre-copy outlives any single ticket's lifetime).
 */
import { issueTicket } from '../../plugin/index.js';
import type { KeyInput, MigrationRef, MigrationTicket } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';

/** Options of TicketIssuer. */
export interface TicketIssuerOptions {
  /** This coordinator's name, as plugins know its key (e.g. its domain, `dc-a`). */
  readonly signer: string;
  /** Its Ed25519 private key. */
  readonly key: KeyInput;
  /** How long each ticket lives. Default 10 minutes. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Defaults of TicketIssuerOptions. */
export const DEFAULT_TICKET_ISSUER_OPTIONS = Object.freeze({ ttlMs: 10 * 60_000 });

/** Which devices a migration touches. */
export interface TicketScope {
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
}

/** Where a migration's device calls get their ticket: a TicketIssuer, or a ticket both domains signed. */
export interface TicketSource {
  ticketFor(m: MigrationRef, scope: TicketScope): MigrationTicket;
}

/** Issues and caches the tickets of this coordinator's migrations. */
export class TicketIssuer implements TicketSource {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly issued = new Map<string, MigrationTicket>();

  constructor(private readonly o: TicketIssuerOptions) {
    this.ttlMs = o.ttlMs ?? DEFAULT_TICKET_ISSUER_OPTIONS.ttlMs;
    if (!(Number.isInteger(this.ttlMs) && this.ttlMs >= 1000)) throw new ControllerError('BAD_CONFIG', `TicketIssuerOptions.ttlMs: expected an integer >= 1000, got ${String(o.ttlMs)}`);
    this.now = o.now ?? Date.now;
  }

  /** The ticket of migration `m` over `scope` (a fresh one once the last has lived 3/4 of its time). */
  ticketFor(m: MigrationRef, scope: TicketScope): MigrationTicket {
    const known = this.issued.get(m.migrationId);
    const now = this.now();
    if (known && known.claims.vm === m.vm && now < known.claims.expiresAtMs - this.ttlMs / 4) return known;
    const t = issueTicket({ migrationId: m.migrationId, vm: m.vm, sources: scope.sources, destinations: scope.destinations, ttlMs: this.ttlMs, nowMs: now }, this.o.signer, this.o.key);
    this.issued.set(m.migrationId, t);
    return t;
  }

  /** Forgets the tickets of an ended migration. */
  forget(migrationId: string): void {
    this.issued.delete(migrationId);
  }
}
