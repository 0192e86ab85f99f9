import { describe, expect, it } from 'vitest';
import type { VmFootprint } from '../../plugin/index.js';
import { domainFootprint } from './peer-domain-device.js';

const foot = (device: string, o: Partial<VmFootprint> = {}): VmFootprint => ({ device, runsHere: true, controlled: false, indexComplete: true, migrations: [], ...o });

describe('peer domain device — the destinations of a domain as one footprint', () => {
  it('peer domain footprint — the VM may run where it is mapped and not marked left: those destinations\' flows summed, the others not counted', () => {
    const f = domainFootprint('dc-b', [
      foot('b1', { vmId: 9, slots: 5 }),
      foot('b2', { slots: 7 }), // not in the VM map: the VM cannot run there
      foot('b3', { vmId: 9, runsHere: false, controlled: true, slots: 3, migrations: ['m0'] }), // a migration moved it away
      foot('b4', { vmId: 11, slots: 2 }),
    ]);
    expect(f).toEqual({ device: 'dc-b', vmId: 9, runsHere: true, controlled: true, slots: 7, indexComplete: true, migrations: ['m0'] });
  });

  it('peer domain footprint — mapped nowhere, nothing runs there; a running destination that cannot count leaves the count unknown; no answer at all is unknown too', () => {
    expect(domainFootprint('dc-b', [foot('b1', { slots: 4 })])).toMatchObject({ runsHere: false, slots: 0 });
    expect(domainFootprint('dc-b', [foot('b1', { slots: 4 })]).vmId).toBeUndefined();
    expect(domainFootprint('dc-b', [foot('b1', { vmId: 9 }), foot('b2', { vmId: 9, slots: 2, indexComplete: false })])).toMatchObject({ runsHere: true, indexComplete: false });
    expect(domainFootprint('dc-b', [foot('b1', { vmId: 9 })]).slots).toBeUndefined();
    const none = domainFootprint('dc-b', []);
    expect(none).toMatchObject({ runsHere: false, indexComplete: false });
    expect(none.slots).toBeUndefined();
  });
});
