/**
 * DeviceApi.footprint's answer as the protocol's VmFootprint message and back. The VM id and the
 * slot count are proto3 `optional`: absent says "not mapped here" and "only a scan would say",
 * which a zero could not.
 */
import type { VmFootprint } from '../device-api/device-api.js';
import type { WireMessage } from './wire.js';
import { bad, list, msg, oneOf, str, uint } from './wire-checks.js';

const UNFINISHED = ['frozen', 'staged', 'tracked'] as const;

/** A footprint as its message. */
export function footprintToWire(f: VmFootprint): WireMessage {
  return {
    device: f.device,
    ...(f.vmId !== undefined ? { vmId: f.vmId } : {}),
    runsHere: f.runsHere,
    controlled: f.controlled,
    ...(f.slots !== undefined ? { slots: f.slots } : {}),
    indexComplete: f.indexComplete,
    migrations: [...f.migrations],
    ...(f.unfinished ? { unfinished: f.unfinished } : {}),
  };
}

/** A footprint from its message. @throws DeviceApiFailure PEER_REJECTED naming the malformed field. */
export function footprintFromWire(v: unknown): VmFootprint {
  const m = msg(v, 'VmFootprint');
  const flag = (x: unknown, what: string): boolean => {
    if (typeof x !== 'boolean') throw bad(what, 'expected a boolean');
    return x;
  };
  const vmId = m['vmId'] == null ? undefined : uint(m['vmId'], 'VmFootprint.vm_id');
  const slots = m['slots'] == null ? undefined : uint(m['slots'], 'VmFootprint.slots');
  return {
    device: str(m['device'], 'VmFootprint.device'),
    ...(vmId !== undefined ? { vmId } : {}),
    runsHere: flag(m['runsHere'], 'VmFootprint.runs_here'),
    controlled: flag(m['controlled'], 'VmFootprint.controlled'),
    ...(slots !== undefined ? { slots } : {}),
    indexComplete: flag(m['indexComplete'], 'VmFootprint.index_complete'),
    migrations: list(m['migrations'], 'VmFootprint.migrations').map((x, i) => str(x, `VmFootprint.migrations[${i}]`)),
    ...(m['unfinished'] == null || m['unfinished'] === '' ? {} : { unfinished: oneOf(m['unfinished'], UNFINISHED, 'VmFootprint.unfinished') }),
  };
}
