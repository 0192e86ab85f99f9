/**
 * Indirect counter writes by unit: PI (bmv2) writes only the counts of a counter's unit and keeps
 * the other as the data plane counted it, and resets a cell on DELETE; the spec profiles write what
 * is given and refuse DELETE.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { P4Schema, P4Switch } from 'p4runtime-ts';
import type { P4Update } from 'p4runtime-ts';
import { minimalBmv2Json, startSimSwitch } from '../index.js';
import type { SimSwitch } from '../index.js';

const schema = P4Schema.fromFile(new URL('../../p4/stateful_edge.p4info.txtpb', import.meta.url).pathname);
let sim: SimSwitch | undefined;
let sw: P4Switch | undefined;
afterEach(async () => {
  await sw?.close();
  await sim?.stop();
  sw = sim = undefined;
});

async function open(profile: 'bmv2' | 'full'): Promise<{ sim: SimSwitch; sw: P4Switch; set: (bytes: bigint, packets: bigint) => void }> {
  sim = await startSimSwitch({ profile, deviceId: 0 });
  sw = await P4Switch.connect({ address: sim.address, deviceId: 0n, electionId: 2n });
  await sw.ensurePipeline({ schema, deviceConfig: minimalBmv2Json('stateful_edge', schema.tables.map((t) => t.name)) });
  const s = sim;
  // Counts put in past P4Runtime, as the data plane counts them (bytes and packets, whatever the unit).
  const set = (bytes: bigint, packets: bigint): void => s.state.forwardingState()?.counters.get(schema.counter('ct_collisions').id)?.set(7, bytes, packets);
  return { sim: s, sw, set };
}

const del = (c: P4Switch, index: number): P4Update => {
  const e = c.counter('ct_collisions').modify(index, {}).entity?.counterEntry;
  return { type: 3, entity: { counterEntry: { counterId: e?.counterId ?? null, index: e?.index ?? null } } };
};

describe('sim counters — writes by unit', () => {
  it('bmv2 — a MODIFY of a PACKETS counter writes the packet count only and keeps the bytes counted; a DELETE of the cell resets both', async () => {
    const x = await open('bmv2');
    x.set(278n, 2n);
    await x.sw.write(x.sw.counter('ct_collisions').modify(7, { bytes: 0n, packets: 0n }));
    expect(x.sim.state.counter('ct_collisions', 7)).toEqual({ bytes: 278n, packets: 0n });
    await x.sw.write(del(x.sw, 7));
    expect(x.sim.state.counter('ct_collisions', 7)).toEqual({ bytes: 0n, packets: 0n });
  });

  it('full — a MODIFY writes both counts as given; a DELETE of a counter cell is INVALID_ARGUMENT', async () => {
    const x = await open('full');
    x.set(278n, 2n);
    await x.sw.write(x.sw.counter('ct_collisions').modify(7, { bytes: 0n, packets: 0n }));
    expect(x.sim.state.counter('ct_collisions', 7)).toEqual({ bytes: 0n, packets: 0n });
    await expect(x.sw.write(del(x.sw, 7))).rejects.toThrow(/MODIFY only/);
  });
});
