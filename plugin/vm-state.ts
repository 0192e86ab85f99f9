/**
 * One VM's operational state on one switch, as the contract defines it: its slots (decoded to
 * named fields), its entries in migratable tables (with direct counters and idle timeouts) and
 * its per-VM counter cells. Slots come through the RegisterAccess backend, tables and counters
 * through P4Runtime, so the result is the same whichever backend serves the device.
 */
import { parseValue } from 'p4runtime-ts';
import type { MatchValue, P4Switch, TableEntryRead } from 'p4runtime-ts';
import { decodeSlotFields } from './contract/index.js';
import type { MigrationContract, SlotGroupSpec, VmCounterSpec } from './contract/index.js';
import { EdgePluginError } from './errors.js';
import type { RegisterAccess, SlotSelection } from './state-access/index.js';

/** One of the VM's slots. */
export interface VmSlotState {
  readonly slot: number;
  /** Every field of the slot by @migrate_layout name. */
  readonly fields: Readonly<Record<string, bigint>>;
}

/** One of the VM's entries in a migratable table. */
export interface VmTableEntryState {
  /** Table alias. */
  readonly table: string;
  readonly match: Readonly<Record<string, MatchValue>>;
  /** Action alias. */
  readonly action: string | undefined;
  readonly params: Readonly<Record<string, bigint>>;
  readonly priority: number;
  readonly idleTimeoutNs: bigint;
  /** The entry's direct counter, when the table has one. */
  readonly counter: { readonly bytes: bigint; readonly packets: bigint } | undefined;
}

/** One of the VM's per-VM counter cells. */
export interface VmCounterState {
  readonly counter: string;
  readonly index: number;
  readonly bytes: bigint;
  readonly packets: bigint;
}

/** Everything the switch holds for one VM. */
export interface VmState {
  readonly vmId: number;
  readonly group: string;
  readonly slots: readonly VmSlotState[];
  readonly tableEntries: readonly VmTableEntryState[];
  readonly counters: readonly VmCounterState[];
}

/** Options of a VM state read. */
export interface ReadVmStateOptions {
  /** Which slots to look in (default: all). A caller that knows where the VM's flows can be narrows the scan. */
  readonly slots?: SlotSelection;
}

/** What reading VM state needs. */
export interface VmStateSource {
  readonly sw: P4Switch;
  readonly contract: MigrationContract;
  readonly group: SlotGroupSpec;
  readonly access: RegisterAccess;
}

/** The VM id of a VM given by id, or by address through the contract's VM map. */
export async function resolveVmId(src: VmStateSource, vm: number | bigint | string): Promise<number> {
  const max = 2 ** src.group.vm.bits;
  if (typeof vm === 'number' || typeof vm === 'bigint') {
    const id = Number(vm);
    if (!Number.isSafeInteger(id) || id < 0 || id >= max) throw new EdgePluginError('VALUE_RANGE', `VM id ${String(vm)} is outside 0..${max - 1} (field '${src.group.vm.name}' is ${src.group.vm.bits} bits)`);
    return id;
  }
  const map = src.contract.vmMap;
  if (!map) {
    throw new EdgePluginError('CONTRACT_MISSING', `VM '${vm}' is given by address, but program '${src.contract.program}' declares no VM map; pass the VM id, or add @migrate_vm_map to the table mapping addresses to ids`, { annotation: '@migrate_vm_map' });
  }
  let want: bigint;
  try {
    want = parseValue(vm, map.keyBits, `VM address for key '${map.keyField}' of table '${map.table}'`);
  } catch (e) {
    throw new EdgePluginError('VALUE_RANGE', `VM '${vm}' is neither a VM id nor an address that fits key '${map.keyField}' (${map.keyBits} bits) of table '${map.table}'`, { cause: e });
  }
  // Read the whole (small) map rather than one key: targets disagree on how a read of a missing
  // key fails (NOT_FOUND, or UNKNOWN with a per-request error), an empty answer is unambiguous.
  let entries: TableEntryRead[];
  try {
    entries = await src.sw.readAll(src.sw.table(map.table).all());
  } catch (e) {
    throw EdgePluginError.from(e, `looking up VM '${vm}' in table '${map.table}'`);
  }
  entries = entries.filter((e) => {
    const k = e.match[map.keyField];
    return k !== undefined && 'value' in k && k.value === want;
  });
  const id = entries[0]?.params[map.vmIdParam];
  if (id === undefined) throw new EdgePluginError('VM_UNKNOWN', `VM '${vm}' is not in table '${map.table}' on this switch; your controller lays the VM out there (its address → its id on this switch and its port) before carryover can move it`);
  return Number(id);
}

