/** `carryover plugin --config FILE` against a sim running stateful_edge: starts, reports, stops. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPluginCommand } from '../../plugin/index.js';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { P4INFO_PATH, deviceConfigFor } from '../edge-rig.js';

describe('carryover plugin (daemon)', () => {
  let sim: SimSwitch;
  const dir = mkdtempSync(join(tmpdir(), 'carryover-plugin-daemon-'));
  beforeAll(async () => {
    sim = await startSimSwitch({ profile: 'bmv2', program: 'stateful_edge' });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('plugin daemon — pushes the pipeline, picks in-band access on bmv2, logs health, stops on the signal', async () => {
    writeFileSync(join(dir, 'edge.json'), deviceConfigFor('bmv2'));
    const config = join(dir, 'plugin.json');
    writeFileSync(config, JSON.stringify({ switch: { address: sim.address, deviceId: Number(sim.deviceId), electionId: 20 }, p4info: P4INFO_PATH, deviceConfig: 'edge.json', healthIntervalMs: 100 }));
    const out: string[] = [];
    const logs: Record<string, unknown>[] = [];
    let stop: (s: string) => void = () => undefined;
    const stopSignal = new Promise<string>((r) => (stop = r));
    const done = runPluginCommand(['--config', config], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), stopSignal, logSink: (r) => logs.push({ ...r }) });
    for (let i = 0; i < 100 && !out.some((l) => l.includes('running against')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out.join('\n')).toMatch(/running against .* register access inband/);
    expect(sim.state.pipeline()?.program).toBe('stateful_edge');
    await new Promise((r) => setTimeout(r, 250));
    stop('SIGTERM');
    expect(await done).toBe(0);
    expect(out.join('\n')).toContain('SIGTERM, stopping');
    expect(logs.some((r) => r['msg'] === 'health' && r['state'] === 'running' && r['backend'] === 'inband')).toBe(true);
  });

  it('plugin daemon — an unreachable switch fails with exit 1 and says where it tried', async () => {
    const config = join(dir, 'unreachable.json');
    writeFileSync(config, JSON.stringify({ switch: { address: '127.0.0.1:1', deviceId: 1 }, p4info: P4INFO_PATH, connectTimeoutMs: 500 }));
    const err: string[] = [];
    const code = await runPluginCommand(['--config', config], { stdout: () => undefined, stderr: (l) => err.push(l), stopSignal: new Promise(() => undefined), logSink: () => undefined });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/could not start against 127\.0\.0\.1:1/);
  });

  it('plugin daemon — a bad config is exit 2 naming the file and field, nothing started', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ switch: { address: sim.address, deviceId: 1 }, p4info: P4INFO_PATH, registerAccess: 'fast' }));
    const err: string[] = [];
    const code = await runPluginCommand(['--config', config], { stdout: () => undefined, stderr: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/bad\.json: field 'registerAccess'/);
  });
});
