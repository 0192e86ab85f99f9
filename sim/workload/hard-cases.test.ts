import { describe, expect, it } from 'vitest';
import { parseFrame, parseIpv4 } from '../programs/stateful-edge/frame.js';
import { CT_WORDS, CtState, DropReason, MAX_VMS } from '../programs/stateful-edge/layout.js';
import { statefulEdgeEnvDouble } from '../programs/stateful-edge/pipeline-env-test-double.js';
import type { InMemoryPipelineEnvDouble } from '../programs/stateful-edge/pipeline-env-test-double.js';
import { candidateSlots } from '../programs/stateful-edge/placement.js';
import { statefulEdgeProgram } from '../programs/stateful-edge/program.js';
import { decodeSlot } from '../programs/stateful-edge/slot.js';
import type { CtSlot } from '../programs/stateful-edge/slot.js';
import type { CasePacket } from './conversation.js';
import { hardCases } from './hard-cases.js';
import { hardTrafficEntries } from './hard-setup.js';
import type { HardTrafficSetup } from './hard-setup.js';
import { createPrng } from './prng.js';

const SETUP: HardTrafficSetup = {
  vm: { addr: parseIpv4('10.0.0.5'), port: 1, vmId: 7 },
  uplinkPort: 100,
  cpuPort: 255,
  remoteBase: parseIpv4('198.51.100.0'),
  openPort: 80,
  closedPort: 25,
  anyPort: 179,
  deniedRemote: parseIpv4('203.0.113.66'),
  unknownVmAddr: parseIpv4('10.0.0.99'),
  cpuUplinkVm: { addr: parseIpv4('10.0.0.7'), port: 3, vmId: 8 },
  cpuPlacedVm: { addr: parseIpv4('10.0.0.8'), port: 255, vmId: 9 },
  bigIdVm: { addr: parseIpv4('10.0.0.9'), port: 4, vmId: 2000 },
};

function setupEnv(): InMemoryPipelineEnvDouble {
  const env = statefulEdgeEnvDouble();
  const vm = SETUP.vm;
  env.addEntry('port_role', { match: { port: { value: BigInt(vm.port) } }, action: 'vm_port_role', params: { uplink_port: BigInt(SETUP.uplinkPort) } });
  env.addEntry('port_role', { match: { port: { value: BigInt(SETUP.uplinkPort) } }, action: 'uplink_role' });
  env.addEntry('vm_table', { match: { vm_addr: { value: BigInt(vm.addr) } }, action: 'set_vm', params: { vm_id: BigInt(vm.vmId), port: BigInt(vm.port) } });
  env.addEntry('static_acl', { match: { vm_addr: { value: BigInt(vm.addr), mask: 0xffffffffn }, vm_port: { value: BigInt(SETUP.openPort), mask: 0xffffn }, protocol: { value: 6n, mask: 0xffn } }, priority: 10, action: 'static_allow' });
  for (const e of hardTrafficEntries(SETUP)) env.addEntry(e.table, e);
  return env;
}

/** Runs all cases through one model; returns each packet with what the model did. */
function runCases(seed: number): { env: InMemoryPipelineEnvDouble; results: { name: string; p: CasePacket; got: string }[] } {
  const env = setupEnv();
  const pipe = statefulEdgeProgram.instantiate({ cpuPort: 255 });
  const results: { name: string; p: CasePacket; got: string }[] = [];
  let t = 1_000_000_000n;
  for (const c of hardCases(SETUP, createPrng(seed))) {
    for (const p of c.packets) {
      env.nowNsValue = (t += 1000n);
      const e = pipe.process({ ingressPort: p.ingressPort, payload: p.frame }, env);
      results.push({ name: c.name, p, got: e.kind === 'drop' ? (e.reason ?? '?') : e.kind });
    }
  }
  return { env, results };
}

function slotOf(env: InMemoryPipelineEnvDouble, frame: Uint8Array, dir: 'out' | 'in'): CtSlot | undefined {
  const f = parseFrame(frame);
  const ip = f.ipv4;
  const tcp = f.tcp;
  if (!ip || !tcp) return undefined;
  const key = dir === 'out' ? { vmAddr: ip.src, remoteAddr: ip.dst, vmPort: tcp.srcPort, remotePort: tcp.dstPort, protocol: 6 } : { vmAddr: ip.dst, remoteAddr: ip.src, vmPort: tcp.dstPort, remotePort: tcp.srcPort, protocol: 6 };
  return candidateSlots(key)
    .map((s) => decodeSlot(CT_WORDS.map((w) => env.registerRead(w.register, s))))
    .find((s) => s.protocol === 6 && s.vmAddr === key.vmAddr && s.remoteAddr === key.remoteAddr && s.vmPort === key.vmPort && s.remotePort === key.remotePort);
}