/**
 * Refuses a VM whose id has no cell in a per-VM counter: its usage could not be read nor moved,
 * and the data plane has no cell to count it in.
 */
export function checkVmCounterRange(counters: readonly VmCounterSpec[], vmId: number, vm: number | bigint | string = vmId): void {
  for (const c of counters) {
    if (vmId >= c.size) {
      throw new EdgePluginError(
        'VALUE_RANGE',
        `VM '${vm}' has id ${vmId}, past per-VM counter '${c.counter}' (size ${c.size}, ids 0..${c.size - 1}): its counters cannot be kept or migrated; give the VM an id below ${c.size} in the VM map, or size the counter for more VMs in the P4 program`,
      );
    }
  }
}

function matchKey(m: Readonly<Record<string, MatchValue>>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${JSON.stringify(m[k], (_x, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`)
    .join(',');
}

/**
 * Reads one VM's state.
 * @example
 * const s = await readVmState(src, '10.0.0.5');
 * s.slots.length; s.tableEntries[0]?.counter?.packets;
 */
export async function readVmState(src: VmStateSource, vm: number | bigint | string, options: ReadVmStateOptions = {}): Promise<VmState> {
  const { sw, contract, group, access } = src;
  const vmId = await resolveVmId(src, vm);
  // The collision counter is indexed by VM id too (it counts the VM's untracked flows).
  const collision = group.collisionCounter !== undefined ? sw.schema?.counter(group.collisionCounter) : undefined;
  checkVmCounterRange([...contract.counters, ...(collision ? [{ counter: collision.alias, counterId: collision.id, size: collision.size, unit: collision.unit }] : [])], vmId, vm);
  const records = await access.readSlots(options.slots ?? 'all', { occupiedOnly: true, where: { [group.vm.name]: BigInt(vmId) } });
  const slots = records.map((r) => ({ slot: r.index, fields: decodeSlotFields(group, r.words) }));

  const tableEntries: VmTableEntryState[] = [];
  for (const t of contract.tables) {
    let read: TableEntryRead[];
    try {
      read = await sw.readAll(sw.table(t.table).all({ withCounters: t.directCounter !== undefined }));
    } catch (e) {
      throw EdgePluginError.from(e, `reading table '${t.table}'`);
    }
    const mine = read.filter((e) => {
      const k = e.match[t.vmKeyField];
      return k !== undefined && 'value' in k && k.value === BigInt(vmId);
    });
    for (const e of mine) {
      tableEntries.push({
        table: t.table,
        match: e.match,
        action: e.action === undefined ? undefined : (sw.schema?.action(e.action).alias ?? e.action),
        params: e.params,
        priority: e.priority,
        idleTimeoutNs: e.idleTimeoutNs,
        counter: e.counter ? { bytes: e.counter.bytes, packets: e.counter.packets } : undefined,
      });
    }
  }
  tableEntries.sort((a, b) => (a.table === b.table ? (matchKey(a.match) < matchKey(b.match) ? -1 : 1) : a.table < b.table ? -1 : 1));

  const counters: VmCounterState[] = [];
  for (const c of contract.counters) {
    const r = await access.readCounter(c.counter, vmId);
    counters.push({ counter: c.counter, index: vmId, bytes: r.bytes, packets: r.packets });
  }
  return { vmId, group: group.name, slots, tableEntries, counters };
}
