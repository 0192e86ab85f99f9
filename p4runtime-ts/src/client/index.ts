/** Internal barrel of the client: P4Switch and the pieces it is built from. */
export { P4Switch } from './p4-switch.js';
export { parseP4SwitchOptions, defaultElectionId, DEFAULT_P4SWITCH_OPTIONS } from './options.js';
export type {
  P4SwitchOptions,
  ResolvedP4SwitchOptions,
  CredentialsOption,
  ResolvedCredentials,
  PemSource,
  ReconnectPolicy,
  ElectionIdConflictPolicy,
  GrpcClientKind,
} from './options.js';
export { systemClock } from './clock.js';
export { ManualClock } from './manual-clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { GrpcTransport, channelCredentials, channelOptions } from './transport.js';
export { Http2Transport } from './http2-transport.js';
export { TransportCallError } from './grpc-status.js';
export type { P4RuntimeTransport, StreamChannelHandle, StreamHandlers, TransportStatus, GrpcTransportOptions } from './transport.js';
export { P4RUNTIME_SERVICE, P4RUNTIME_SERVICE_DEFINITION } from './service.js';
export { ArbitrationSession, isElectionIdConflict } from './arbitration.js';
export type { ArbitrationState, ArbitrationConfig } from './arbitration.js';
export { pipelineCookie, sameP4Info } from './pipeline.js';
export type { PipelineResponseType, PipelineAction, PipelineConfig, PipelineSpec, EnsurePipelineResult } from './pipeline.js';
export { TableHandle, RegisterHandle, CounterHandle, DirectCounterHandle, DigestHandle } from './handles.js';
export type { P4Update, ReadQuery, ResultOf, TableReadOptions } from './handles.js';
export type { PreparedRead } from './read.js';
export { statusDetails, perUpdateErrors, writeFailedError } from './write.js';
export type { Atomicity, WriteOptions } from './write.js';
export { parseDurationNs, describeUpdate, decodeEntity, decodeTableEntry } from './entity-codec.js';
export type {
  TableEntrySpec,
  TableEntryRead,
  RegisterCell,
  CounterCell,
  DirectCounterCell,
  DigestConfigRead,
  DigestConfigSpec,
  EntityRead,
  CounterValue,
  DurationInput,
} from './entity-codec.js';
export type { PacketIn, DigestList, IdleTimeoutNotice, StreamErrorEvent } from './stream.js';
