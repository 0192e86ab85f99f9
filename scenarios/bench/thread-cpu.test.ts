import { describe, expect, it } from 'vitest';
import { mainThreadCpuMs } from './thread-cpu.js';

describe('main thread CPU', () => {
  it.skipIf(process.platform !== 'linux')('thread cpu — grows by about the CPU a busy loop on the main thread spent', () => {
    const a = mainThreadCpuMs() as number;
    const c0 = process.cpuUsage();
    let x = 0;
    // Until the process has spent 30 ms of CPU (not of wall time: on a loaded machine 30 ms of
    // wall time may give this thread a few), at most 10 s.
    const t0 = performance.now();
    const spent = (): number => { const u = process.cpuUsage(c0); return (u.user + u.system) / 1000; };
    while (spent() < 30 && performance.now() - t0 < 10_000) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(c0);
    const b = mainThreadCpuMs() as number;
    expect(x).toBeGreaterThan(0);
    // The loop ran on this thread: its CPU grew by most of the process's (which also counts helpers).
    expect(b - a).toBeGreaterThan(15);
    expect(b - a).toBeLessThanOrEqual((used.user + used.system) / 1000 + 2);
  });
});
