import { describe, expect, it } from 'vitest';
import { renderDemoReport } from '../cli/demo-command.js';
import { runDemo } from './run-demo.js';

describe('demo', () => {
  it('demo — the destination drops the VM return traffic until the state is copied, then holds identical state and admits it', async () => {
    const r = await runDemo({ flows: 80, seed: 3 });
    expect(r.source.backend).toBe('p4runtime');
    expect(r.destination.backend).toBe('inband');
    expect(r.flows.openTcp).toBeGreaterThan(10);
    expect(r.sourceState.slots).toBeGreaterThan(r.flows.openTcp - 1);
    expect(r.destinationBefore.slots).toBe(0);
    expect(r.probes.admittedBefore).toBe(0);
    expect(r.probes.admittedAtSource).toBe(r.probes.sent);
    expect(r.differences).toEqual([]);
    expect(r.identical).toBe(true);
    expect(r.destinationAfter).toEqual(r.sourceState);
    expect(r.probes.admittedAfter).toBe(r.probes.sent);
    expect(r.pinholesLearned).toBe(r.sourceState.pinholes);
    expect(renderDemoReport(r)).toMatch(/result: OK/);
  });
});
