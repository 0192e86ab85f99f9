/**
 * Capability negotiation translates, end to end on two simulated switches over real gRPC (P4Runtime
 * to each sim, the migration protocol with mutual TLS and tickets between the coordinator and each
 * plugin): a VM migrates from the committed stateful_edge to a variant with twice the slots and
 * its hashes swapped (what `p4c-bm2-ss -DCT_HASH0=crc16 … -DCT_SLOTS=655360` builds). The
 * migration proceeds, every flow lands where the destination's own hashes put it, every established
 * flow passes the destination after activation, counters are conserved, and the journal and the
 * `carryover migrate` report list the translations. The same both ways between the committed build
 * and one whose last_seen cell is 64 bits wide (`-DCT_LAST_SEEN_BITS=64`): the clock field is
 * rebased and written at the destination's width. A destination whose schema would lose state (a
 * narrower field, a register it lacks) is refused before anything is staged, every reason named.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryJournal, executeMigration, migrateReportJson, migrateReportLines, parseInventory, planMigration } from '../../controller/index.js';
import type { MigrationOutcome } from '../../controller/index.js';
import { createDeviceApi, decodeSlotFields } from '../../plugin/index.js';
import type { EdgeDeviceApi, EdgePluginOptions } from '../../plugin/index.js';
import { editP4Info, statefulEdgeP4InfoText } from '../../plugin/testing/stateful-edge-p4info.js';
import { opensslAvailable } from '../../plugin/testing/test-pki.js';
import { P4Schema } from 'p4runtime-ts';
import { candidateSlotsIn } from '../../sim/programs/stateful-edge/index.js';
import { LARGER_VARIANT as LARGER, WIDE_SEEN_VARIANT as WIDE_SEEN } from '../../sim/programs/stateful-edge/test-variants.js';
import type { SlotGroupSpec } from '../../plugin/index.js';
import { P4INFO_PATH, UPLINK, eventually, startEdgeRig } from '../edge-rig.js';
import type { EdgeRig, EdgeRigOptions } from '../edge-rig.js';
import { DST_ID, REMOTE, SRC_ID, VM_ADDR, establish, pinholesOf, returnSegment, site, topology, udpIn, udpOut, vmSlots } from '../migration-fixture.js';
import { devicesOver } from '../protocol-devices.js';
import { startTwoDomains } from '../two-domain-rig.js';
import type { TwoDomains } from '../two-domain-rig.js';

const FLOWS = 16;
const PORTS = Array.from({ length: FLOWS }, (_, i) => 42_000 + i);

/** stateful_edge with `ct_ack` renamed (`ct_acked`: acked_out, acked_in) and ct_state's win_in narrowed 16 → 8 bits (win_out widened). */
function lossySchema(): P4Schema {
  let t = statefulEdgeP4InfoText();
  t = editP4Info(t, 'win_out:16 win_in:16', 'win_out:24 win_in:8');
  t = editP4Info(t, 'alias: "ct_ack"', 'alias: "ct_acked"');
  t = editP4Info(t, 'name: "StatefulEdgeIngress.conntrack.ct_ack"', 'name: "StatefulEdgeIngress.conntrack.ct_acked"');
  t = editP4Info(t, '@migrate_layout(\\"ack_out:32 ack_in:32\\")', '@migrate_layout(\\"acked_out:32 acked_in:32\\")');
  t = editP4Info(t, 'name: "ct_ack"\n', 'name: "ct_acked"\n');
  return P4Schema.fromText(t, 'stateful_edge, lossy variant');
}

/** stateful_edge with per-VM counters of 8 cells: fine for VM ids 0..7, not for the destination's id 9. */
function smallCountersSchema(): P4Schema {
  const t = statefulEdgeP4InfoText().replace(/(alias: "vm_(?:tx|rx)"[\s\S]*?size: )1024/g, '$18');
  if (t === statefulEdgeP4InfoText()) throw new Error('smallCountersSchema: the P4Info has no vm_tx/vm_rx of 1024 cells');
  return P4Schema.fromText(t, 'stateful_edge, 8-cell per-VM counters');
}

