/**
 * Per-VM slot index (p4/README.md "New-flow notifications"): which slots hold which VM's flows,
 * so the first copy of a VM's state reads that VM's slots only — O(its flows), not a scan of the
 * whole group. The index learns from the data plane's digests (`@migrate_new_flow` for untracked
 * VMs, the delta digest for tracked ones: both carry slot and vm_id) and is reconciled by a
 * background scan in bounded chunks, pausing between chunks so the pipeline serves traffic and
 * other requests in between. Entries are hints: a read checks each slot's VM and drops stale ones.
 *
 * Digests reach only the primary client (P4Runtime; BMv2/PI has one primary per device), so the
 * index knows when it may have missed some — a gap: its session was backup or disconnected (follow),
 * or a digest's list ids skipped (lists lost or not decoded). A gap makes the index incomplete until
 * a scan started after it, with digests arriving throughout, finishes; primacy's return starts one.
 */
import { silentLogger } from 'p4runtime-ts';
import type { ArbitrationState, Clock, DigestConfigSpec, DigestList, Logger, P4Switch } from 'p4runtime-ts';
import type { Observable, Subscription } from 'rxjs';
import { merge } from 'rxjs';
import type { SlotGroupSpec } from '../contract/index.js';
import { fieldValue } from '../contract/index.js';
import { writeDigestConfig } from '../digest-config.js';
import { EdgePluginError } from '../errors.js';
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
  /** True when a full reconciliation finished since the index started listening, with no gap since: nothing is missing. */
  readonly complete: boolean;
}

/** What a session's arbitration state means for digests: undefined while they reach it (primary), else why not. */
function deafness(a: ArbitrationState): string | undefined {
  switch (a.kind) {
    case 'primary':
      return undefined;
    case 'backup':
      return `the P4Runtime session became backup (primary election id ${a.primaryElectionId === undefined ? 'none' : String(a.primaryElectionId)}): digests went to the primary`;
    case 'connecting':
      return 'the P4Runtime session was re-connecting: digests meanwhile went to no one or another primary';
    case 'disconnected':
      return `the P4Runtime stream broke (${a.error.message}): digests meanwhile went to no one or another primary`;
  }
}

/** The slot → VM index of one slot group. */
export class VmSlotIndex {
  private readonly owner = new Map<number, number>();
  private readonly byVm = new Map<number, Set<number>>();
  private sub: Subscription | undefined;
  private arbitration: Subscription | undefined;
  private reconciled = false;
  private stopped = false;
  /** Why the index may lack slots (the first gap since it was last whole); undefined: no known gap. */
  private gapReason: string | undefined;
  /** Gaps so far: a scan during which one opened cannot vouch for the index. */
  private gaps = 0;
  /** Whether digests reach this client now (its session is primary, as far as follow() knows). */
  private hearing = true;
  /** The scan under way, and the gap count it started at. */
  private scan: { readonly gaps: number; readonly done: Promise<void> } | undefined;
  /** The last list id heard per digest id: a list id skipped is a list this client never got. */
  private readonly lastList = new Map<number, bigint>();
  /** Per scan chunk in flight, the slots digests told of meanwhile: newer than what the chunk read. */
  private readonly heardDuringRead = new Set<Set<number>>();
  /** Told of every slot a new-flow digest names (onNewFlow). */
  private readonly newFlowListeners = new Set<(slot: number, vmId: number) => void>();

