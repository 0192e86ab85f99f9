/**
 * `carryover plugin` stops on its signal while its switch does not answer: during start (the
 * connect would otherwise run to its timeout) and while running against a switch gone silent
 * (field walkthrough 22 B3: a daemon seemed to ignore its first SIGTERM while its switch went away).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPluginCommand } from '../../plugin/index.js';
import { startSimSwitch } from '../../sim/index.js';
import type { SimSwitch } from '../../sim/index.js';
import { P4INFO_PATH, deviceConfigFor } from '../edge-rig.js';

/** A TCP hop to `target` that, once `silence()` is called, forwards nothing more (a switch gone away without a reset). */
async function silenceableHop(target: string): Promise<{ address: string; silence: () => void; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let silent = false;
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host, port });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.on('data', (b) => (silent ? undefined : outbound.write(b)));
    outbound.on('data', (b) => (silent ? undefined : inbound.write(b)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return {
    address: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    silence: () => (silent = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Resolves with the command's exit code, or 'still running' after `ms`. */
const settledWithin = (done: Promise<number>, ms: number): Promise<number | 'still running'> =>
  Promise.race([done, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms).unref())]);

describe('carryover plugin (daemon) — stopping while the switch does not answer', () => {
  let sim: SimSwitch;
  const dir = mkdtempSync(join(tmpdir(), 'carryover-plugin-stop-'));
  beforeAll(async () => {
    sim = await startSimSwitch({ profile: 'bmv2', program: 'stateful_edge' });
    writeFileSync(join(dir, 'edge.json'), deviceConfigFor('bmv2'));
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('plugin daemon stop — a signal while the switch has not answered yet stops the daemon then (exit 0), not at the 60 s connect timeout', async () => {
    const hop = await silenceableHop(sim.address);
    hop.silence();
    const config = join(dir, 'silent.json');
    writeFileSync(config, JSON.stringify({ switch: { address: hop.address, deviceId: Number(sim.deviceId), electionId: 40 }, p4info: P4INFO_PATH, deviceConfig: 'edge.json', connectTimeoutMs: 60_000 }));
    const out: string[] = [];
    let stop: (s: string) => void = () => undefined;
    const done = runPluginCommand(['--config', config], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), stopSignal: new Promise<string>((r) => (stop = r)), logSink: () => undefined });
    try {
      await new Promise((r) => setTimeout(r, 300));
      stop('SIGTERM');
      expect(await settledWithin(done, 15_000)).toBe(0);
      expect(out.join('\n')).toContain(`SIGTERM while starting against ${hop.address}, stopping`);
      // The connect was abandoned, not waited for until the command gave up on its own shutdown.
      expect(out.join('\n')).not.toContain('did not finish within');
      expect(sim.state.pipeline()).toBeNull();
    } finally {
      await hop.close();
      await done;
    }
  }, 90_000);

  it('plugin daemon stop — running against a switch gone silent, the signal stops the daemon (exit 0)', async () => {
    const hop = await silenceableHop(sim.address);
    const config = join(dir, 'goes-silent.json');
    writeFileSync(config, JSON.stringify({ switch: { address: hop.address, deviceId: Number(sim.deviceId), electionId: 41 }, p4info: P4INFO_PATH, deviceConfig: 'edge.json', healthIntervalMs: 100 }));
    const out: string[] = [];
    let stop: (s: string) => void = () => undefined;
    const done = runPluginCommand(['--config', config], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), stopSignal: new Promise<string>((r) => (stop = r)), stopWithinMs: 2_000, logSink: () => undefined });
    try {
      for (let i = 0; i < 200 && !out.some((l) => l.includes('running against')); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out.join('\n')).toMatch(/running against/);
      hop.silence();
      stop('SIGTERM');
      expect(await settledWithin(done, 15_000)).toBe(0);
      expect(out.join('\n')).toContain('SIGTERM, stopping');
    } finally {
      await hop.close();
      await done;
    }
  }, 90_000);
});
