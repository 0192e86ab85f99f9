/**
 * Activation with the counters in one DATAPLANE_ATOMIC Write (plugin/device-api/atomic-activation.ts)
 * on two simulated switches over real gRPC: the `full` profile takes atomic batches, so the
 * destination's whole pause work for a VM with no changed slots is that one Write; the `bmv2`
 * profile answers UNIMPLEMENTED as PI does, so the counters are written with the final batch and
 * activation follows. Either way the counters are conserved; an abort before activation leaves
 * the destination's counters (and its slot index) as they were; a retried activation whose first answer was lost
 * writes nothing twice. The destination's clock at the pause is carried forward from its last
 * reading when that is under a second old, and read in-band otherwise.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { P4Switch } from 'p4runtime-ts';
import { DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS, VmSlotIndex, fieldValue } from '../../plugin/index.js';
import type { EdgeDeviceApi, MigrationRef, StateBatch } from '../../plugin/index.js';
import { UPLINK, eventually } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { DST_ID, SRC_ID, establish, returnSegment, startMigrationPair, vmSlots } from '../migration-fixture.js';
import type { MigrationPair } from '../migration-fixture.js';

/** One write call as the destination's session sent it. */
interface SentWrite {
  readonly updates: number;
  readonly atomicity: string;
}

/** Records every write of `sw` (and can make the next one lose its answer after it was applied). */
function recordWrites(sw: P4Switch): { sent: SentWrite[]; loseNextAnswer: () => void } {
  const sent: SentWrite[] = [];
  let lose = false;
  const write = sw.write.bind(sw);
  sw.write = async (updates, options) => {
    const list = Array.isArray(updates) ? updates : [updates];
    sent.push({ updates: list.length, atomicity: options?.atomicity ?? 'CONTINUE_ON_ERROR' });
    await write(updates, options);
    if (lose) {
      lose = false;
      throw new Error('injected: the answer was lost after the switch applied the write');
    }
  };
  return { sent, loseNextAnswer: () => (lose = true) };
}

