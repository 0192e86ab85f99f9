/**
 * carryover's edge plugin: the migration contract read from a P4Info, register access with a
 * P4Runtime and an in-band backend, and `createEdgePlugin` (start / stop / health / readVmState).
 */
export { createEdgePlugin } from './edge-plugin.js';
export type { EdgePlugin, EdgePluginHealth, SessionRestored } from './edge-plugin.js';
export { PipelineMismatchError, settlePipeline } from './pipeline-policy.js';
export type { PipelineOutcome, PipelineCheckInput } from './pipeline-policy.js';
export { DEFAULT_EDGE_PLUGIN_OPTIONS, parseEdgePluginOptions } from './edge-plugin-options.js';
export type { EdgePluginOptions, LearnDigestOptions, ParsedEdgePluginOptions } from './edge-plugin-options.js';
export { bmv2JsonDifferences, listDifferences } from './bmv2-json-check.js';
export { EDGE_PLUGIN_ERROR_CODES, EdgePluginError } from './errors.js';
export type { EdgePluginErrorCode, EdgePluginErrorOptions } from './errors.js';
export { EDGE_PLUGIN_STATES } from './lifecycle.js';
export type { EdgePluginState, StateChange } from './lifecycle.js';
export type { PinholeExport, PinholeImportResult, PinholePhase, PinholeStats } from './pinhole-learner.js';
export { PinholeLearner } from './pinhole-learner.js';
export { readVmState, resolveVmId } from './vm-state.js';
export type { ReadVmStateOptions, VmCounterState, VmSlotState, VmState, VmStateSource, VmTableEntryState } from './vm-state.js';
export * from './contract/index.js';
export * from './state-access/index.js';
export { loadEdgePluginConfig, parseEdgePluginConfig, DEFAULT_HEALTH_INTERVAL_MS } from './config-file.js';
export type { EdgePluginConfig, MigrationProtocolConfig } from './config-file.js';
export { runPluginCommand } from './cli.js';
export type { PluginCommandIo } from './cli.js';
// Migration tickets: coordinators sign, plugins verify (mutual authorization per migration).
export { TicketVerifier, canonicalClaims, cosignTicket, issueTicket } from './security/migration-ticket.js';
export type { KeyInput, MigrationTicket, TicketClaims, TicketRequest, TicketSignature, TicketVerifierOptions } from './security/migration-ticket.js';
// The device API (transport-free) and its per-migration sessions.
export { DEVICE_FAILURE_REASONS, isQuietBatch } from './device-api/device-api.js';
export type { AbortOptions, DaemonIdentity, DeviceApi, DeviceCapabilities, DeviceFailureReason, ExportDeltasOptions, FinalProof, FootprintOptions, ImportResult, MigrationRef, SlotRecordOut, StateBatch, StateClass, TableEntryRecord, VmFootprint } from './device-api/device-api.js';
export { DeviceApiFailure, MigrationSessions } from './device-api/migration-sessions.js';
export { createDeviceApi } from './device-api/edge-device-api.js';
export { addInto as addCounterValues } from './device-api/vm-counter-transfer.js';
export type { VmCounters } from './device-api/vm-counter-transfer.js';
export { schemaDifferences } from './device-api/schema-difference.js';
// Capability negotiation: schemas in comparable form, and the identical / translated / incompatible verdict.
export { SCHEMA_DESCRIPTION_VERSION, describeSchema } from './device-api/schema-description.js';
export type { CounterSchema, HashRegion, SchemaDescription, SchemaField, SlotGroupSchema, TableSchema } from './device-api/schema-description.js';
export { negotiateMigrationSchemas, negotiateSchemas } from './device-api/schema-negotiation.js';
export type { MigrationSchemaVerdict, SchemaVerdict } from './device-api/schema-negotiation.js';
export { placeFlow, placementFieldLacking, planForSource, splitBatch } from './device-api/split-batch.js';
export { checkCapacityClaim, checkRoom } from './device-api/capacity.js';
export { transferState } from './device-api/peer-transfer.js';
export type { PeerTransferOptions, TransferMode, TransferProgress, TransferRequest } from './device-api/peer-transfer.js';
export type { FlowPlacement, KeyFieldSpec, KeyFieldValue, SplitPlan } from './device-api/split-batch.js';
export type { EdgeDeviceApi, EdgeDeviceApiOptions } from './device-api/edge-device-api.js';
export { DEFAULT_DELTA_INTERVAL_MS, DEFAULT_FINAL_DIGEST_WAIT_MS, DEFAULT_TAKE_AHEAD_MAX_CHANGES, parseEdgeDeviceApiOptions } from './device-api/edge-device-api-options.js';
export type { ResolvedEdgeDeviceApiOptions } from './device-api/edge-device-api-options.js';
// The migration protocol: the device API served and called over gRPC + mutual TLS.
export * from './protocol/index.js';
