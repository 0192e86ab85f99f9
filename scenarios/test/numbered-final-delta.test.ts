/**
 * The final delta proven from numbered delta digests (plugin/device-api/numbered-changes.ts,
 * p4/README.md "Delta push") on two simulated switches over real gRPC: when every change since the
 * last installed round arrived as a digest, the source reads nothing in the pause but its tracker
 * (the count) — no change log, no slot — and the batch holds each changed flow as the switch holds
 * it at the freeze; a lost digest (sim fault injection) leaves a gap, and the source reads the
 * change log and the slots instead, with the same result. Either way the destination ends with
 * the source's flows and passes their traffic.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { P4Switch } from 'p4runtime-ts';
import { firstValueFrom } from 'rxjs';
import { take, toArray } from 'rxjs/operators';
import { createDeviceApi, decodeSlotFields } from '../../plugin/index.js';
import type { EdgeDeviceApi, MigrationRef, SlotGroupSpec, StateBatch } from '../../plugin/index.js';
import { UPLINK, eventually } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, returnSegment, startMigrationPair, vmSlots } from '../migration-fixture.js';
import type { MigrationPair } from '../migration-fixture.js';

/** Counts the P4Runtime Reads `sw` starts from now on. */
function countReads(sw: P4Switch): { readonly n: () => number; readonly restore: () => void } {
  const spy = vi.spyOn(sw, 'readChunks');
  return { n: () => spy.mock.calls.length, restore: () => spy.mockRestore() };
}

/** A flow's key as text. */
const keyOf = (g: SlotGroupSpec, f: Readonly<Record<string, bigint>>): string => g.placement.keyFields.map((k) => String(f[k.name])).join(' ');

/** Fields that travel unchanged (the VM id is remapped and the clock rebased at the destination). */
function travelling(fields: Readonly<Record<string, bigint>>): Record<string, bigint> {
  const { vm_id: _vm, last_seen: _seen, ...rest } = fields;
  return rest;
}

