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
