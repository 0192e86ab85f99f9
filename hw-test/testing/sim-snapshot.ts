/**
 * Everything a sim switch holds, read past P4Runtime (tests only): every table's entries with
 * their direct counters, every non-zero register and counter cell, every digest configuration —
 * as one JSON string, so "state before" and "state after" compare with one equality.
 */
import type { SimSwitch } from '../../sim/index.js';

const json = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** The switch's whole forwarding state as a canonical string; `skipRegisters` (P4Info ids) are left out. */
export function snapshotSim(sim: SimSwitch, skipRegisters: ReadonlySet<number> = new Set()): string {
  const p = sim.state.pipeline();
  const st = sim.state.forwardingState();
  if (!p || !st) return 'no pipeline';
  const tables: Record<string, unknown> = {};
  for (const t of p.index.tables.values()) {
    tables[t.name] = sim.state.tableEntries(t.name).map(json).sort();
  }
  const registers: Record<string, [number, string][]> = {};
  for (const [id, arr] of st.registers) {
    if (skipRegisters.has(id)) continue;
    const cells: [number, string][] = [];
    for (let i = 0; i < arr.size; i++) {
      const v = arr.get(i);
      if (v !== 0n) cells.push([i, v.toString()]);
    }
    registers[String(id)] = cells;
  }
  const counters: Record<string, [number, string, string][]> = {};
  for (const [id, arr] of st.counters) {
    const cells: [number, string, string][] = [];
    for (let i = 0; i < arr.size; i++) {
      const c = arr.get(i);
      if (c.bytes !== 0n || c.packets !== 0n) cells.push([i, c.bytes.toString(), c.packets.toString()]);
    }
    counters[String(id)] = cells;
  }
  const digests = [...st.digestConfigs.entries()].map(([id, c]) => [id, json(c)]).sort();
  return json({ program: p.program, cookie: p.cookie, tables, registers, counters, digests });
}
