/**
 * A sim switch to run hw-test against in tests: the registered stateful_edge model (which carries
 * the P4 program's default actions), a BMv2-JSON device config for every profile, quick idle scans.
 */
import { P4Schema } from 'p4runtime-ts';
import { minimalBmv2Json, startSimSwitch } from '../../sim/index.js';
import type { SimProfileName, SimSwitch, SimSwitchOptions } from '../../sim/index.js';

/** The repository's stateful_edge P4Info. */
export const P4INFO_PATH = new URL('../../p4/stateful_edge.p4info.txtpb', import.meta.url).pathname;

/** A stand-in for the JSON p4c-bm2-ss writes (names the program and its tables). */
export function statefulEdgeDeviceConfig(): Uint8Array {
  const schema = P4Schema.fromFile(P4INFO_PATH);
  return minimalBmv2Json('stateful_edge', schema.tables.map((t) => t.name));
}

/** Starts a sim of `profile` on 127.0.0.1:0 running stateful_edge (device id 0, as BMv2 is usually started). */
export function startEdgeSim(profile: SimProfileName, options: SimSwitchOptions = {}): Promise<SimSwitch> {
  return startSimSwitch({ profile, deviceId: 0, idleScanIntervalMs: 100, ...options });
}
