import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadInventory } from './load-inventory.js';

const SITE = `devices:
  edge-a: { address: 127.0.0.1:9559, deviceId: 1, hosts: [host-a], p4info: edge.p4info.txtpb, deviceConfig: edge.json, tls: { ca: ca.pem, cert: c.pem, key: c.key } }
  edge-b: { address: 127.0.0.1:9560, deviceId: 1, hosts: [host-b] }
vms:
  vm-7: { address: 10.0.0.5, host: host-a }
`;

describe('inventory files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carryover-inventory-files-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('inventory files — every file a device names that cannot be read is named at load, with its field; with them present the inventory loads', () => {
    writeFileSync(join(dir, 'site.yaml'), SITE);
    for (const f of ['edge.p4info.txtpb', 'ca.pem', 'c.pem']) writeFileSync(join(dir, f), 'x');
    const err = (() => {
      try {
        loadInventory(join(dir, 'site.yaml'));
        return undefined;
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    expect(err?.code).toBe('BAD_CONFIG');
    expect(err?.message).toMatch(/cannot read 2 files it names: devices\.edge-a\.tls\.key: .*c\.key \(ENOENT\); devices\.edge-a\.deviceConfig: .*edge\.json \(ENOENT\); paths are relative to the inventory's directory/);
    for (const f of ['c.key', 'edge.json']) writeFileSync(join(dir, f), 'x');
    expect(loadInventory(join(dir, 'site.yaml')).devices.get('edge-a')?.deviceConfig).toBe(join(dir, 'edge.json'));
  });
});
