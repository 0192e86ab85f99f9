/**
 * Hard traffic: the packets where firewalls differ (issue 8 §3, issue 9), each with what
 * stateful_edge must do with it. Every case is its own 5-tuple, so cases do not disturb each
 * other; the cases run in order. Used by the model's tests (each expectation is a behaviour the
 * P4 guarantees), by hw-test's differential group (BMv2 against the model, packet for packet) and
 * by the workload generator (`hard: true`).
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../programs/stateful-edge/frame.js';
import { CT_WIN_SLACK } from '../programs/stateful-edge/layout.js';
import { collidingKeys } from './colliding-keys.js';
import { asFragment, Conversation, truncatedTo, withDataOffset, withIpOptions, withTotalLength } from './conversation.js';
import type { CasePacket, Endpoint } from './conversation.js';
import { hostSynOptions, synOptions, timestampOptions } from './frame-builder.js';
import type { HardTrafficSetup } from './hard-setup.js';
import type { Prng } from './prng.js';

/** A named group of packets. */
export interface HardCase {
  readonly name: string;
  readonly packets: readonly CasePacket[];
}

const LINUX = (ws: number, ts: number): Uint8Array => hostSynOptions({ mss: 1460, sackPermitted: true, timestamps: { val: ts, ecr: 0 }, windowScale: ws });

