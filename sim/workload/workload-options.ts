/**
 * Options of the VM traffic workload: who talks (VMs behind ports, remotes behind the uplink),
 * how much (flows, concurrency, rate), and how flows behave (TCP or UDP, who opens, how they end).
 */
import { parseIpv4 } from '../programs/stateful-edge/frame.js';
import type { HardTrafficSetup } from './hard-setup.js';

/** A simulated VM: its IPv4 address and the switch port it sits behind. */
export interface WorkloadVm {
  readonly addr: string;
  readonly port: number;
}

/** Relative weights of the ways a TCP flow ends. */
export interface CloseMix {
  /** Orderly close: FIN, ACK, FIN, ACK. */
  readonly fin: number;
  /** Abort: one side sends RST. */
  readonly rst: number;
  /** Never closed: the connection stays ESTABLISHED (state a migration has to move). */
  readonly open: number;
}

/** Relative weights of the host profiles. */
export interface HostMix {
  readonly minimal: number;
  readonly linux: number;
  readonly largeBuffer: number;
}

export interface WorkloadOptions {
  /** Same seed, same packets. */
  readonly seed: number;
  readonly vms: readonly WorkloadVm[];
  readonly uplinkPort: number;
  /** Where remote peers live, CIDR (e.g. 203.0.113.0/24). */
  readonly remoteNetwork: string;
  /** Flows started over the whole run. */
  readonly flows: number;
  /** Flows active at once; a flow that ends is replaced by a new one (churn). */
  readonly concurrency: number;
  /** Pace of the virtual clock stamped on packets (atNs). */
  readonly packetsPerSecond: number;
  /** Fraction of flows that are UDP (each opens a pinhole). */
  readonly udpShare: number;
  /** Fraction of TCP flows opened by the remote side (need a static allow rule to pass). */
  readonly inboundShare: number;
  /** Request/response rounds per TCP flow, [min, max]. */
  readonly exchanges: readonly [number, number];
  /** Request and response sizes in bytes, [min, max]. */
  readonly requestBytes: readonly [number, number];
  readonly responseBytes: readonly [number, number];
  /** Datagram pairs (request, reply) per UDP flow, [min, max]. */
  readonly udpDatagrams: readonly [number, number];
  readonly close: CloseMix;
  readonly mss: number;
  /** Window scale a `minimal` host announces (0..14). */
  readonly windowScale: number;
  /** Relative weights of the host profiles each end of a TCP flow gets (flow-scripts.ts). */
  readonly hosts: HostMix;
  /**
   * Hard traffic (hard-cases.ts) appended after the flows, for a switch configured as the setup
   * says (its extra entries: hardTrafficEntries); absent = none.
   */
  readonly hard?: HardTrafficSetup;
  /** Service ports remote servers listen on, and VM services remotes connect to. */
  readonly remoteTcpPorts: readonly number[];
  readonly remoteUdpPorts: readonly number[];
  readonly vmTcpPorts: readonly number[];
}

export const DEFAULT_WORKLOAD_OPTIONS: WorkloadOptions = Object.freeze({
  seed: 1,
  vms: Object.freeze([{ addr: '10.0.0.5', port: 1 }]),
  uplinkPort: 100,
  remoteNetwork: '203.0.113.0/24',
  flows: 100,
  concurrency: 16,
  packetsPerSecond: 10_000,
  udpShare: 0.2,
  inboundShare: 0,
  exchanges: Object.freeze([1, 3]) as readonly [number, number],
  requestBytes: Object.freeze([40, 2_000]) as readonly [number, number],
  responseBytes: Object.freeze([100, 20_000]) as readonly [number, number],
  udpDatagrams: Object.freeze([1, 3]) as readonly [number, number],
  close: Object.freeze({ fin: 0.7, rst: 0.1, open: 0.2 }),
  mss: 1460,
  windowScale: 7,
  hosts: Object.freeze({ minimal: 0.2, linux: 0.6, largeBuffer: 0.2 }),
  remoteTcpPorts: Object.freeze([443, 80, 22, 5432]),
  remoteUdpPorts: Object.freeze([53, 123, 443]),
  vmTcpPorts: Object.freeze([22, 80, 443]),
});

function fail(field: string, value: unknown, expected: string): never {
  throw new Error(`workload option '${field}' is ${JSON.stringify(value)}; expected ${expected}`);
}

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function range(field: string, v: readonly [number, number], min: number, max = Number.MAX_SAFE_INTEGER): readonly [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !isInt(v[0], min, max) || !isInt(v[1], min, max) || v[0] > v[1]) {
    fail(field, v, `[min, max] integers with ${min} <= min <= max <= ${max}`);
  }
  return Object.freeze([v[0], v[1]]) as readonly [number, number];
}

