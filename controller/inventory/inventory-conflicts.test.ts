import { describe, expect, it } from 'vitest';
import { parseInventory } from './load-inventory.js';

const SITE = `
domain: dc-a
devices:
  edge-1: { address: 127.0.0.1:9559, deviceId: 1, hosts: [host-a] }
  edge-2: { address: 127.0.0.1:9560, deviceId: 1, hosts: [host-b] }
`;
// The conflict is found before the controller section's files are read: they need not exist.
const DAEMONS = `${SITE}  edge-3: { plugin: { address: 127.0.0.1:50051, serverName: edge-3.dc-a }, hosts: [host-c] }
  edge-4: { plugin: { address: 127.0.0.1:50051, serverName: edge-4.dc-a }, hosts: [host-d] }
controller:
  tls: { ca: ca.pem, cert: ctl.pem, key: ctl.key }
  signingKey: dc-a.key
`;

describe('inventory — contradictions between devices', () => {
  it('inventory — devices at distinct switches and daemons load; the same address with another device id is another device', () => {
    expect(parseInventory(SITE, 'site.yaml').devices.size).toBe(2);
    expect(parseInventory(SITE.replace('127.0.0.1:9560, deviceId: 1', '127.0.0.1:9559, deviceId: 2'), 'site.yaml').devices.size).toBe(2);
  });

  it('inventory — two devices at one switch (address and device id) are refused naming the second, the first and the fix', () => {
    expect(() => parseInventory(SITE.replace('127.0.0.1:9560', '127.0.0.1:9559'), 'site.yaml')).toThrow(
      /^site\.yaml:5: devices\.edge-2\.address: got "127\.0\.0\.1:9559"; expected a switch no other device names: 'edge-1' is already 127\.0\.0\.1:9559 with deviceId 1.*remove one of them, or correct the address or deviceId$/,
    );
  });

  it('inventory — two devices at one plugin daemon address are refused naming the daemon and the fix', () => {
    expect(() => parseInventory(DAEMONS, 'site.yaml')).toThrow(
      /site\.yaml:7: devices\.edge-4\.plugin\.address: got "127\.0\.0\.1:50051"; expected a plugin daemon no other device names: 'edge-3' is already reached at 127\.0\.0\.1:50051.*migration\.listen/,
    );
  });

  it('inventory — two VMs with one address are refused naming both (the switches know a VM by its address)', () => {
    const vms = `${SITE}vms:\n  vm-7: { address: 10.0.0.5, host: host-a }\n  vm-8: { address: 10.0.0.5, host: host-b }\n`;
    expect(() => parseInventory(vms, 'site.yaml')).toThrow(/vms\.vm-8\.address: got "10\.0\.0\.5"; expected an address no other VM has: 'vm-7' is 10\.0\.0\.5 already/);
    expect(parseInventory(vms.replace('vm-8: { address: 10.0.0.5', 'vm-8: { address: 10.0.0.6'), 'site.yaml').vms.size).toBe(2);
  });

  it('inventory — electionId 0 is refused at load: P4Runtime reserves it', () => {
    expect(() => parseInventory(SITE.replace('deviceId: 1, hosts: [host-a]', 'deviceId: 1, electionId: 0, hosts: [host-a]'), 'site.yaml')).toThrow(
      /site\.yaml:4: devices\.edge-1\.electionId: got 0; expected an integer 1 \.\. 2\^128-1: P4Runtime reserves election id 0/,
    );
    expect(parseInventory(SITE.replace('deviceId: 1, hosts: [host-a]', 'deviceId: 1, electionId: 1, hosts: [host-a]'), 'site.yaml').devices.get('edge-1')?.electionId).toBe(1n);
  });
});
