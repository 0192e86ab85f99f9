/** Register access for one slot group: one interface, a P4Runtime and an in-band backend, chosen by probing. */
export { compileSlotFilter, selectionIndices } from './register-access.js';
export type {
  CounterReading,
  DirtySelection,
  DirtyWord,
  IndexRange,
  ReadSlotsOptions,
  RegisterAccess,
  RegisterAccessCapabilities,
  RegisterAccessStats,
  RegisterBackendKind,
  SlotFilter,
  SlotRecord,
  SlotSelection,
  SlotWrite,
} from './register-access.js';
export type { ChangedSlots, ChangeLogEntry, ConditionalOutcome, TrackerState } from './change-log-access.js';
export { changeLogOf } from './change-log-access.js';
export { DEFAULT_INBAND_OPTIONS, InbandClient, inbandOpName, parseInbandOptions } from './inband-client.js';
export type { InbandChannel, InbandOptions } from './inband-client.js';
export { InbandRegisterAccess } from './inband-backend.js';
export { ClockEstimate, DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS, carriedOrReadClock } from './clock-estimate.js';
export type { CounterSource, InbandBackendParts } from './inband-backend.js';
export { DEFAULT_P4RUNTIME_BACKEND_OPTIONS, P4RuntimeRegisterAccess } from './p4runtime-backend.js';
export { readCounterCell, slotWriteUpdates, trackerCellQueries, trackerFromCells, warmSlotWrites } from './p4runtime-cells.js';
export type { P4RuntimeBackendOptions } from './p4runtime-backend.js';
export { chooseRegisterAccess, switchInbandChannel } from './choose-backend.js';
export type { ChooseBackendInput, RegisterAccessMode } from './choose-backend.js';
export { DEFAULT_VM_SLOT_INDEX_OPTIONS, VmSlotIndex, openVmSlotIndex, slotNoticeDigests } from './vm-slot-index.js';
export type { SlotIndexStatus, VmSlotIndexOptions, VmSlots } from './vm-slot-index.js';
