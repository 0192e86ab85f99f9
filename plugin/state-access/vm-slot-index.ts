/**
 * Per-VM slot index (p4/README.md "New-flow notifications"): which slots hold which VM's flows,
 * so the first copy of a VM's state reads that VM's slots only — O(its flows), not a scan of the
 * whole group. The index learns from the data plane's digests (`@migrate_new_flow` for untracked
 * VMs, the delta digest for tracked ones: both carry slot and vm_id) and is reconciled by a
 * background scan in bounded chunks, pausing between chunks so the pipeline serves traffic and
 * other requests in between. Entries are hints: a read checks each slot's VM and drops stale ones.
 */
import type { Clock, DigestList, P4Switch } from 'p4runtime-ts';
import type { Observable, Subscription } from 'rxjs';
import { merge } from 'rxjs';
import type { SlotGroupSpec } from '../contract/index.js';
import { fieldValue } from '../contract/index.js';
import { EdgePluginError, hasP4RuntimeCode } from '../errors.js';
import type { RegisterAccess, SlotRecord } from './register-access.js';

/** Knobs of the background reconciliation. */
export interface VmSlotIndexOptions {
  /** Slots read per chunk. */
  readonly chunk: number;
  /** Pause between chunks (ms on the index's clock): the pipeline serves traffic meanwhile. */
  readonly pauseMs: number;
}

/** Defaults: 4096 slots per chunk (≈0.2 s of in-band requests on BMv2), 10 ms between chunks. */
export const DEFAULT_VM_SLOT_INDEX_OPTIONS: VmSlotIndexOptions = Object.freeze({ chunk: 4096, pauseMs: 10 });

/** A VM's slots as read through the index. */
export interface VmSlots {
  readonly vmId: number;
  readonly slots: readonly SlotRecord[];
  /** True when a full reconciliation finished since the index started listening: nothing is missing. */
  readonly complete: boolean;
}

/** The slot → VM index of one slot group. */
export class VmSlotIndex {
  private readonly owner = new Map<number, number>();
  private readonly byVm = new Map<number, Set<number>>();
  private sub: Subscription | undefined;
  private reconciled = false;
  private stopped = false;

  constructor(
    private readonly access: RegisterAccess,
    private readonly clock: Clock,
    private readonly options: VmSlotIndexOptions = DEFAULT_VM_SLOT_INDEX_OPTIONS,
  ) {}

  /** Learns from digest lists carrying `slot` and `vm_id` members. */
  listen(lists$: Observable<DigestList>): void {
    this.sub?.unsubscribe();
    this.sub = lists$.subscribe((list) => {
      for (const e of list.entries) if (e.slot !== undefined && e.vm_id !== undefined) this.note(Number(e.slot), Number(e.vm_id));
    });
  }

  /** Records that `slot` now holds a flow of `vmId`. */
  note(slot: number, vmId: number): void {
    const prev = this.owner.get(slot);
    if (prev === vmId) return;
    if (prev !== undefined) this.byVm.get(prev)?.delete(slot);
    this.owner.set(slot, vmId);
    let set = this.byVm.get(vmId);
    if (!set) this.byVm.set(vmId, (set = new Set()));
    set.add(slot);
  }

  /** Records that `slot` holds no flow now (cleared by a migration: no digest tells). */
  forget(slot: number): void {
    const prev = this.owner.get(slot);
    if (prev === undefined) return;
    this.byVm.get(prev)?.delete(slot);
    this.owner.delete(slot);
  }

  /** Whether a full reconciliation has finished (only then is a VM's slot list known complete). */
  get complete(): boolean {
    return this.reconciled;
  }

  /** Slots the index knows to be occupied. */
  get size(): number {
    return this.owner.size;
  }

  /** The slots indexed for `vmId`, ascending. */
  slotsOf(vmId: number): number[] {
    return [...(this.byVm.get(vmId) ?? [])].sort((a, b) => a - b);
  }

  /**
   * Scans the whole group once, `chunk` slots at a time with a pause in between, setting every
   * slot's owner from what it holds. Call it after listen(): what changes during the scan comes
   * through the digests. Resolves when done, or early when stop() is called.
   */
  async reconcile(): Promise<void> {
    const g = this.access.group;
    const vmOf = (words: readonly bigint[]): number => Number(fieldValue(words, g.vm));
    for (let start = 0; start < g.slots && !this.stopped; start += this.options.chunk) {
      const count = Math.min(this.options.chunk, g.slots - start);
      const occupied = await this.access.readSlots({ ranges: [{ start, count }] }, { occupiedOnly: true });
      const held = new Set(occupied.map((r) => r.index));
      for (let i = start; i < start + count; i++) if (!held.has(i)) this.forget(i);
      for (const r of occupied) this.note(r.index, vmOf(r.words));
      if (this.options.pauseMs > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.options.pauseMs));
    }
    if (!this.stopped) this.reconciled = true;
  }

  /**
   * Reads `vmId`'s slots through the index: its indexed slots only, keeping those that still hold
   * a flow of this VM (stale hints are dropped from the index). Cost: one slot read per indexed slot.
   */
  async readVm(vmId: number): Promise<VmSlots> {
    const g = this.access.group;
    const indices = this.slotsOf(vmId);
    const found = indices.length === 0 ? [] : await this.access.readSlots({ indices }, { occupiedOnly: true });
    const mine: SlotRecord[] = [];
    const seen = new Set<number>();
    for (const r of found) {
      seen.add(r.index);
      const owner = Number(fieldValue(r.words, g.vm));
      if (owner === vmId) mine.push(r);
      else this.note(r.index, owner);
    }
    for (const i of indices) if (!seen.has(i)) this.forget(i);
    return { vmId, slots: mine, complete: this.reconciled };
  }

  /** Stops listening and any reconciliation in progress. */
  stop(): void {
    this.stopped = true;
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}

/**
 * Configures the group's new-flow and delta digests on `sw` (INSERT, ALREADY_EXISTS tolerated)
 * and returns their lists as one stream for VmSlotIndex.listen.
 */
export async function slotNoticeDigests(sw: P4Switch, group: SlotGroupSpec, config: { readonly maxListSize: number; readonly maxTimeoutNs: bigint; readonly ackTimeoutNs: bigint }): Promise<Observable<DigestList>> {
  const names = [group.newFlow?.digest, group.delta?.digest].filter((n): n is string => n !== undefined);
  if (names.length === 0) throw new EdgePluginError('CONTRACT_MISSING', `slot group '${group.name}' declares neither @migrate_new_flow nor @migrate_delta: nothing tells the controller which VM a slot belongs to`, { annotation: '@migrate_new_flow' });
  for (const name of names) {
    try {
      await sw.write(sw.digest(name).configure(config));
    } catch (e) {
      // A daemon restarted on the same switch finds its digests configured: every update says ALREADY_EXISTS.
      if (!hasP4RuntimeCode(e, 'ALREADY_EXISTS')) throw EdgePluginError.from(e, `configuring digest '${name}'`);
    }
  }
  return merge(...names.map((n) => sw.digests$(n)));
}