describe.each(['full', 'bmv2'] as const)('atomic activation — profile %s', (profile) => {
  let src: EdgeRig;
  let dst: EdgeRig;
  let srcApi: EdgeDeviceApi;
  let dstApi: EdgeDeviceApi;
  let n = 0;
  const ports = [43_000, 43_001, 43_002];

  let pair: MigrationPair | undefined;

  beforeEach(async () => {
    pair = await startMigrationPair(profile);
    ({ src, dst, srcApi, dstApi } = pair);
    for (const p of ports) expect(establish(src.sim, p)).toBe(true);
    // The snapshot comes from the slot index, which learns the flows from digests.
    expect(await eventually(async () => (await srcApi.capabilities()).slots.free === src.plugin.group.slots - ports.length)).toBe(true);
    // Counts at the destination before the migration, so "conserved" adds to something.
    for (const p of ports) dst.sim.dataplane.inject(UPLINK, returnSegment(p, 0));
  }, 60_000);
  afterEach(async () => {
    await pair?.stop();
  });

  const counters = (rig: EdgeRig, vmId: number): Promise<{ packets: bigint; bytes: bigint }[]> =>
    Promise.all(rig.plugin.contract.counters.map((c) => rig.plugin.registerAccess.readCounter(c.counter, vmId)));

  /** A new migration prepared at both ends, its snapshot staged at the destination. */
  async function stageSnapshot(): Promise<{ m: MigrationRef; snap: StateBatch }> {
    const m = { migrationId: `atomic-${profile}-${n++}`, vm: '10.0.0.5' };
    await srcApi.prepare(m);
    await dstApi.prepare(m);
    const snap = await srcApi.exportSnapshot(m);
    await dstApi.importStaged(m, snap);
    return { m, snap };
  }

  /** Prepare, snapshot staged, freeze and the final batch imported: everything but activation. */
  async function upToActivation(): Promise<MigrationRef> {
    const { m, snap } = await stageSnapshot();
    expect(snap.slots).toHaveLength(ports.length);
    await srcApi.freeze(m);
    const final = await srcApi.finalDelta(m, snap.coversSeq.to);
    expect(final.slots).toHaveLength(0);
    expect(Object.keys(final.counters ?? {}).length).toBe(src.plugin.contract.counters.length);
    await dstApi.importStaged(m, final);
    return m;
  }

  it('atomic activation — the destination\'s pause is one atomic Write where the switch takes it (else counters, then activation); counters conserved', async () => {
    const srcAt = await counters(src, SRC_ID);
    const dstBefore = await counters(dst, DST_ID);
    const w = recordWrites(dst.plugin.session);
    const { m, snap } = await stageSnapshot();
    // The probe at the first staging: one atomic write, in pre-copy.
    expect(w.sent.filter((s) => s.atomicity === 'DATAPLANE_ATOMIC')).toEqual([{ updates: 1, atomicity: 'DATAPLANE_ATOMIC' }]);
    const inPause = w.sent.length;
    await srcApi.freeze(m);
    // Nothing changed: the source's final reads are the tracker alone (no log, no clock) — in the
    // Read behind the freeze's Write where registers are read over P4Runtime (full), else in-band.
    const sent = src.sim.dataplane.stats()?.packetOuts ?? 0;
    const final = await srcApi.finalDelta(m, snap.coversSeq.to);
    expect(final.slots).toHaveLength(0);
    expect(final.clock).toBeUndefined();
    expect((src.sim.dataplane.stats()?.packetOuts ?? 0) - sent).toBe(profile === 'full' ? 0 : 1);
    await dstApi.importStaged(m, final);
    await dstApi.activate(m);
    const pause = w.sent.slice(inPause);
    const k = dst.plugin.contract.counters.length;
    if (profile === 'full') expect(pause).toEqual([{ updates: k + 1, atomicity: 'DATAPLANE_ATOMIC' }]);
    else expect(pause).toEqual([...Array.from({ length: k }, () => ({ updates: 1, atomicity: 'CONTINUE_ON_ERROR' })), { updates: 1, atomicity: 'CONTINUE_ON_ERROR' }]);
    const after = await counters(dst, DST_ID);
    for (const [i, c] of after.entries()) {
      expect(c.packets).toBe((dstBefore[i]?.packets ?? 0n) + (srcAt[i]?.packets ?? 0n));
      expect(c.bytes).toBe((dstBefore[i]?.bytes ?? 0n) + (srcAt[i]?.bytes ?? 0n));
    }
    // Active: the return traffic of an established flow passes the destination and is counted once more.
    expect(vmSlots(dst.sim, dst.plugin.group, DST_ID).size).toBe(ports.length);
    expect(dst.sim.dataplane.inject(UPLINK, returnSegment(ports[0] as number, 1)).kind).toBe('forward');
    expect((await counters(dst, DST_ID)).some((c, i) => c.packets === (after[i]?.packets ?? 0n) + 1n)).toBe(true);
  }, 60_000);

  it('destination import — the final batch indexes only its own flows, not every flow the VM has placed here (the pause stays O(changed))', async () => {
    const { m, snap } = await stageSnapshot();
    // One flow changes before the freeze: the final batch carries exactly that slot.
    expect(src.sim.dataplane.inject(UPLINK, returnSegment(ports[0] as number, 0)).kind).toBe('forward');
    await srcApi.freeze(m);
    const final = await srcApi.finalDelta(m, snap.coversSeq.to);
    expect(final.slots).toHaveLength(1);
    const note = vi.spyOn(VmSlotIndex.prototype, 'note');
    await dstApi.importStaged(m, final);
    expect(note).toHaveBeenCalledTimes(1);
    note.mockRestore();
    await dstApi.abort(m);
    await srcApi.abort(m);
  }, 60_000);

  it('destination import — a changed flow already staged here goes with activation\'s atomic Write, only its changed words (full); by WRITE_IF in-band where registers are not P4Runtime-writable (bmv2)', async () => {
    const { m, snap } = await stageSnapshot();
    const g = dst.plugin.group;
    const staged = vmSlots(dst.sim, g, DST_ID);
    expect(src.sim.dataplane.inject(UPLINK, returnSegment(ports[0] as number, 0)).kind).toBe('forward');
    const w = recordWrites(dst.plugin.session);
    const outs = dst.sim.dataplane.stats()?.packetOuts ?? 0;
    await srcApi.freeze(m);
    dstApi.pauseStarted(m);
    const final = await srcApi.finalDelta(m, snap.coversSeq.to);
    expect(final.slots).toHaveLength(1);
    await dstApi.importStaged(m, final);
    await dstApi.activate(m);
    const after = vmSlots(dst.sim, g, DST_ID);
    // Same slots; exactly one changed, to the source's final words (VM id and clock translated).
    expect([...after.keys()]).toEqual([...staged.keys()]);
    const changed = [...after].filter(([i, words]) => words.some((x, k) => x !== staged.get(i)?.[k]));
    expect(changed).toHaveLength(1);
    const [, words] = changed[0] ?? [0, []];
    const source = final.slots[0]?.fields ?? {};
    for (const f of ['vm_addr', 'remote_addr', 'vm_port', 'remote_port', 'state', 'end_out', 'end_in', 'ack_out', 'ack_in', 'pkts_out', 'pkts_in', 'bytes_out', 'bytes_in']) {
      const ref = g.fields.get(f);
      if (ref) expect(fieldValue(words, ref)).toBe(source[f]);
    }
    const k = dst.plugin.contract.counters.length;
    const newOuts = (dst.sim.dataplane.stats()?.packetOuts ?? 0) - outs;
    if (profile === 'full') {
      // No in-band request: the destination's clock at the pause is carried forward from the
      // snapshot import's reading moments ago. One Write ends the pause.
      expect(newOuts).toBe(0);
      expect(w.sent).toHaveLength(1);
      const cells = w.sent[0]?.updates ?? 0;
      expect(w.sent[0]?.atomicity).toBe('DATAPLANE_ATOMIC');
      const changedWords = g.words.filter((_x, i) => words[i] !== staged.get(changed[0]?.[0] ?? -1)?.[i]).length;
      expect(cells).toBe(k + changedWords + 1);
      expect(changedWords).toBeLessThan(g.words.length);
    } else {
      // One WRITE_IF (the clock carried forward, as above); the counters, then activation.
      expect(newOuts).toBe(1);
      expect(w.sent.every((x) => x.atomicity === 'CONTINUE_ON_ERROR')).toBe(true);
    }
    expect(dst.sim.dataplane.inject(UPLINK, returnSegment(ports[0] as number, 1)).kind).toBe('forward');
  }, 60_000);

  it('destination import — a flow changed in one pause batch and again in the next ends with the later words; activation writes every word either batch changed, once (full)', async () => {
    const { m, snap } = await stageSnapshot();
    const g = dst.plugin.group;
    const first = snap.slots[0]?.fields ?? {};
    const bump = (f: Readonly<Record<string, bigint>>, name: string): Record<string, bigint> => ({ ...f, [name]: (f[name] ?? 0n) + 10n });
    // Two batches of the pause (as the batch taken ahead and the final one), each changing another word.
    const a = bump(first, 'bytes_out');
    const b = bump(a, 'bytes_in');
    const batch = (round: number, fields: Record<string, bigint>): StateBatch => ({ ...snap, round, slots: [{ fields }], removed: [], tableEntries: undefined, coversSeq: { from: snap.coversSeq.to, to: snap.coversSeq.to } });
    const staged = vmSlots(dst.sim, g, DST_ID);
    dstApi.pauseStarted(m);
    await dstApi.importStaged(m, batch(1, a));
    await dstApi.importStaged(m, batch(2, b));
    const w = recordWrites(dst.plugin.session);
    await dstApi.activate(m);
    const after = vmSlots(dst.sim, g, DST_ID);
    const changed = [...after].filter(([i, words]) => words.some((x, k) => x !== staged.get(i)?.[k]));
    expect(changed).toHaveLength(1);
    const [slot, words] = changed[0] ?? [0, []];
    for (const f of ['vm_addr', 'remote_addr', 'vm_port', 'remote_port', 'state', 'end_out', 'end_in', 'pkts_out', 'pkts_in', 'bytes_out', 'bytes_in']) {
      const ref = g.fields.get(f);
      if (ref) expect(fieldValue(words, ref), f).toBe(b[f]);
    }
    // Both bytes words, and the clock's word where the pause's clock rebased last_seen anew.
    const changedWords = g.words.filter((_x, i) => words[i] !== staged.get(slot)?.[i]).length;
    for (const f of ['bytes_out', 'bytes_in']) {
      const at = g.fields.get(f)?.word ?? -1;
      expect(words[at], f).not.toBe(staged.get(slot)?.[at]);
    }
    expect(changedWords).toBeLessThan(g.words.length);
    if (profile === 'full') {
      // The second batch changed one word of what the first had left pending: both go, in the one Write.
      expect(w.sent).toEqual([{ updates: changedWords + 1, atomicity: 'DATAPLANE_ATOMIC' }]);
    }
  }, 60_000);

  it('destination clock at the pause — carried forward from the snapshot import\'s reading: no in-band packet, never later than the switch\'s clock and close to it', async () => {
    const { m } = await stageSnapshot();
    const access = dst.plugin.registerAccess;
    const estimate = vi.spyOn(access, 'estimateClock');
    const read = vi.spyOn(access, 'readClock');
    const outs = dst.sim.dataplane.stats()?.packetOuts ?? 0;
    try {
      dstApi.pauseStarted(m);
      expect(read).not.toHaveBeenCalled();
      expect((dst.sim.dataplane.stats()?.packetOuts ?? 0) - outs).toBe(0);
      const carried = estimate.mock.results[0]?.value as bigint | undefined;
      expect(typeof carried).toBe('bigint');
      read.mockRestore();
      // Read after it: the estimate runs early by at most the reading's one-way trip, never late.
      const after = await access.readClock();
      expect(carried as bigint).toBeLessThanOrEqual(after);
      expect(after - (carried as bigint)).toBeLessThan(200_000n);
    } finally {
      estimate.mockRestore();
      read.mockRestore();
    }
    await dstApi.abort(m);
    await srcApi.abort(m);
  }, 60_000);

  it('destination clock at the pause — a clock last heard more than a second ago is read in-band as the pause begins', async () => {
    const { m } = await stageSnapshot();
    // Nothing hears the destination's clock meanwhile (no delta rounds run in this test).
    await new Promise((r) => setTimeout(r, DEFAULT_CLOCK_ESTIMATE_MAX_AGE_MS + 50));
    const read = vi.spyOn(dst.plugin.registerAccess, 'readClock');
    try {
      dstApi.pauseStarted(m);
      expect(read).toHaveBeenCalledTimes(1);
      await read.mock.results[0]?.value;
    } finally {
      read.mockRestore();
    }
    await dstApi.abort(m);
    await srcApi.abort(m);
  }, 60_000);

  it('atomic activation — an abort after the final import, before activation, leaves the destination\'s counters and slot index as they were', async () => {
    const dstBefore = await counters(dst, DST_ID);
    const freeBefore = (await dstApi.capabilities()).slots.free;
    const m = await upToActivation();
    expect((await dstApi.capabilities()).slots.free).toBe(freeBefore - ports.length);
    await dstApi.abort(m);
    await srcApi.abort(m);
    expect(await counters(dst, DST_ID)).toEqual(dstBefore);
    // The slots placed here were indexed; cleared by the abort, they are forgotten too.
    expect((await dstApi.capabilities()).slots.free).toBe(freeBefore);
    // Nothing staged is left: the destination drops the VM's return traffic as before.
    expect(dst.sim.dataplane.inject(UPLINK, returnSegment(ports[1] as number, 1)).kind).toBe('drop');
  }, 60_000);

  it('atomic activation — a retry after the first answer was lost does not add the counters twice', async () => {
    const srcAt = await counters(src, SRC_ID);
    const dstBefore = await counters(dst, DST_ID);
    const m = await upToActivation();
    const w = recordWrites(dst.plugin.session);
    w.loseNextAnswer();
    // Atomic: the loss surfaces and the engine retries. Ordered (bmv2): activation is a delete,
    // which already tells a lost answer from a failure by reading the entry back.
    if (profile === 'full') {
      await expect(dstApi.activate(m)).rejects.toThrow(/answer was lost/);
      await dstApi.activate(m);
    } else {
      await dstApi.activate(m);
    }
    const after = await counters(dst, DST_ID);
    for (const [i, c] of after.entries()) expect(c.packets).toBe((dstBefore[i]?.packets ?? 0n) + (srcAt[i]?.packets ?? 0n));
    expect(dst.sim.dataplane.inject(UPLINK, returnSegment(ports[2] as number, 1)).kind).toBe('forward');
  }, 60_000);
});
