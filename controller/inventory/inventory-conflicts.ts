/**
 * Inventory contradictions that each field alone cannot show: two devices that are one switch, two
 * devices behind one plugin daemon, an election id no switch accepts. Each is refused at load,
 * naming the field and the fix, because at run time it fails later under another name.
 */
import type { InventoryDevice } from './inventory.js';
import type { Field } from './yaml-fields.js';

/**
 * A device's `electionId`: 1 .. 2^128-1. P4Runtime reserves 0 (a client sending it can never be
 * primary, and p4runtime-ts refuses it at connect), so it is refused here with its path.
 */
export function electionIdField(f: Field): bigint {
  const v = f.uint(128);
  if (v === 0n) throw f.fail('an integer 1 .. 2^128-1: P4Runtime reserves election id 0 (a client with it is never primary); use e.g. 10, higher than your own controller\'s to take over');
  return v;
}

/** The `host:port` compared case-insensitively: `Edge-1:9559` and `edge-1:9559` are one endpoint. */
function endpoint(address: string): string {
  return address.toLowerCase();
}

/**
 * Refuses two devices at one switch (same P4Runtime address and device id: both clients would
 * fight for primary) and two devices at one plugin daemon address (a daemon serves one device).
 * @throws ControllerError BAD_CONFIG naming the second device's field and the first device.
 */
export function checkDeviceConflicts(devices: ReadonlyMap<string, InventoryDevice>, devs: Field): void {
  const switches = new Map<string, string>();
  const daemons = new Map<string, string>();
  for (const d of devices.values()) {
    if (d.address !== undefined && d.deviceId !== undefined) {
      const key = `${endpoint(d.address)}#${d.deviceId}`;
      const first = switches.get(key);
      if (first !== undefined) throw devs.at(d.name).at('address').fail(`a switch no other device names: '${first}' is already ${d.address} with deviceId ${d.deviceId}, and one switch is one device (two clients would take primary from each other); remove one of them, or correct the address or deviceId`);
      switches.set(key, d.name);
    }
    if (d.plugin !== undefined) {
      const key = endpoint(d.plugin.address);
      const first = daemons.get(key);
      if (first !== undefined) throw devs.at(d.name).at('plugin').at('address').fail(`a plugin daemon no other device names: '${first}' is already reached at ${d.plugin.address}, and a daemon serves one device (its plugin.yaml's device); give each device its own daemon's migration.listen address`);
      daemons.set(key, d.name);
    }
  }
}
