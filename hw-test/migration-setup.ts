/**
 * What the migration group stands on: the migration VM's entries on both switches, the undo of
 * everything its flows and migrations change there (the flows' candidate slots, their dirty
 * words, the digest configuration, the VM's control entries), an edge plugin on each switch
 * running on hw-test's own primary session (lent, so nobody competes for primacy and BMv2's
 * arbitration is left alone), and the VM's flows: established by PacketOut, located, read.
 */
import type { P4Update } from 'p4runtime-ts';
import { candidateSlotsFor, createDeviceApi, createEdgePlugin, decodeSlotFields, dirtyPosition, fieldValue } from '../plugin/index.js';
import type { EdgeDeviceApi, EdgePlugin, SlotGroupSpec } from '../plugin/index.js';
import { parseIpv4 } from '../sim/programs/stateful-edge/index.js';
import { handshakeFrames, numberedFlowKey } from '../sim/workload/index.js';
import type { NumberedFlowVm, PortFrame } from '../sim/workload/index.js';
import { ensureFixture, deleteEntry, recordInsert } from './fixture.js';
import type { WrittenEntry } from './fixture.js';
import { readDigestConfig, restoreDigestConfig } from './digest-restore.js';
import { HwTestError } from './errors.js';
import { targetStatus } from './target-status.js';
import type { DigestConfig } from './digest-restore.js';
import type { HwTestSession } from './session.js';
import { restoreDirtyWords, sameWords } from './workload-run.js';

/** One of the two switches as the migration group uses it. */
export interface MigrationSide {
  readonly role: 'target' | 'peer';
  readonly s: HwTestSession;
  /** The migration VM's switch-local id here. */
  readonly vmId: number;
  readonly plugin: EdgePlugin;
  readonly api: EdgeDeviceApi;
}

/** A flow as a switch holds it: its slot and every field. */
export interface HeldFlow {
  readonly slot: number;
  readonly fields: Readonly<Record<string, bigint>>;
}

/** The migration VM as numbered flows see it. */
export function migrationFlowVm(s: HwTestSession): NumberedFlowVm {
  const vm = s.o.fixture.migrationVm;
  return { addrNum: parseIpv4(vm.addr) >>> 0, port: vm.port };
}

/** Every candidate slot of the group's flows, ascending. */
export function flowCandidates(s: HwTestSession, flows: number): number[] {
  const v = migrationFlowVm(s);
  const all = new Set<number>();
  for (let i = 0; i < flows; i++) for (const c of candidateSlotsFor(s.group.placement, numberedFlowKey(v, i))) all.add(c);
  return [...all].sort((a, b) => a - b);
}

/** The dirty words (both buffers) that cover `slots`. */
function dirtyWordsOf(g: SlotGroupSpec, slots: readonly number[]): number[] {
  const d = g.dirty;
  if (!d) return [];
  const words = new Set<number>();
  for (const slot of slots) for (const epoch of [0, 1]) words.add(dirtyPosition(d, slot, epoch).word);
  return [...words].sort((a, b) => a - b);
}

/**
 * Reads the candidate slots and their dirty words now, and records their restore: slots written
 * back where they differ, dirty bits the run set cleared. Both switches, before any flow exists.
 */
async function recordSlotUndo(s: HwTestSession, role: string, slots: readonly number[]): Promise<void> {
  const g = s.group;
  const reader = await s.slotReader();
  const before = new Map((await reader.readSlots({ indices: slots })).map((r) => [r.index, r.words]));
  const words = dirtyWordsOf(g, slots);
  const buf = await s.bufferReader();
  const dirtyBefore = new Map((words.length > 0 ? await buf.readDirtyWords({ indices: words }) : []).map((w) => [w.index, w.value]));
  s.undo.add(`restore the ${role}'s ${slots.length} candidate slots of the migration flows and their dirty words`, async () => {
    const io = await s.slotReader();
    const now = await io.readSlots({ indices: slots });
    const writes = now.filter((r) => !sameWords(r.words, before.get(r.index), g.words.length)).map((r) => ({ index: r.index, words: g.words.map((_, i) => before.get(r.index)?.[i] ?? 0n) }));
    if (writes.length > 0) await io.writeSlots(writes);
    if (words.length > 0) await restoreDirtyWords(s, await (await s.bufferReader()).readDirtyWords({ indices: words }), dirtyBefore, 'the migration group');
  });
}

/** Reads every digest's configuration now and records putting it back (the plugin and its device API configure them). */
async function recordDigestUndo(s: HwTestSession): Promise<void> {
  const digests: { readonly name: string; readonly old: DigestConfig | undefined }[] = [];
  for (const d of s.schema.digests) digests.push({ name: d.name, old: await readDigestConfig(s, d.name) });
  s.undo.add(`restore the configuration of digests ${digests.map((d) => d.name).join(', ')}`, async () => {
    for (const d of digests) await restoreDigestConfig(s, d.name, d.old);
  });
}

