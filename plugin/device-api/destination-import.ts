/**
 * A destination's side of the imports (edge-device-api.ts): flows removed then placed by this
 * switch's hashes with conditional writes (VM id remapped, timestamps rebased against this
 * switch's clock), and the sources' per-VM counters added — at once, or kept for activation's
 * atomic Write (atomic-activation.ts) where the switch takes one.
 */
import type { EdgePlugin } from '../edge-plugin.js';
import { warmSlotWrites } from '../state-access/index.js';
import type { VmSlotIndex } from '../state-access/index.js';
import type { StateBatch } from './device-api.js';
import { countersInTurn } from './migration-record.js';
import type { Migration } from './migration-record.js';
import { splitHeld } from './held-slots.js';
import { BULK_SLOTS } from './source-batch.js';
import { flowKeyString, placeSlots } from './slot-placement.js';
import { addInto, addVmCounters, countersAfter, readVmCounters } from './vm-counter-transfer.js';
import { probeDataplaneAtomic } from './atomic-activation.js';
import { DeviceApiFailure } from './migration-sessions.js';
import { setEntryPhase } from './table-entry-transfer.js';
import { controlOf, writeControl } from './vm-control-entry.js';
import type { VmCounters } from './vm-counter-transfer.js';

/** Sessions whose slot-write encoder was run ahead (warmSlotWrites). */
const WARMED = new WeakSet<object>();

/** What the destination's imports need of the device API. */
export interface DestinationSide {
  readonly plugin: EdgePlugin;
  readonly name: string;
  readonly index: VmSlotIndex;
  /** Whether the switch takes DATAPLANE_ATOMIC Writes (undefined before the first staging probed it). */
  atomic(): Promise<boolean> | undefined;
}

/**
 * A batch's removed flows cleared here, then its slots placed (the clock read with the clears, or
 * the one read as the pause began for the final batch); returns slots written. Flows this
 * migration still holds a slot for (held-slots.ts) are written without a condition, only their
 * changed words: in one P4Runtime Write, or kept for activation's atomic Write (the pause's batches).
 */
export async function importSlots(d: DestinationSide, x: Migration, batch: StateBatch): Promise<number> {
  // The final batch, or one a source sent ahead of it in the pause (pauseDelta): both are the pause's.
  const inPause = batch.counters !== undefined || x.paused;
  const access = d.plugin.registerAccess;
  const clock = batch.slots.length === 0 ? undefined : inPause && x.pauseClock ? x.pauseClock.catch(() => access.readClock()) : access.readClock();
  clock?.catch(() => undefined);
  const gone = batch.removed.flatMap((key) => {
    const at = x.placed.get(flowKeyString(d.plugin.group, key));
    return at ? [{ key, at }] : [];
  });
  // Conditional clears, one call per pass of distinct slots (a call names a slot once); a flow
  // removed and placed again in one batch is cleared before it is placed.
  for (let rest = gone; rest.length > 0; ) {
    const slots = new Set<number>();
    const now = rest.filter((g) => !slots.has(g.at.slot) && slots.add(g.at.slot) !== undefined);
    await access.clearSlotsIf(now.map((g) => ({ index: g.at.slot, words: g.at.words })));
    for (const g of now) {
      x.placed.delete(flowKeyString(d.plugin.group, g.key));
      x.pendingSlots.delete(g.at.slot);
    }
    rest = rest.filter((g) => !now.includes(g));
  }
  if (!clock) return 0;
  const localClock = await clock;
  // The translation made once, outside the loop: a closure reading `batch` per flow was compiled
  // for pre-copy's batches and thrown away at the final one (it has more fields), in the pause.
  const translation = { vmId: x.vmId, sourceClock: batch.clock, localClock };
  const plain = access.capabilities().backend === 'p4runtime';
  const source = batch.source;
  const { held, rest } = splitHeld(d.plugin.group, batch.slots, localClock, { placed: x.placed, translation, source, plain });
  const defer = held.length > 0 && inPause && (await d.atomic()) === true;
  const [installed] = await Promise.all([placeSlots(access, rest.map((r) => r.fields), x.placed, d.name), defer ? undefined : access.writeSlots(held)]);
  for (let i = 0; i < held.length; i++) {
    const h = held[i] as (typeof held)[number];
    x.placed.rewrite(h.entry, h.words);
    if (!defer || h.mask === 0) continue;
    const before = x.pendingSlots.get(h.index);
    x.pendingSlots.set(h.index, { index: h.index, words: h.words, mask: h.mask | (before?.mask ?? 0) });
  }
  // The switch sends no new-flow digest for slots we write: index them ourselves, or a daemon
  // trusting its index (snapshotSource: index) would later export this VM without them. This
  // batch's flows only: the final batch is in the pause, and the VM may have 10^5 placed.
  for (let i = 0; i < held.length; i++) d.index.note((held[i] as (typeof held)[number]).index, x.vmId);
  for (let i = 0; i < rest.length; i++) {
    const r = rest[i] as (typeof rest)[number];
    const p = x.placed.get(r.key);
    if (!p) continue;
    d.index.note(p.slot, x.vmId);
    if (source !== undefined && r.sourceSlot !== undefined) x.placed.noteOrigin(source, r.sourceSlot, p);
  }
  // As in sourceBatch: the optimizing compile a bulk import earns starts at the next call, which
  // would be the final batch's, in the pause; make it an empty one, now (never from the pause).
  if (!inPause && batch.slots.length >= BULK_SLOTS) await importSlots(d, x, { ...batch, slots: [], removed: [], counters: undefined });
  return installed + held.length;
}

