/**
 * The migration protocol (issue 14): the device API as a versioned gRPC service over mutual TLS —
 * served by a plugin (serveMigrationProtocol) and called by a coordinator or a peer plugin
 * (connectMigrationPeer), with tickets authorizing every migration call.
 */
export { MIGRATION_METHODS, MIGRATION_PACKAGE, MIGRATION_SERVICE, PROTOCOL_VERSION, decodeWire, encodeWire, methodPath, wireCodec } from './wire.js';
export type { Decoded, MigrationMethod, WireCodec, WireMessage } from './wire.js';
export {
  MAX_VALUE_BYTES, batchFromWire, batchToWire, bigintToWire, capabilitiesFromWire, capabilitiesToWire, progressFromWire, progressToWire, refFromWire, refToWire, ticketFromWire, ticketToWire, transferFromWire, transferToWire, wireToBigint,
} from './codec.js';
export type { TransferTarget } from './codec.js';
export { footprintFromWire, footprintToWire } from './footprint-codec.js';
export { REASON_METADATA, failureToStatus, grpcCodeOf, statusToFailure } from './status.js';
export { DeltaCoalescer, mergeBatches } from './delta-coalescer.js';
export type { CoalescerStats } from './delta-coalescer.js';
export { certificateIdentities, trustedCaller } from './caller-identity.js';
export { caIssuerProblem, loadMutualTls, pemHolds, tlsIdentityProblem } from './tls-material.js';
export { shutDownServer } from './shutdown.js';
export { listenErrorHint, listenMutualTls, refusedHandshakeHint } from './mutual-tls-listener.js';
export type { MutualTlsListener, MutualTlsListenOptions } from './mutual-tls-listener.js';
export { diagnoseTls } from './tls-diagnosis.js';
export type { TlsDiagnosis } from './tls-diagnosis.js';
export type { LoadedTls, MutualTls } from './tls-material.js';
export { DEFAULT_MIGRATION_SERVER_OPTIONS, listenMigrationProtocol, parseMigrationServerOptions, serveMigrationProtocol } from './migration-server.js';
export type { MigrationListenOptions, MigrationServer, MigrationServerOptions, MigrationServerStats, ParsedMigrationServerOptions, PendingMigrationServer } from './migration-server.js';
export { DEFAULT_MIGRATION_CLIENT_OPTIONS, connectMigrationPeer, neverConnected } from './migration-client.js';
export { checkMigrationConfig, checkServedContract, listenMigrationService, startMigrationService } from './migration-service.js';
export type { MigrationService } from './migration-service.js';
export type { MigrationClientOptions, RemoteDeviceApi } from './migration-client.js';
