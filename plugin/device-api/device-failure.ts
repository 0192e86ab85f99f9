/** Turns what the plugin and the switch throw into the device API's closed set of reasons. */
import { P4RuntimeError } from 'p4runtime-ts';
import { EdgePluginError } from '../errors.js';
import type { DeviceFailureReason } from './device-api.js';
import { DeviceApiFailure } from './migration-sessions.js';

/** The reason a plugin or switch error stands for. */
function reasonOf(e: EdgePluginError): DeviceFailureReason {
  const sw = e.switchCode;
  if (sw === 'NOT_PRIMARY' || sw === 'PERMISSION_DENIED') return 'NOT_PRIMARY';
  switch (e.code) {
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
