/** Frames the conformance checks inject: an outbound UDP datagram of the fixture's first VM. */
import type { MatchInput } from 'p4runtime-ts';
import { parseIpv4 } from '../../sim/programs/stateful-edge/index.js';
import { buildUdpFrame } from '../../sim/workload/index.js';
import type { HwTestSession, InjectedFrame } from '../session.js';

/** A UDP frame from the first fixture VM with the addresses and ports of a dyn_acl key (see dynAclKey). */
export function udpFrameFor(s: HwTestSession, key: Readonly<Record<string, MatchInput>>): InjectedFrame {
  const vm = s.o.fixture.vms[0];
  if (!vm) throw new Error('the fixture has no VM');
  const field = (name: string): MatchInput => {
    const v = key[name];
    if (v === undefined) throw new Error(`udpFrameFor: key has no '${name}'`);
    return v;
  };
  return {
    port: vm.port,
    payload: buildUdpFrame({
      src: parseIpv4(String(field('vm_addr'))),
      dst: parseIpv4(String(field('remote_addr'))),
      srcPort: Number(field('vm_port')),
      dstPort: Number(field('remote_port')),
      payload: 32,
    }),
  };
}
