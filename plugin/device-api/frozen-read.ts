/**
 * The freeze at a source (freezeWithReads), and its reads for the final delta sent right behind
 * the freeze's Write instead of after its answer: one P4Runtime Read of the VM's control entry, then the tracker's cells, then the VM's
 * per-VM counter cells. A server reads a request's entities in order (the tracker read relies on
 * the same: p4runtime-cells.ts), so when the entry read back already carries the freeze, the
 * cells after it were read after the freeze took effect — final — and the pause saves the round
 * trip of reading them once the Write is answered. When the Read overtook the Write (no order
 * between two calls is promised: a multi-threaded server may serve them at once) the entry is not
 * frozen yet, nothing of the Read is used, and the caller reads again after the Write's answer.
 */
import type { CounterCell, RegisterCell } from 'p4runtime-ts';
import type { EdgePlugin } from '../edge-plugin.js';
import { carriedOrReadClock, changeLogOf, trackerCellQueries, trackerFromCells } from '../state-access/index.js';
import type { TrackerState } from '../state-access/index.js';
import type { Migration } from './migration-record.js';
import { setEntryPhase } from './table-entry-transfer.js';
import { controlOf, controlParams, modifyControl } from './vm-control-entry.js';
import type { ControlFlags } from './vm-control-entry.js';
import { readVmCounters, vmCounterRead } from './vm-counter-transfer.js';
import type { VmCounterRead, VmCounters } from './vm-counter-transfer.js';

/** What the freeze's Read found, when it was read after the freeze. */
export interface FrozenReading {
  readonly tracker: TrackerState;
  readonly counters: VmCounters;
}

/** Whether this plugin can read the freeze's state in one P4Runtime Read (registers over P4Runtime, a change log, a control table). */
export function canReadFrozen(plugin: EdgePlugin): boolean {
  return plugin.registerAccess.capabilities().backend === 'p4runtime' && plugin.group.changeLog !== undefined && plugin.contract.control !== undefined;
}

/** The flags the freeze writes to the VM's control entry, tracker `tracker`. */
function frozenFlags(tracker: number): ControlFlags {
  return { track: 1, freeze: 1, staged: 0, active: 1, tracker };
}

/** The freeze's Read of readFrozen, built and encoded ahead (prepare): the pause sends it as it is. */
export interface FrozenReadPlan {
  readonly tracker: number;
  readonly read: ReturnType<typeof buildFrozenRead>;
  readonly counters: VmCounterRead;
  /** The control table's name and the action parameters of the frozen entry. */
  readonly table: string;
  readonly want: Readonly<Record<string, bigint>>;
}

/** The Read itself (its type is the plan's `read`). */
function buildFrozenRead(plugin: EdgePlugin, vmId: number, tracker: number, counters: VmCounterRead) {
  const sw = plugin.session;
  const c = controlOf(plugin.contract.control);
  // The entry first: what follows it in the request is read no earlier than it.
  return sw.prepareRead([sw.table(c.table).entry({ [c.keyField]: vmId }), ...trackerCellQueries(sw, changeLogOf(plugin.group), tracker), ...counters.queries]);
}

/** Builds and encodes the freeze's Read for VM `vmId` and tracker `tracker` (readFrozen). */
export function planFrozenRead(plugin: EdgePlugin, vmId: number, tracker: number): FrozenReadPlan {
  const c = controlOf(plugin.contract.control);
  const counters = vmCounterRead(plugin, vmId);
  return { tracker, read: buildFrozenRead(plugin, vmId, tracker, counters), counters, table: plugin.session.table(c.table).info.name, want: controlParams(c, frozenFlags(tracker)) };
}

/**
 * Sends the freeze's Read (`plan`: the VM's control entry, its tracker and per-VM counters in one
 * Read); resolves the tracker and counters when the entry read back is the frozen one, else
 * undefined. Rejects as the Read does (the caller reads again, after the Write's answer).
 */
export async function readFrozen(plugin: EdgePlugin, plan: FrozenReadPlan): Promise<FrozenReading | undefined> {
  const sw = plugin.session;
  let entryFrozen = false;
  const registers: RegisterCell[] = [];
  const counterCells: CounterCell[] = [];
  for await (const chunk of sw.readChunks(plan.read)) {
    for (const e of chunk) {
      if (e.kind === 'table') entryFrozen = e.table === plan.table && Object.entries(plan.want).every(([k, v]) => e.params[k] === v);
      else if (e.kind === 'register') registers.push(e);
      else if (e.kind === 'counter') counterCells.push(e);
    }
  }
  if (!entryFrozen) return undefined;
  return { tracker: trackerFromCells(sw, changeLogOf(plugin.group), plan.tracker, registers), counters: plan.counters.collect(counterCells) };
}

/**
 * Freezes the VM at this source (its control entry: tracking, frozen, active; the migration marked
 * frozen and its delta rounds ended once the Write is answered) and starts what the final delta
 * reads: the migration's frozenTracker, frozenCounters and frozenClock.
 * With `withReads` the Read of readFrozen rides right behind the Write, and the clock is the one
 * last heard from this source carried forward (clock-estimate.ts), or read in-band beside the Write
 * when none is recent (a P4Runtime tracker read carries no data-plane time; a slot changed after
 * the clock's reading just counts as age 0, as in pre-copy); when the Read did not see the
 * freeze, the counters are read again after the Write's answer and the tracker is left undefined
 * for the final delta to read under its lock. Without, both are read once the Write is answered:
 * the tracker first, by `readTracker` (behind any delta pull still in flight, as the final delta
 * would read it) — what the final batch is made of comes back first and is built while the
 * counters' Read, which only the activation needs, is still on its way. Resolves once the Write
 * is answered.
 */
export async function freezeWithReads(plugin: EdgePlugin, x: Migration, withReads: boolean, readTracker: () => Promise<TrackerState>): Promise<void> {
  // MODIFY only: prepare wrote the entry; gone, the switch lost the migration's state (ControlEntryGone).
  const write = modifyControl(plugin.session, controlOf(plugin.contract.control), x.vmId, frozenFlags(x.tracker));
  // Built at prepare; built here only for a migration prepared without it.
  const plan = withReads ? (x.frozenRead ?? planFrozenRead(plugin, x.vmId, x.tracker)) : undefined;
  const early = plan ? readFrozen(plugin, plan).catch(() => undefined) : undefined;
  // The source's clock at the freeze, carried forward from its last answer (pre-copy hears it every
  // round), or read beside the freeze when there is none recent: one request fewer for the source
  // to serve, and the final delta to wait for, while the VM is stopped.
  const clock = early && plugin.group.clock ? carriedOrReadClock(plugin.registerAccess).catch(() => undefined) : undefined;
  // Known before the Write's answer: the batch sent ahead of the final one (pauseDelta) rebases with it too.
  x.frozenClock = clock;
  await write;
  // Final from here on: a delta round still in flight stops at its next step.
  x.frozen = true;
  x.ended.next();
  setEntryPhase(plugin, x.vmId, 'frozen');
  // Everything below is attached after the Write's answer: a Read made again follows the freeze.
  if (early) {
    x.frozenTracker = early.then((r) => r?.tracker);
    x.frozenCounters = early.then((r) => r?.counters ?? readVmCounters(plugin, x.vmId));
  } else {
    x.frozenTracker = readTracker();
    // One microtask later: behind the tracker read's turn of the lock, so its request leaves first.
    x.frozenCounters = Promise.resolve().then(() => readVmCounters(plugin, x.vmId));
  }
  x.frozenTracker.catch(() => undefined);
  x.frozenCounters.catch(() => undefined);
}
