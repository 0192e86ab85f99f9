// A VM id with no cell in a per-VM counter (vm_id is 16 bits, vm_tx/vm_rx hold 1024 cells) must
// be refused by the plugin with the counter named, not read with its counters silently skipped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';

describe('vm state — per-VM counter range', () => {
  let rig: EdgeRig;
  beforeAll(async () => {
    rig = await startEdgeRig({ profile: 'full' });
    await rig.sw.write([
      rig.sw.table('vm_table').insert({ match: { vm_addr: '10.0.9.1' }, action: 'set_vm', params: { vm_id: 1024, port: 4 } }),
      rig.sw.table('vm_table').insert({ match: { vm_addr: '10.0.9.2' }, action: 'set_vm', params: { vm_id: 1023, port: 4 } }),
    ]);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('vm state — a VM id past the per-VM counters is VALUE_RANGE naming the counter, its size and the fix', async () => {
    const err = await rig.plugin.readVmState('10.0.9.1').then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALUE_RANGE' });
    expect((err as Error).message).toMatch(/VM '10\.0\.9\.1' has id 1024, past per-VM counter 'vm_tx' \(size 1024, ids 0\.\.1023\).*give the VM an id below 1024/);
  });

  it('vm state — the last id that has a cell reads its counters', async () => {
    const s = await rig.plugin.readVmState('10.0.9.2');
    expect(s.vmId).toBe(1023);
    expect(s.counters.map((c) => [c.counter, c.index])).toEqual([['vm_tx', 1023], ['vm_rx', 1023]]);
  });
});
