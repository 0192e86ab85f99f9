/**
 * The source's reads at the freeze (plugin/device-api/frozen-read.ts) on two simulated switches
 * over real gRPC: one Read of the VM's control entry, tracker and counters rides right behind the
 * freeze's Write; when it read the entry frozen it is final and the final delta reads nothing more;
 * when it overtook the Write (the sim holds the Write: fault injection) or failed, nothing of it is
 * used and the tracker and counters are read again after the Write's answer — so a packet counted
 * between that early Read and the freeze is in the counters the destination gets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { status } from '@grpc/grpc-js';
import { DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS, createDeviceApi, decodeSlotFields } from '../../plugin/index.js';
import type { EdgeDeviceApi, MigrationRef, StateBatch } from '../../plugin/index.js';
import { UPLINK, eventually } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { SRC_ID, establish, returnSegment, startMigrationPair, vmSlots } from '../migration-fixture.js';
import type { MigrationPair } from '../migration-fixture.js';

describe('freeze reads — profile full (registers over P4Runtime)', () => {
  let pair: MigrationPair | undefined;
  let src: EdgeRig;
  let srcApi: EdgeDeviceApi;
  let n = 0;
  const ports = [45_000, 45_001];

  beforeEach(async () => {
    pair = await startMigrationPair('full', { finalDigestWaitMs: 300 });
    ({ src, srcApi } = pair);
    for (const p of ports) expect(establish(src.sim, p)).toBe(true);
    expect(await eventually(async () => (await srcApi.capabilities()).slots.free === src.plugin.group.slots - ports.length)).toBe(true);
  }, 60_000);
  afterEach(async () => {
    await pair?.stop();
  });

  /** Prepared and snapshotted, then flow 0 changes: the final delta has one flow to carry. */
  async function changedAfterSnapshot(): Promise<{ m: MigrationRef; snap: StateBatch }> {
    const m = { migrationId: `freeze-reads-${n++}`, vm: '10.0.0.5' };
    await srcApi.prepare(m);
    const snap = await srcApi.exportSnapshot(m);
    expect(src.sim.dataplane.inject(UPLINK, returnSegment(ports[0] as number, 0)).kind).toBe('forward');
    return { m, snap };
  }

  /** The VM's per-VM counters as the switch holds them now, read over P4Runtime. */
  async function countersNow(): Promise<Record<string, bigint>> {
    const sw = src.plugin.session;
    const out: Record<string, bigint> = {};
    for (const c of src.plugin.contract.counters) for (const cell of await sw.readAll(sw.counter(c.counter).at(SRC_ID))) out[c.counter] = cell.packets;
    return out;
  }

  /** The final batch's counters as packet counts. */
  const packets = (b: StateBatch): Record<string, bigint> => Object.fromEntries(Object.entries(b.counters ?? {}).map(([k, v]) => [k, v.packets]));

  /** Each slot of the batch is its flow exactly as the source's registers hold it now (the source sends its own fields). */
  function expectSourceState(b: StateBatch): void {
    const g = src.plugin.group;
    const now = [...vmSlots(src.sim, g, SRC_ID).values()].map((w) => decodeSlotFields(g, w));
    for (const s of b.slots) {
      const there = now.find((f) => g.placement.keyFields.every((k) => f[k.name] === s.fields[k.name]));
      expect(s.fields).toEqual(there);
    }
  }

  it('freeze reads — the Read behind the freeze\'s Write saw the freeze: the final delta reads nothing more', async () => {
    const { m, snap } = await changedAfterSnapshot();
    const sw = src.plugin.session;
    const reads = vi.spyOn(sw, 'readChunks');
    const prepared = vi.spyOn(sw, 'prepareRead');
    const outs = src.sim.dataplane.stats()?.packetOuts ?? 0;
    try {
      await srcApi.freeze(m);
      const final = await srcApi.finalDelta(m, snap.coversSeq.to);
      // One Read in all (entry, tracker, counters) and no in-band packet: the snapshot heard the
      // source's clock moments ago, and the freeze carries that reading forward. That Read was
      // built and encoded at prepare: the freeze sends it as it is.
      expect(reads).toHaveBeenCalledTimes(1);
      expect(prepared).not.toHaveBeenCalled();
      expect((reads.mock.calls[0]?.[0] as { kind?: string }).kind).toBe('prepared-read');
      expect((src.sim.dataplane.stats()?.packetOuts ?? 0) - outs).toBe(0);
      expect(final.proof).toBe('change-numbers');
      // Never later than the clock itself (a reading counts as heard when its answer came), and
      // close to it (µs: the freeze and this read are a few ms apart on a busy machine).
      const after = await src.plugin.registerAccess.readClock();
      expect(final.clock).toBeDefined();
      expect(final.clock as bigint).toBeLessThanOrEqual(after);
      expect(after - (final.clock as bigint)).toBeLessThan(200_000n);
      expect(final.slots).toHaveLength(1);
      expectSourceState(final);
      expect(packets(final)).toEqual(await countersNow());
    } finally {
      reads.mockRestore();
      prepared.mockRestore();
    }
    await srcApi.abort(m);
  }, 60_000);

  it('freeze reads — a clock last heard more than a second ago is read beside the freeze, one in-band packet', async () => {
    const { m, snap } = await changedAfterSnapshot();
    // Nothing in this test hears the source's clock meanwhile (no delta rounds run).
    await new Promise((r) => setTimeout(r, DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS + 50));
    const outs = src.sim.dataplane.stats()?.packetOuts ?? 0;
    await srcApi.freeze(m);
    const final = await srcApi.finalDelta(m, snap.coversSeq.to);
    expect((src.sim.dataplane.stats()?.packetOuts ?? 0) - outs).toBe(1);
    const after = await src.plugin.registerAccess.readClock();
    expect(final.clock as bigint).toBeLessThanOrEqual(after);
    expect(after - (final.clock as bigint)).toBeLessThan(200_000n);
    expect(final.slots).toHaveLength(1);
    expectSourceState(final);
    await srcApi.abort(m);
  }, 60_000);

  it('freeze reads — a Read that overtakes the held Write sees the VM unfrozen and is not used: a packet counted in between reaches the final delta', async () => {
    const { m, snap } = await changedAfterSnapshot();
    const sw = src.plugin.session;
    const readChunks = sw.readChunks.bind(sw);
    let earlyDone = false;
    const reads = vi.spyOn(sw, 'readChunks').mockImplementation((q) => {
      const it = readChunks(q);
      const first = reads.mock.calls.length === 1;
      return {
        async *[Symbol.asyncIterator]() {
          for await (const x of it) yield x;
          if (first) earlyDone = true;
        },
      };
    });
    src.sim.faults.delayNext('Write', { delayMs: 400 });
    try {
      const freezing = srcApi.freeze(m);
      expect(await eventually(() => earlyDone, 5_000, 2)).toBe(true);
      const before = await countersNow();
      // The VM is not frozen yet: this segment is counted and changes flow 1's slot.
      expect(src.sim.dataplane.inject(UPLINK, returnSegment(ports[1] as number, 0)).kind).toBe('forward');
      await freezing;
      const final = await srcApi.finalDelta(m, snap.coversSeq.to);
      const after = await countersNow();
      expect(after).not.toEqual(before);
      expect(packets(final)).toEqual(after);
      // Both changed flows, as the switch holds them at the freeze.
      expect(final.slots).toHaveLength(2);
      expectSourceState(final);
      // The early Read, then the tracker's and the counters' again (the tracker goes in-band).
      expect(reads.mock.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      reads.mockRestore();
    }
    await srcApi.abort(m);
  }, 60_000);

  it('freeze reads — a failed early Read is made again after the Write\'s answer', async () => {
    const { m, snap } = await changedAfterSnapshot();
    src.sim.faults.failNext('Read', { code: status.UNAVAILABLE });
    await srcApi.freeze(m);
    const final = await srcApi.finalDelta(m, snap.coversSeq.to);
    expect(src.sim.faults.injected.failed).toBe(1);
    expect(final.slots).toHaveLength(1);
    expectSourceState(final);
    expect(packets(final)).toEqual(await countersNow());
    await srcApi.abort(m);
  }, 60_000);

  it('freeze reads — an unknown freezeReads option is refused at creation, naming the values it takes', () => {
    expect(() => createDeviceApi(src.plugin, { freezeReads: 'sometimes' as never })).toThrow(/freezeReads 'sometimes' is not 'with-freeze' or 'after-freeze'/);
  });
});