/** The slot group's `@migrate_clock` field (stateful_edge has one). */
function clockField(g: SlotGroupSpec): NonNullable<SlotGroupSpec['clock']>['field'] {
  if (!g.clock) throw new Error(`slot group '${g.name}' has no clock field`);
  return g.clock.field;
}

/** A slot's last_seen, from its words as `rig`'s contract lays them out. */
function lastSeen(rig: EdgeRig, words: readonly bigint[]): bigint {
  return decodeSlotFields(rig.plugin.group, words)[clockField(rig.plugin.group).name] ?? 0n;
}

const test = opensslAvailable() ? it : it.skip;

describe('schema translation — a VM migrates to a switch running another variant of stateful_edge (migration protocol over mTLS)', () => {
  let src: EdgeRig | undefined;
  let dst: EdgeRig | undefined;
  const apis: EdgeDeviceApi[] = [];
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    for (const a of apis.splice(0)) a.stop();
    await src?.stop();
    await dst?.stop();
  });

  /** Both rigs, the VM's flows and a pinhole at the source, then one migration run by the coordinator. */
  async function migrate(dstRig: Partial<EdgeRigOptions>, migrationId: string, srcRig: Partial<EdgeRigOptions> = {}): Promise<{ outcome: MigrationOutcome; journal: MemoryJournal; before: { src: bigint[]; dst: bigint[]; slots: Set<number>; srcClock: bigint; oldest: bigint; newest: bigint; atMs: number } }> {
    src = await startEdgeRig({ profile: 'full', topology: false, ...srcRig });
    dst = await startEdgeRig({ profile: 'full', topology: false, ...dstRig });
    await topology(src.sw, SRC_ID);
    await topology(dst.sw, DST_ID);
    const srcApi = createDeviceApi(src.plugin, { name: 'src', snapshotSource: 'index', reconcile: false, deltaIntervalMs: 10 });
    const dstApi = createDeviceApi(dst.plugin, { name: 'dst', snapshotSource: 'index', reconcile: false });
    apis.push(srcApi, dstApi);
    await Promise.all([srcApi.ready(), dstApi.ready()]);
    const over = await devicesOver('protocol', { src: srcApi, dst: dstApi });
    close = over.close;
    for (const p of PORTS) expect(establish(src.sim, p)).toBe(true);
    expect(src.sim.dataplane.inject(1, udpOut(5300)).kind).toBe('forward');
    const s = src;
    expect(await eventually(async () => (await srcApi.capabilities()).slots.free === s.plugin.group.slots - FLOWS && (await pinholesOf(s.sw, SRC_ID)).length === 1)).toBe(true);
    const counters = async (rig: EdgeRig, vmId: number): Promise<bigint[]> =>
      (await Promise.all(rig.plugin.contract.counters.map((c) => (vmId < c.size ? rig.plugin.registerAccess.readCounter(c.counter, vmId) : { packets: 0n, bytes: 0n })))).flatMap((c) => [c.packets, c.bytes]);
    // Control: without the state the destination drops the VM's return traffic.
    for (const p of PORTS) expect(dst.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('drop');
    const seen = [...vmSlots(src.sim, src.plugin.group, SRC_ID).values()].map((w) => lastSeen(src as EdgeRig, w));
    const before = {
      src: await counters(src, SRC_ID), dst: await counters(dst, DST_ID), slots: new Set(vmSlots(src.sim, src.plugin.group, SRC_ID).keys()),
      srcClock: await src.plugin.registerAccess.readClock(), oldest: seen.reduce((a, b) => (b < a ? b : a)), newest: seen.reduce((a, b) => (b > a ? b : a)), atMs: performance.now(),
    };
    const journal = new MemoryJournal();
    const plan = planMigration(parseInventory(site(src.sim.address, dst.sim.address), 'site.yaml'), 'vm-7', 'host-a', 'host-b');
    const outcome = await executeMigration({
      plan, trigger: { kind: 'manual' }, migrationId, journal, journalDir: '', defaultP4info: P4INFO_PATH,
      connect: () => Promise.resolve({ apis: over.devices, stop: () => Promise.resolve() }),
      pauseDeadlineMs: 30_000, onDeadline: 'abort', progress: () => undefined,
    });
    return { outcome, journal, before };
  }

  test('schema translation — a larger table with swapped hashes: translated, placed by the destination\'s hashes, every established flow passes after activation, counters conserved, the report lists it', async () => {
    const { outcome, journal, before } = await migrate({ variant: LARGER }, 'm-larger');
    const s = src as EdgeRig;
    const d = dst as EdgeRig;
    expect(outcome.run.aborted).toBeUndefined();
    const expected = ["conntrack: 327680 slots at src, 655360 at dst — placed by dst's size", "conntrack: placement crc32/crc16 at src vs crc16/crc32 at dst — placed by dst's hashes"];
    expect(outcome.translations).toEqual(expected);
    expect((await journal.load('m-larger')).find((e) => e.type === 'prepared')).toMatchObject({ translations: expected });
    // The report, as `carryover migrate` prints it and as --json gives it.
    const plan = planMigration(parseInventory(site(s.sim.address, d.sim.address), 'site.yaml'), 'vm-7', 'host-a', 'host-b');
    expect(migrateReportLines(outcome).slice(0, 3)).toEqual(['migration m-larger: COMMITTED', ...expected.map((t) => `  translated: ${t}`)]);
    expect(migrateReportJson(plan, outcome)).toMatchObject({ outcome: 'committed', translations: expected });

    // Every flow sits in one of its candidates under the destination's geometry (crc16 region 0, crc32 region 1).
    const g = d.plugin.group;
    expect(g.slots).toBe(655360);
    const moved = vmSlots(d.sim, g, DST_ID);
    expect(moved.size).toBe(FLOWS);
    for (const [slot, words] of moved) {
      const f = decodeSlotFields(g, words);
      const key = { vmAddr: Number(f['vm_addr']), remoteAddr: Number(f['remote_addr']), vmPort: Number(f['vm_port']), remotePort: Number(f['remote_port']), protocol: Number(f['protocol']) };
      expect(key).toMatchObject({ vmAddr: VM_ADDR, remoteAddr: REMOTE });
      expect(candidateSlotsIn(LARGER, key)).toContain(slot);
    }
    // Not where the source had them: placement was recomputed, not copied.
    expect([...moved.keys()].filter((slot) => before.slots.has(slot)).length).toBeLessThan(FLOWS / 2);
    // Counters conserved: the destination's cell = what it held + the source's at the freeze.
    const after = (await Promise.all(d.plugin.contract.counters.map((c) => d.plugin.registerAccess.readCounter(c.counter, DST_ID)))).flatMap((c) => [c.packets, c.bytes]);
    expect(after).toEqual(before.dst.map((v, i) => v + (before.src[i] ?? 0n)));
    expect(after.some((v) => v > 0n)).toBe(true);
    // Every established flow's return traffic passes the destination's data plane now.
    let passed = 0;
    for (const p of PORTS) if (d.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind === 'forward') passed++;
    expect(passed).toBe(FLOWS);
    expect(d.sim.dataplane.inject(UPLINK, udpIn(5300)).kind).toBe('forward');
    expect(vmSlots(s.sim, s.plugin.group, SRC_ID).size).toBe(0);
  }, 180_000);

  test('schema translation — a 64-bit last_seen cell (the clock field widened): translated, every flow rebased to the destination\'s clock at its width, every established flow passes', async () => {
    const { outcome, before } = await migrate({ variant: WIDE_SEEN }, 'm-wide-seen');
    const s = src as EdgeRig;
    const d = dst as EdgeRig;
    expect(outcome.run.aborted).toBeUndefined();
    expect(outcome.translations).toEqual(["conntrack: field 'last_seen' 48 → 64 bits — rewritten by dst (rebased to its clock)"]);
    expect(clockField(s.plugin.group).bits).toBe(48);
    expect(clockField(d.plugin.group).bits).toBe(64);
    expect(d.plugin.group.words.find((w) => w.register === 'ct_last_seen')?.bits).toBe(64);
    const moved = vmSlots(d.sim, d.plugin.group, DST_ID);
    expect(moved.size).toBe(FLOWS);
    // Each flow's timestamp is the destination's clock less the flow's age: no younger than at the
    // source before the migration, no older than that plus the time the migration took.
    const dstClock = await d.plugin.registerAccess.readClock();
    const tookUs = BigInt(Math.ceil((performance.now() - before.atMs) * 1000));
    for (const words of moved.values()) {
      const v = lastSeen(d, words);
      expect(v > 0n && v <= dstClock).toBe(true);
      expect(dstClock - v).toBeGreaterThanOrEqual(before.srcClock - before.newest);
      expect(dstClock - v).toBeLessThanOrEqual(before.srcClock - before.oldest + tookUs);
    }
    let passed = 0;
    for (const p of PORTS) if (d.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind === 'forward') passed++;
    expect(passed).toBe(FLOWS);
    expect(vmSlots(s.sim, s.plugin.group, SRC_ID).size).toBe(0);
  }, 180_000);

  test('schema translation — from a 64-bit last_seen cell back to the committed 48 bits: translated the same way (the destination writes its own clock), every flow passes', async () => {
    const { outcome } = await migrate({}, 'm-narrow-seen', { variant: WIDE_SEEN });
    const d = dst as EdgeRig;
    expect(outcome.run.aborted).toBeUndefined();
    expect(outcome.translations).toEqual(["conntrack: field 'last_seen' 64 → 48 bits — rewritten by dst (rebased to its clock)"]);
    const moved = vmSlots(d.sim, d.plugin.group, DST_ID);
    expect(moved.size).toBe(FLOWS);
    for (const words of moved.values()) expect(lastSeen(d, words) >> 48n).toBe(0n);
    let passed = 0;
    for (const p of PORTS) if (d.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind === 'forward') passed++;
    expect(passed).toBe(FLOWS);
  }, 180_000);

  test('schema translation — a destination with a narrower field and a register it lacks is refused before anything is staged, every reason named', async () => {
    const lossy: Partial<EdgePluginOptions> = { p4info: lossySchema() };
    const { outcome, journal } = await migrate({ plugin: lossy }, 'm-lossy');
    const s = src as EdgeRig;
    const d = dst as EdgeRig;
    expect(outcome.run.aborted?.reason).toBe('SCHEMA_MISMATCH');
    const detail = outcome.run.aborted?.detail ?? '';
    expect(detail).toContain("src → dst: slot group 'conntrack': field 'win_in' is 16 bits at src but 8 bits at dst — values might not fit");
    expect(detail).toContain("src → dst: slot group 'conntrack': register 'ct_ack' (ack_out:32, ack_in:32) exists at src, not at dst — its values would be lost");
    expect(detail).toContain("src → dst: slot group 'conntrack': register 'ct_acked' (acked_out:32, acked_in:32) exists at dst, not at src — dst's pipeline would find no value for it");
    expect(migrateReportLines(outcome)).toContain(`  reason: SCHEMA_MISMATCH: ${detail}`);
    // Refused at negotiation: no device was prepared, nothing staged at the destination.
    expect((await journal.load('m-lossy')).map((e) => e.type)).toEqual(['planned', 'abort', 'rolled-back']);
    expect(vmSlots(d.sim, d.plugin.group, DST_ID).size).toBe(0);
    expect(await pinholesOf(d.sw, DST_ID)).toEqual([]);
    expect(await d.sw.readAll(d.sw.table('vm_migration').all())).toEqual([]);
    // The source still serves the VM, untracked by any migration.
    expect(await s.sw.readAll(s.sw.table('vm_migration').all())).toEqual([]);
    expect(vmSlots(s.sim, s.plugin.group, SRC_ID).size).toBe(FLOWS);
    for (const p of PORTS) expect(s.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
  }, 180_000);

  test('schema translation — smaller per-VM counters are translated only while the VM\'s id fits: id 9 past 8 cells is refused at the first import, nothing written', async () => {
    const { outcome, journal } = await migrate({ plugin: { p4info: smallCountersSchema() } }, 'm-counters');
    const s = src as EdgeRig;
    const d = dst as EdgeRig;
    expect((await journal.load('m-counters')).find((e) => e.type === 'prepared')).toMatchObject({
      translations: ["counter 'vm_tx': 1024 cells at src, 8 at dst — the VM's id at dst must be below 8 (dst checks it before staging)", "counter 'vm_rx': 1024 cells at src, 8 at dst — the VM's id at dst must be below 8 (dst checks it before staging)"],
    });
    expect(outcome.run.aborted?.reason).toBe('SCHEMA_MISMATCH');
    expect(outcome.run.aborted?.detail).toMatch(/import of migration m-counters refused, nothing written: the VM's id here is 9 but per-VM counter 'vm_tx' has 8 cells/);
    expect(vmSlots(d.sim, d.plugin.group, DST_ID).size).toBe(0);
    expect(await pinholesOf(d.sw, DST_ID)).toEqual([]);
    expect(await d.sw.readAll(d.sw.table('vm_migration').all())).toEqual([]);
    expect(await s.sw.readAll(s.sw.table('vm_migration').all())).toEqual([]);
    for (const p of PORTS) expect(s.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
  }, 180_000);
});

describe('schema translation — across two domains (dc-b runs the variant; federation over mTLS)', () => {
  let site: TwoDomains | undefined;
  afterEach(async () => {
    await site?.stop();
    site = undefined;
  });
  const start = async (destination: Partial<EdgeRigOptions>): Promise<TwoDomains> => {
    const s = await startTwoDomains({ destination });
    site = s;
    for (const p of PORTS) expect(establish(s.src.sim, p)).toBe(true);
    expect(await eventually(async () => (await s.srcApi.capabilities()).slots.free === s.src.plugin.group.slots - FLOWS)).toBe(true);
    return s;
  };

  test('schema translation — dc-b\'s larger, rehashed table is translated: both domains record it, the flows pass at dc-b', async () => {
    const s = await start({ variant: LARGER });
    const out = await s.migrate('m-x-larger');
    expect(out.run.aborted).toBeUndefined();
    // dc-a negotiates with dc-b as one device (the peer domain), dc-b with its own edge.
    expect(out.translations).toEqual(["conntrack: 327680 slots at edge-a, 655360 at dc-b — placed by dc-b's size", "conntrack: placement crc32/crc16 at edge-a vs crc16/crc32 at dc-b — placed by dc-b's hashes"]);
    expect((await s.journalB.load('m-x-larger')).find((e) => e.type === 'prepared')).toMatchObject({
      translations: ["conntrack: 327680 slots at edge-a, 655360 at edge-b — placed by edge-b's size", "conntrack: placement crc32/crc16 at edge-a vs crc16/crc32 at edge-b — placed by edge-b's hashes"],
    });
    expect(vmSlots(s.dst.sim, s.dst.plugin.group, DST_ID).size).toBe(FLOWS);
    for (const p of PORTS) expect(s.dst.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
  }, 180_000);

  test('schema translation — a lossy schema at dc-b is refused at the proposal, every reason reaching dc-a; nothing staged in either domain', async () => {
    const s = await start({ plugin: { p4info: lossySchema() } });
    // Refused at Propose, before either domain records the migration (`carryover migrate` prints the code and message, exit 1).
    const err = await s.migrate('m-x-lossy').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SCHEMA_MISMATCH' });
    const detail = (err as Error).message;
    expect(detail).toContain("edge-a → edge-b: slot group 'conntrack': field 'win_in' is 16 bits at edge-a but 8 bits at edge-b — values might not fit");
    expect(detail).toContain("edge-a → edge-b: slot group 'conntrack': register 'ct_ack' (ack_out:32, ack_in:32) exists at edge-a, not at edge-b — its values would be lost");
    expect(await s.journalA.load('m-x-lossy')).toEqual([]);
    expect(await s.journalB.load('m-x-lossy')).toEqual([]);
    expect(vmSlots(s.dst.sim, s.dst.plugin.group, DST_ID).size).toBe(0);
    expect(vmSlots(s.src.sim, s.src.plugin.group, SRC_ID).size).toBe(FLOWS);
    for (const p of PORTS) expect(s.src.sim.dataplane.inject(UPLINK, returnSegment(p, 0)).kind).toBe('forward');
  }, 180_000);
});