describe.each(['full', 'bmv2'] as const)('numbered final delta — profile %s', (profile) => {
  let src: EdgeRig;
  let dst: EdgeRig;
  let srcApi: EdgeDeviceApi;
  let dstApi: EdgeDeviceApi;
  let n = 0;
  const ports = [44_000, 44_001, 44_002];
  // BMv2's digest lists leave on a 100 ms grid after at least 200 ms (the sim's bmv2 timing).
  const waitMs = profile === 'bmv2' ? 1_000 : 300;

  let pair: MigrationPair | undefined;

  beforeEach(async () => {
    pair = await startMigrationPair(profile, { finalDigestWaitMs: waitMs });
    ({ src, dst, srcApi, dstApi } = pair);
    for (const p of ports) expect(establish(src.sim, p)).toBe(true);
    expect(await eventually(async () => (await srcApi.capabilities()).slots.free === src.plugin.group.slots - ports.length)).toBe(true);
  }, 60_000);
  afterEach(async () => {
    await pair?.stop();
  });

  /** Prepared at both ends, the snapshot staged; then flows 0 and 1 change, flow 0 twice. */
  async function stagedThenChanged(source: EdgeDeviceApi = srcApi): Promise<{ m: MigrationRef; snap: StateBatch }> {
    const m = { migrationId: `numbered-${profile}-${n++}`, vm: '10.0.0.5' };
    await source.prepare(m);
    await dstApi.prepare(m);
    const snap = await source.exportSnapshot(m);
    await dstApi.importStaged(m, snap);
    for (const [p, k] of [[ports[0], 0], [ports[1], 0], [ports[0], 1]] as const) expect(src.sim.dataplane.inject(UPLINK, returnSegment(p as number, k)).kind).toBe('forward');
    return { m, snap };
  }

  /** The source's flows of the VM as its registers hold them now, by key. */
  function sourceFlows(): Map<string, Record<string, bigint>> {
    const g = src.plugin.group;
    return new Map([...vmSlots(src.sim, g, SRC_ID).values()].map((w) => {
      const f = decodeSlotFields(g, w);
      return [keyOf(g, f), travelling(f)];
    }));
  }

  /** Imports `final`, activates, and checks the destination holds the source's flows and passes their traffic. */
  async function finish(m: MigrationRef, final: StateBatch): Promise<void> {
    await dstApi.importStaged(m, final);
    await dstApi.activate(m);
    const g = dst.plugin.group;
    const there = new Map([...vmSlots(dst.sim, g, DST_ID).values()].map((w) => {
      const f = decodeSlotFields(g, w);
      return [keyOf(g, f), travelling(f)];
    }));
    expect(there).toEqual(sourceFlows());
    expect(dst.sim.dataplane.inject(UPLINK, returnSegment(ports[0] as number, 2)).kind).toBe('forward');
  }

  /** Freezes `m`, then takes its final delta, counting what that sent the source: in-band packets and P4Runtime Reads. */
  async function frozenFinal(m: MigrationRef, snap: StateBatch): Promise<{ final: StateBatch; packetOuts: number; reads: number }> {
    // From before the freeze: the freeze itself sends the tracker's read on its way.
    const outs = src.sim.dataplane.stats()?.packetOuts ?? 0;
    await srcApi.freeze(m);
    const reads = countReads(src.plugin.session);
    const final = await srcApi.finalDelta(m, snap.coversSeq.to);
    reads.restore();
    return { final, packetOuts: (src.sim.dataplane.stats()?.packetOuts ?? 0) - outs, reads: reads.n() };
  }

  /** Each slot of a batch is its flow as the source's registers hold it now. */
  function expectSourceFlows(slots: StateBatch['slots']): void {
    const want = sourceFlows();
    for (const s of slots) expect(travelling(s.fields)).toEqual(want.get(keyOf(src.plugin.group, s.fields)));
  }

  it('numbered final delta — every change arrived as a digest: the pause reads the tracker alone, and the batch is each flow at the freeze', async () => {
    const { m, snap } = await stagedThenChanged();
    const { final, packetOuts, reads } = await frozenFinal(m, snap);
    expect(final.proof).toBe('change-numbers');
    // The tracker alone: its count proves the batch — no change log, no slot read. Where registers
    // are read over P4Runtime (full) it came with the counters in the Read behind the freeze's
    // Write, and the clock is the one pre-copy last heard, carried forward (clock-estimate.ts): no
    // in-band packet; elsewhere (bmv2) in-band, its answer's time rebasing the batch: one. Either
    // way no Read after the freeze.
    expect(packetOuts).toBe(profile === 'full' ? 0 : 1);
    expect(reads).toBe(0);
    expect(final.clock).toBeGreaterThan(0n);
    expect(final.slots).toHaveLength(2);
    expectSourceFlows(final.slots);
    await finish(m, final);
  }, 60_000);

  it('numbered final delta — reading after the freeze\'s answer (freezeReads: after-freeze), the freeze sends the tracker read before the counters\' Read, and a failed early read is made again by the final delta', async () => {
    const after = createDeviceApi(src.plugin, { name: 'src-after', snapshotSource: 'index', reconcile: false, finalDigestWaitMs: waitMs, freezeReads: 'after-freeze' });
    await after.ready();
    const { m, snap } = await stagedThenChanged(after);
    const access = src.plugin.registerAccess;
    const order: string[] = [];
    const readTracker = access.readTracker.bind(access);
    let calls = 0;
    const tracker = vi.spyOn(access, 'readTracker').mockImplementation(async (t) => {
      order.push('tracker');
      // The freeze's early read fails: the final delta must read the tracker itself.
      if (calls++ === 0) throw new Error('injected: the early tracker read was lost');
      return readTracker(t);
    });
    const sw = src.plugin.session;
    const readChunks = sw.readChunks.bind(sw);
    const reads = vi.spyOn(sw, 'readChunks').mockImplementation((q) => {
      order.push('read');
      return readChunks(q);
    });
    try {
      await after.freeze(m);
      const final = await after.finalDelta(m, snap.coversSeq.to);
      expect(order[0]).toBe('tracker');
      expect(order.filter((x) => x === 'tracker')).toHaveLength(2);
      expect(final.proof).toBe('change-numbers');
      expect(final.counters).toBeDefined();
      expect(final.slots).toHaveLength(2);
      expectSourceFlows(final.slots);
      await after.abort(m);
    } finally {
      tracker.mockRestore();
      reads.mockRestore();
      after.stop();
    }
  }, 60_000);

  /** Resolves once `n` more entries of the source's delta digests have arrived at its plugin. */
  function deltaDigests(n: number): Promise<void> {
    const digest = src.plugin.group.delta?.digest;
    if (digest === undefined) throw new Error('the source\'s slot group has no delta digest');
    return new Promise((resolve) => {
      let seen = 0;
      const sub = src.plugin.session.digests$(digest).subscribe((list) => {
        seen += list.entries.length;
        if (seen >= n) {
          sub.unsubscribe();
          resolve();
        }
      });
    });
  }

  it('numbered final delta — taken ahead (pauseDelta): what the digests brought, with no request to the source; the final delta then carries only what changed after, and the destination ends with every flow', async () => {
    const arrived = deltaDigests(3);
    const { m, snap } = await stagedThenChanged();
    await arrived;
    const outs = src.sim.dataplane.stats()?.packetOuts ?? 0;
    const reads = countReads(src.plugin.session);
    const ahead = await srcApi.pauseDelta(m, snap.coversSeq.to);
    reads.restore();
    expect(reads.n()).toBe(0);
    // The clock carried forward from pre-copy (full); in-band where registers are read so (bmv2).
    expect((src.sim.dataplane.stats()?.packetOuts ?? 0) - outs).toBeLessThanOrEqual(profile === 'full' ? 0 : 1);
    // Proves nothing by itself: the final delta does.
    expect(ahead.coversSeq).toEqual({ from: snap.coversSeq.to, to: snap.coversSeq.to });
    expect(ahead.proof).toBeUndefined();
    expect(ahead.slots).toHaveLength(2);
    expectSourceFlows(ahead.slots);
    // A retry gets the same batch.
    expect(await srcApi.pauseDelta(m, snap.coversSeq.to)).toBe(ahead);
    dstApi.pauseStarted(m);
    await dstApi.importStaged(m, ahead);
    // Flow 2 changes after what was taken, flow 0 again: the final delta has both, and not flow 1.
    const later = deltaDigests(2);
    for (const [p, k] of [[ports[2], 0], [ports[0], 2]] as const) expect(src.sim.dataplane.inject(UPLINK, returnSegment(p as number, k)).kind).toBe('forward');
    await later;
    const { final } = await frozenFinal(m, snap);
    expect(final.proof).toBe('change-numbers');
    expect(final.coversSeq.from).toBe(snap.coversSeq.to);
    const g = src.plugin.group;
    const keys = (b: StateBatch): string[] => b.slots.map((s) => keyOf(g, s.fields)).sort();
    const flow1 = keys(ahead).find((k) => !keys(final).includes(k));
    expect(final.slots).toHaveLength(2);
    expect(flow1).toBeDefined();
    expectSourceFlows(final.slots);
    await finish(m, final);
  }, 60_000);

  it('numbered final delta — taken ahead when a digest was lost: only what precedes the gap is taken, and the final delta reads the change log, which brings it all again', async () => {
    const arrived = deltaDigests(2);
    // The third change's digest (flow 0's second) is lost: the first two are contiguous, and what
    // is taken of flow 0 is its content before that lost change.
    src.sim.faults.loseNextDigests(1, 2);
    const { m, snap } = await stagedThenChanged();
    await arrived;
    const ahead = await srcApi.pauseDelta(m, snap.coversSeq.to);
    expect(src.sim.faults.injected.digestsLost).toBe(1);
    expect(ahead.slots).toHaveLength(2);
    dstApi.pauseStarted(m);
    await dstApi.importStaged(m, ahead);
    const { final } = await frozenFinal(m, snap);
    expect(final.proof).toBe('change-log');
    expect(final.slots).toHaveLength(2);
    expectSourceFlows(final.slots);
    await finish(m, final);
  }, 60_000);

  it('numbered final delta — a lost digest leaves a gap: the change log and the slots are read instead, with the same flows', async () => {
    src.sim.faults.loseNextDigests(1);
    const { m, snap } = await stagedThenChanged();
    expect(src.sim.faults.injected.digestsLost).toBe(1);
    const { final, packetOuts, reads } = await frozenFinal(m, snap);
    expect(final.proof).toBe('change-log');
    // More than the tracker alone costs (0 requests on full, 1 on bmv2: the test above): the log
    // and the slots are read too.
    expect(packetOuts + reads).toBeGreaterThan(profile === 'full' ? 0 : 1);
    expect(final.slots).toHaveLength(2);
    expectSourceFlows(final.slots);
    await finish(m, final);
  }, 60_000);

  it('numbered final delta — taken ahead up to takeAheadMaxChanges: the first change goes ahead, the final delta carries the two after it, and the destination ends with every flow', async () => {
    const capped = createDeviceApi(src.plugin, { name: 'src-capped', finalDigestWaitMs: waitMs, takeAheadMaxChanges: 1 });
    try {
      await capped.ready();
      const arrived = deltaDigests(3);
      const { m, snap } = await stagedThenChanged(capped);
      await arrived;
      const ahead = await capped.pauseDelta(m, snap.coversSeq.to);
      // Change 0 alone: flow 0 (with its newest content, change 2, which the final delta carries again), not flow 1 (change 1).
      expect(ahead.slots).toHaveLength(1);
      dstApi.pauseStarted(m);
      await dstApi.importStaged(m, ahead);
      await capped.freeze(m);
      const final = await capped.finalDelta(m, snap.coversSeq.to);
      expect(final.proof).toBe('change-numbers');
      expect(final.slots).toHaveLength(2);
      expectSourceFlows(final.slots);
      await finish(m, final);
    } finally {
      capped.stop();
    }
  }, 180_000);

  it('numbered final delta — a delta round the freeze overtakes stops before reading its slots, and the final delta still carries them', async () => {
    const m = { migrationId: `numbered-${profile}-${n++}`, vm: '10.0.0.5' };
    const api = createDeviceApi(src.plugin, { name: 'src-overtaken', snapshotSource: 'index', reconcile: false, deltaIntervalMs: 5, finalDigestWaitMs: waitMs });
    const access = src.plugin.registerAccess;
    const readChanged = access.readChangedSlots.bind(access);
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((r) => (entered = r));
    // The round's change-log read is held until the freeze has happened.
    const gate = vi.spyOn(access, 'readChangedSlots').mockImplementation(async (...a) => {
      entered();
      await held;
      return readChanged(...a);
    });
    try {
      await api.ready();
      await api.prepare(m);
      const snap = await api.exportSnapshot(m);
      for (const p of ports) expect(src.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
      const sub = api.exportDeltas(m).subscribe();
      await inside;
      await api.freeze(m);
      const slotReads = vi.spyOn(access, 'readSlots');
      release();
      const final = await api.finalDelta(m, snap.coversSeq.to);
      sub.unsubscribe();
      // The overtaken round read no slots; the final delta (proven by the digests) read none either.
      expect(slotReads).not.toHaveBeenCalled();
      expect(final.proof).toBe('change-numbers');
      expect(final.slots).toHaveLength(ports.length);
      expectSourceFlows(final.slots);
      slotReads.mockRestore();
      await api.abort(m);
    } finally {
      gate.mockRestore();
      api.stop();
    }
  }, 60_000);

  it('numbered final delta — asked from a round older than the ones it keeps counts for, the source reads the change log', async () => {
    const m = { migrationId: `numbered-${profile}-${n++}`, vm: '10.0.0.5' };
    const api = createDeviceApi(src.plugin, { name: 'src-rounds', snapshotSource: 'index', reconcile: false, deltaIntervalMs: 5, finalDigestWaitMs: waitMs });
    try {
      await api.ready();
      await api.prepare(m);
      const snap = await api.exportSnapshot(m);
      // Four delta rounds, each with a change: the snapshot's boundary is no longer kept.
      let k = 0;
      const change = setInterval(() => src.sim.dataplane.inject(UPLINK, returnSegment(ports[k % 3] as number, k++)), 2);
      const rounds = await firstValueFrom(api.exportDeltas(m).pipe(take(4), toArray()));
      clearInterval(change);
      expect(rounds).toHaveLength(4);
      await api.freeze(m);
      const final = await api.finalDelta(m, snap.coversSeq.to);
      expect(final.proof).toBe('change-log');
      expect(final.slots.length).toBeGreaterThan(0);
      expectSourceFlows(final.slots);
      await api.abort(m);
    } finally {
      api.stop();
    }
  }, 60_000);
});