/** Builds the cases for a setup; the PRNG picks sequence numbers and ports. */
export function hardCases(s: HardTrafficSetup, prng: Prng): HardCase[] {
  const cases: HardCase[] = [];
  let nextPort = 20000 + prng.int(0, 9999);
  const port = (): number => (nextPort = nextPort >= 65000 ? 20000 : nextPort + 1);
  const remoteAddr = (): number => (s.remoteBase + prng.int(1, 254)) >>> 0;
  const vmEnd = (p = port(), vm = s.vm): Endpoint => ({ addr: vm.addr, port: p, ingressPort: vm.port });
  const remoteEnd = (addr = remoteAddr(), p = port()): Endpoint => ({ addr, port: p, ingressPort: s.uplinkPort });
  const isn = (): number => prng.next();
  const add = (name: string, build: (sink: CasePacket[], label: string) => void): void => {
    const packets: CasePacket[] = [];
    build(packets, name);
    cases.push({ name, packets });
  };
  const conv = (sink: CasePacket[], label: string, vm = vmEnd(), remote = remoteEnd(), vmIsn = isn(), remoteIsn = isn()): Conversation => new Conversation(vm, remote, vmIsn, remoteIsn, sink, label);
  const est = (sink: CasePacket[], label: string, opener: 'vm' | 'remote' = 'vm'): Conversation => {
    const c = opener === 'vm' ? conv(sink, label) : conv(sink, label, vmEnd(s.openPort));
    c.handshake(opener);
    return c;
  };

  // Window scaling: both sides announce `ws`; the VM grants a window; the remote fills it to the
  // exact edge (kept), then one byte past the edge plus the slack (dropped).
  for (const ws of [0, 7, 14]) {
    add(`window scale ${ws}, edges`, (sink, label) => {
      const c = conv(sink, label);
      c.send('vm', TCP_SYN, { window: 64240, options: LINUX(ws, 1000), note: `SYN wscale ${ws}` });
      c.send('remote', TCP_SYN | TCP_ACK, { window: 65160, options: LINUX(ws, 2000), note: `SYN+ACK wscale ${ws}` });
      const win = ws === 14 ? 65535 : 128;
      c.send('vm', TCP_ACK, { window: win, options: timestampOptions(1001, 2000), note: `ACK window ${win} << ${ws}` });
      const edge = (c.nxt('remote') + win * 2 ** ws + CT_WIN_SLACK) >>> 0;
      c.send('remote', TCP_ACK, { seq: (edge - 1448) >>> 0, payload: 1448, options: timestampOptions(2001, 1001), advance: false, note: 'data ending at the window edge' });
      c.send('remote', TCP_ACK, { seq: (edge - 1447) >>> 0, payload: 1448, expect: 'OUT_OF_WINDOW', note: 'data one byte past the edge' });
      c.send('remote', TCP_ACK | TCP_PSH, { payload: 1448, note: 'in-order data' });
    });
  }
  add('window scale 14 (lab: 2 MiB window, data at ISN+100001)', (sink, label) => {
    const c = conv(sink, label);
    c.send('vm', TCP_SYN, { window: 64240, options: synOptions(1460, 14) });
    const rIsn = c.send('remote', TCP_SYN | TCP_ACK, { window: 65160, options: synOptions(1460, 14) });
    c.send('vm', TCP_ACK, { window: 128 });
    c.send('remote', TCP_ACK, { seq: (rIsn + 100001) >>> 0, payload: 1448, advance: false, note: 'data 100000 bytes ahead' });
  });
  add('window scale announced by one side only', (sink, label) => {
    const c = conv(sink, label);
    c.send('vm', TCP_SYN, { window: 64240, options: synOptions(1460, 7) });
    c.send('remote', TCP_SYN | TCP_ACK, { window: 65160, options: hostSynOptions({ mss: 1460, sackPermitted: true }) });
    c.send('vm', TCP_ACK, { window: 1000 });
    c.send('remote', TCP_ACK, { seq: (c.nxt('remote') + 1000 + CT_WIN_SLACK + 1) >>> 0, payload: 100, expect: 'OUT_OF_WINDOW', note: 'data past an unscaled window' });
  });
  add('window scale above 14, capped', (sink, label) => {
    const c = conv(sink, label);
    c.send('vm', TCP_SYN, { window: 64240, options: Uint8Array.from([1, 3, 3, 200]) });
    c.send('remote', TCP_SYN | TCP_ACK, { window: 65160, options: synOptions(1460, 14) });
    c.send('vm', TCP_ACK, { window: 65535 });
    c.send('remote', TCP_ACK, { seq: (c.nxt('remote') + 65535 * 2 ** 14) >>> 0, payload: 1, advance: false, note: 'data 1 GiB ahead' });
  });
  add('SYN options: EOL then padding, and a malformed list', (sink, label) => {
    const c = conv(sink, label);
    c.send('vm', TCP_SYN, { options: Uint8Array.from([2, 4, 5, 0xb4, 0, 3, 3, 9]), note: 'SYN: MSS, EOL, then bytes that look like wscale' });
    c.send('remote', TCP_SYN | TCP_ACK, { options: synOptions(1460, 9) });
    c.send('vm', TCP_ACK, { window: 10 });
    // Had the bytes after EOL been read as a window scale of 9, this would fit the window.
    c.send('remote', TCP_ACK, { seq: (c.nxt('remote') + 10 + CT_WIN_SLACK + 990) >>> 0, payload: 10, expect: 'OUT_OF_WINDOW', note: 'past an unscaled window' });
    const d = conv(sink, label);
    d.send('vm', TCP_SYN, { options: Uint8Array.from([2, 1, 5, 0xb4]), expect: 'MALFORMED', note: 'SYN option length 1' });
    d.send('vm', TCP_SYN, { options: Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 1]), expect: 'MALFORMED', note: 'SYN timestamps option past the data offset' });
  });
  add('simultaneous open', (sink, label) => {
    const c = conv(sink, label);
    const vmIsn = c.send('vm', TCP_SYN, { options: synOptions(1460, 7) });
    const rIsn = c.send('remote', TCP_SYN, { options: synOptions(1460, 7), note: 'SYN from the other side' });
    c.send('vm', TCP_SYN | TCP_ACK, { seq: vmIsn, ack: (rIsn + 1) >>> 0, options: synOptions(1460, 7), advance: false });
    c.send('remote', TCP_SYN | TCP_ACK, { seq: rIsn, ack: (vmIsn + 1) >>> 0, options: synOptions(1460, 7), advance: false });
    c.send('vm', TCP_ACK | TCP_PSH, { payload: 200 });
    c.send('remote', TCP_ACK | TCP_PSH, { payload: 300 });
  });
  add('SYN retransmissions', (sink, label) => {
    const c = conv(sink, label);
    const syn = c.send('vm', TCP_SYN, { options: LINUX(7, 5) });
    c.send('vm', TCP_SYN, { seq: syn, options: LINUX(7, 1005), advance: false, note: 'SYN again' });
    c.send('remote', TCP_SYN | TCP_ACK, { options: LINUX(7, 9) });
    c.send('vm', TCP_SYN, { seq: syn, options: LINUX(7, 2005), advance: false, note: 'SYN again after the SYN+ACK' });
    c.send('vm', TCP_ACK);
    c.send('vm', TCP_SYN, { seq: syn, expect: 'TCP_INVALID', note: 'SYN once established' });
  });
  add('invalid flag combinations', (sink, label) => {
    const c = est(sink, label);
    c.send('vm', TCP_SYN | TCP_FIN, { expect: 'TCP_INVALID' });
    c.send('remote', 0, { payload: 10, expect: 'TCP_INVALID' });
    c.send('vm', TCP_FIN, { expect: 'TCP_INVALID', note: 'FIN without ACK' });
    c.send('remote', TCP_FIN | TCP_PSH | TCP_URG, { expect: 'TCP_INVALID' });
    c.send('vm', TCP_RST | TCP_SYN, { expect: 'TCP_INVALID' });
    c.send('remote', TCP_ACK | TCP_URG, { payload: 5, note: 'ACK+URG is valid' });
    const d = conv(sink, label);
    d.send('vm', TCP_SYN | TCP_FIN, { expect: 'TCP_INVALID', note: 'SYN+FIN as the first packet' });
    d.send('remote', TCP_SYN | TCP_ACK, { ack: 1, expect: 'NOT_ADMITTED', note: 'no connection was opened' });
  });
  add('inbound SYN to a closed port; bare inbound ACKs', (sink, label) => {
    conv(sink, label, vmEnd(s.closedPort)).send('remote', TCP_SYN, { expect: 'NOT_ADMITTED' });
    conv(sink, label, vmEnd(s.openPort)).send('remote', TCP_ACK, { payload: 20, expect: 'NOT_ADMITTED', note: 'bare ACK to a static_allow port' });
    conv(sink, label, vmEnd(s.anyPort)).send('remote', TCP_ACK, { payload: 20, note: 'bare ACK to a static_allow_any port' });
    est(sink, label, 'remote').send('remote', TCP_ACK | TCP_PSH, { payload: 100 });
  });
  add('static deny, both ways', (sink, label) => {
    const c = conv(sink, label, vmEnd(), remoteEnd(s.deniedRemote));
    c.send('vm', TCP_SYN, { expect: 'ACL_DENY', note: 'VM SYN to a denied remote' });
    c.send('remote', TCP_SYN | TCP_ACK, { ack: 1, expect: 'ACL_DENY' });
    conv(sink, label, vmEnd(s.openPort), remoteEnd(s.deniedRemote)).send('remote', TCP_SYN, { expect: 'ACL_DENY' });
  });
  add('RST in every state, in and out of window', (sink, label) => {
    const a = conv(sink, label);
    a.send('vm', TCP_SYN);
    a.send('remote', TCP_RST | TCP_ACK, { ack: 12345, expect: 'TCP_INVALID', note: 'RST not acking the SYN' });
    a.send('remote', TCP_RST | TCP_ACK, { seq: 0, note: 'RST acking the SYN (SYN_SENT)' });
    const b = conv(sink, label);
    b.send('vm', TCP_SYN);
    b.send('remote', TCP_SYN | TCP_ACK);
    b.send('vm', TCP_RST, { seq: (b.nxt('vm') + 5) >>> 0, expect: 'BAD_RST', note: 'inexact RST in SYN_RECV' });
    b.send('vm', TCP_RST, { note: 'exact RST in SYN_RECV' });
    b.send('vm', TCP_ACK, { expect: 'TCP_INVALID', note: 'ACK after the reset' });
    for (const who of ['vm', 'remote'] as const) {
      const c = est(sink, label);
      c.send(who, TCP_ACK | TCP_PSH, { payload: 500 });
      c.send(who, TCP_RST | TCP_ACK, { seq: (c.nxt(who) + 40000) >>> 0, expect: 'BAD_RST', note: 'RST 40000 ahead' });
      c.send(who, TCP_RST | TCP_ACK, { seq: (c.nxt(who) + 0x40000000) >>> 0, expect: 'OUT_OF_WINDOW', note: 'RST far out of window' });
      c.send(who, TCP_RST | TCP_ACK, { note: 'exact RST' });
      c.send(who === 'vm' ? 'remote' : 'vm', TCP_ACK | TCP_PSH, { payload: 10, expect: 'TCP_INVALID', note: 'data after the reset' });
    }
    // FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT: an exact RST closes each.
    for (let stage = 1; stage <= 4; stage++) {
      const c = est(sink, label);
      const steps: [('vm' | 'remote'), number][] = [['vm', TCP_FIN | TCP_ACK], ['remote', TCP_ACK], ['remote', TCP_FIN | TCP_ACK], ['vm', TCP_ACK]];
      for (const [who, flags] of steps.slice(0, stage)) c.send(who, flags);
      c.send('remote', TCP_RST, { seq: (c.nxt('remote') + 3) >>> 0, expect: 'BAD_RST' });
      c.send('remote', TCP_RST);
    }
  });
  add('FIN from either side and both', (sink, label) => {
    const a = est(sink, label);
    a.send('remote', TCP_FIN | TCP_ACK);
    a.send('vm', TCP_ACK);
    a.send('vm', TCP_FIN | TCP_ACK);
    a.send('remote', TCP_ACK);
    const b = est(sink, label);
    const vmFin = b.send('vm', TCP_FIN | TCP_ACK, { advance: false });
    const rFin = b.send('remote', TCP_FIN | TCP_ACK, { advance: false, note: 'FIN crossing the other FIN' });
    b.send('vm', TCP_ACK, { seq: (vmFin + 1) >>> 0, ack: (rFin + 1) >>> 0, advance: false });
    b.send('remote', TCP_ACK, { seq: (rFin + 1) >>> 0, ack: (vmFin + 1) >>> 0, advance: false });
  });
  add('TIME_WAIT, then the same 5-tuple again', (sink, label) => {
    const vm = vmEnd();
    const remote = remoteEnd();
    const a = conv(sink, label, vm, remote);
    a.handshake('vm');
    a.send('vm', TCP_FIN | TCP_ACK);
    a.send('remote', TCP_FIN | TCP_ACK);
    a.send('vm', TCP_ACK);
    conv(sink, label, vm, remote).handshake('vm');
  });
  add('sequence numbers wrapping past 2^32', (sink, label) => {
    const c = conv(sink, label, vmEnd(), remoteEnd(), 0xfffff000, 0xffffff00);
    c.handshake('vm');
    for (let i = 0; i < 4; i++) {
      c.send('vm', TCP_ACK | TCP_PSH, { payload: 1400 });
      c.send('remote', TCP_ACK | TCP_PSH, { payload: 1400 });
    }
  });
  add('zero window', (sink, label) => {
    const c = est(sink, label);
    c.send('vm', TCP_ACK, { window: 0, note: 'window 0' });
    c.send('remote', TCP_ACK, { payload: 1, advance: false, note: 'zero-window probe' });
    c.send('remote', TCP_ACK, { seq: (c.nxt('remote') + CT_WIN_SLACK) >>> 0, payload: 1, expect: 'OUT_OF_WINDOW', note: 'data past a zero window and the slack' });
    c.send('vm', TCP_ACK, { window: 500, note: 'window opens' });
    c.send('remote', TCP_ACK | TCP_PSH, { payload: 1000 });
  });
  add('out-of-window data and ACKs, both ways', (sink, label) => {
    const c = est(sink, label);
    for (const who of ['vm', 'remote'] as const) {
      const other = who === 'vm' ? 'remote' : 'vm';
      c.send(who, TCP_ACK, { seq: (c.nxt(who) + 0x20000000) >>> 0, payload: 100, expect: 'OUT_OF_WINDOW', note: 'data far ahead' });
      c.send(who, TCP_ACK, { seq: (c.nxt(who) - 0x20000000) >>> 0, payload: 100, expect: 'OUT_OF_WINDOW', note: 'data far behind' });
      c.send(who, TCP_ACK, { ack: (c.nxt(other) + 5000) >>> 0, expect: 'OUT_OF_WINDOW', note: 'ACK of unsent data' });
      c.send(who, TCP_ACK, { ack: (c.nxt(other) - 0x20000000) >>> 0, expect: 'OUT_OF_WINDOW', note: 'ACK far behind' });
      c.send(who, TCP_ACK | TCP_PSH, { payload: 700 });
    }
  });
  add('malformed lengths and truncated headers', (sink, label) => {
    const c = est(sink, label);
    c.send('remote', TCP_ACK, { payload: 10, mangle: withTotalLength(30), expect: 'MALFORMED', note: 'total_len 30' });
    c.send('vm', TCP_ACK, { payload: 10, mangle: withDataOffset(4), expect: 'MALFORMED', note: 'data offset 4' });
    c.send('remote', TCP_ACK, { payload: 10, mangle: withDataOffset(15), expect: 'MALFORMED', note: 'data offset past the packet' });
    c.send('vm', TCP_ACK, { payload: 100, mangle: truncatedTo(14 + 20 + 20 + 50), expect: 'MALFORMED', note: 'frame shorter than total_len' });
    c.send('remote', TCP_ACK, { mangle: truncatedTo(14 + 20 + 12), expect: 'MALFORMED', note: 'TCP header cut short' });
    c.send('remote', TCP_ACK | TCP_PSH, { payload: 64 });
  });
  add('IPv4 options and fragments (policy)', (sink, label) => {
    const c = est(sink, label);
    c.send('vm', TCP_ACK, { payload: 10, mangle: withIpOptions, expect: 'IP_POLICY', note: 'IPv4 options' });
    c.send('remote', TCP_ACK, { payload: 10, mangle: withIpOptions, expect: 'IP_POLICY', note: 'IPv4 options' });
    c.send('vm', TCP_ACK, { payload: 100, mangle: asFragment(true, 0), expect: 'IP_POLICY', note: 'first fragment' });
    c.send('remote', TCP_ACK, { payload: 100, mangle: asFragment(false, 185), expect: 'IP_POLICY', note: 'later fragment' });
    conv(sink, label).send('vm', TCP_SYN, { mangle: withIpOptions, expect: 'IP_POLICY', note: 'SYN with IPv4 options opens nothing' });
  });
  add('unknown VMs and spoofed sources', (sink, label) => {
    conv(sink, label, vmEnd(), remoteEnd()).send('remote', TCP_SYN, { mangle: (f) => setAddr(f, 30, s.unknownVmAddr), expect: 'UNKNOWN_VM', note: 'to an unknown VM' });
    conv(sink, label, { addr: s.unknownVmAddr, port: port(), ingressPort: s.vm.port }).send('vm', TCP_SYN, { expect: 'UNKNOWN_VM', note: 'spoofed source' });
  });
  add('mid-stream pickup', (sink, label) => {
    const c = conv(sink, label);
    c.send('vm', TCP_ACK | TCP_PSH, { ack: c.nxt('remote'), payload: 100, note: 'VM data, no SYN ever seen' });
    c.send('remote', TCP_ACK, { ack: c.nxt('vm'), payload: 1000 });
    c.send('vm', TCP_ACK);
    const d = conv(sink, label);
    d.send('remote', TCP_ACK, { ack: d.nxt('vm'), payload: 100, expect: 'NOT_ADMITTED', note: 'inbound ACK never picks up' });
  });
  add('bucket collisions', (sink, label) => {
    const base = { vmAddr: s.vm.addr, remoteAddr: remoteAddr(), vmPort: port(), remotePort: 40000 + prng.int(0, 9999), protocol: 6 };
    const keys = collidingKeys(base, 6, prng);
    keys.forEach((k, i) => {
      const c = conv(sink, label, { addr: k.vmAddr, port: k.vmPort, ingressPort: s.vm.port }, { addr: k.remoteAddr, port: k.remotePort, ingressPort: s.uplinkPort });
      c.send('vm', TCP_SYN, { note: `SYN ${i + 1} of ${keys.length} sharing four slots` });
      c.send('remote', TCP_SYN | TCP_ACK, { expect: i < 4 ? 'forward' : 'NOT_ADMITTED', note: i < 4 ? 'SYN+ACK (tracked)' : 'SYN+ACK of an untracked flow' });
    });
  });
  const { cpuUplinkVm, cpuPlacedVm, bigIdVm } = s;
  if (cpuUplinkVm || cpuPlacedVm) {
    add('egress on the CPU port', (sink, label) => {
      if (cpuUplinkVm) conv(sink, label, vmEnd(port(), cpuUplinkVm)).send('vm', TCP_SYN, { expect: 'CPU_PORT', note: 'VM behind a port whose uplink is the CPU port' });
      if (cpuPlacedVm) conv(sink, label, { addr: cpuPlacedVm.addr, port: s.openPort, ingressPort: s.cpuPort }).send('remote', TCP_SYN, { expect: 'CPU_PORT', note: 'to a VM placed on the CPU port' });
    });
  }
  if (bigIdVm) {
    add('VM id past the per-VM counters', (sink, label) => {
      const c = conv(sink, label, vmEnd(port(), bigIdVm));
      c.handshake('vm');
      c.send('vm', TCP_ACK | TCP_PSH, { payload: 300 });
    });
  }
  return cases;
}

/** Rewrites a 32-bit address at byte `offset` of the IPv4 header (26 = source, 30 = destination). */
function setAddr(frame: Uint8Array, offset: number, addr: number): Uint8Array {
  const out = Uint8Array.from(frame);
  out[offset] = addr >>> 24;
  out[offset + 1] = (addr >>> 16) & 0xff;
  out[offset + 2] = (addr >>> 8) & 0xff;
  out[offset + 3] = addr & 0xff;
  return out;
}
