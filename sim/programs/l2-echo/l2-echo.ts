/**
 * The behavioural model of l2_echo.p4 (see the P4 source beside this file for the behaviour in
 * P4): packet-out bypass to a port, per-port counters, a learn digest, an ACL, and forwarding by
 * exact then LPM destination MAC, with unknown destinations echoed to the CPU.
 */
import type { PacketEgress, PacketIngress, PipelineEnv, ProgramInstance, SimProgram } from '../../program.js';
import { L2_ECHO_LEARN_ETHER_TYPE } from './l2-echo-p4info.js';

const ETH_HEADER_BYTES = 14;

function readUint(bytes: Uint8Array, offset: number, length: number): bigint {
  let v = 0n;
  for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}

class L2EchoInstance implements ProgramInstance {
  constructor(private readonly cpuPort: number) {}

  process(packet: PacketIngress, env: PipelineEnv): PacketEgress {
    const payload = packet.payload;
    const outPort = packet.packetOutMetadata?.['egress_port'] ?? 0n;
    if (packet.packetOutMetadata && outPort !== 0n) return { kind: 'forward', port: Number(outPort), payload };

    const ingress = packet.ingressPort;
    const cell = ingress % 512;
    env.counterCount('port_counter', cell, payload.length);
    env.registerWrite('pkt_count', cell, env.registerRead('pkt_count', cell) + 1n);
    if (payload.length < ETH_HEADER_BYTES) return { kind: 'drop', reason: `runt frame (${payload.length} bytes)` };

    const dst = readUint(payload, 0, 6);
    const src = readUint(payload, 6, 6);
    const etherType = readUint(payload, 12, 2);
    const port = BigInt(ingress & 0x1ff);
    if (etherType === BigInt(L2_ECHO_LEARN_ETHER_TYPE)) env.digest('learn_t', { src_addr: src, ingress_port: port });

    const acl = env.applyTable('acl', { ether_type: etherType, ingress_port: port, src_addr: src }, payload.length);
    if (acl.action === 'deny') return { kind: 'drop', reason: 'acl deny' };

    let fwd = env.applyTable('mac_fwd', { dst_addr: dst }, payload.length);
    if (!fwd.hit) fwd = env.applyTable('mac_prefix', { dst_addr: dst }, payload.length);
    switch (fwd.action) {
      case 'forward': {
        const p = Number(fwd.params['port'] ?? 0n);
        return p === this.cpuPort ? { kind: 'to-cpu', payload, metadata: { ingress_port: port } } : { kind: 'forward', port: p, payload };
      }
      case 'drop':
        return { kind: 'drop', reason: `${fwd.hit ? 'entry' : 'default'} action drop` };
      case 'multicast':
        return { kind: 'multicast', group: Number(fwd.params['group'] ?? 0n), payload };
      default:
        return { kind: 'to-cpu', payload, metadata: { ingress_port: port } };
    }
  }
}

/** The l2_echo program. */
export const L2_ECHO_PROGRAM: SimProgram = {
  name: 'l2_echo',
  defaultActions: {
    mac_fwd: { action: 'NoAction' },
    mac_prefix: { action: 'to_cpu' },
    acl: { action: 'allow' },
  },
  instantiate: ({ cpuPort }) => new L2EchoInstance(cpuPort),
};