/**
 * Stages the VM here before its first import: its control entry set so its packets are dropped
 * until activation, the DATAPLANE_ATOMIC probe started when `probe` (returned unanswered), and the
 * VM's counter cells read — staged, they do not move, so the final batch only writes.
 * @throws DeviceApiFailure SCHEMA_MISMATCH when a per-VM counter here is too small for the VM's id.
 */
export async function stageVm(plugin: EdgePlugin, x: Migration, what: string, probe: boolean): Promise<{ readonly atomic: Promise<boolean> | undefined }> {
  // A smaller per-VM counter than the source's is translated only while this VM's id fits it.
  const small = plugin.contract.counters.find((c) => x.vmId >= c.size);
  if (small) throw new DeviceApiFailure('SCHEMA_MISMATCH', `${what} refused, nothing written: the VM's id here is ${x.vmId} but per-VM counter '${small.counter}' has ${small.size} cells, so its counts could not be added; give the VM an id below ${small.size} on this switch`);
  const sw = plugin.session;
  const control = controlOf(plugin.contract.control);
  const staged = { track: 0, freeze: 0, staged: 1, active: 0, tracker: x.tracker } as const;
  await writeControl(sw, control, x.vmId, staged);
  const atomic = probe ? probeDataplaneAtomic(sw, control, x.vmId, staged) : undefined;
  setEntryPhase(plugin, x.vmId, 'staged');
  x.imported = true;
  // The activation's Write of held flows is encoded by code pre-copy hardly runs: compiled now, once
  // per session, not in a pause.
  if (plugin.registerAccess.capabilities().backend === 'p4runtime' && !WARMED.has(sw)) {
    WARMED.add(sw);
    warmSlotWrites(sw, plugin.group);
  }
  const base = readVmCounters(plugin, x.vmId);
  base.catch(() => undefined);
  x.counterBase = base;
  // In an object: an async function's promise would adopt the probe's and wait for its answer.
  return { atomic };
}

/**
 * The sources' counter values added to the VM's cells here: kept for activation's atomic Write
 * when the switch takes one and the cells are known, else written now.
 */
export function takeCounters(d: DestinationSide, x: Migration, values: VmCounters): Promise<void> {
  return countersInTurn(x, () => takeCountersNow(d, x, values));
}

async function takeCountersNow(d: DestinationSide, x: Migration, values: VmCounters): Promise<void> {
  const known = await x.counterBase?.catch(() => undefined);
  const after = known && (await d.atomic()) ? countersAfter(known, values) : undefined;
  if (!after) return addCounters(d, x, values, 1n, x.counterBase);
  const cells = { ...x.pendingCells };
  for (const name of Object.keys(values)) if (after[name]) cells[name] = after[name];
  x.pendingCells = cells;
  addInto(x.pendingAdded, values);
  x.counterBase = Promise.resolve(after);
}

/**
 * Adds (sign 1) or takes back (sign -1) counter values at this switch's cells of the VM (see
 * addVmCounters); with `known` (the cells as read when staged) no read is made, and what was
 * written becomes the next final batch's base (a second source, N:1).
 */
export async function addCounters(d: DestinationSide, x: Migration, values: VmCounters, sign: 1n | -1n, known?: Promise<VmCounters>): Promise<void> {
  const cells = known ? await known.catch(() => undefined) : undefined;
  const after = await addVmCounters(d.plugin, x.vmId, values, sign, x.added, cells);
  if (known) x.counterBase = Promise.resolve(after);
}
