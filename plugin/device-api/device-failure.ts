/** Turns what the plugin and the switch throw into the device API's closed set of reasons. */
import { P4RuntimeError } from 'p4runtime-ts';
import { EdgePluginError } from '../errors.js';
import type { DeviceFailureReason } from './device-api.js';
import { DeviceApiFailure } from './migration-sessions.js';

/** What a switch answers when it refuses a request it understood (it is reachable). */
const REFUSALS: ReadonlySet<string> = new Set(['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'ALREADY_EXISTS', 'NOT_FOUND', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'RESOURCE_EXHAUSTED']);

/**
 * A switch's failure as a reason: a full table (RESOURCE_EXHAUSTED, for every failed update of a
 * batch) is CAPACITY_EXCEEDED, another refusal PEER_REJECTED; no answer, a lost or broken
 * connection, DEVICE_UNREACHABLE.
 */
function switchReason(e: EdgePluginError): DeviceFailureReason {
  const p4 = e.cause instanceof P4RuntimeError ? e.cause : undefined;
  const codes: string[] = p4?.code === 'WRITE_FAILED' && p4.updates.length > 0 ? p4.updates.map((u) => u.code) : [e.switchCode ?? ''];
  if (codes.every((c) => c === 'RESOURCE_EXHAUSTED')) return 'CAPACITY_EXCEEDED';
  if (codes.some((c) => REFUSALS.has(c))) return 'PEER_REJECTED';
  return 'DEVICE_UNREACHABLE';
}

/** The reason a plugin or switch error stands for. */
function reasonOf(e: EdgePluginError): DeviceFailureReason {
  const sw = e.switchCode;
  if (sw === 'NOT_PRIMARY' || sw === 'PERMISSION_DENIED') return 'NOT_PRIMARY';
  if (e.code === 'SWITCH') return switchReason(e);
  switch (e.code) {
    case 'PIPELINE_MISMATCH':
      return 'SCHEMA_MISMATCH';
    case 'CONTRACT_INVALID':
    case 'CONTRACT_MISSING':
      return 'UNSUPPORTED_STATE';
    case 'VM_UNKNOWN':
    case 'VALUE_RANGE':
    case 'STATE_CONFLICT':
    case 'INBAND_REJECTED':
    case 'BAD_OPTIONS':
      return 'PEER_REJECTED';
    case 'TICKET_REJECTED':
      return 'UNAUTHORIZED';
    default:
      return 'DEVICE_UNREACHABLE';
  }
}

/** `e` as a DeviceApiFailure (passed through when it is one), its message prefixed with what failed. */
export function asDeviceFailure(e: unknown, what: string): DeviceApiFailure {
  if (e instanceof DeviceApiFailure) return e;
  const err = e instanceof P4RuntimeError || !(e instanceof EdgePluginError) ? EdgePluginError.from(e) : e;
  return new DeviceApiFailure(reasonOf(err), `${what}: ${err.message}`, { cause: e });
}
