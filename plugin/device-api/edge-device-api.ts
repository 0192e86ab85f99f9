/**
 * The device API served by an edge plugin (issue 12): one switch's side of a migration over the
 * register-access layer and the plugin's P4Runtime session. Sources: a change-log tracker per
 * migration (picked and flipped at prepare: migration-prepare.ts), the snapshot read through the per-VM slot index, deltas pulled round by round
 * (tracker flip, then the slots logged in the closed round: O(changed); delta-pull.ts), the
 * final delta proven from the numbered delta digests by the tracker's count after the freeze, or
 * else read from the log (source-pause-batches.ts, numbered-final.ts). Destinations: flows placed by this switch's hashes with conditional
 * writes, VM id remapped, timestamps rebased, counters added with the final batch or with
 * activation's one atomic Write (the VM is staged here until activation, so its cells do not
 * move in between): destination-import.ts, atomic-activation.ts; activation and undo in
 * destination-activation.ts and migration-undo.ts. Every call is
 * idempotent (MigrationSessions.once) and fails with a DeviceApiFailure; options are checked at
 * creation (edge-device-api-options.ts).
 *
 * @example
 * const api = createDeviceApi(plugin, { name: 'tor-1' });
 * await api.prepare({ migrationId: 'm1', vm: '10.0.0.5' });
 */
import type { Clock } from 'p4runtime-ts';
import { Observable } from 'rxjs';
import type { Subscription } from 'rxjs';
import type { MigrationContract, SlotGroupSpec } from '../contract/index.js';
import type { EdgePlugin } from '../edge-plugin.js';
import type { RegisterAccess, SlotIndexStatus, VmSlotIndex } from '../state-access/index.js';
import { carriedOrReadClock, openVmSlotIndex } from '../state-access/index.js';
import type { AbortOptions, DeviceApi, DeviceCapabilities, ExportDeltasOptions, FootprintOptions, ImportResult, MigrationRef, StateBatch, VmFootprint } from './device-api.js';
import { checkIncomingBatch } from './batch-check.js';
import { asDeviceFailure } from './device-failure.js';
import { DeviceApiFailure, MigrationSessions } from './migration-sessions.js';
import { exportTableEntries, importTableEntries } from './table-entry-transfer.js';
import { controlOf, runsHere } from './vm-control-entry.js';
import { canReadFrozen, freezeWithReads } from './frozen-read.js';
import { ControlEntryGone } from './vm-control-entry.js';
import { heldMigrations, locked } from './migration-record.js';
import type { HeldMigrations, Migration } from './migration-record.js';
import { inOneShape } from './batch-shape.js';
import { importSlots, stageVm, takeCounters } from './destination-import.js';
import type { DestinationSide } from './destination-import.js';
import { edgeCapabilities } from './edge-capabilities.js';
import { activateDestination } from './destination-activation.js';
import { undoMigration } from './migration-undo.js';
import { abortUnremembered, activateUnremembered, cleanUnremembered } from './unremembered-undo.js';
import { removeVmHere } from './vm-removal.js';
import { vmFootprint } from './vm-footprint.js';
import { prepareTracking } from './migration-prepare.js';
import { settleNewFlows, sourceBatch, vmSlots } from './source-batch.js';
import { watchLateFlows } from './late-flows.js';
import { aheadBatch, finalBatch } from './source-pause-batches.js';
import type { SourceSide } from './source-batch.js';
import { deltaStream } from './delta-pull.js';
import { parseEdgeDeviceApiOptions } from './edge-device-api-options.js';
import type { VmCounters } from './vm-counter-transfer.js';
import type { EdgeDeviceApiOptions, ResolvedEdgeDeviceApiOptions } from './edge-device-api-options.js';

export { DEFAULT_DELTA_INTERVAL_MS, DEFAULT_FINAL_DIGEST_WAIT_MS, parseEdgeDeviceApiOptions } from './edge-device-api-options.js';
export type { EdgeDeviceApiOptions } from './edge-device-api-options.js';

