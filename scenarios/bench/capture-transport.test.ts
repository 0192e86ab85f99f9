import { P4Switch } from 'p4runtime-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { SCHEMA, deviceConfigFor } from '../edge-rig.js';
import { CaptureTransport } from './capture-transport.js';

describe('bench p4rt — capture transport', () => {
  let sim: SimSwitch;
  let sw: P4Switch;
  let transport: CaptureTransport;

  beforeAll(async () => {
    sim = await startSimSwitch({ profile: 'full', program: 'stateful_edge' });
    transport = new CaptureTransport(sim.address);
    sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 5n, writeBatchSize: 2, transport });
    await sw.waitForPrimary();
    await sw.ensurePipeline({ p4info: SCHEMA.p4info, deviceConfig: deviceConfigFor('full') });
  }, 60_000);

  afterAll(async () => {
    await sw?.close();
    await sim?.stop();
  });

  it('bench p4rt — while capturing, write() hands over its encoded requests and the switch gets none; the same bytes sent later insert the entries', async () => {
    const table = sw.table('dyn_acl');
    const entries = [1, 2, 3].map((k) => ({ match: { vm_id: 7, vm_addr: '10.0.0.5', remote_addr: `11.0.0.${k}`, vm_port: 443, remote_port: 1000 + k, protocol: 6 }, action: 'pinhole_allow' }));
    transport.startCapture();
    await sw.write(entries.map((e) => table.insert(e)));
    const kept = transport.stopCapture();
    expect(kept).toHaveLength(2); // batches of 2: requests of 2 and 1 updates
    expect(await sw.readAll(table.all())).toHaveLength(0);

    for (const request of kept) await transport.writeEncoded(request);
    const read = await sw.readAll(table.all());
    const remote = read.map((e) => (e.match['remote_addr'] as { value: bigint }).value);
    expect(new Set(remote)).toEqual(new Set([0x0b00_0001n, 0x0b00_0002n, 0x0b00_0003n]));
  });
});
