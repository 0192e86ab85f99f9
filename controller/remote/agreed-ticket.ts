/**
 * The ticket of a cross-domain migration: one set of claims (the source domain's devices and the
 * destination domain's) signed by both coordinators, agreed before any device is prepared and
 * presented unchanged with every device call of that migration on either side. Until it is agreed,
 * asking for it fails (a device call that early is a bug, refused rather than sent unsigned).
 */
import type { MigrationRef, MigrationTicket } from '../../plugin/index.js';
import { ControllerError } from '../errors.js';
import type { TicketScope, TicketSource } from './ticket-issuer.js';

/** Holds the agreed ticket of one migration. */
export class AgreedTicket implements TicketSource {
  /** `t`: agreed already (a ticket kept from the agreement). */
  constructor(private ticket?: MigrationTicket) {}

  /** Sets the ticket both coordinators signed. */
  agree(t: MigrationTicket): void {
    this.ticket = t;
  }

  /** The agreed ticket. @throws ControllerError when not agreed yet, or for another migration. */
  ticketFor(m: MigrationRef, _scope: TicketScope): MigrationTicket {
    const t = this.ticket;
    if (!t) throw new ControllerError('PEER_REJECTED', `migration ${m.migrationId}: the two domains have not agreed its ticket yet`);
    if (t.claims.migrationId !== m.migrationId || t.claims.vm !== m.vm) throw new ControllerError('PEER_REJECTED', `the agreed ticket is for migration ${t.claims.migrationId} (VM ${t.claims.vm}), not ${m.migrationId} (VM ${m.vm})`);
    return t;
  }
}