  constructor(
    private readonly access: RegisterAccess,
    private readonly clock: Clock,
    private readonly options: VmSlotIndexOptions = DEFAULT_VM_SLOT_INDEX_OPTIONS,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Learns from digest lists carrying `slot` and `vm_id` members; a list id skipped is a gap. */
  listen(lists$: Observable<DigestList>): void {
    this.sub?.unsubscribe();
    this.sub = lists$.subscribe({
      next: (list) => {
        const last = this.lastList.get(list.digestId);
        this.lastList.set(list.digestId, list.listId);
        if (last !== undefined && list.listId !== last + 1n) this.noteGap(`digest '${list.digest}' list ${String(list.listId)} came after list ${String(last)}: the lists between never reached this client`);
        const newFlows = this.newFlowListeners.size > 0 && list.digest === this.access.group.newFlow?.digest;
        for (const e of list.entries) {
          if (e.slot === undefined || e.vm_id === undefined) continue;
          this.note(Number(e.slot), Number(e.vm_id));
          for (const heard of this.heardDuringRead) heard.add(Number(e.slot));
          if (newFlows) for (const l of this.newFlowListeners) l(Number(e.slot), Number(e.vm_id));
        }
      },
      // The session closed: nothing more is heard (quietly: the plugin is stopping).
      complete: () => this.noteGap('the digest stream ended (the P4Runtime session closed)', true),
    });
  }

  /**
   * Follows the session's arbitration: while it is not primary, digests go elsewhere (a gap); when
   * primacy returns after a gap, a scan starts in the background so that a snapshot finds the index
   * whole rather than waiting for one.
   */
  follow(arbitration$: Observable<ArbitrationState>): void {
    this.arbitration?.unsubscribe();
    this.arbitration = arbitration$.subscribe((a) => {
      const why = deafness(a);
      if (why !== undefined) {
        if (!this.hearing) return;
        this.hearing = false;
        // The first list after primacy returns skips the ids sent meanwhile: the same gap, not another.
        this.lastList.clear();
        // A session that will not reconnect is being closed (or failed, which the plugin reports).
        this.noteGap(why, a.kind === 'disconnected' && !a.retrying);
        return;
      }
      if (this.hearing) return;
      this.hearing = true;
      if (this.gapReason !== undefined && !this.stopped) {
        this.logger.info('slot index: primacy is back; re-scanning the slot group in the background to close the gap', { gap: this.gapReason });
        const gaps = this.gaps;
        this.reconcile().catch((e: unknown) => {
          const error = e instanceof Error ? e.message : String(e);
          // A newer gap (the switch found restarted and its pipeline pushed) overtook it: the scan
          // started after that one replaces it, so this is no failure to report (walkthrough 21).
          if (this.gaps !== gaps) this.logger.info('slot index: a re-scan was overtaken by a newer gap (the switch restarted meanwhile); the re-scan started after it replaces it', { error });
          // It may fail before the plugin has found the switch restarted and pushed its pipeline back
          // (walkthrough 23: blamed on the pipeline): the plugin's check of the switch comes next.
          else this.logger.warn('slot index: the background re-scan after a gap failed; it runs again once the plugin has checked the switch (a restarted switch gets its pipeline first), or the next snapshot scans', { error });
        });
      }
    });
  }

  /** Records that digests may have been missed: the index is not complete until a scan started after this. */
  noteGap(reason: string, quiet = false): void {
    this.gaps++;
    if (this.gapReason !== undefined) return;
    this.gapReason = reason;
    if (!quiet && !this.stopped) this.logger.warn('slot index may miss flows: it is no longer trusted until the slot group is scanned again', { gap: reason });
  }

  /**
   * The plugin's session came back and its digests were configured again (`serving`), or could not
   * be. Digests heard before prove nothing now: a restarted switch lost every flow (the index
   * starts over) and told of none until its digests were configured again, possibly after a scan
   * started on primacy's return had read the slots. So: a gap, and a scan started now, once serving.
   */
  sessionRestored(e: { readonly switchRestarted: boolean; readonly serving: boolean; readonly reason: string | undefined }): void {
    if (this.stopped) return;
    if (e.switchRestarted) {
      this.owner.clear();
      this.byVm.clear();
      this.reconciled = false;
      // The restart, not the stream's break before it, is the reason to give.
      this.gapReason = undefined;
    }
    this.noteGap(e.switchRestarted ? 'the switch restarted: it lost every flow and sent no digest until the plugin configured them again' : 'the P4Runtime session came back: the digests were configured again (the switch may have restarted)');
    if (!e.serving) {
      this.logger.warn('slot index not trusted: the plugin is degraded (its digests may not be configured); snapshots scan the slot group', { reason: e.reason });
      return;
    }
    this.logger.info('slot index: re-scanning the slot group now that the plugin serves again', { gap: this.gapReason });
    const gaps = this.gaps;
    this.reconcile().then(
      () => {
        // Said when it is whole again: the operator otherwise sees only the gap (walkthrough 23).
        if (this.complete && this.gaps === gaps) this.logger.info('slot index: whole again after the re-scan', { slots: this.owner.size, vms: this.byVm.size });
      },
      (err: unknown) => this.logger.warn('slot index: the re-scan after the session came back failed; the next snapshot scans instead', { error: err instanceof Error ? err.message : String(err) }),
    );
  }

  /**
   * Calls `listener` with each slot a new-flow digest names, as it arrives: a flow opened before its
   * VM's tracking began is told of only so, and BMv2 delivers such a digest 200–330 ms late
   * (edge-device-api.ts adds it to the VM's migration). Returns the unsubscribe.
   */
  onNewFlow(listener: (slot: number, vmId: number) => void): () => void {
    this.newFlowListeners.add(listener);
    return () => this.newFlowListeners.delete(listener);
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

  /** Whether a full reconciliation has finished with no gap since (only then is a VM's slot list known complete). */
  get complete(): boolean {
    return this.reconciled && this.gapReason === undefined;
  }

  /** Why the index may miss slots (digests it did not get since it was last whole), or undefined. */
  get gap(): string | undefined {
    return this.gapReason;
  }

  /** Slots the index knows to be occupied. */
  get size(): number {
    return this.owner.size;
  }

  /** Completeness, gap and size at once. */
  status(): SlotIndexStatus {
    return { complete: this.complete, gap: this.gapReason, size: this.owner.size };
  }

  /** The slots indexed for `vmId`, ascending. */
  slotsOf(vmId: number): number[] {
    return [...(this.byVm.get(vmId) ?? [])].sort((a, b) => a - b);
  }

  /**
   * Scans the whole group once, `chunk` slots at a time with a pause in between, setting every
   * slot's owner from what it holds. Call it after listen(): what changes during the scan comes
   * through the digests. A scan finished with no gap since it started makes the index complete and
   * closes an earlier gap. Joins the scan under way unless a gap overtook it (that one stops early).
   * Resolves when done, at once while digests do not reach this client, or early on stop().
   */
  reconcile(): Promise<void> {
    if (this.scan?.gaps === this.gaps) return this.scan.done;
    // A scan now could not vouch for the index: what changes meanwhile is told to another client.
    if (!this.hearing) return Promise.resolve();
    const gaps = this.gaps;
    const done = this.scanAll(gaps).finally(() => {
      if (this.scan?.done === done) this.scan = undefined;
    });
    this.scan = { gaps, done };
    return done;
  }

  /**
   * Before a read that trusts the index: after a gap, logs why and scans (or joins the scan under
   * way) unless `scan` is false. Resolves whether the index is complete then (false: a gap again
   * meanwhile, or no scan: the caller scans for its VM instead).
   */
  async repair(fields: Readonly<Record<string, unknown>>, scan = true): Promise<boolean> {
    if (this.gapReason === undefined) return this.complete;
    this.logger.warn(`slot index has a gap: ${scan ? 'scanning the slot group before reading through it' : 'reading the VM\'s slots by a filtered scan instead'}`, { ...fields, gap: this.gapReason });
    if (scan) await this.reconcile();
    return this.complete;
  }

  /**
   * Before a read that would scan the group for one VM because the index was never reconciled (a
   * plugin daemon just started, its background scan under way): waits for that scan, which can
   * vouch for the index, rather than have the caller scan the whole group a second time beside it.
   * Resolves whether the index is complete then; at once when there is a gap (repair's job) or no
   * such scan runs (the caller scans for its VM).
   */
  async awaitScan(fields: Readonly<Record<string, unknown>>): Promise<boolean> {
    const scan = this.scan;
    if (this.complete || this.gapReason !== undefined || scan?.gaps !== this.gaps) return this.complete;
    this.logger.info('slot index: its scan of the slot group is under way; the read waits for it rather than scanning the group again', fields);
    await scan.done;
    return this.complete;
  }

  private async scanAll(gaps: number): Promise<void> {
    const g = this.access.group;
    const vmOf = (words: readonly bigint[]): number => Number(fieldValue(words, g.vm));
    const overtaken = (): boolean => this.stopped || this.gaps !== gaps;
    for (let start = 0; start < g.slots && !overtaken(); start += this.options.chunk) {
      const count = Math.min(this.options.chunk, g.slots - start);
      // A digest heard while the chunk is read tells of a newer state than the read: it stands.
      const heard = new Set<number>();
      this.heardDuringRead.add(heard);
      let occupied: SlotRecord[];
      try {
        occupied = await this.access.readSlots({ ranges: [{ start, count }] }, { occupiedOnly: true });
      } finally {
        this.heardDuringRead.delete(heard);
      }
      const held = new Set(occupied.map((r) => r.index));
      for (let i = start; i < start + count; i++) if (!held.has(i) && !heard.has(i)) this.forget(i);
      for (const r of occupied) if (!heard.has(r.index)) this.note(r.index, vmOf(r.words));
      if (this.options.pauseMs > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.options.pauseMs));
    }
    if (overtaken()) return;
    this.reconciled = true;
    this.gapReason = undefined;
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
    return { vmId, slots: mine, complete: this.complete };
  }

  /** Stops listening, following arbitration and any reconciliation in progress. */
  stop(): void {
    this.stopped = true;
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.arbitration?.unsubscribe();
    this.arbitration = undefined;
  }
}

/** Where a slot index stands, for health and tests. */
export interface SlotIndexStatus {
  /** Reconciled with no gap since: a VM's slots read through it are all of them. */
  readonly complete: boolean;
  /** Why it may miss slots until the next scan finishes, or undefined. */
  readonly gap: string | undefined;
  /** Slots it knows to be occupied. */
  readonly size: number;
}

/** Writes one digest's configuration; the plugin's configureDigest, which writes it again after a switch restart. */
export type ConfigureDigest = (name: string, config: DigestConfigSpec) => Promise<void>;

/**
 * A slot index on `sw`'s group, following the session's arbitration from now on (a digest sent to
 * another primary while the digests are configured is a gap too), then listening to the group's
 * digests, configured through `configure`; reconciled in the background when `reconcile`.
 * `ready` resolves once it listens.
 */
export function openVmSlotIndex(o: { readonly sw: P4Switch; readonly access: RegisterAccess; readonly clock: Clock; readonly logger: Logger; readonly reconcile: boolean; readonly configure?: ConfigureDigest }): { index: VmSlotIndex; ready: Promise<void> } {
  const index = new VmSlotIndex(o.access, o.clock, DEFAULT_VM_SLOT_INDEX_OPTIONS, o.logger);
  index.follow(o.sw.arbitration$);
  const ready = (async () => {
    index.listen(await slotNoticeDigests(o.sw, o.access.group, { maxListSize: 100, maxTimeoutNs: 1_000_000n, ackTimeoutNs: 1_000_000n }, o.configure));
    if (o.reconcile) index.reconcile().catch((e: unknown) => o.logger.warn('slot index: the background scan failed; snapshots scan the group until one succeeds', { error: e instanceof Error ? e.message : String(e) }));
  })();
  return { index, ready };
}

/**
 * Configures the group's new-flow and delta digests (through `configure`; by default written on
 * `sw` once, INSERT or MODIFY) and returns their lists as one stream for VmSlotIndex.listen.
 */
export async function slotNoticeDigests(sw: P4Switch, group: SlotGroupSpec, config: DigestConfigSpec, configure: ConfigureDigest = (name, c) => writeDigestConfig(sw, name, c)): Promise<Observable<DigestList>> {
  const names = [group.newFlow?.digest, group.delta?.digest].filter((n): n is string => n !== undefined);
  if (names.length === 0) throw new EdgePluginError('CONTRACT_MISSING', `slot group '${group.name}' declares neither @migrate_new_flow nor @migrate_delta: nothing tells the controller which VM a slot belongs to`, { annotation: '@migrate_new_flow' });
  for (const name of names) await configure(name, config);
  return merge(...names.map((n) => sw.digests$(n)));
}
