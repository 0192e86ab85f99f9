import { describe, expect, it } from 'vitest';
import { BMV2_HASH_VECTORS } from '../../p4/testdata/bmv2-hash-vectors.js';
import { parseInventory } from '../inventory/load-inventory.js';
import { destinationOf, planMigration } from './plan-migration.js';

const SITE = `
devices:
  a1: { address: 127.0.0.1:1, deviceId: 1, hosts: [host-a] }
  a2: { address: 127.0.0.1:2, deviceId: 1, hosts: [host-d] }
  a3: { address: 127.0.0.1:3, deviceId: 1, hosts: [host-d] }
  b1: { address: 127.0.0.1:4, deviceId: 1, hosts: [host-b] }
  c1: { address: 127.0.0.1:5, deviceId: 1, hosts: [host-c] }
  c2: { address: 127.0.0.1:6, deviceId: 1, hosts: [host-c] }
hosts:
  host-c: { placement: ecmp }
  host-d: { placement: ecmp-d }
placement:
  ecmp: { kind: hash, algorithm: crc32, fields: [vm_addr, remote_addr, vm_port, remote_port, protocol], devices: [c1, c2] }
  ecmp-d: { kind: hash, algorithm: crc16, fields: [vm_addr], devices: [a2, a3] }
vms:
  vm-1: { address: 10.0.0.5, host: host-a }
  vm-2: { address: 10.0.0.6, host: host-d }
`;
const inv = parseInventory(SITE, 'site.yaml');
const key = (v: { src: number; dst: number; sport: number; dport: number; proto: number }): { name: string; value: number; bits: number }[] => [
  { name: 'vm_addr', value: v.src, bits: 32 },
  { name: 'remote_addr', value: v.dst, bits: 32 },
  { name: 'vm_port', value: v.sport, bits: 16 },
  { name: 'remote_port', value: v.dport, bits: 16 },
  { name: 'protocol', value: v.proto, bits: 8 },
];

describe('plan — topologies from the inventory', () => {
  it('plan — one edge each side is 1:1, and every flow goes to that destination', () => {
    const p = planMigration(inv, 'vm-1', 'host-a', 'host-b');
    expect([p.topology, p.sources.map((d) => d.name), p.destinations.map((d) => d.name)]).toEqual(['1:1', ['a1'], ['b1']]);
    expect(destinationOf(p, key(BMV2_HASH_VECTORS[0] ?? { src: 0, dst: 0, sport: 0, dport: 0, proto: 0 })).name).toBe('b1');
  });

  it('plan — two edges at the destination is 1:N, each flow placed by the ECMP hash BMv2 computes', () => {
    const p = planMigration(inv, 'vm-1', 'host-a', 'host-c');
    expect(p.topology).toBe('1:N');
    const counts = { c1: 0, c2: 0 };
    for (const v of BMV2_HASH_VECTORS) {
      const d = destinationOf(p, key(v)).name as 'c1' | 'c2';
      // The lab measured crc32 over exactly this 13-byte 5-tuple on BMv2.
      expect(d).toBe(v.crc32 % 2 === 0 ? 'c1' : 'c2');
      counts[d]++;
    }
    expect(counts.c1).toBeGreaterThan(0);
    expect(counts.c2).toBeGreaterThan(0);
  });

  it('plan — two edges at the source into one is N:1 (merge)', () => {
    expect(planMigration(inv, 'vm-2', 'host-d', 'host-b').topology).toBe('N:1');
    expect(planMigration(inv, 'vm-2', 'host-d', 'host-c').topology).toBe('N:M');
  });

  it('plan — bad requests are refused with the fix', () => {
    expect(() => planMigration(inv, 'vm-9', 'host-a', 'host-b')).toThrow(/VM 'vm-9' is not in the inventory \(vms: vm-1, vm-2\)/);
    expect(() => planMigration(inv, 'vm-1', 'host-b', 'host-c')).toThrow(/VM 'vm-1' runs on 'host-a', not 'host-b'; correct --from/);
    expect(() => planMigration(inv, 'vm-1', 'host-a', 'host-a')).toThrow(/--from and --to are both 'host-a'/);
    expect(() => planMigration(inv, 'vm-1', 'host-a', 'host-q')).toThrow(/destination host 'host-q' is not in the inventory/);
    const p = planMigration(inv, 'vm-1', 'host-a', 'host-c');
    expect(() => destinationOf(p, key(BMV2_HASH_VECTORS[0] ?? { src: 0, dst: 0, sport: 0, dport: 0, proto: 0 }).slice(0, 2))).toThrow(/placement 'ecmp' hashes field 'vm_port', which the flow key lacks/);
  });
});

describe('plan — devices along the path', () => {
  const site = (extra: string): string => `
devices:
  a1: { address: 127.0.0.1:1, deviceId: 1, hosts: [host-a] }
  b1: { address: 127.0.0.1:2, deviceId: 1, hosts: [host-b] }
${extra}
vms:
  vm-1: { address: 10.0.0.5, host: host-a }
`;
  it('plan — a path device moves to its counterpart; one serving both hosts stays out of the plan', () => {
    const p = planMigration(parseInventory(site(`  agg-a: { address: 127.0.0.1:3, deviceId: 1, role: path, counterpart: agg-b, hosts: [host-a] }
  agg-b: { address: 127.0.0.1:4, deviceId: 1, role: path, counterpart: agg-a, hosts: [host-b] }
  spine: { address: 127.0.0.1:5, deviceId: 1, role: path, hosts: [host-a, host-b] }`), 'site.yaml'), 'vm-1', 'host-a', 'host-b');
    expect([p.sources.map((d) => d.name), p.destinations.map((d) => d.name), p.edgeDestinations.map((d) => d.name)]).toEqual([['a1', 'agg-a'], ['b1', 'agg-b'], ['b1']]);
    expect([...p.counterparts]).toEqual([['agg-a', 'agg-b']]);
    expect(p.topology).toBe('1:1');
  });
  it('plan — a counterpart that does not serve the destination host is an error naming the fix', () => {
    const inv2 = parseInventory(site(`  agg-a: { address: 127.0.0.1:3, deviceId: 1, role: path, counterpart: agg-c, hosts: [host-a] }
  agg-c: { address: 127.0.0.1:4, deviceId: 1, role: path, counterpart: agg-a, hosts: [host-c] }`), 'site.yaml');
    expect(() => planMigration(inv2, 'vm-1', 'host-a', 'host-b')).toThrow(/path device 'agg-a' .* counterpart 'agg-c' does not serve 'host-b'; set devices\.agg-a\.counterpart/);
  });
  it('plan — counterparts must be path devices naming each other', () => {
    expect(() => parseInventory(site(`  agg-a: { address: 127.0.0.1:3, deviceId: 1, role: path, counterpart: b1, hosts: [host-a] }`), 'site.yaml')).toThrow(/counterpart.*a path device; 'b1' has role edge/);
    expect(() => parseInventory(site(`  agg-a: { address: 127.0.0.1:3, deviceId: 1, role: path, counterpart: agg-b, hosts: [host-a] }
  agg-b: { address: 127.0.0.1:4, deviceId: 1, role: path, hosts: [host-b] }`), 'site.yaml')).toThrow(/names 'agg-a' back as its counterpart \('agg-b' names none\)/);
    expect(() => parseInventory(site(`  e2: { address: 127.0.0.1:3, deviceId: 1, counterpart: b1, hosts: [host-c] }`), 'site.yaml')).toThrow(/no counterpart on an edge device/);
  });
});
