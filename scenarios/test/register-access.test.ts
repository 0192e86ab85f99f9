/**
 * Both register-access backends against the sim running stateful_edge: the same workload of
 * 10^4 flows goes into a `full` switch (P4Runtime RegisterEntry) and a `bmv2` switch (registers
 * UNIMPLEMENTED, so in-band access), both on the same frozen virtual clock so even timestamps
 * agree; the plugin must read the same state through every backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from 'p4runtime-ts';
import {
  DEFAULT_INBAND_OPTIONS,
  DEFAULT_P4RUNTIME_BACKEND_OPTIONS,
  P4RuntimeRegisterAccess,
  candidateSlotsFor,
  chooseRegisterAccess,
  decodeSlotFields,
  readVmState,
  slotsOfDirtyWord,
} from '../../plugin/index.js';
import type { RegisterAccess, SlotRecord } from '../../plugin/index.js';
import { VirtualScheduler } from '../../sim/index.js';
import { buildUdpFrame } from '../../sim/workload/index.js';
import { UPLINK, VMS, injectBulk, makeWorkload, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig, Workload } from '../edge-rig.js';

const FLOWS = 10_000;

describe('register access — both backends read the same state for the same flows', () => {
  let full: EdgeRig;
  let bmv2: EdgeRig;
  let inbandOnFull: RegisterAccess;
  let work: Workload;
  let occupied: SlotRecord[];

  const keyOf = (f: { vmAddr: number; remoteAddr: number; vmPort: number; remotePort: number; protocol: number }): Record<string, number> => ({
    vm_addr: f.vmAddr, remote_addr: f.remoteAddr, vm_port: f.vmPort, remote_port: f.remotePort, protocol: f.protocol,
  });

  beforeAll(async () => {
    // A frozen virtual clock in both switches: last_seen stamps are equal, nothing times out.
    full = await startEdgeRig({ profile: 'full', scheduler: new VirtualScheduler({ startMs: 5_000 }) });
    bmv2 = await startEdgeRig({ profile: 'bmv2', scheduler: new VirtualScheduler({ startMs: 5_000 }) });
    work = makeWorkload({ seed: 42, flows: FLOWS, concurrency: 64, udpShare: 0, inboundShare: 0, exchanges: [0, 2] });
    for (const rig of [full, bmv2]) {
      injectBulk(rig.sim, work.packets);
      // Pinholes by hand (no digests on a frozen clock), and traffic through them for the direct counters.
      await rig.sw.write([53, 123].map((port) =>
        rig.sw.table('dyn_acl').insert({ match: { vm_id: 7, vm_addr: '10.0.0.5', remote_addr: '198.51.100.1', vm_port: 5000 + port, remote_port: port, protocol: 17 }, action: 'pinhole_allow', idleTimeout: '30s' }),
      ));
      for (let i = 0; i < 3; i++) rig.sim.dataplane.inject(1, buildUdpFrame({ src: 0x0a000005, dst: 0xc6336401, srcPort: 5053, dstPort: 53, payload: 60 }));
      rig.sim.dataplane.inject(UPLINK, buildUdpFrame({ src: 0xc6336401, dst: 0x0a000005, srcPort: 123, dstPort: 5123, payload: 90 }));
    }
    inbandOnFull = await chooseRegisterAccess({
      sw: full.sw, contract: full.plugin.contract, group: full.plugin.group, mode: 'inband', inband: { ...DEFAULT_INBAND_OPTIONS, timeoutMs: 1_000 }, clock: full.plugin.options.scheduler, logger: silentLogger,
    });
    occupied = await full.plugin.registerAccess.readSlots('all', { occupiedOnly: true });
  }, 120_000);

  afterAll(async () => {
    inbandOnFull?.close();
    await full?.stop();
    await bmv2?.stop();
  });

  it('probes: RegisterEntry on full, in-band on bmv2 (whose RegisterEntry read is UNIMPLEMENTED)', () => {
    expect(full.plugin.health().registerAccess).toMatchObject({ backend: 'p4runtime', reason: expect.stringMatching(/RegisterEntry read of ct_key_addr\[0\] succeeded/) });
    expect(bmv2.plugin.health().registerAccess).toMatchObject({ backend: 'inband', window: 64, reason: expect.stringMatching(/answered UNIMPLEMENTED .*using in-band access/) });
  });

  it('finds every flow of the workload in one of its candidate slots, except the counted collisions', async () => {
    const byKey = new Map(occupied.map((r) => {
      const f = decodeSlotFields(full.plugin.group, r.words);
      return [`${f.vm_addr}:${f.remote_addr}:${f.vm_port}:${f.remote_port}:${f.protocol}`, r.index];
    }));
    let missing = 0;
    for (const f of work.flows) {
      const slot = byKey.get(`${f.vmAddr}:${f.remoteAddr}:${f.vmPort}:${f.remotePort}:${f.protocol}`);
      if (slot === undefined) missing++;
      else expect(candidateSlotsFor(full.plugin.group.placement, keyOf(f))).toContain(slot);
    }
    let collisions = 0;
    for (const vm of VMS) collisions += Number((await full.plugin.registerAccess.readCounter('ct_collisions', vm.id)).packets);
    expect(occupied.length).toBe(FLOWS - missing);
    // A flow is gone when its SYN found no free candidate (counted), or when it was reset
    // (CLOSED frees the slot) and a later flow took the slot over; open flows only the first way.
    const missingOpen = work.flows.filter((f) => f.close === 'open' && !byKey.has(`${f.vmAddr}:${f.remoteAddr}:${f.vmPort}:${f.remotePort}:${f.protocol}`)).length;
    expect(missingOpen).toBeLessThanOrEqual(collisions);
    expect(collisions).toBeLessThanOrEqual(missing);
    expect(occupied.length).toBeGreaterThan(FLOWS * 0.99);
  });

  it('reads the same slots through RegisterEntry and in-band on one switch, and in-band on bmv2', async () => {
    const onFullInband = await inbandOnFull.readSlots({ indices: occupied.map((r) => r.index) });
    expect(onFullInband).toEqual(occupied);
    // On bmv2, every candidate of every flow: the only slots the workload can have filled.
    const candidates = [...new Set(work.flows.flatMap((f) => candidateSlotsFor(bmv2.plugin.group.placement, keyOf(f))))];
    const onBmv2 = await bmv2.plugin.registerAccess.readSlots({ indices: candidates }, { occupiedOnly: true });
    expect(onBmv2).toEqual(occupied);
    // Retries may happen on a loaded machine (a request outlives its timeout); the result is the same.
    expect(bmv2.plugin.registerAccess.stats().inFlight).toBe(0);
    expect(bmv2.plugin.registerAccess.stats().maxInFlight).toBeLessThanOrEqual(64);
  }, 120_000);

  it('RegisterEntry reads split into requests of any size, across the words of the slots, give the same slots as one request', async () => {
    const indices = occupied.slice(0, 500).map((r) => r.index);
    const want = occupied.slice(0, 500);
    // 7 and 999 cells per request: batches that start and end inside one word's run of cells and span two or more.
    for (const readBatch of [7, 999]) {
      const small = new P4RuntimeRegisterAccess(full.sw, full.plugin.group, 'test: small read batches', { ...DEFAULT_P4RUNTIME_BACKEND_OPTIONS, readBatch });
      expect(await small.readSlots({ indices })).toEqual(want);
      expect(small.stats().requests).toBe(Math.ceil((indices.length * full.plugin.group.words.length) / readBatch));
    }
  }, 120_000);

  it('readVmState is identical whichever backend serves it: slots, dyn_acl entries with counters, per-VM counters', async () => {
    const viaRegisterEntry = await full.plugin.readVmState(7);
    const slots = { indices: viaRegisterEntry.slots.map((s) => s.slot) };
    const viaInbandOnFull = await readVmState({ sw: full.sw, contract: full.plugin.contract, group: full.plugin.group, access: inbandOnFull }, 7, { slots });
    const viaInbandOnBmv2 = await bmv2.plugin.readVmState('10.0.0.5', { slots });
    expect(viaInbandOnFull).toEqual(viaRegisterEntry);
    expect(viaInbandOnBmv2).toEqual(viaRegisterEntry);

    expect(viaRegisterEntry.vmId).toBe(7);
    expect(viaRegisterEntry.slots.length).toBeGreaterThan(FLOWS / VMS.length / 2);
    for (const s of viaRegisterEntry.slots) expect(s.fields.vm_id).toBe(7n);
    expect(viaRegisterEntry.tableEntries).toHaveLength(2);
    const dns = viaRegisterEntry.tableEntries.find((e) => e.match.remote_port && 'value' in e.match.remote_port && e.match.remote_port.value === 53n);
    expect(dns).toMatchObject({ table: 'dyn_acl', action: 'pinhole_allow', idleTimeoutNs: 30_000_000_000n, counter: { packets: 3n } });
    expect(viaRegisterEntry.counters.map((c) => c.counter)).toEqual(['vm_tx', 'vm_rx']);
    expect(viaRegisterEntry.counters[0]?.packets).toBeGreaterThan(BigInt(viaRegisterEntry.slots.length));
    expect(await full.plugin.readVmState('10.0.0.5')).toEqual(viaRegisterEntry);
  }, 60_000);

  it('refuses a VM address the VM map does not hold', async () => {
    await expect(full.plugin.readVmState('10.9.9.9')).rejects.toMatchObject({ code: 'VM_UNKNOWN', message: /VM '10\.9\.9\.9' is not in table 'vm_table'/ });
    await expect(full.plugin.readVmState('not-an-address')).rejects.toMatchObject({ code: 'VALUE_RANGE', message: /neither a VM id nor an address/ });
    await expect(full.plugin.readVmState(70_000)).rejects.toMatchObject({ code: 'VALUE_RANGE', message: /VM id 70000 is outside 0\.\.65535/ });
  });

  it('both backends refuse a batch naming one slot twice and a flip from a stale epoch, changing nothing', async () => {
    for (const [access, rig] of [[full.plugin.registerAccess, full], [bmv2.plugin.registerAccess, bmv2]] as const) {
      const g = access.group;
      const slot = 327_678;
      const cells = (): bigint[] => g.words.map((w) => rig.sim.state.registerRead(w.register, slot));
      const before = cells();
      const twice = access.writeSlots([{ index: slot, words: g.words.map(() => 1n) }, { index: 5, words: g.words.map(() => 1n), mask: 1 }, { index: slot, words: g.words.map(() => 2n) }]);
      await expect(twice).rejects.toMatchObject({ code: 'VALUE_RANGE', message: /write of slot 327678: the slot appears twice in one batch .*\(writes #0 and #2\)/ });
      expect(cells()).toEqual(before);
      const epoch = await access.readEpoch();
      await expect(access.flipEpoch(epoch + 5n)).rejects.toMatchObject({ code: 'STATE_CONFLICT', message: new RegExp(`from ${epoch + 5n}: the epoch is ${epoch}`) });
      expect(rig.sim.state.registerRead('ct_epoch', 0)).toBe(epoch);
    }
  });

  it('writes, dirty words and the epoch behave alike on both backends', async () => {
    for (const [access, rig] of [[full.plugin.registerAccess, full], [bmv2.plugin.registerAccess, bmv2]] as const) {
      const g = access.group;
      // A slot no flow uses (the workload never fills all 327,680).
      const free = 327_679;
      expect(await access.readSlots({ indices: [free] }, { occupiedOnly: true })).toEqual([]);
      await access.writeSlots([{ index: free, words: g.words.map((_, i) => BigInt(i + 1)), mask: 0b1_0000_0101 }]);
      expect(g.words.map((w) => rig.sim.state.registerRead(w.register, free))).toEqual([1n, 0n, 3n, 0n, 0n, 0n, 0n, 0n, 9n]);
      expect((await access.readSlots({ indices: [free] }))[0]?.words).toEqual([1n, 0n, 3n, 0n, 0n, 0n, 0n, 0n, 9n]);

      // Track VM 8, then make one of its flows change: its slot is marked in the current buffer.
      const epoch = await access.readEpoch();
      const buffer = Number(epoch & 1n) as 0 | 1;
      // Flows that took over a closed flow's slot marked it already: start from a clean buffer.
      const before = await access.readDirtyWords({ buffer }, { nonZeroOnly: true });
      await access.clearDirtyWords(before.map((d) => d.index));
      await rig.sw.write(rig.sw.table('vm_migration').insert({ match: { vm_id: 8 }, action: 'set_migration', params: { track: 1, freeze: 0, staged: 0, active: 1, tracker: 255 } }));
      const flow = work.flows.find((f) => f.vm === 1 && f.protocol === 6 && f.close === 'open');
      const last = [...work.packets].reverse().find((p) => p.flow.id === flow?.id && p.direction === 'out');
      if (!flow || !last) throw new Error('the workload has no open flow of VM 8');
      expect(rig.sim.dataplane.inject(last.ingressPort, last.payload).kind).toBe('forward');
      const dirty = await access.readDirtyWords({ buffer }, { nonZeroOnly: true });
      expect(dirty).toHaveLength(1);
      const marked = slotsOfDirtyWord(g.dirty ?? (() => { throw new Error('no dirty'); })(), dirty[0]?.index ?? 0, dirty[0]?.value ?? 0n);
      expect(candidateSlotsFor(g.placement, keyOf(flow))).toContain(marked[0]);
      expect(await access.flipEpoch(epoch)).toBe(epoch + 1n);
      // A retry of the same flip (its confirmation lost, say) finds the new epoch and flips nothing.
      expect(await access.flipEpoch(epoch)).toBe(epoch + 1n);
      expect(await access.clearDirtyWords(dirty.map((d) => d.index))).toEqual(dirty);
      expect(await access.readDirtyWords({ buffer }, { nonZeroOnly: true })).toEqual([]);
      expect(rig.sim.state.registerRead('ct_epoch', 0)).toBe(epoch + 1n);
    }
  }, 60_000);
});