class EdgeDeviceApiImpl implements EdgeDeviceApi {
  private readonly sessions: MigrationSessions;
  private readonly migrations = new Map<string, Migration>();
  /** Destinations after activation: kept so an abort of the whole migration can still undo them. */
  private readonly activated = new Map<string, Migration>();
  /** Trackers picked by prepares not finished yet (see prepare). */
  private readonly picking = new Set<number>();
  private readonly index: VmSlotIndex;
  private readonly indexReady: Promise<void>;
  private readonly name: string;
  private readonly clock: Clock;
  private readonly sessionWatch: Subscription;
  /** Tells the slot index of each session restoration (digests configured again, or not). */
  private readonly restoredWatch: Subscription;
  /** Ends the slot index's new-flow notices (Migration.late). */
  private readonly lateWatch: () => void;
  /** Whether the switch takes DATAPLANE_ATOMIC Writes (probed at the first staging). */
  private atomic: Promise<boolean> | undefined;
  private readonly side: DestinationSide;
  /** Whether the freeze sends its reads behind its Write (EdgeDeviceApiOptions.freezeReads). */
  private readonly frozenReads: boolean;
  private readonly o: ResolvedEdgeDeviceApiOptions;

  constructor(
    private readonly plugin: EdgePlugin,
    options: EdgeDeviceApiOptions,
  ) {
    const o = parseEdgeDeviceApiOptions(options, plugin.options.address);
    this.o = o;
    this.name = o.name;
    this.clock = plugin.options.scheduler;
    this.frozenReads = o.freezeReads === 'with-freeze' && canReadFrozen(plugin);
    const trackers = this.access.capabilities().trackers;
    this.sessions = new MigrationSessions(this.name, Math.max(1, trackers));
    // Configured through the plugin: written again, like its own, whenever the switch comes back.
    ({ index: this.index, ready: this.indexReady } = openVmSlotIndex({ sw: plugin.session, access: this.access, clock: this.clock, reconcile: o.reconcile, logger: plugin.options.logger.child({ component: 'vm-slot-index', device: this.name }), configure: (name, c) => plugin.configureDigest(name, c) }));
    // A switch that lost its state (a restart, or a pipeline pushed meanwhile) lost every migration's too.
    this.restoredWatch = plugin.sessionRestored$.subscribe((e) => {
      this.index.sessionRestored(e);
      if (!e.switchRestarted) return;
      for (const x of this.migrations.values()) x.lost ??= `the switch lost its registers and entries after prepare (${e.after === 'pipeline' ? 'another client pushed a pipeline' : 'it restarted, or a pipeline was pushed while another client was primary'})`;
    });
    // A flow opened just before its VM's tracking began is told of only by a new-flow digest,
    // which may come after the snapshot read the index: the next round reads it (Migration.late).
    this.lateWatch = watchLateFlows(this.index, this.migrations, { device: this.name, clock: this.clock, logger: plugin.options.logger });
    this.side = { plugin, name: this.name, index: this.index, atomic: () => this.atomic };
    // A switch restart closes the stream and loses every register and entry: a migration that
    // went on after it could commit without what it staged. Any session loss after prepare marks
    // the migration lost; every later step but abort and delete refuses (the engine rolls back).
    this.sessionWatch = plugin.session.arbitration$.subscribe((a) => {
      if (a.kind !== 'disconnected') return;
      for (const x of this.migrations.values()) x.lost ??= `the P4Runtime session to the switch was lost after prepare (${a.error.message})`;
    });
  }

  private get access(): RegisterAccess {
    return this.plugin.registerAccess;
  }

  private get group(): SlotGroupSpec {
    return this.plugin.group;
  }

  private get contract(): MigrationContract {
    return this.plugin.contract;
  }

  /** The index listening (digests configured); resolves once. */
  ready(): Promise<void> {
    return this.indexReady;
  }

  slotIndex(): SlotIndexStatus { return this.index.status(); }

  held(): HeldMigrations {
    return heldMigrations(this.migrations, this.activated.size, this.clock.now());
  }

  stop(): void {
    this.sessionWatch.unsubscribe();
    this.restoredWatch.unsubscribe();
    this.lateWatch();
    this.index.stop();
    for (const m of this.migrations.values()) {
      m.ended.next();
      m.digestSub?.unsubscribe();
    }
  }

  private mig(m: MigrationRef, evenIfLost = false): Migration {
    const x = this.migrations.get(m.migrationId);
    if (!x) throw asDeviceFailure(new Error('not prepared'), `device ${this.name}: migration ${m.migrationId}`);
    if (x.lost !== undefined && !evenIfLost) throw this.lostFailure(m, x.lost);
    return x;
  }

