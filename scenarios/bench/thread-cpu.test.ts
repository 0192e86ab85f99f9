import { describe, expect, it } from 'vitest';
import { mainThreadCpuMs } from './thread-cpu.js';

describe('main thread CPU', () => {
  it.skipIf(process.platform !== 'linux')('thread cpu — grows by about the CPU a busy loop on the main thread spent', () => {
    const a = mainThreadCpuMs() as number;
    const c0 = process.cpuUsage();
    let x = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 30) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(c0);
    const b = mainThreadCpuMs() as number;
    expect(x).toBeGreaterThan(0);
    // The loop ran on this thread: its CPU grew by most of the process's (which also counts helpers).
    expect(b - a).toBeGreaterThan(5);
    expect(b - a).toBeLessThanOrEqual((used.user + used.system) / 1000 + 2);
  });
});
