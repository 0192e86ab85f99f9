/** The stateful_edge pipeline model and its pure helpers (placement, slot layout, in-band format). */
export { statefulEdgeProgram, statefulEdgeVariant, STATEFUL_EDGE_PROGRAM_NAME } from './program.js';
export { DEFAULT_CT_GEOMETRY, candidateSlotsIn, ctGeometry, geometryFromRegisters, p4cDefines, variantP4InfoText } from './ct-geometry.js';
export type { CtGeometry, CtGeometryOptions, CtRegion } from './ct-geometry.js';
export * from './layout.js';
export {
  parseFrame,
  formatIpv4,
  parseIpv4,
  TCP_FIN,
  TCP_SYN,
  TCP_RST,
  TCP_PSH,
  TCP_ACK,
} from './frame.js';
export type { ParsedFrame, EthernetHeader, Ipv4Header, TcpHeader, UdpHeader } from './frame.js';
export { candidateSlots, canonicalFlowKey, flowKeyBytes } from './placement.js';
export type { FlowKey } from './placement.js';
export { EMPTY_SLOT, decodeSlot, encodeSlot, isSlotFree, isSlotOccupied } from './slot.js';
export type { CtSlot } from './slot.js';
export { openSlot, trackSegment, segmentLength, tcpSegment, isPureSyn } from './tcp-tracker.js';
export type { TcpSegment, TrackOutcome } from './tcp-tracker.js';
export {
  decodePacketInMetadata,
  decodePacketOutBytes,
  decodePacketOutMetadata,
  encodePacketInBytes,
  encodePacketInMetadata,
  encodePacketOutBytes,
  encodePacketOutMetadata,
  inbandRequestMetadata,
  injectMetadata,
  serveInband,
} from './inband.js';
export type { InbandRequest, PacketInHeader, PacketOutHeader } from './inband.js';
