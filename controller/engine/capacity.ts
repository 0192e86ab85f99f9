/**
 * The plugin's capacity checks (plugin device-api/capacity.ts) as the controller reports them:
 * a ControllerError with the same reason and message.
 */
import { DeviceApiFailure, checkCapacityClaim as checkClaim, checkRoom as checkNeeds } from '../../plugin/index.js';
import type { DeviceCapabilities } from '../../plugin/index.js';
import { ControllerError, isFailureReason } from '../errors.js';

function reported(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof DeviceApiFailure && isFailureReason(e.reason)) throw new ControllerError(e.reason, e.message, { cause: e });
    throw e;
  }
}

/** Checks that `caps` (of device `name`) can be true. @throws ControllerError PEER_REJECTED. */
export function checkCapacityClaim(name: string, caps: DeviceCapabilities): void {
  reported(() => checkClaim(name, caps));
}

/** Checks that every destination has room for what the VM needs there. @throws ControllerError CAPACITY_EXCEEDED. */
export function checkRoom(needs: ReadonlyMap<string, number>, capsOf: (name: string) => DeviceCapabilities | undefined): void {
  reported(() => checkNeeds(needs, capsOf));
}