describe('hard traffic — every packet as stateful_edge promises (model)', () => {
  const { env, results } = runCases(11);
  const names = [...new Set(results.map((r) => r.name))];

  it.each(names)('hard traffic — %s', (name) => {
    const mine = results.filter((r) => r.name === name);
    expect(mine.map((r) => `${r.p.note} → ${r.got}`)).toEqual(mine.map((r) => `${r.p.note} → ${r.p.expect}`));
  });

  it('hard traffic — covers every drop reason but NOT_IPV4, UNKNOWN_PORT and VM_INACTIVE', () => {
    const seen = new Set(results.map((r) => r.p.expect));
    for (const [reason, v] of Object.entries(DropReason)) {
      if (v === DropReason.NONE || ['NOT_IPV4', 'UNKNOWN_PORT', 'VM_INACTIVE'].includes(reason)) continue;
      expect(seen, reason).toContain(reason);
    }
  });

  it('hard traffic — stores each side\'s window scale, and a simultaneous open ends ESTABLISHED', () => {
    const ws14 = results.find((r) => r.name === 'window scale 14, edges' && r.p.direction === 'out');
    expect(ws14 && slotOf(env, ws14.p.frame, 'out')).toMatchObject({ wsOut: 14, wsIn: 14, state: CtState.ESTABLISHED });
    const oneSided = results.find((r) => r.name === 'window scale announced by one side only');
    expect(oneSided && slotOf(env, oneSided.p.frame, 'out')).toMatchObject({ wsOut: 7, wsIn: 15 });
    const simo = results.find((r) => r.name === 'simultaneous open');
    expect(simo && slotOf(env, simo.p.frame, 'out')).toMatchObject({ state: CtState.ESTABLISHED, flags: 1 });
    const pickup = results.find((r) => r.name === 'mid-stream pickup');
    expect(pickup && slotOf(env, pickup.p.frame, 'out')).toMatchObject({ state: CtState.ESTABLISHED, wsOut: 14, wsIn: 14, pktsOut: 2, pktsIn: 1 });
  });

  it('hard traffic — a malformed length never moves a window, a reset leaves the slot CLOSED', () => {
    const mal = results.filter((r) => r.name === 'malformed lengths and truncated headers');
    const slot = slotOf(env, mal[0]?.p.frame ?? new Uint8Array(0), 'out');
    // Handshake (3) + the final 64-byte segment: nothing of the malformed ones was counted.
    expect((slot?.pktsOut ?? 0) + (slot?.pktsIn ?? 0)).toBe(4);
    const rst = results.filter((r) => r.name === 'RST in every state, in and out of window');
    const closed = rst.filter((r) => r.p.note.endsWith('exact RST')).map((r) => slotOf(env, r.p.frame, r.p.direction)?.state);
    expect(closed).toEqual([CtState.CLOSED, CtState.CLOSED]);
  });

  it('hard traffic — a VM id past the per-VM counters is forwarded and counted nowhere (BMv2 ignores an out-of-range count)', () => {
    const big = results.filter((r) => r.name === 'VM id past the per-VM counters');
    expect(big.every((r) => r.got === 'forward')).toBe(true);
    const slot = slotOf(env, big[0]?.p.frame ?? new Uint8Array(0), 'out');
    expect(slot?.vmId).toBe(2000);
    expect(2000).toBeGreaterThanOrEqual(MAX_VMS);
    for (const c of ['vm_tx', 'vm_rx', 'ct_collisions']) expect(env.nonZeroCells(c).filter((i) => i >= MAX_VMS)).toEqual([]);
  });

  it('hard traffic — counts the collisions of flows sharing all four candidate slots', () => {
    expect(env.counter('ct_collisions', SETUP.vm.vmId).packets).toBe(2);
  });

  it('hard traffic — is the same for a seed and differs for another', () => {
    const again = runCases(11).results;
    expect(again.map((r) => Buffer.from(r.p.frame).toString('hex'))).toEqual(results.map((r) => Buffer.from(r.p.frame).toString('hex')));
    const other = runCases(12).results;
    expect(other.map((r) => `${r.p.note} → ${r.got}`)).toEqual(other.map((r) => `${r.p.note} → ${r.p.expect}`));
    expect(Buffer.from(other[0]?.p.frame ?? []).equals(Buffer.from(results[0]?.p.frame ?? []))).toBe(false);
  });
});
