import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory, parseInventory } from './load-inventory.js';

const SITE = `
version: 1
domain: dc-a
journal: ./journal
devices:
  edge-1:
    address: 127.0.0.1:9559
    deviceId: 1
    hosts: [host-a]
    subnets: [10.0.0.0/24]
  edge-2:
    address: 127.0.0.1:9560
    deviceId: "18446744073709551615"
    electionId: 20
    registerAccess: inband
    grpcClient: grpc-js
    openStreamsAhead: false
    hosts: [host-b]
    tls: { ca: ca.pem, cert: c.pem, key: c.key }
  edge-3:
    address: 127.0.0.1:9561
    deviceId: 1
    hosts: [host-b]
hosts:
  host-b: { placement: ecmp }
placement:
  ecmp: { kind: hash, algorithm: crc32, fields: [vm_addr, remote_addr, vm_port, remote_port, protocol], devices: [edge-2, edge-3] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

describe('inventory — loading', () => {
  it('inventory — a valid site loads: devices, hosts derived from devices, placement, VMs, paths made absolute', () => {
    const inv = parseInventory(SITE, '/etc/carryover/site.yaml');
    expect(inv.domain).toBe('dc-a');
    expect(inv.journal).toBe('/etc/carryover/journal');
    expect(inv.devices.get('edge-2')).toMatchObject({ deviceId: 18446744073709551615n, electionId: 20n, registerAccess: 'inband', grpcClient: 'grpc-js', openStreamsAhead: false, role: 'edge', tls: { ca: '/etc/carryover/ca.pem', cert: '/etc/carryover/c.pem', key: '/etc/carryover/c.key' } });
    expect(inv.devices.get('edge-1')).toMatchObject({ electionId: 10n, registerAccess: 'probe', grpcClient: 'http2', openStreamsAhead: true, tls: undefined, subnets: ['10.0.0.0/24'] });
    expect(inv.hosts.get('host-b')).toEqual({ name: 'host-b', devices: ['edge-2', 'edge-3'], placement: 'ecmp' });
    expect(inv.hosts.get('host-a')).toEqual({ name: 'host-a', devices: ['edge-1'], placement: undefined });
    expect(inv.placements.get('ecmp')?.devices).toEqual(['edge-2', 'edge-3']);
    expect(inv.vms.get('vm-7')).toEqual({ name: 'vm-7', address: '10.0.0.5', host: 'host-a' });
    expect(Object.isFrozen(inv.devices.get('edge-1'))).toBe(true);
  });

  const bad: [string, (s: string) => string, RegExp][] = [
    ['YAML syntax', (s) => `${s}\n  broken: [`, /^site\.yaml:\d+:\d+: not valid YAML/],
    ['duplicate key', (s) => s.replace('  edge-3:\n', '  edge-2:\n'), /not valid YAML.*[Uu]nique|not valid YAML/],
    ['unknown top-level field', (s) => `${s}\nswitches: {}\n`, /site\.yaml:\d+: switches: got \{\}; expected no field 'switches' here; allowed: version, domain/],
    ['misspelt top-level field', (s) => s.replace('devices:', 'devcies:'), /devcies: got .*; expected no field 'devcies' here; did you mean 'devices'\?; allowed: version, domain/],
    ['misspelt device field', (s) => s.replace('    address: 127.0.0.1:9559', '    adress: 127.0.0.1:9559'), /devices\.edge-1\.adress: got "127\.0\.0\.1:9559"; expected no field 'adress' here; did you mean 'address'\?; allowed:/],
    ['VM on a misspelt host', (s) => s.replace('host: host-a }', 'host: hosta }'), /vms\.vm-7\.host: got "hosta"; expected a host some device serves \(known: host-a, host-b\); did you mean 'host-a'( or 'host-b')?\?/],
    ['address without port', (s) => s.replace('127.0.0.1:9559', '127.0.0.1'), /site\.yaml:7: devices\.edge-1\.address: got "127\.0\.0\.1"; expected 'host:port'/],
    ['an IPv4 address with a part above 255', (s) => s.replace('127.0.0.1:9559', '999.1.1.1:9559'), /site\.yaml:7: devices\.edge-1\.address: got "999\.1\.1\.1:9559"; expected 'host:port' whose IPv4 address has parts 0\.\.255/],
    ['device id too large', (s) => s.replace('"18446744073709551615"', '"18446744073709551616"'), /site\.yaml:13: devices\.edge-2\.deviceId: got "18446744073709551616"; expected an integer 0 \.\. 2\^64-1/],
    ['bad subnet', (s) => s.replace('10.0.0.0/24', '10.0.0.0/33'), /devices\.edge-1\.subnets\.0: got "10\.0\.0\.0\/33"; expected an IPv4 subnet in CIDR form/],
    ['cert without key', (s) => s.replace(', key: c.key', ''), /devices\.edge-2\.tls: .*expected cert and key together \(mTLS\), or neither/],
    ['unknown register access', (s) => s.replace('registerAccess: inband', 'registerAccess: magic'), /devices\.edge-2\.registerAccess: got "magic"; expected one of probe, p4runtime, inband/],
    ['unknown gRPC client', (s) => s.replace('grpcClient: grpc-js', 'grpcClient: grpc'), /devices\.edge-2\.grpcClient: got "grpc"; expected one of http2, grpc-js/],
    ['an empty P4Runtime role', (s) => s.replace('    openStreamsAhead: false\n', '    openStreamsAhead: false\n    p4runtimeRole: ""\n'), /devices\.edge-2\.p4runtimeRole: got ""; expected a P4Runtime role name, e\.g\. carryover/],
    ['streams ahead not a boolean', (s) => s.replace('openStreamsAhead: false', 'openStreamsAhead: "no"'), /devices\.edge-2\.openStreamsAhead: got "no"; expected true or false/],
    ['placement over an unknown device', (s) => s.replace('devices: [edge-2, edge-3]', 'devices: [edge-2, edge-9]'), /placement\.ecmp\.devices\.1: got "edge-9"; expected a device defined under 'devices' \(known: edge-1, edge-2, edge-3\)/],
    ['host with two edges and no placement', (s) => s.replace('hosts:\n  host-b: { placement: ecmp }\n', ''), /expected a placement for host host-b: 2 edge devices serve it \(edge-2, edge-3\)/],
    ['placement naming a device that does not serve the host', (s) => s.replace('devices: [edge-2, edge-3]', 'devices: [edge-1, edge-2]'), /hosts\.host-b\.placement: got "ecmp"; expected a placement over devices that serve host-b; 'edge-1' does not list host-b/],
    ['VM on an unknown host', (s) => s.replace('host: host-a }', 'host: host-z }'), /vms\.vm-7\.host: got "host-z"; expected a host some device serves \(known: host-a, host-b\)/],
    ['VM with a bad address', (s) => s.replace('10.0.0.5', '10.0.0.500'), /vms\.vm-7\.address: got "10\.0\.0\.500"; expected an IPv4 address/],
    ['device name with a slash', (s) => s.replace('  edge-1:\n', '  "edge/1":\n'), /devices\.edge\/1: the name "edge\/1" is not allowed/],
    ['wrong version', (s) => s.replace('version: 1', 'version: 2'), /version: got 2; expected 1 \(the only inventory version\)/],
    ['no devices', () => 'domain: x\n', /\(top level\)|devices: got nothing; expected a mapping of device names/],
  ];
  it('inventory — p4runtimeRole names the role a device\'s in-process plugin takes; without it, the default role', () => {
    const inv = parseInventory(SITE.replace('    openStreamsAhead: false\n', '    openStreamsAhead: false\n    p4runtimeRole: carryover\n'), 'site.yaml');
    expect(inv.devices.get('edge-2')?.p4runtimeRole).toBe('carryover');
    expect(inv.devices.get('edge-1')?.p4runtimeRole).toBeUndefined();
  });
  it.each(bad)('inventory — %s is refused naming file, line, field and expectation', (_what, mutate, message) => {
    expect(() => parseInventory(mutate(SITE), 'site.yaml')).toThrow(message);
  });

  describe('inventory — from a file', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'carryover-inv-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    it('inventory — relative paths resolve against the file; a missing file names itself and the flag', async () => {
      await writeFile(join(dir, 'site.yaml'), SITE);
      for (const f of ['ca.pem', 'c.pem', 'c.key']) await writeFile(join(dir, f), 'x');
      expect(loadInventory(join(dir, 'site.yaml')).devices.get('edge-2')?.tls?.ca).toBe(join(dir, 'ca.pem'));
      expect(() => loadInventory(join(dir, 'nope.yaml'))).toThrow(/inventory .*nope\.yaml: cannot read it .*--config/);
    });
  });
});

describe('inventory — the README\'s reference example', () => {
  it('inventory — the README\'s "every field, in one file" example loads as written (with the P4 files beside it) and plans 1:N with its placement', async () => {
    const { copyFileSync, readFileSync } = await import('node:fs');
    const { planMigration } = await import('../plan/plan-migration.js');
    const root = new URL('../../', import.meta.url).pathname;
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const at = readme.indexOf('**The inventory** (`--config`, YAML)');
    const yaml = readme.slice(at).split('```yaml\n')[1]?.split('```')[0] ?? '';
    const dir = await mkdtemp(join(tmpdir(), 'carryover-readme-inventory-'));
    try {
      for (const f of ['stateful_edge.p4info.txtpb', 'stateful_edge.json']) copyFileSync(join(root, 'p4', f), join(dir, f));
      await writeFile(join(dir, 'site.yaml'), yaml);
      const inv = loadInventory(join(dir, 'site.yaml'));
      expect([...inv.devices.keys()]).toEqual(['edge-1', 'edge-2', 'edge-3', 'spine-1', 'spine-2']);
      const plan = planMigration(inv, 'vm-7', 'host-a', 'host-b');
      expect(plan.topology).toBe('1:N');
      expect(plan.placement?.devices).toEqual(['edge-2', 'edge-3']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
