import { createLogger, systemClock } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { readMigrationContract, slotGroup } from '../contract/index.js';
import { VmSlotIndex } from '../state-access/index.js';
import { slotAccessDouble } from '../testing/slot-access-double.js';
import { resizedStatefulEdge } from '../testing/stateful-edge-p4info.js';
import type { Migration } from './migration-record.js';
import { vmSlots } from './source-batch.js';

// The same program at 256 slots: a whole-group scan stays small.
const group = slotGroup(readMigrationContract(resizedStatefulEdge(192, 64)));

/** VM 7 holds slots 3 and 40, VM 8 slot 9; the index knows only slot 3 (slot 40's digest went to another primary). */
function rig(trustIndex: boolean) {
  const logs: Record<string, unknown>[] = [];
  const double = slotAccessDouble(group, new Map([[3, 7], [40, 7], [9, 8]]));
  const index = new VmSlotIndex(double.access, systemClock, { chunk: 64, pauseMs: 0 }, createLogger({ level: 'info', sink: (r) => logs.push({ ...r }) }));
  index.note(3, 7);
  const side = { access: double.access, group, index, name: 'src', trustIndex };
  const x = (frozen: boolean): Migration => ({ vmId: 7, exported: new Map(), frozen }) as unknown as Migration;
  return { double, index, side, x, logs };
}

describe('source batch — the VM\'s slots and the slot index\'s gaps', () => {
  it('source batch — snapshotSource index, no gap: the indexed slots only, no scan', async () => {
    const { double, side, x } = rig(true);
    expect((await vmSlots(side, x(false))).map((r) => r.index)).toEqual([3]);
    expect(double.reads).toEqual([1]);
  });

  it('source batch — snapshotSource index after a gap: scans the group first, warning of the gap, and finds every slot; the index is whole again', async () => {
    const { double, index, side, x, logs } = rig(true);
    index.noteGap('the P4Runtime session became backup (primary election id 20)');
    expect((await vmSlots(side, x(false))).map((r) => r.index)).toEqual([3, 40]);
    expect(double.reads).toEqual([64, 64, 64, 64, 2]);
    expect(index.status()).toEqual({ complete: true, gap: undefined, size: 3 });
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/has a gap: scanning the slot group/) as unknown, gap: expect.stringMatching(/backup/) as unknown, vmId: 7 }));
  });

  it('source batch — a plugin just started, its background scan under way: the read waits for that scan and reads through the index — the group read once, not twice', async () => {
    const { double, index, side, x, logs } = rig(false);
    let open!: () => void;
    double.gate = new Promise((r) => (open = r));
    const scan = index.reconcile();
    const read = vmSlots(side, x(false));
    await new Promise((r) => setTimeout(r, 0));
    open();
    double.gate = undefined;
    await scan;
    expect((await read).map((r) => r.index)).toEqual([3, 40]);
    // The background scan's four chunks, then the VM's indexed slots: no filtered scan of the group beside it.
    expect(double.reads).toEqual([64, 64, 64, 64, 2]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'info', msg: expect.stringMatching(/scan of the slot group is under way; the read waits for it/) as unknown, vmId: 7 }));
  });

  it('source batch — never reconciled and no scan under way (reconcile off): a filtered scan of the group, as before', async () => {
    const { double, side, x } = rig(false);
    expect((await vmSlots(side, x(false))).map((r) => r.index)).toEqual([3, 40]);
    expect(double.reads).toEqual([group.slots]);
  });

  it('source batch — frozen (the final delta\'s overflow) after a gap: a filtered scan at once, no paced re-scan of the group', async () => {
    const { double, index, side, x, logs } = rig(false);
    index.noteGap('the P4Runtime stream broke');
    expect((await vmSlots(side, x(true))).map((r) => r.index)).toEqual([3, 40]);
    expect(double.reads).toEqual([group.slots]);
    expect(index.gap).toBe('the P4Runtime stream broke');
    expect(logs).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/filtered scan instead/) as unknown }));
  });
});
