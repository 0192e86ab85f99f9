import { P4Switch } from 'p4runtime-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { SCHEMA, deviceConfigFor } from '../edge-rig.js';
import { runGrpcClientBench } from './grpc-client-bench.js';

describe('bench p4rt — the two gRPC clients', () => {
  let sim: SimSwitch;

  beforeAll(async () => {
    sim = await startSimSwitch({ profile: 'full', program: 'stateful_edge' });
    const sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, electionId: 1n });
    await sw.waitForPrimary();
    await sw.ensurePipeline({ p4info: SCHEMA.p4info, deviceConfig: deviceConfigFor('full') });
    await sw.close();
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
  });

  it('bench p4rt — each client makes its Writes on a session of its own kind, rows per client and ratios, the table left as it was', async () => {
    const seen: string[] = [];
    const entry = (k: number) => ({ match: { vm_id: 7, vm_addr: '10.0.0.5', remote_addr: `11.0.${k >> 8}.${k & 255}`, vm_port: 443, remote_port: 1000, protocol: 6 } });
    const rows = await runGrpcClientBench({
      address: sim.address, deviceId: sim.deviceId, schema: SCHEMA, variant: 'test', rounds: 2, calls: 4, warmup: 2,
      update: (sw, i) => {
        seen.push(`${sw.options.grpcClient}:${i}`);
        return i % 2 === 0 ? sw.table('dyn_acl').insert({ ...entry(i / 2), action: 'pinhole_allow' }) : sw.table('dyn_acl').delete(entry((i - 1) / 2));
      },
    });
    // 2 rounds × 2 clients × (2 warm-up + 4 measured) calls, the order rotating between rounds.
    expect(seen.filter((s) => s.startsWith('http2:'))).toHaveLength(12);
    expect(seen.filter((s) => s.startsWith('grpc-js:'))).toHaveLength(12);
    expect(seen[0]?.split(':')[0]).toBe('http2');
    expect(seen[6]?.split(':')[0]).toBe('grpc-js');
    expect(seen[12]?.split(':')[0]).toBe('grpc-js');
    const byCase = new Map(rows.map((r) => [r.case, r.value]));
    for (const k of ['http2', 'grpc-js']) {
      expect(byCase.get(`unary Write over ${k}: client CPU per call`)).toBeGreaterThan(0);
      expect(byCase.get(`unary Write over ${k}: wall time per call`)).toBeGreaterThan(0);
    }
    const ratio = byCase.get('unary Write, http2 ÷ grpc-js: client CPU per call') as number;
    expect(ratio).toBeCloseTo((byCase.get('unary Write over http2: client CPU per call') as number) / (byCase.get('unary Write over grpc-js: client CPU per call') as number), 9);
    const sw = await P4Switch.connect({ address: sim.address, deviceId: sim.deviceId, schema: SCHEMA });
    try {
      expect(await sw.readAll(sw.table('dyn_acl').all())).toHaveLength(0);
    } finally {
      await sw.close();
    }
  });
});
