/**
 * tcp_check.p4 in the model: what a TCP segment must be before any ACL or the tracker sees it
 * (policy for IPv4 options and fragments, lengths, a malformed option list, flag combinations).
 */
import type { ParsedFrame } from './frame.js';
import { DropReason, TCP_FLAGS_CHECKED, TCP_VALID_FLAG_COMBINATIONS } from './layout.js';
import type { DropReasonValue } from './layout.js';

/**
 * The drop reason tcp_check.p4 gives an IPv4 TCP packet, or NONE. `frameLen` is the Ethernet
 * frame's own length (without a packet_out header).
 */
export function tcpCheck(parsed: ParsedFrame, frameLen: number): DropReasonValue {
  const { ipv4, tcp } = parsed;
  if (!ipv4) return DropReason.NONE;
  if (!tcp) return ipv4.ihl > 5 || ipv4.fragOffset !== 0 ? DropReason.IP_POLICY : DropReason.MALFORMED;
  if ((ipv4.flags & 1) === 1) return DropReason.IP_POLICY; // more fragments follow
  if (tcp.dataOffset < 5 || ipv4.totalLen < 20 + (tcp.dataOffset << 2) || frameLen < 14 + ipv4.totalLen || parsed.synOptions?.bad === true) {
    return DropReason.MALFORMED;
  }
  return TCP_VALID_FLAG_COMBINATIONS.includes(tcp.flags & TCP_FLAGS_CHECKED) ? DropReason.NONE : DropReason.TCP_INVALID;
}