/** The migration VM's port and VM-map entry (the uplink's role is the fixture's), recorded for deletion. */
async function installVm(s: HwTestSession, vmId: number): Promise<void> {
  const vm = s.o.fixture.migrationVm;
  const vmMap = s.contract.vmMap;
  if (!vmMap) throw new Error('the P4Info declares no @migrate_vm_map table; the migration group needs the stateful_edge contract');
  const entries: { entry: WrittenEntry; update: P4Update }[] = [
    { entry: { table: 'port_role', match: { port: vm.port } }, update: s.sw.table('port_role').insert({ match: { port: vm.port }, action: 'vm_port_role', params: { uplink_port: s.o.fixture.uplinkPort } }) },
    { entry: { table: vmMap.table, match: { [vmMap.keyField]: vm.addr } }, update: s.sw.table(vmMap.table).insert({ match: { [vmMap.keyField]: vm.addr }, action: vmMap.action, params: { [vmMap.vmIdParam]: vmId, port: vm.port } }) },
  ];
  for (const e of entries) {
    try {
      await s.sw.write(e.update);
    } catch (err) {
      const st = targetStatus(err);
      throw new HwTestError(
        'SETUP',
        `${s.o.target}: installing the migration VM's ${e.entry.table} entry ${JSON.stringify(e.entry.match)} failed (${st.code}: ${st.message})` +
          (st.code === 'ALREADY_EXISTS' || st.updates.some((u) => u.code === 'ALREADY_EXISTS')
            ? "; an earlier run stopped at once (a second Ctrl-C) leaves its entries behind: delete them, restart the switch, or choose another fixture.migrationVm"
            : ''),
        { cause: err },
      );
    }
    recordInsert(s, e.entry);
  }
  // The migrations insert and change the VM's control entry here; whatever they leave goes.
  const control = s.contract.control;
  if (control) s.undo.add(`delete the control entry of VM ${vmId}`, () => deleteEntry(s, { table: control.table, match: { [control.keyField]: vmId } }));
}

/**
 * Prepares one switch: the fixture (which snapshots the counters for their restore), the VM's
 * entries, the undo of its slots and digest, then a plugin on the session and its device API —
 * started before any flow of the VM exists, so its slot index learns every one from digests.
 */
export async function prepareSide(s: HwTestSession, role: 'target' | 'peer', vmId: number, flows: number): Promise<MigrationSide> {
  await ensureFixture(s);
  // Newest first at the end: the slots are restored before the digests' configuration.
  await recordDigestUndo(s);
  await recordSlotUndo(s, role, flowCandidates(s, flows));
  await installVm(s, vmId);
  const plugin = createEdgePlugin({
    session: s.sw,
    p4info: s.schema,
    group: s.group.name,
    inband: { window: s.o.inbandWindow, timeoutMs: s.o.inbandTimeoutMs },
    logger: s.o.logger,
  });
  await plugin.start();
  // 'index': the index heard every flow of the VM from the switch's own delta digests (they are
  // checked this way too); a full scan would cost ≈40 s in-band on BMv2 for nothing.
  const api = createDeviceApi(plugin, { name: role, snapshotSource: 'index', reconcile: false });
  try {
    await api.ready();
  } catch (e) {
    api.stop();
    await plugin.stop();
    throw e;
  }
  return { role, s, vmId, plugin, api };
}

/** Stops a side's device API and plugin; the session stays open (it is hw-test's). */
export async function releaseSide(side: MigrationSide | undefined): Promise<void> {
  if (!side) return;
  side.api.stop();
  await side.plugin.stop();
}

/** Injects `frames` at a side (PacketOut, windows closed by barriers). */
export function injectAt(side: MigrationSide, frames: readonly PortFrame[]): Promise<void> {
  return side.s.inject(frames);
}

/** Opens flows 0..n-1 of the VM at `side` (a handshake each). */
export function establish(side: MigrationSide, flows: number): Promise<void> {
  const v = migrationFlowVm(side.s);
  const frames: PortFrame[] = [];
  for (let i = 0; i < flows; i++) frames.push(...handshakeFrames(v, i, side.s.o.fixture.uplinkPort));
  return injectAt(side, frames);
}

/** The VM's flows `side` holds, by flow number (read in the flows' candidate slots, VM id `vmId`). */
export async function heldFlows(side: MigrationSide, flows: number, vmId = side.vmId): Promise<Map<number, HeldFlow>> {
  const g = side.s.group;
  const v = migrationFlowVm(side.s);
  const keyNames = g.placement.keyFields.map((f) => f.name);
  const keyText = (k: Readonly<Record<string, bigint | undefined>>): string => keyNames.map((n) => String(k[n] ?? 0n)).join('/');
  const byKey = new Map<string, number>();
  for (let i = 0; i < flows; i++) byKey.set(keyText(numberedFlowKey(v, i)), i);
  const out = new Map<number, HeldFlow>();
  for (const r of await side.plugin.registerAccess.readSlots({ indices: flowCandidates(side.s, flows) })) {
    if (fieldValue(r.words, g.valid) === 0n || fieldValue(r.words, g.vm) !== BigInt(vmId)) continue;
    const fields = decodeSlotFields(g, r.words);
    const i = byKey.get(keyText(fields));
    if (i !== undefined) out.set(i, { slot: r.index, fields });
  }
  return out;
}

/** The VM's per-VM counter cells at `side`, by counter name. */
export async function vmCounters(side: MigrationSide, vmId = side.vmId): Promise<Map<string, { readonly packets: bigint; readonly bytes: bigint }>> {
  const out = new Map<string, { packets: bigint; bytes: bigint }>();
  for (const c of side.plugin.contract.counters) out.set(c.counter, await side.plugin.registerAccess.readCounter(c.counter, vmId));
  return out;
}
