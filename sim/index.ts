/**
 * The sim's public surface: start a simulated P4 switch, choose its target profile, plug in
 * packet-processing programs, inject faults, and run it from the CLI or the bench.
 */
export { startSimSwitch } from './sim-switch.js';
export type { SimSwitch, SimStateAccess, SimDataplaneAccess, SimTableEntryView } from './sim-switch.js';
export { DEFAULT_SIM_SWITCH_OPTIONS, parseSimSwitchOptions, parseListenAddress } from './options.js';
export type { SimSwitchOptions, ParsedSimSwitchOptions, SimCredentials } from './options.js';
export { SIM_PROFILE_NAMES, simProfile } from './profiles.js';
export type { SimProfile, SimProfileName } from './profiles.js';
export { createRealScheduler, VirtualScheduler } from './clock.js';
export type { Scheduler, TimerHandle } from './clock.js';
export { SimFaults } from './faults.js';
export type { FaultTarget } from './faults.js';
export { registerProgram, findProgram, registeredProgramNames, normalizeProgramName, NULL_PROGRAM } from './programs/registry.js';
export { BUILTIN_PROGRAMS } from './programs/builtin.js';
export { L2_ECHO_PROGRAM } from './programs/l2-echo/l2-echo.js';
export { L2_ECHO_IDS, L2_ECHO_LEARN_ETHER_TYPE, L2_ECHO_P4INFO_OBJECT, l2EchoP4Info, l2EchoDeviceConfig } from './programs/l2-echo/l2-echo-p4info.js';
export { minimalBmv2Json } from './pipeline/bmv2-json.js';
export type { SimProgram, ProgramInstance, InstantiateOptions, ProgramRegister, PipelineEnv, PacketIngress, PacketEgress, TableHit } from './program.js';
export { programRegisters } from './program-registers.js';
export type { EgressPacket, DataplaneStats } from './server/dataplane.js';
export type { RoleView } from './server/arbitration.js';
export { runSimCommand } from './cli.js';
export type { SimCommandIo } from './cli.js';
export { runSimBenchmarks, parseSimBenchOptions, DEFAULT_SIM_BENCH_OPTIONS } from './bench.js';
export type { SimBenchOptions, SimBenchRow } from './bench.js';
export { P4RUNTIME_PATHS, P4RUNTIME_METHODS } from './p4rt/service-definition.js';
export type { P4RuntimeMethod } from './p4rt/service-definition.js';
