/** The migration contract read from a P4Info: slot groups, placement, tables, counters, in-band format. */
export { readMigrationContract, slotGroup } from './migration-contract.js';
export type { MigrationContract } from './migration-contract.js';
export { readSlotGroups } from './slot-group.js';
export { readChangeLog, readNewFlowDigest } from './change-log-spec.js';
export type { ChangeLogSpec, NewFlowDigestSpec } from './change-log-spec.js';
export type { DeltaDigestSpec, DirtySpec, FieldRef, SlotGroupSpec, SlotWord } from './slot-group.js';
export { candidateSlotsFor, chooseSlot, keyBytes, validatePlacementSpec } from './placement.js';
export type { HashChoice, KeyField, PlacementSpec, SlotChoice, SlotProbe } from './placement.js';
export { bitMask, decodeSlotFields, dirtyBufferWords, dirtyPosition, encodeSlotWords, fieldValue, isOccupied, slotKey, slotsOfDirtyWord } from './slot-codec.js';
export { MIGRATION_FLAGS, readMigrationControl, readVmMap } from './vm-control.js';
export type { MigrationControlSpec, MigrationFlag, VmMapSpec } from './vm-control.js';
export { readMigratableTables } from './migratable-tables.js';
export type { LearnSpec, MigratableTableSpec } from './migratable-tables.js';
export { readVmCounters } from './vm-counters.js';
export type { VmCounterSpec } from './vm-counters.js';
export { INBAND_OP, INBAND_STATUS, MIN_REQ_ID_BITS, decodeInbandAnswer, encodeInbandRequest, readInband } from './inband-format.js';
export type { HeaderField, InbandAnswer, InbandOpName, InbandRequest, InbandSpec } from './inband-format.js';
