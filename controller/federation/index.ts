/**
 * Two domains (issue 14): one controller per domain, each driving only its own devices. The
 * source domain's controller proposes a migration to the destination domain's over the
 * federation service (federation.proto, mutual TLS with cross-trust configured per peer); they
 * agree a ticket both sign; the destination domain stages and activates its own devices; only the
 * commit crosses the boundary inside the pause; either side's failure rolls back both.
 */
export { FEDERATION_METHODS, FEDERATION_PACKAGE, FEDERATION_SERVICE, FEDERATION_VERSION } from './federation-wire.js';
export type { FederationMethod } from './federation-wire.js';
export { federationFailure, federationStatus } from './federation-status.js';
export { DEFAULT_FEDERATION_CLIENT_OPTIONS, FederationClient } from './federation-client.js';
export type { FederationClientOptions } from './federation-client.js';
export { DEFAULT_FEDERATION_SERVER_OPTIONS, serveFederation } from './federation-server.js';
export type { FederationCallRecord, FederationServer, FederationServerOptions } from './federation-server.js';
export { IncomingMigration } from './incoming-migration.js';
export type { IncomingDeps, Proposal } from './incoming-migration.js';
export { PeerDomainDevice } from './peer-domain-device.js';
export type { PeerDomainDeviceOptions } from './peer-domain-device.js';
export { joinPeerDomain } from './join-peer-domain.js';
export { agreedTicketPath } from './kept-ticket.js';
export type { JoinPeerDomainOptions, JoinedPeerDomain } from './join-peer-domain.js';
export { callingPeer } from './peer-identity.js';
export type { PeerTrust } from './peer-identity.js';
export { runFederationCommand } from './federation-command.js';
export type { FederationCommandIo } from './federation-command.js';
export { checkPeerDomain } from './peer-domain-check.js';
export type { PeerDestinationCheck, PeerDomainCheck, PeerDomainCheckOptions } from './peer-domain-check.js';
export { checkIncoming } from './incoming-check.js';
export type { IncomingCheckRequest, IncomingDestinationCheck } from './incoming-check.js';
export { planIncoming } from './incoming-destinations.js';
