import { BehaviorSubject, Subject } from 'rxjs';
import { P4RuntimeError, createLogger, systemClock } from 'p4runtime-ts';
import type { ArbitrationState, DigestList } from 'p4runtime-ts';
import { describe, expect, it } from 'vitest';
import { readMigrationContract, slotGroup } from '../contract/index.js';
import { slotAccessDouble } from '../testing/slot-access-double.js';
import { resizedStatefulEdge } from '../testing/stateful-edge-p4info.js';
import { VmSlotIndex } from './vm-slot-index.js';

// The same program at 256 slots, read in chunks of 64: a whole-group scan is four reads.
const group = slotGroup(readMigrationContract(resizedStatefulEdge(192, 64)));

const list = (listId: bigint, entries: { slot: number; vm: number }[]): DigestList => ({ digest: 'ct_new_t', digestId: 1, listId, timestampNs: 0n, entries: entries.map((e) => ({ slot: BigInt(e.slot), vm_id: BigInt(e.vm) })) });

describe('vm slot index — gaps', () => {
  it('vm slot index — a digest list id skipped is a gap: the index is not complete until a scan started after it finishes', async () => {
    const held = new Map([[3, 7]]);
    const { access } = slotAccessDouble(group, held);
    const index = new VmSlotIndex(access, systemClock, { chunk: 64, pauseMs: 0 });
    const lists = new Subject<DigestList>();
    index.listen(lists);
    await index.reconcile();
    expect(index.status()).toEqual({ complete: true, gap: undefined, size: 1 });
    lists.next(list(4n, [{ slot: 10, vm: 7 }]));
    lists.next(list(5n, [{ slot: 11, vm: 7 }]));
    expect(index.complete).toBe(true);
    held.set(12, 7);
    lists.next(list(7n, [{ slot: 13, vm: 7 }]));
    expect(index.complete).toBe(false);
    expect(index.gap).toMatch(/list 7 came after list 5/);
    await index.reconcile();
    expect(index.status()).toMatchObject({ complete: true, gap: undefined });
    expect(index.slotsOf(7)).toEqual([3, 12]);
    index.stop();
  });

  it('vm slot index — backup, then primary again: a gap, closed by the scan primacy\'s return starts; a scan overtaken by a gap does not vouch for the index', async () => {
    const held = new Map<number, number>();
    const double = slotAccessDouble(group, held);
    const { access, reads } = double;
    const index = new VmSlotIndex(access, systemClock, { chunk: 64, pauseMs: 0 });
    const arbitration = new BehaviorSubject<ArbitrationState>({ kind: 'primary', electionId: 10n });
    index.follow(arbitration);
    let open!: () => void;
    double.gate = new Promise((r) => (open = r));
    const first = index.reconcile();
    // While the first chunk is on its way, another controller takes primary.
    arbitration.next({ kind: 'backup', electionId: 10n, primaryElectionId: 20n });
    expect(index.gap).toMatch(/backup \(primary election id 20\)/);
    open();
    double.gate = undefined;
    await first;
    expect(index.complete).toBe(false);
    expect(reads).toEqual([64]);
    // Not primary: a scan now could not vouch for the index, so none runs.
    await index.reconcile();
    expect(reads).toEqual([64]);
    held.set(40, 7);
    arbitration.next({ kind: 'disconnected', error: new P4RuntimeError('UNAVAILABLE', 'stream closed'), retrying: true });
    arbitration.next({ kind: 'primary', electionId: 10n });
    await index.reconcile(); // joins the scan primacy's return started
    expect(reads).toEqual([64, 64, 64, 64, 64]);
    expect(index.status()).toEqual({ complete: true, gap: undefined, size: 1 });
    index.stop();
  });

  it('vm slot index — awaitScan joins a scan that can vouch for the index; with none under way, or a gap, it answers at once', async () => {
    const double = slotAccessDouble(group, new Map([[3, 7]]));
    const index = new VmSlotIndex(double.access, systemClock, { chunk: 64, pauseMs: 0 });
    const arbitration = new BehaviorSubject<ArbitrationState>({ kind: 'primary', electionId: 10n });
    index.follow(arbitration);
    expect(await index.awaitScan({})).toBe(false);
    expect(double.reads).toEqual([]);
    let open!: () => void;
    double.gate = new Promise((r) => (open = r));
    const scan = index.reconcile();
    let joined: boolean | undefined;
    const waiting = index.awaitScan({}).then((c) => (joined = c));
    await new Promise((r) => setTimeout(r, 0));
    expect(joined).toBeUndefined();
    open();
    double.gate = undefined;
    await Promise.all([scan, waiting]);
    expect(joined).toBe(true);
    expect(double.reads).toEqual([64, 64, 64, 64]);
    arbitration.next({ kind: 'backup', electionId: 10n, primaryElectionId: 20n });
    expect(await index.awaitScan({})).toBe(false);
    index.stop();
  });

  it('vm slot index — a digest heard while a scan chunk is read stands: the older read does not forget the new flow', async () => {
    const held = new Map<number, number>();
    const double = slotAccessDouble(group, held);
    const { access } = double;
    const index = new VmSlotIndex(access, systemClock, { chunk: 256, pauseMs: 0 });
    const lists = new Subject<DigestList>();
    index.listen(lists);
    let open!: () => void;
    double.gate = new Promise((r) => (open = r));
    const scan = index.reconcile();
    // The chunk was read empty; the flow starts after, and its digest arrives before the answer.
    lists.next(list(1n, [{ slot: 5, vm: 7 }]));
    open();
    await scan;
    expect(index.complete).toBe(true);
    expect(index.slotsOf(7)).toEqual([5]);
    index.stop();
  });

  it('vm slot index — the plugin\'s session came back: after a switch restart it starts over with a gap (no scan while the plugin is degraded); serving again, a scan started then closes it', async () => {
    const held = new Map([[3, 7]]);
    const double = slotAccessDouble(group, held);
    const logs: { level: string; msg: string }[] = [];
    const index = new VmSlotIndex(double.access, systemClock, { chunk: 64, pauseMs: 0 }, createLogger({ level: 'debug', sink: (r) => logs.push({ level: String(r['level']), msg: String(r['msg']) }) }));
    index.listen(new Subject<DigestList>());
    await index.reconcile();
    expect(index.status()).toEqual({ complete: true, gap: undefined, size: 1 });
    // The switch restarted empty and a digest could not be configured again: nothing it knew stands.
    held.clear();
    const reads = double.reads.length;
    index.sessionRestored({ switchRestarted: true, serving: false, reason: 'configuring digest \'ct_new_t\': refused' });
    expect(index.status()).toMatchObject({ complete: false, size: 0, gap: expect.stringMatching(/switch restarted/) });
    expect(double.reads.length).toBe(reads);
    held.set(9, 7);
    index.sessionRestored({ switchRestarted: false, serving: true, reason: undefined });
    await index.reconcile(); // joins the scan the restoration started
    expect(index.status()).toEqual({ complete: true, gap: undefined, size: 1 });
    expect(index.slotsOf(7)).toEqual([9]);
    // The operator reads when the re-scan started and that the index is whole again (walkthrough 23: neither was logged).
    await new Promise((r) => setImmediate(r));
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['slot index: re-scanning the slot group now that the plugin serves again', 'slot index: whole again after the re-scan']));
    index.stop();
  });
});
