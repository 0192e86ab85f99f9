/**
 * Where the VM evidently runs among a migration's destinations, over fake device APIs (footprints
 * as plain values): concluded only on counts, never on a device that cannot count; a destination
 * counted again only when the sources hold nothing, waiting for its scan.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from 'p4runtime-ts';
import type { Logger } from 'p4runtime-ts';
import type { DeviceApi, FootprintOptions, VmFootprint } from '../../plugin/index.js';
import { destinationCandidates, findVmAtDestinations, readWhereabouts, sumKnown, vmSeenAtDestinations, vmSeenMessage } from './vm-whereabouts.js';

const foot = (device: string, o: Partial<VmFootprint> = {}): VmFootprint => ({ device, vmId: 3, runsHere: true, controlled: false, slots: 0, indexComplete: true, migrations: [], ...o });

/** Fake devices answering footprints: `now` when asked with awaitScan, `first` otherwise; every call recorded. */
function fakes(spec: Record<string, { first?: VmFootprint; now?: VmFootprint; fails?: boolean } | 'none'>): { devices: Map<string, DeviceApi>; calls: string[] } {
  const calls: string[] = [];
  const devices = new Map<string, DeviceApi>();
  for (const [name, f] of Object.entries(spec)) {
    const api = f === 'none' ? {} : {
      footprint: async (_vm: string, o?: FootprintOptions) => {
        calls.push(`${name}${o?.awaitScan ? ' awaitScan' : ''}`);
        if (f.fails) throw new Error(`${name}: no answer`);
        return o?.awaitScan ? f.now : f.first;
      },
    };
    devices.set(name, api as unknown as DeviceApi);
  }
  return { devices, calls };
}

function recording(): { logger: Logger; warned: string[] } {
  const warned: string[] = [];
  const logger = { ...silentLogger, warn: (msg: string, f?: Record<string, unknown>) => void warned.push(`${msg} ${String(f?.['device'])}`), child: () => logger } as unknown as Logger;
  return { logger, warned };
}

describe('vm whereabouts — the VM already at a destination', () => {
  it('vm whereabouts — concluded only when the sources hold none and a destination holds flows without marking the VM left', () => {
    const before = new Map([['b', foot('b')], ['c', foot('c', { runsHere: false, controlled: true })], ['d', foot('d', { vmId: undefined, runsHere: false })]]);
    const now = new Map<string, number | undefined>([['b', 40], ['c', 12], ['d', 5]]);
    expect(vmSeenAtDestinations(0, before, now)).toEqual([{ device: 'b', slots: 40 }]);
    expect(vmSeenAtDestinations(3, before, now)).toEqual([]);
    expect(vmSeenAtDestinations(undefined, before, now)).toEqual([]);
    expect(vmSeenAtDestinations(0, before, new Map([['b', undefined]]))).toEqual([]);
    expect(destinationCandidates(new Map([...before, ['b', foot('b', { slots: 40 })], ['e', foot('e', { slots: 0 })], ['f', foot('f', { slots: undefined })]]), ['b', 'c', 'd', 'e', 'f', 'g'])).toEqual(['b', 'f']);
    expect(sumKnown(new Map([['a', 2], ['b', 3]]))).toBe(5);
    expect(sumKnown(new Map([['a', 2], ['b', undefined]]))).toBeUndefined();
    expect(vmSeenMessage('VM vm-7 (10.0.0.5)', [{ device: 'b', slots: 40 }])).toMatch(/^VM vm-7 \(10\.0\.0\.5\) seems to run at the destination already: the sources hold no flow of it, b holds 40 of its flows, .*Correct --from .*--ignore-destination-flows migrates anyway$/);
  });

  it('vm whereabouts — read before prepare: a device without footprint, or one that fails, is unknown, not a failure', async () => {
    const { devices } = fakes({ a: { first: foot('a', { slots: 2 }) }, b: 'none', c: { fails: true } });
    const w = await readWhereabouts(devices, ['a', 'b', 'c'], '10.0.0.5', silentLogger);
    expect([...w]).toEqual([['a', foot('a', { slots: 2 })], ['b', undefined], ['c', undefined]]);
  });

  it('vm whereabouts — a destination uncounted before prepare is asked again with awaitScan, only when the sources hold nothing; still uncounted, it is logged and not concluded on', async () => {
    const { devices, calls } = fakes({ a: { now: foot('a', { slots: 0 }) }, b: { now: foot('b', { slots: 7 }) }, c: { now: foot('c', { slots: undefined, indexComplete: false }) } });
    const before = new Map([['a', foot('a', { slots: undefined, indexComplete: false })], ['b', foot('b', { slots: undefined, indexComplete: false })], ['c', foot('c', { slots: undefined, indexComplete: false })]]);
    const { logger, warned } = recording();
    // The sources hold flows: nobody is asked.
    expect(await findVmAtDestinations({ devices, destinations: ['b', 'c'], vm: 'x', sourceSlots: 5, before, logger })).toEqual([]);
    let counted = 0;
    const sourceSlots = async (): Promise<number | undefined> => {
      counted++;
      return 0;
    };
    expect(await findVmAtDestinations({ devices, destinations: ['b', 'c'], vm: 'x', sourceSlots, before, logger })).toEqual([{ device: 'b', slots: 7 }]);
    expect(counted).toBe(1);
    expect(calls.sort()).toEqual(['b awaitScan', 'c awaitScan']);
    expect(warned).toEqual([expect.stringMatching(/^cannot tell whether the VM already runs at this destination.* c$/) as string]);
    // No destination could hold the VM (counted empty before prepare): the sources are not even counted.
    counted = 0;
    const empty = new Map([['b', foot('b', { slots: 0 })]]);
    expect(await findVmAtDestinations({ devices, destinations: ['b'], vm: 'x', sourceSlots, before: empty, logger })).toEqual([]);
    expect(counted).toBe(0);
  });
});
