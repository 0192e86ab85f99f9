/**
 * A VM's per-VM counters in a migration (DESIGN.md §1 "counters conserved"): read at the source
 * once the freeze took effect, added at the destination with the final batch — read-modify-write
 * of the VM's cells, each write recorded as it succeeds so an abort takes back exactly what was
 * added. The destination's cells are read when the VM is staged there (its packets are dropped
 * before they are counted, so the cells do not move until activation) and passed in as `known`.
 */
import type { CounterCell, ReadQuery } from 'p4runtime-ts';
import type { EdgePlugin } from '../edge-plugin.js';
import { EdgePluginError } from '../errors.js';

/** Counter alias → the VM's cell. */
export type VmCounters = Record<string, { packets: bigint; bytes: bigint }>;

/** The VM's cell of every per-VM counter of the contract, in one Read (counters are P4Runtime entities on every target). */
export async function readVmCounters(plugin: EdgePlugin, vmId: number): Promise<VmCounters> {
  const r = vmCounterRead(plugin, vmId);
  if (r.queries.length === 0) return {};
  const cells: CounterCell[] = [];
  try {
    for (const cell of await plugin.session.readAll(r.queries)) cells.push(cell);
  } catch (e) {
    throw EdgePluginError.from(e, `reading the per-VM counters ${r.names.join(', ')} of VM id ${vmId}`);
  }
  return r.collect(cells);
}

/** The Read of a VM's per-VM counter cells: its queries, and the values by alias from the cells read. */
export interface VmCounterRead {
  readonly names: readonly string[];
  readonly queries: readonly ReadQuery<CounterCell>[];
  /** The VM's counters from the cells read (other cells ignored; a cell left out of the answer is zero). */
  collect(cells: Iterable<CounterCell>): VmCounters;
}

/** The VM's cell of every per-VM counter of the contract that has one, as read queries. */
export function vmCounterRead(plugin: EdgePlugin, vmId: number): VmCounterRead {
  const sw = plugin.session;
  const names = plugin.contract.counters.filter((c) => vmId < c.size).map((c) => c.counter);
  // Answers name counters in full; the contract names them by alias.
  const alias = new Map(names.map((n) => [sw.counter(n).info.name, n]));
  return {
    names,
    queries: names.map((n) => sw.counter(n).at(vmId)),
    collect(cells) {
      const out: VmCounters = {};
      for (const cell of cells) {
        const name = alias.get(cell.counter);
        if (name !== undefined && cell.index === vmId) out[name] = { packets: cell.packets, bytes: cell.bytes };
      }
      // A target that leaves a zero cell out of its answer: zero.
      for (const n of names) out[n] ??= { packets: 0n, bytes: 0n };
      return out;
    },
  };
}

/**
 * Adds (sign 1) or takes back (sign -1) `values` at the VM's cells, all written at once; each
 * write that succeeds is added to `added`. The cells come from `known` where it has them, else
 * they are read first. Returns the cells as written (with `known`'s others).
 */
export async function addVmCounters(plugin: EdgePlugin, vmId: number, values: VmCounters, sign: 1n | -1n, added: VmCounters, known?: VmCounters): Promise<VmCounters> {
  const sw = plugin.session;
  const todo = Object.entries(values);
  const now = await Promise.all(todo.map(([name]) => known?.[name] ?? plugin.registerAccess.readCounter(name, vmId)));
  const after: VmCounters = { ...known };
  await Promise.all(
    todo.map(async ([name, v], i) => {
      // Taken back from a cell that holds less than was added (the switch reset it): 0, not an error
      // that would keep the undo from ever finishing.
      const floor = (n: bigint): bigint => (n < 0n ? 0n : n);
      const to = { packets: floor((now[i]?.packets ?? 0n) + sign * v.packets), bytes: floor((now[i]?.bytes ?? 0n) + sign * v.bytes) };
      await sw.write(sw.counter(name).modify(vmId, to));
      after[name] = to;
      addInto(added, { [name]: v }, sign);
    }),
  );
  return after;
}

/**
 * Sets the VM's cell of every per-VM counter to zero, all written at once: the VM no longer runs
 * here, and a count left behind would be added again if it came back (A→B→A doubling A's count).
 * Returns the counters zeroed. Safe to repeat.
 */
export async function zeroVmCounters(plugin: EdgePlugin, vmId: number): Promise<readonly string[]> {
  const sw = plugin.session;
  const names = plugin.contract.counters.filter((c) => vmId < c.size).map((c) => c.counter);
  if (names.length === 0) return names;
  try {
    await sw.write(names.map((n) => sw.counter(n).modify(vmId, { packets: 0n, bytes: 0n })));
  } catch (e) {
    throw EdgePluginError.from(e, `zeroing the per-VM counters ${names.join(', ')} of VM id ${vmId}`);
  }
  return names;
}

/**
 * The cells after adding `values` to `known` — when `known` has every counter of `values`, else
 * undefined (a cell must be read first: see addVmCounters).
 */
export function countersAfter(known: VmCounters, values: VmCounters): VmCounters | undefined {
  const after: VmCounters = { ...known };
  for (const [name, v] of Object.entries(values)) {
    const had = known[name];
    if (!had) return undefined;
    after[name] = { packets: had.packets + v.packets, bytes: had.bytes + v.bytes };
  }
  return after;
}

/** `into` += sign · `values`, counter by counter. */
export function addInto(into: VmCounters, values: VmCounters, sign: 1n | -1n = 1n): void {
  for (const [name, v] of Object.entries(values)) {
    const had = into[name] ?? { packets: 0n, bytes: 0n };
    into[name] = { packets: had.packets + sign * v.packets, bytes: had.bytes + sign * v.bytes };
  }
}
