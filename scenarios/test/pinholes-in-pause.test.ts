/**
 * The final batch's pinholes are read by key, not by reading the whole table: inside the pause,
 * a source whose `dyn_acl` holds hundreds of other VMs' pinholes reads only the migrating VM's
 * entries — those the snapshot found and those its learner installed since — with their idle
 * time and direct counters, exactly what a read of the whole table would have given for the VM.
 * Real gRPC to a simulated switch (profile `full`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { P4Switch } from 'p4runtime-ts';
import { createDeviceApi } from '../../plugin/index.js';
import type { EdgeDeviceApi } from '../../plugin/index.js';
import { UPLINK, eventually, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig } from '../edge-rig.js';
import { SRC_ID, pinholesOf, topology, udpIn, udpOut } from '../migration-fixture.js';

/** Counts the `dyn_acl` entities the session reads, and whether any read was the whole table. */
function recordTableReads(sw: P4Switch, tableId: number): { entities: number; wildcard: number } {
  const seen = { entities: 0, wildcard: 0 };
  const note = (queries: unknown): void => {
    for (const q of Array.isArray(queries) ? queries : [queries]) {
      for (const e of (q as { entities: readonly { tableEntry?: { tableId?: number; match?: readonly unknown[] } }[] }).entities) {
        if (e.tableEntry?.tableId !== tableId) continue;
        seen.entities++;
        if ((e.tableEntry.match ?? []).length === 0) seen.wildcard++;
      }
    }
  };
  // Both ways a read reaches the switch (readAll goes through readChunks).
  const read = sw.read.bind(sw);
  const readChunks = sw.readChunks.bind(sw);
  sw.read = (queries) => {
    note(queries);
    return read(queries);
  };
  sw.readChunks = (queries) => {
    note(queries);
    return readChunks(queries);
  };
  return seen;
}

describe('pinholes in the pause — read by key', () => {
  let src: EdgeRig;
  let api: EdgeDeviceApi;

  beforeEach(async () => {
    src = await startEdgeRig({ profile: 'full', topology: false });
    await topology(src.sw, SRC_ID);
    api = createDeviceApi(src.plugin, { name: 'src', snapshotSource: 'index', reconcile: false });
    await api.ready();
  }, 60_000);
  afterEach(async () => {
    api?.stop();
    await src?.stop();
  });

  it('pinholes in the pause — the final batch reads only the VM\'s entries (snapshot\'s and learned since), not the 300 of another VM; the same entries and counters as a whole-table read', async () => {
    const acl = src.sw.table('dyn_acl');
    // Another VM's pinholes fill the table (installed as an operator's controller would).
    await src.sw.write(Array.from({ length: 300 }, (_, i) => acl.insert({ match: { vm_id: 21, vm_addr: '10.0.9.9', remote_addr: '198.51.100.9', vm_port: 2000 + i, remote_port: 53, protocol: 17 }, action: 'pinhole_allow', idleTimeout: '60s' })));
    // Two UDP flows of the VM: the learner installs their pinholes.
    for (const p of [5300, 5301]) expect(src.sim.dataplane.inject(1, udpOut(p)).kind).toBe('forward');
    expect(await eventually(async () => (await pinholesOf(src.sw, SRC_ID)).length === 2)).toBe(true);
    const m = { migrationId: 'pinholes-by-key', vm: '10.0.0.5' };
    await api.prepare(m);
    const snap = await api.exportSnapshot(m);
    expect(snap.tableEntries).toHaveLength(2);
    // After the snapshot: a third flow (learned), and a reply on the first pinhole (its counter moves).
    expect(src.sim.dataplane.inject(1, udpOut(5302)).kind).toBe('forward');
    expect(await eventually(async () => (await pinholesOf(src.sw, SRC_ID)).length === 3)).toBe(true);
    expect(src.sim.dataplane.inject(UPLINK, udpIn(5300)).kind).toBe('forward');
    await api.freeze(m);
    const reads = recordTableReads(src.plugin.session, acl.info.id);
    const final = await api.finalDelta(m, snap.coversSeq.to);
    expect(reads).toEqual({ entities: 3, wildcard: 0 });
    // What a read of the whole table gives for the VM: the same entries, the same counters.
    const whole = await pinholesOf(src.sw, SRC_ID);
    expect(whole).toHaveLength(3);
    const exported = (final.tableEntries ?? []).map((e) => ({ port: e.match.vm_port, packets: e.counter?.packets, bytes: e.counter?.bytes }));
    const byPort = (a: { port?: bigint }, b: { port?: bigint }): number => Number((a.port ?? 0n) - (b.port ?? 0n));
    expect(exported.sort(byPort)).toEqual([...whole].sort(byPort));
    expect((final.tableEntries ?? []).some((e) => (e.counter?.packets ?? 0n) > 0n)).toBe(true);
    await api.abort(m);
  }, 60_000);

  it('pinholes in the pause — an entry deleted behind the learner\'s back: the export lists exactly what the table still holds', async () => {
    for (const p of [5310, 5311]) expect(src.sim.dataplane.inject(1, udpOut(p)).kind).toBe('forward');
    expect(await eventually(async () => (await pinholesOf(src.sw, SRC_ID)).length === 2)).toBe(true);
    const m = { migrationId: 'pinholes-fallback', vm: '10.0.0.5' };
    await api.prepare(m);
    const snap = await api.exportSnapshot(m);
    // Someone deletes one pinhole directly (no idle notice reaches the learner).
    const [gone] = snap.tableEntries ?? [];
    await src.sw.write(src.sw.table('dyn_acl').delete({ match: gone?.match ?? {} }));
    await api.freeze(m);
    const final = await api.finalDelta(m, snap.coversSeq.to);
    expect(final.tableEntries).toHaveLength(1);
    expect(final.tableEntries?.[0]?.match).toEqual(snap.tableEntries?.[1]?.match);
    await api.abort(m);
  }, 60_000);
});
