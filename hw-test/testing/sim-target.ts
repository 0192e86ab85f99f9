/**
 * A sim switch to run hw-test against in tests: the stateful_edge model, a BMv2-JSON device
 * config for every profile, quick idle scans. The sim's registered stateful_edge program sets no
 * default actions (the P4Info cannot carry them; BMv2 takes them from its JSON), so tests plug in
 * the same model with the P4 program's defaults — hw-test's `default-actions` check reports the
 * registered one.
 */
import { P4Schema } from 'p4runtime-ts';
import { minimalBmv2Json, startSimSwitch } from '../../sim/index.js';
import type { SimProfileName, SimProgram, SimSwitch, SimSwitchOptions } from '../../sim/index.js';
import { statefulEdgeProgram } from '../../sim/programs/stateful-edge/index.js';
import { STATEFUL_EDGE_DEFAULT_ACTIONS } from '../checks/tables.js';

/** The repository's stateful_edge P4Info. */
export const P4INFO_PATH = new URL('../../p4/stateful_edge.p4info.txtpb', import.meta.url).pathname;

/** The stateful_edge model with the P4 program's default actions. */
export const STATEFUL_EDGE_WITH_DEFAULTS: SimProgram = Object.freeze({
  ...statefulEdgeProgram,
  defaultActions: Object.fromEntries(Object.entries(STATEFUL_EDGE_DEFAULT_ACTIONS).map(([t, action]) => [t, { action }])),
});

/** A stand-in for the JSON p4c-bm2-ss writes (names the program and its tables). */
export function statefulEdgeDeviceConfig(): Uint8Array {
  const schema = P4Schema.fromFile(P4INFO_PATH);
  return minimalBmv2Json('stateful_edge', schema.tables.map((t) => t.name));
}

/** Starts a sim of `profile` on 127.0.0.1:0 running stateful_edge (with the P4's defaults unless told otherwise). */
export function startEdgeSim(profile: SimProfileName, options: SimSwitchOptions & { readonly registeredProgram?: boolean } = {}): Promise<SimSwitch> {
  const { registeredProgram, ...rest } = options;
  return startSimSwitch({ profile, deviceId: 0, idleScanIntervalMs: 100, ...(registeredProgram ? {} : { programs: [STATEFUL_EDGE_WITH_DEFAULTS] }), ...rest });
}
