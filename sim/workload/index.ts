/** Workload generation for simulated VMs: deterministic packet streams of TCP and UDP flows. */
export { generateWorkload } from './workload.js';
export type { WorkloadFlow, WorkloadPacket } from './workload.js';
export { DEFAULT_WORKLOAD_OPTIONS, parseWorkloadOptions, parseCidr } from './workload-options.js';
export type { CloseMix, HostMix, WorkloadOptions, WorkloadVm } from './workload-options.js';
export { tcpFlowPackets, udpFlowPackets } from './flow-scripts.js';
export type { CloseKind, FlowEnds, FlowPacket, HostProfile, PacketKind, TcpFlowPlan } from './flow-scripts.js';
export { buildTcpFrame, buildUdpFrame, hostSynOptions, macForIpv4, synOptions, timestampOptions } from './frame-builder.js';
export type { FrameAddressing, SynOptionSpec, TcpFrameSpec, UdpFrameSpec } from './frame-builder.js';
export { createPrng } from './prng.js';
export { hardCases } from './hard-cases.js';
export type { HardCase } from './hard-cases.js';
export { hardTrafficEntries } from './hard-setup.js';
export type { HardTrafficSetup, SetupEntry, SetupVm } from './hard-setup.js';
export type { CasePacket, Expectation } from './conversation.js';
export { collidingKeys } from './colliding-keys.js';
export { MAX_SEGMENTS, SEGMENT_BYTES, dataSegmentFrame, flowEnds, handshakeFrames, inboundSegmentFrame, numberedFlowKey } from './numbered-flows.js';
export type { NumberedFlowVm, PortFrame } from './numbered-flows.js';
export type { Prng } from './prng.js';
