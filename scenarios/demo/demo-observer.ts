/**
 * How the demo looks at the switches to judge the migration — not the product's path: slots are
 * counted straight from the sim's registers (no switch request counted), counters and pinholes
 * read over P4Runtime / the plugin's register access like any client would.
 */
import type { P4Switch } from 'p4runtime-ts';
import type { SlotGroupSpec } from '../../plugin/index.js';
import type { SimSwitch } from '../../sim/index.js';
import type { EdgeRig } from '../edge-rig.js';

/** Counter values by counter name. */
export type CounterSet = Record<string, { packets: bigint; bytes: bigint }>;

const bits = (w: bigint, lsb: number, n: number): bigint => (w >> BigInt(lsb)) & ((1n << BigInt(n)) - 1n);

/** The VM's occupied slots on a sim (read in process). */
export function countVmSlots(sim: SimSwitch, g: SlotGroupSpec, vmId: number): number {
  const vmReg = g.words[g.vm.word]?.register ?? '';
  const validReg = g.words[g.valid.word]?.register ?? '';
  let n = 0;
  for (let i = 0; i < g.slots; i++) {
    if (bits(sim.state.registerRead(vmReg, i), g.vm.lsb, g.vm.bits) !== BigInt(vmId)) continue;
    if (bits(sim.state.registerRead(validReg, i), g.valid.lsb, g.valid.bits) !== 0n) n++;
  }
  return n;
}

/** The VM's per-VM counters on a switch, through its plugin's register access. */
export async function readVmCounters(rig: EdgeRig, vmId: number): Promise<CounterSet> {
  const out: CounterSet = {};
  for (const c of rig.plugin.contract.counters) {
    const r = await rig.plugin.registerAccess.readCounter(c.counter, vmId);
    out[c.counter] = { packets: r.packets, bytes: r.bytes };
  }
  return out;
}

/** Adds counter sets name by name. */
export function sumCounters(sets: readonly CounterSet[]): CounterSet {
  const out: CounterSet = {};
  for (const s of sets) for (const [k, v] of Object.entries(s)) out[k] = { packets: (out[k]?.packets ?? 0n) + v.packets, bytes: (out[k]?.bytes ?? 0n) + v.bytes };
  return out;
}

/** The VM's dyn_acl entries: key (without the VM id, which differs per switch) → direct counter. */
export async function readVmPinholes(sw: P4Switch, vmId: number): Promise<Map<string, { packets: bigint; bytes: bigint }>> {
  const out = new Map<string, { packets: bigint; bytes: bigint }>();
  for (const e of await sw.readAll(sw.table('dyn_acl').all({ withCounters: true }))) {
    const v = (name: string): bigint => {
      const m = e.match[name];
      return m && 'value' in m ? m.value : -1n;
    };
    if (v('vm_id') !== BigInt(vmId)) continue;
    const key = Object.keys(e.match).filter((k) => k !== 'vm_id').sort().map((k) => `${k}=${v(k)}`).join(',');
    out.set(key, { packets: e.counter?.packets ?? 0n, bytes: e.counter?.bytes ?? 0n });
  }
  return out;
}
