/**
 * p4runtime-ts — a P4Runtime client for TypeScript.
 *
 * @example
 * import { P4Switch, P4Schema } from 'p4runtime-ts';
 */
export { P4RuntimeError, grpcCodeName, grpcCodeNumber, GRPC_CODE_NAMES } from './errors.js';
export type { P4RuntimeErrorCode, GrpcCodeName, LocalCodeName, UpdateError } from './errors.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel, LogFields, LoggerOptions } from './logger.js';
export { p4, google, toBigInt, toLong, fromUint128, toUint128 } from './proto/index.js';
// schema: P4Info index, text format, annotations
export { P4Schema, parseTextProto, parseP4InfoText, formatTextProto, formatP4InfoText, parseAnnotation, findAnnotation, suggest, ID_PREFIX, KIND_LABEL } from './schema/index.js';
export type {
  Annotation, AnnotationValue, TextProtoOptions, PlainMessage, PlainValue, EntityKind, EntityByKind, SchemaEntity, MatchType, MatchFieldInfo, ParamInfo,
  ActionInfo, ActionScope, ActionRefInfo, TableInfo, CounterUnit, MeterUnit, CounterInfo, DirectCounterInfo, MeterInfo, DirectMeterInfo,
  ActionProfileInfo, ValueSetInfo, RegisterInfo, MemberType, DigestMember, DigestInfo, ControllerMetadataInfo, ControllerHeaderInfo,
} from './schema/index.js';
// codec: canonical bytestrings, int<W>, addresses, match keys
export {
  encodeBits, decodeBits, decodeBitsChecked, bigintToBytes, isCanonical, fitsWidth, canonicalize, encodeInt, decodeInt, parseValue, formatValue,
  parseIPv4, formatIPv4, parseIPv6, formatIPv6, parseMac, formatMac, encodeFieldMatch, decodeFieldMatch, matchValueToInput, formatMatchValue,
} from './codec/index.js';
export type { ValueInput, MatchInput, MatchValue, MatchKind } from './codec/index.js';
// client: P4Switch (arbitration, pipeline, writes/reads by name, stream messages as Observables)
export {
  P4Switch, parseP4SwitchOptions, defaultElectionId, DEFAULT_P4SWITCH_OPTIONS, systemClock, ManualClock, GrpcTransport, Http2Transport, TransportCallError, P4RUNTIME_SERVICE, P4RUNTIME_SERVICE_DEFINITION,
  ArbitrationSession, pipelineCookie, sameP4Info, TableHandle, RegisterHandle, CounterHandle, DirectCounterHandle, DigestHandle, statusDetails, perUpdateErrors,
  parseDurationNs, describeUpdate,
} from './client/index.js';
export type {
  P4SwitchOptions, ResolvedP4SwitchOptions, CredentialsOption, PemSource, ReconnectPolicy, ElectionIdConflictPolicy, GrpcClientKind, Clock, TimerHandle,
  P4RuntimeTransport, StreamChannelHandle, StreamHandlers, TransportStatus, ArbitrationState, PipelineResponseType, PipelineAction, PipelineConfig,
  PipelineSpec, EnsurePipelineResult, P4Update, ReadQuery, PreparedRead, ResultOf, TableReadOptions, Atomicity, WriteOptions, TableEntrySpec, TableEntryRead, RegisterCell,
  CounterCell, DirectCounterCell, DigestConfigRead, DigestConfigSpec, EntityRead, CounterValue, DurationInput, PacketIn, DigestList,
  IdleTimeoutNotice, StreamErrorEvent,
} from './client/index.js';
// Target hash algorithms (v1model HashAlgorithm as BMv2 computes them), for recomputing placement.
export {
  crc32, crc16, csum16, HASH_ALGORITHMS, isHashAlgorithm, parseHashAlgorithm, concatFields, hashBytes, applyBaseAndMax, bmv2Hash,
} from './hash/index.js';
export type { HashAlgorithm, HashField } from './hash/index.js';
