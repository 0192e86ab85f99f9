/** Workload generation for simulated VMs: deterministic packet streams of TCP and UDP flows. */
export { generateWorkload } from './workload.js';
export type { WorkloadFlow, WorkloadPacket } from './workload.js';
export { DEFAULT_WORKLOAD_OPTIONS, parseWorkloadOptions, parseCidr } from './workload-options.js';
export type { CloseMix, WorkloadOptions, WorkloadVm } from './workload-options.js';
export { tcpFlowPackets, udpFlowPackets } from './flow-scripts.js';
export type { CloseKind, FlowEnds, FlowPacket, PacketKind, TcpFlowPlan } from './flow-scripts.js';
export { buildTcpFrame, buildUdpFrame, macForIpv4, synOptions } from './frame-builder.js';
export type { FrameAddressing, TcpFrameSpec, UdpFrameSpec } from './frame-builder.js';
export { createPrng } from './prng.js';
export type { Prng } from './prng.js';