  /** Runs `step`; a control entry found gone (found before the pipeline watch or a reconnect told) marks the migration lost. */
  private async lostIfGone(m: MigrationRef, x: Migration, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      if (!(e instanceof ControlEntryGone)) throw e;
      x.lost ??= e.message;
      throw this.lostFailure(m, e.message);
    }
  }

  /** The refusal of a step of a migration whose state the switch lost (`why`). */
  private lostFailure(m: MigrationRef, why: string): DeviceApiFailure {
    return new DeviceApiFailure('DEVICE_UNREACHABLE', `device ${this.name}: migration ${m.migrationId}: ${why}; what it staged or tracked here may be gone (a switch restart loses it) — abort it and migrate again`);
  }

  /** Runs `fn` once per (migration, step), failures mapped to the closed reasons. */
  private once<T>(m: MigrationRef, step: string, fn: () => Promise<T>): Promise<T> {
    return this.sessions.once(m, step, async () => {
      try {
        return await fn();
      } catch (e) {
        throw asDeviceFailure(e, `device ${this.name}: ${step} of migration ${m.migrationId}`);
      }
    });
  }

  async capabilities(): Promise<DeviceCapabilities> {
    await this.indexReady;
    return edgeCapabilities(this.plugin, this.name, this.index.size);
  }

  async footprint(vm: string, o: FootprintOptions = {}): Promise<VmFootprint> {
    await this.indexReady;
    try {
      // Joins the scan under way, or starts one (after a gap, or with no background scan).
      if (o.awaitScan && !this.index.complete) await this.index.reconcile();
      return await vmFootprint({ name: this.name, plugin: this.plugin, index: this.index, migrations: this.migrations }, vm);
    } catch (e) {
      throw asDeviceFailure(e, `device ${this.name}: footprint of VM ${vm}`);
    }
  }

  prepare(m: MigrationRef): Promise<void> {
    try {
      this.sessions.open(m);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.once(m, 'prepare', async () => {
      await this.indexReady;
      const x = await prepareTracking({ plugin: this.plugin, clock: this.clock, migrations: this.migrations, activated: this.activated, picking: this.picking, frozenReads: this.frozenReads }, m.vm);
      this.migrations.set(m.migrationId, x);
    });
  }

  /** What the source's batches read through. */
  private source(): SourceSide {
    return { access: this.access, group: this.group, index: this.index, name: this.name, trustIndex: this.o.snapshotSource === 'index' };
  }

  exportSnapshot(m: MigrationRef): Promise<StateBatch> {
    return this.once(m, 'exportSnapshot', async () => {
      const x = this.mig(m);
      // Only a source exports: a VM that left this switch (a stale inventory) has nothing to move.
      if (!runsHere(controlOf(this.contract.control), x.prior)) {
        throw new DeviceApiFailure('PEER_REJECTED', `device ${this.name}: VM ${m.vm} (id ${x.vmId} here) does not run on this switch: its migration control entry marks it not active, as a migration away from it leaves it. Is the inventory's host for the VM out of date? Correct --from, or the VM's host in the inventory`);
      }
      await settleNewFlows(this.source(), x, this.clock, this.o.newFlowDigestDelayMs);
      x.snapshotRead = true;
      const read = await vmSlots(this.source(), x);
      const b = await sourceBatch(this.source(), m, x, 0, read, [], { from: x.startSeq, to: x.startSeq });
      const tableEntries = await exportTableEntries(this.plugin, x.vmId);
      x.snapshotEntries = tableEntries;
      return { ...b, tableEntries };
    });
  }

  exportDeltas(m: MigrationRef, o: ExportDeltasOptions = {}): Observable<StateBatch> {
    return new Observable<StateBatch>((sub) => {
      let x: Migration;
      try {
        x = this.mig(m);
      } catch (e) {
        sub.error(e);
        return undefined;
      }
      return deltaStream({ access: this.access, source: this.source(), clock: this.clock, intervalMs: this.o.deltaIntervalMs, reportQuiet: o.reportQuiet === true }, m, x).subscribe(sub);
    });
  }

  importStaged(m: MigrationRef, incoming: StateBatch): Promise<ImportResult> {
    // One hidden class for every batch, whatever built it: the import's optimized code stays (batch-shape.ts).
    const batch = inOneShape(incoming);
    // Two sources (N:1) number their rounds and sequences alike: the source is part of the identity.
    const step = `import:${batch.source ?? ''}:${batch.round}:${batch.coversSeq.from}:${batch.coversSeq.to}:${batch.slots.length}`;
    return this.once(m, step, async () => {
      // Checked whole before anything is written: a wrong record from a peer changes nothing.
      checkIncomingBatch(this.group, this.contract.counters.map((c) => c.counter), batch, `device ${this.name}: import of migration ${m.migrationId}`, this.contract.tables);
      const x = this.mig(m);
      if (!x.imported) {
        const { atomic } = await stageVm(this.plugin, x, `device ${this.name}: import of migration ${m.migrationId}`, this.atomic === undefined);
        this.atomic ??= atomic;
      }
      // Pinholes, counters and slots touch different state: written at once (the final batch is in
      // the pause). VmCounters are added now, or with activation where that is one atomic Write
      // (atomic-activation.ts): the VM is staged here, so its cells do not move until activation.
      const [, , installed] = await Promise.all([
        batch.tableEntries ? importTableEntries(this.plugin, x.vmId, batch.source ?? '', batch.tableEntries, x.entries) : undefined,
        batch.counters ? takeCounters(this.side, x, batch.counters) : undefined,
        importSlots(this.side, x, batch),
      ]);
      return { installed, alreadyPresent: 0 };
    });
  }

  freeze(m: MigrationRef): Promise<void> {
    return this.once(m, 'freeze', async () => {
      const x = this.mig(m);
      // Final from here on; the reads the final delta awaits are on their way when this returns,
      // so the pause need not wait one more round trip before the change log is read.
      await this.lostIfGone(m, x, () => freezeWithReads(this.plugin, x, this.frozenReads, () => locked(x, () => this.access.readTracker(x.tracker))));
      x.frozenAtMs ??= this.clock.now();
    });
  }

  pauseStarted(m: MigrationRef): void {
    const x = this.migrations.get(m.migrationId);
    if (!x) return;
    x.paused = true;
    if (!x.imported || !this.group.clock || x.pauseClock) return;
    // Carried forward from the last reading (pre-copy's imports read this clock), as the source's
    // is at the freeze (frozen-read.ts): one request fewer while the VM is stopped. Read in-band
    // when no reading is recent.
    x.pauseClock = carriedOrReadClock(this.plugin.registerAccess);
    x.pauseClock.catch(() => undefined);
  }

  pauseDelta(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch> {
    // Meant for the pause (source-pause-batches.ts).
    return this.once(m, `pauseDelta:${sinceSeq}`, async () => aheadBatch(this.source(), m, this.mig(m), sinceSeq, this.o.takeAheadMaxChanges));
  }

  finalDelta(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch> {
    return this.once(m, `finalDelta:${sinceSeq}`, async () => finalBatch({ plugin: this.plugin, source: this.source(), clock: this.clock, digestWaitMs: this.o.finalDigestWaitMs }, m, this.mig(m), sinceSeq));
  }

  activate(m: MigrationRef, carried?: VmCounters): Promise<void> {
    if (this.activated.has(m.migrationId)) return Promise.resolve();
    // Recovery: the VM runs here now, its migration started by a controller that has stopped. A
    // remembered migration holds what its final batch brought: `carried` is for one that is not.
    if (!this.migrations.has(m.migrationId)) return activateUnremembered(this.side, m.vm, carried).then(() => undefined, (e: unknown) => Promise.reject(asDeviceFailure(e, `device ${this.name}: activation of migration ${m.migrationId}`)));
    return this.once(m, 'activate', async () => {
      const x = this.mig(m);
      await this.lostIfGone(m, x, () => activateDestination(this.side, x));
      // A destination keeps its record for an abort, but never needs the source's digests.
      x.digestSub?.unsubscribe();
      this.migrations.delete(m.migrationId);
      this.activated.set(m.migrationId, x);
      this.sessions.close(m.migrationId);
      // A controller that does not say the commit came (committed(), from before that call): the
      // oldest records go, else a daemon grows by every migration it received (field walkthrough
      // 4: 1.8 MB each at 2,500 slots).
      for (const id of this.activated.keys()) {
        if (this.activated.size <= this.o.activatedKept) break;
        this.activated.delete(id);
      }
    });
  }

  committed(m: MigrationRef): Promise<void> {
    // Only an activated destination's record: a source's ends with its delete.
    this.activated.delete(m.migrationId);
    return Promise.resolve();
  }

  deleteAtSource(m: MigrationRef, graceMs: number): Promise<{ readonly deleted: number; readonly skipped: number }> {
    if (!this.migrations.has(m.migrationId) && !this.activated.has(m.migrationId)) return this.deleteUnremembered(m, graceMs);
    const run = async (x: Migration): Promise<{ readonly deleted: number; readonly skipped: number }> => {
      if (graceMs > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, graceMs));
      const r = await removeVmHere(this.side, x.vmId, await vmSlots(this.source(), x));
      this.end(m);
      return { deleted: r.slotsCleared, skipped: r.slotsSkipped };
    };
    // An activated destination (its session closed at activation): recovery cleans one that may
    // be active as a source is cleaned. Repeated, it finds no record and cleans unremembered.
    const active = this.migrations.has(m.migrationId) ? undefined : this.activated.get(m.migrationId);
    if (active) return run(active).catch((e: unknown) => Promise.reject(asDeviceFailure(e, `device ${this.name}: delete of activated migration ${m.migrationId}`)));
    return this.once(m, 'deleteAtSource', () => run(this.mig(m, true)));
  }

  /**
   * A delete at a source this plugin has no record of (a controller restarted after the commit):
   * the VM's slots there cleared conditionally, its entries removed, the VM marked not here.
   */
  private async deleteUnremembered(m: MigrationRef, graceMs: number): Promise<{ readonly deleted: number; readonly skipped: number }> {
    try {
      if (graceMs > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, graceMs));
      const r = await cleanUnremembered(this.side, m.vm);
      this.plugin.options.logger.warn('deleted a VM\'s state for a migration this plugin has no record of', { device: this.name, migrationId: m.migrationId, ...r });
      return { deleted: r.slotsCleared, skipped: 0 };
    } catch (e) {
      throw asDeviceFailure(e, `device ${this.name}: delete at source of migration ${m.migrationId}`);
    }
  }

  private end(m: MigrationRef): void {
    const x = this.migrations.get(m.migrationId) ?? this.activated.get(m.migrationId);
    x?.digestSub?.unsubscribe();
    this.migrations.get(m.migrationId)?.ended.next();
    this.migrations.delete(m.migrationId);
    this.activated.delete(m.migrationId);
    this.sessions.close(m.migrationId);
  }

  async abort(m: MigrationRef, o?: AbortOptions): Promise<void> {
    const x = this.migrations.get(m.migrationId) ?? this.activated.get(m.migrationId);
    try {
      if (x) await undoMigration(this.side, x);
      else await this.abortUnremembered(m, o?.mayBeActive === true);
    } catch (e) {
      throw asDeviceFailure(e, `device ${this.name}: abort of migration ${m.migrationId}`);
    }
    // Also without a record: a prepare that failed here opened the migration's session, which
    // would otherwise hold the VM and a place under the concurrency limit for good.
    this.end(m);
  }

  /** An abort without a record here (unremembered-undo.ts), logged when it undid something. */
  private async abortUnremembered(m: MigrationRef, mayBeActive: boolean): Promise<void> {
    const held = [...this.migrations.values(), ...this.activated.values()].map((h) => h.vmId);
    const r = await abortUnremembered(this.side, m.vm, held, mayBeActive);
    if (r.found !== 'nothing') this.plugin.options.logger.warn('undid a migration this plugin has no record of, from the VM\'s control entry', { device: this.name, migrationId: m.migrationId, ...r });
  }
}

/** The plugin's device API, with what a test or daemon needs beyond the interface. */
export interface EdgeDeviceApi extends DeviceApi {
  /** An edge plugin always offers it (nothing to offer: an empty batch). */
  pauseDelta(m: MigrationRef, sinceSeq: bigint): Promise<StateBatch>;
  /** An edge plugin always offers it. */
  footprint(vm: string, o?: FootprintOptions): Promise<VmFootprint>;
  /** Resolves once the slot index listens to the switch's digests. */
  ready(): Promise<void>;
  /** Whether the slot index is complete, and the gap that keeps it from being trusted, if any. */
  slotIndex(): SlotIndexStatus;
  /** Migration records this device holds: under way, and activated here (kept for an abort until the VM moves on, `activatedKept` at most). */
  held(): HeldMigrations;
  /** Stops the slot index and ends every delta stream. */
  stop(): void;
}

/**
 * The device API of a started edge plugin (one per plugin: it owns the switch's trackers).
 * @throws EdgePluginError NOT_RUNNING before the plugin started.
 */
export function createDeviceApi(plugin: EdgePlugin, options: EdgeDeviceApiOptions = {}): EdgeDeviceApi {
  return new EdgeDeviceApiImpl(plugin, options);
}
