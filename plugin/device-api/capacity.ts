/**
 * Capacity in negotiation (DESIGN.md §7.3, §10), wherever it is negotiated — by a controller, or
 * by a source plugin about to send its state peer to peer: a device's claim is checked before it
 * is relied on, and a destination without room for the VM's snapshot is refused before any state
 * moves. A claim that cannot be true (more free slots than slots, a group without slots) is
 * PEER_REJECTED; too little room is CAPACITY_EXCEEDED naming the device, what the VM needs there
 * and what it has. Free slots are a necessary condition only: a flow also needs one of its
 * candidate slots free, which the destination's conditional import checks (KEY_COLLISION).
 */
import type { DeviceCapabilities } from './device-api.js';
import { DeviceApiFailure } from './migration-sessions.js';

/** Checks that `caps` (of device `name`) can be true. @throws DeviceApiFailure PEER_REJECTED. */
export function checkCapacityClaim(name: string, caps: DeviceCapabilities): void {
  const { total, free } = caps.slots;
  const whole = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
  if (!whole(total) || !whole(free) || total === 0 || free > total) {
    throw new DeviceApiFailure('PEER_REJECTED', `${name} claims ${free} free slots of ${total}: no device has that; its capabilities are refused before anything is prepared`);
  }
}

/** Checks that every destination has room for what the VM needs there. @throws DeviceApiFailure CAPACITY_EXCEEDED. */
export function checkRoom(needs: ReadonlyMap<string, number>, capsOf: (name: string) => DeviceCapabilities | undefined): void {
  for (const [name, need] of needs) {
    const free = capsOf(name)?.slots.free;
    if (free !== undefined && need > free) throw new DeviceApiFailure('CAPACITY_EXCEEDED', `${name} has ${free} free slots; the VM's snapshot needs ${need} there; nothing was staged`);
  }
}
