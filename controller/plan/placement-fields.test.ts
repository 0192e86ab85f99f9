import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../inventory/load-inventory.js';
import { planMigration } from './plan-migration.js';
import { checkPlacementFields } from './placement-fields.js';

const P4INFO = fileURLToPath(new URL('../../p4/stateful_edge.p4info.txtpb', import.meta.url));
const SITE = `
devices:
  e1: { address: 10.9.0.1:9559, deviceId: 1, hosts: [h1] }
  e2: { address: 10.9.0.2:9559, deviceId: 1, hosts: [h2] }
  e3: { address: 10.9.0.3:9559, deviceId: 1, hosts: [h2] }
hosts: { h2: { placement: ecmp } }
placement:
  ecmp:
    kind: hash
    algorithm: crc16
    fields: [vm_addr, remote_addr, vm_port, remote_port, protocol]
    devices: [e2, e3]
vms: { vm-7: { address: 10.0.0.5, host: h1 } }
`;
const plan = (site: string): [ReturnType<typeof parseInventory>, ReturnType<typeof planMigration>] => {
  const inv = parseInventory(site, '/etc/carryover/site.yaml');
  return [inv, planMigration(inv, 'vm-7', 'h1', 'h2')];
};

describe('plan — placement fields against the flow key', () => {
  it('plan — a placement over the flow key fields of the embedded P4Info passes', () => {
    const [inv, p] = plan(SITE);
    expect(() => checkPlacementFields(inv, p, P4INFO)).not.toThrow();
  });

  it('plan — a placement hashing a field the flow key lacks is refused naming the file, placement.NAME.fields, the field, the known ones and a near name', () => {
    const [inv, p] = plan(SITE.replace('fields: [vm_addr,', 'fields: [vm_adr,'));
    const e = (() => {
      try {
        checkPlacementFields(inv, p, P4INFO);
      } catch (err) {
        return err as Error & { code?: string };
      }
      return undefined;
    })();
    expect(e?.code).toBe('BAD_CONFIG');
    expect(e?.message).toMatch(/^\/etc\/carryover\/site\.yaml: placement\.ecmp\.fields: hashes field 'vm_adr', which the flow key lacks \(it has vm_addr, remote_addr, vm_port, remote_port, protocol\); .*program 'stateful_edge'.*source e1 runs: list only its fields; did you mean 'vm_addr'\?$/);
  });

  it('plan — a plan with no placement (1:1) is not checked', () => {
    const [inv, p] = plan(SITE.replace('hosts: { h2: { placement: ecmp } }\n', '').replace('  e3: { address: 10.9.0.3:9559, deviceId: 1, hosts: [h2] }\n', '').replace('devices: [e2, e3]', 'devices: [e2]'));
    expect(() => checkPlacementFields(inv, p, '/nonexistent.txtpb')).not.toThrow();
  });
});
