import { describe, expect, it } from 'vitest';
import { planForSource, splitBatch } from './split-batch.js';
import type { SplitPlan } from './split-batch.js';
import type { StateBatch } from './device-api.js';

const keyFields = [{ name: 'src_port', bits: 16 }, { name: 'dst_port', bits: 16 }];
const slot = (port: number) => ({ slot: port, fields: { src_port: BigInt(port), dst_port: 80n } });
const batch = (ports: number[]): StateBatch => ({
  migrationId: 'm1', round: 1, removed: [], coversSeq: { from: 0n, to: 1n },
  slots: ports.map(slot) as unknown as StateBatch['slots'],
  counters: { vm_pkts: { packets: 3n, bytes: 300n } },
});

// Two destination edges placed by hash, and a path device 'core-a' whose counterpart is 'core-b'.
const plan: SplitPlan = {
  destinations: ['edge-b1', 'edge-b2', 'core-b'],
  edges: ['edge-b1', 'edge-b2'],
  placement: { algorithm: 'crc32', fields: ['src_port', 'dst_port'], devices: ['edge-b1', 'edge-b2'] },
  counterparts: new Map([['core-a', 'core-b']]),
};

describe('split batch — one rule for the engine, a destination domain and a source plugin', () => {
  it('split batch — an edge source\'s flows go to the edges by placement, never to a path device; counters to the first edge only', () => {
    const parts = splitBatch(plan, keyFields, batch([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]), 'edge-a');
    expect([...parts.keys()]).toEqual(['edge-b1', 'edge-b2']);
    const n1 = parts.get('edge-b1')?.slots.length ?? 0;
    const n2 = parts.get('edge-b2')?.slots.length ?? 0;
    expect(n1 + n2).toBe(8);
    expect(n1).toBeGreaterThan(0);
    expect(n2).toBeGreaterThan(0);
    expect(parts.get('edge-b1')?.counters).toBeDefined();
    expect(parts.get('edge-b2')?.counters).toBeUndefined();
  });

  it('split batch — a path device\'s batch goes whole to its counterpart', () => {
    const parts = splitBatch(plan, keyFields, batch([1, 2, 3]), 'core-a');
    expect([...parts.keys()]).toEqual(['core-b']);
    expect(parts.get('core-b')?.slots.length).toBe(3);
    expect(parts.get('core-b')?.counters).toBeDefined();
  });

  it('plan for source — narrows to what one source sends to, and splits exactly as the whole plan does', () => {
    expect(planForSource(plan, 'core-a')).toEqual({ destinations: ['core-b'], placement: undefined });
    const edge = planForSource(plan, 'edge-a');
    expect(edge.destinations).toEqual(['edge-b1', 'edge-b2']);
    expect(edge.counterparts).toBeUndefined();
    const b = batch([5000, 5001, 5002, 5003, 5004, 5005]);
    for (const source of ['edge-a', 'core-a']) {
      const whole = splitBatch(plan, keyFields, b, source);
      const narrowed = splitBatch(planForSource(plan, source), keyFields, b, source);
      expect([...narrowed.entries()]).toEqual([...whole.entries()]);
    }
  });
});
