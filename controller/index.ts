/**
 * The coordinator (DESIGN.md §7): the migration state machine, its journal, and the failure
 * reasons every boundary reports.
 */
export { ControllerError, CONTROLLER_ERROR_CODES, FAILURE_REASONS, isFailureReason } from './errors.js';
export type { ControllerErrorCode, FailureReason } from './errors.js';
export { MIGRATION_PHASES, MIGRATION_EVENT_TYPES } from './migration/events.js';
export type { LostState, MigrationEvent, MigrationEventType, MigrationPhase } from './migration/events.js';
export { initialState, recoveryAction, replay, transition } from './migration/transition.js';
export type { MigrationState, RecoveryAction } from './migration/transition.js';
export { MigrationMachine } from './migration/migration-machine.js';
export type { MigrationEventInput, MigrationMachineDeps, PhaseChange } from './migration/migration-machine.js';
export { MemoryJournal, parseJournalEvent } from './journal/journal.js';
export type { MigrationJournal } from './journal/journal.js';
export { FileJournal } from './journal/file-journal.js';
export type { DeviceRole, Inventory, InventoryController, InventoryDevice, InventoryFederation, InventoryHost, InventoryPeer, InventoryPluginEndpoint, InventoryTls, InventoryVm, PlacementFunction } from './inventory/inventory.js';
export { loadInventory, parseInventory } from './inventory/load-inventory.js';
export { pemHolds } from '../plugin/index.js';
export { destinationOf, planMigration, planToPeer } from './plan/plan-migration.js';
export type { FlowKeyField, MigrationPlan, PlacementPlan, Topology } from './plan/plan-migration.js';
export { deltaRounds } from './precopy/delta-rounds.js';
export type { ConvergencePolicy, DeltaRound, DeltaRoundsOptions, PulledLog, PushedChange } from './precopy/delta-rounds.js';
// WHEN: the QMP client and the QEMU trigger (exported by their own barrels too).
export * from './qmp/index.js';
export { monotonicClock, monotonicNow, monotonicScheduler } from './monotonic-time.js';
export * from './trigger/index.js';
export { MigrationEngine } from './engine/migration-engine.js';
export type { DeadlinePolicy, MigrationEngineOptions, PauseSyncResult, PrecopyRound } from './engine/migration-engine.js';
export { PeerRounds, inProcessTransfer } from './engine/peer-rounds.js';
export type { PeerRound, PeerRoundsDeps, TransferStarter } from './engine/peer-rounds.js';
export { SeqLedger } from './engine/seq-ledger.js';
export { DEFAULT_YOUNG_HEADROOM, YoungHeadroomOptionsError, exposedGc, keepYoungHeadroom, parseYoungHeadroomOptions, v8YoungGeneration } from './engine/young-headroom.js';
export type { Every, YoungGeneration, YoungHeadroomKeeper, YoungHeadroomOptions } from './engine/young-headroom.js';
export { DEFAULT_OLD_HEADROOM, OldHeadroomOptionsError, collectAfterBurst, logBurstCollection, parseOldHeadroomOptions, pastThreshold, v8OldGeneration } from './engine/old-headroom.js';
export type { BurstCollection, OldGeneration, OldHeadroomOptions } from './engine/old-headroom.js';
export { enterPause, pausesInProcess } from './engine/pauses-in-process.js';
export { HeapKeeper } from './engine/heap-keeper.js';
export type { HeapKeeperOptions } from './engine/heap-keeper.js';
export type { SeqGap } from './engine/seq-ledger.js';
export { engineAsPhaseHandler } from './engine/engine-phase-handler.js';
export type { EnginePhaseHandler, EngineRun } from './engine/engine-phase-handler.js';
export { reasonOfError, runMigration } from './engine/run-migration.js';
export type { RunMigrationOptions } from './engine/run-migration.js';
export { migrateReportJson, migrateReportLines, runMigrateCommand } from './cli.js';
export { runRecoverCommand } from './recover-command.js';
export { runJournalCommand } from './journal-command.js';
export { journalHistory, pruneJournal } from './journal/journal-history.js';
export type { JournalEntry, PruneOptions, PruneResult, UnreadableEntry } from './journal/journal-history.js';
export { recoverMigrations, unfinishedMigrations } from './migrate/recover-migrations.js';
export type { RecoverOptions, RecoveredMigration, VmWhereabouts } from './migrate/recover-migrations.js';
export type { MigrateCommandIo } from './cli.js';
export { connectDevices } from './devices/connect-devices.js';
export type { ConnectDevicesOptions, ConnectedDevices } from './devices/connect-devices.js';
export { connectPlanDevices, controllerTicketIssuer } from './devices/connect-plan-devices.js';
export type { DeviceConnector, PlanDevicesOptions } from './devices/connect-plan-devices.js';
export { splitBatch } from './engine/split-batch.js';
export type { KeyFieldSpec } from './engine/split-batch.js';
export { executeMigration, MigrationInterrupt, reachedAt } from './migrate/execute-migration.js';
export type { ExecuteMigrationOptions, InterruptOutcome, MigrateTrigger, MigrationOutcome } from './migrate/execute-migration.js';
// Devices over the migration protocol (plugins beside their switches) and this coordinator's tickets.
export * from './remote/index.js';
// Two domains: controller ↔ controller federation.
export * from './federation/index.js';
export { proofText } from './engine/final-proofs.js';
