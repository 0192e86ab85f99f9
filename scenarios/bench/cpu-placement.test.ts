import { describe, expect, it } from 'vitest';
import { cpuPlacement } from './cpu-placement.js';
import { isCpuList } from '../../controller/testing/qemu-pair.js';

describe('cpu placement', () => {
  it('cpu placement — names QEMU\'s CPUs apart from carryover\'s, or says they share', () => {
    expect(cpuPlacement('1', '0')).toBe('QEMU on CPUs 1 (taskset), carryover and the switches on CPUs 0');
    expect(cpuPlacement(undefined, '0-1')).toBe('QEMU, carryover and the switches share CPUs 0-1');
    expect(cpuPlacement(undefined, null)).toMatch(/share CPUs unknown/);
  });

  it('cpu placement — a CPU list is digits, ascending ranges and commas, nothing else', () => {
    for (const ok of ['0', '1', '2-3', '0,2-3', '10-11,14']) expect(isCpuList(ok), ok).toBe(true);
    for (const bad of ['', 'a', '1-', '-1', '3-2', '1,,2', '1 2', '0x1', '1;rm -rf /']) expect(isCpuList(bad), bad).toBe(false);
  });
});
