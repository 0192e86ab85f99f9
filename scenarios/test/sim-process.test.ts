/** `carryover sim` as a real process: listens, serves P4Runtime, exits cleanly on SIGTERM/SIGINT. */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { P4Switch } from 'p4runtime-ts';
import { startSimProcess } from '../bench/sim-process.js';

describe('carryover sim (process)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('sim process — serves Capabilities, then exits 0 on %s', async (signal) => {
    const sim = await startSimProcess(['--profile', 'bmv2', '--device-id', '3']);
    const sw = await P4Switch.connect({ address: sim.address, deviceId: 3n, electionId: 5n });
    try {
      expect(await sw.capabilities()).toBe('1.3.0');
      expect(sw.isPrimary).toBe(true);
    } finally {
      await sw.close();
    }
    const exited = once(sim.child, 'exit');
    process.kill(sim.pid, signal);
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it('sim process — a bad flag exits 2 naming it, before listening', async () => {
    await expect(startSimProcess(['--profile', 'tofino3'])).rejects.toThrow(/exited with 2 .*profile/s);
  });
});
