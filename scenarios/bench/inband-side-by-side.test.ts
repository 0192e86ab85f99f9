import { P4Switch } from 'p4runtime-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA, deviceConfigFor } from '../edge-rig.js';
import { compareInbandClients } from './inband-side-by-side.js';
import { startSimProcess } from './sim-process.js';
import type { SimProcess } from './sim-process.js';

describe('bench pipeline — in-band clients side by side', () => {
  let sim: SimProcess;

  beforeAll(async () => {
    sim = await startSimProcess(['--profile', 'bmv2', '--program', 'stateful_edge', '--device-id', '1', '--log-level', 'warn']);
    const sw = await P4Switch.connect({ address: sim.address, deviceId: 1, electionId: 5n });
    await sw.waitForPrimary();
    await sw.ensurePipeline({ p4info: SCHEMA.p4info, deviceConfig: deviceConfigFor('bmv2') });
    await sw.close();
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
  });

  it('runs both clients in their own processes against one switch and reports rates, CPU and their ratios', async () => {
    const logged: string[] = [];
    const rows = await compareInbandClients({ address: sim.address, deviceId: 1, pid: sim.pid, label: 'sim bmv2' }, { requests: 400, warmup: 100, window: 16, rounds: 2 }, (m) => logged.push(m));
    expect(rows.map((r) => r.case)).toEqual([
      'in-band READ_SLOT side by side: bare grpc-js client',
      'in-band READ_SLOT side by side: plugin in-band backend',
      'in-band READ_SLOT side by side: rate plugin / bare',
      'in-band READ_SLOT side by side: client CPU, bare',
      'in-band READ_SLOT side by side: client CPU, plugin',
      'in-band READ_SLOT side by side: client CPU plugin / bare',
      ...(process.platform === 'linux' ? ['in-band READ_SLOT side by side: switch CPU while serving the bare client'] : []),
    ]);
    for (const r of rows) expect(typeof r.value === 'number' && Number.isFinite(r.value) && r.value > 0).toBe(true);
    // Two rounds, both clients in each, the order alternating.
    expect(logged.map((m) => /round (\d)\/2: (\w+)/.exec(m)?.slice(1).join(' '))).toEqual(['1 bare', '1 plugin', '2 plugin', '2 bare']);
  }, 120_000);
});
