/** Runs hw-test against a sim switch with test-friendly timings (tests only). */
import type { SimSwitch } from '../../sim/index.js';
import type { HwTestOptions } from '../options.js';
import type { HwTestProfileName } from '../profiles.js';
import type { HwTestReport } from '../report/types.js';
import { runHwTest } from '../run-hw-test.js';
import { P4INFO_PATH, statefulEdgeDeviceConfig } from './sim-target.js';

/** Runs the suite against `sim` as profile `profile`; small workload, short waits. */
export function runAgainstSim(sim: SimSwitch, profile: HwTestProfileName, extra: Partial<HwTestOptions> = {}): Promise<HwTestReport> {
  return runHwTest({
    target: sim.address,
    deviceId: sim.deviceId,
    profile,
    p4info: P4INFO_PATH,
    deviceConfig: statefulEdgeDeviceConfig(),
    pushPipeline: true,
    flows: 30,
    // The sims scan idle entries every 100 ms here: a 300 ms entry is reported within ~0.5 s.
    idleWaitMs: 2000,
    selfCheck: true,
    ...extra,
  });
}