function ports(field: string, v: readonly number[]): readonly number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((p) => isInt(p, 1, 65535))) fail(field, v, 'a non-empty list of ports 1..65535');
  return Object.freeze([...v]);
}

/** Parses a CIDR into its first address and prefix length. */
export function parseCidr(text: string): { readonly base: number; readonly prefix: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const prefix = Number(m?.[2]);
  if (!m || prefix < 8 || prefix > 30) fail('remoteNetwork', text, 'IPv4 CIDR a.b.c.d/n with 8 <= n <= 30');
  const addr = parseIpv4(m[1] ?? '');
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (addr & mask) >>> 0, prefix };
}

/** Validates workload options over the defaults and returns a frozen copy. */
export function parseWorkloadOptions(input: Partial<WorkloadOptions> = {}): WorkloadOptions {
  const o = { ...DEFAULT_WORKLOAD_OPTIONS, ...input };
  if (!isInt(o.seed, -(2 ** 31), 2 ** 32 - 1)) fail('seed', o.seed, 'a 32-bit integer');
  if (!Array.isArray(o.vms) || o.vms.length === 0) fail('vms', o.vms, 'at least one { addr, port }');
  const addrs = new Set<number>();
  const vms = o.vms.map((vm, i) => {
    if (typeof vm?.addr !== 'string') fail(`vms[${i}].addr`, vm?.addr, 'a dotted-quad IPv4 address');
    const a = parseIpv4(vm.addr);
    if (addrs.has(a)) fail(`vms[${i}].addr`, vm.addr, 'an address no other VM has');
    addrs.add(a);
    if (!isInt(vm.port, 0, 511)) fail(`vms[${i}].port`, vm.port, 'a 9-bit port number 0..511');
    return Object.freeze({ addr: vm.addr, port: vm.port });
  });
  if (!isInt(o.uplinkPort, 0, 511)) fail('uplinkPort', o.uplinkPort, 'a 9-bit port number 0..511');
  if (vms.some((vm) => vm.port === o.uplinkPort)) fail('uplinkPort', o.uplinkPort, 'a port no VM sits behind');
  parseCidr(o.remoteNetwork);
  if (!isInt(o.flows, 0)) fail('flows', o.flows, 'a non-negative integer');
  if (!isInt(o.concurrency, 1)) fail('concurrency', o.concurrency, 'a positive integer');
  if (typeof o.packetsPerSecond !== 'number' || !(o.packetsPerSecond > 0) || !Number.isFinite(o.packetsPerSecond)) fail('packetsPerSecond', o.packetsPerSecond, 'a positive number');
  for (const f of ['udpShare', 'inboundShare'] as const) {
    const v = o[f];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(f, v, 'a fraction in [0, 1]');
  }
  const c = o.close;
  if (!c || [c.fin, c.rst, c.open].some((w) => typeof w !== 'number' || !(w >= 0)) || c.fin + c.rst + c.open <= 0) {
    fail('close', c, '{ fin, rst, open } non-negative weights with a positive sum');
  }
  if (!isInt(o.mss, 64, 9000)) fail('mss', o.mss, 'an integer in 64..9000');
  if (!isInt(o.windowScale, 0, 14)) fail('windowScale', o.windowScale, 'an integer in 0..14 (RFC 7323)');
  const h = o.hosts;
  if (!h || [h.minimal, h.linux, h.largeBuffer].some((w) => typeof w !== 'number' || !(w >= 0)) || h.minimal + h.linux + h.largeBuffer <= 0) {
    fail('hosts', h, '{ minimal, linux, largeBuffer } non-negative weights with a positive sum');
  }
  return Object.freeze({
    ...o,
    vms: Object.freeze(vms),
    exchanges: range('exchanges', o.exchanges, 0, 1000),
    requestBytes: range('requestBytes', o.requestBytes, 1, 1 << 20),
    responseBytes: range('responseBytes', o.responseBytes, 1, 1 << 20),
    udpDatagrams: range('udpDatagrams', o.udpDatagrams, 1, 1000),
    close: Object.freeze({ fin: c.fin, rst: c.rst, open: c.open }),
    hosts: Object.freeze({ minimal: h.minimal, linux: h.linux, largeBuffer: h.largeBuffer }),
    remoteTcpPorts: ports('remoteTcpPorts', o.remoteTcpPorts),
    remoteUdpPorts: ports('remoteUdpPorts', o.remoteUdpPorts),
    vmTcpPorts: ports('vmTcpPorts', o.vmTcpPorts),
  });
}
