/**
 * A FAKE device, in memory, for the engine's orchestration tests only: it keeps flows by key
 * with a sequenced change log, the way the data plane's change tracking does, and lets a test
 * inject a failure or a stall at any call. It is not a model of a switch; end-to-end tests run the
 * engine against the sim.
 */
import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { DeviceApiFailure } from '../../plugin/index.js';
import type { AbortOptions, DeviceApi, DeviceCapabilities, DeviceFailureReason, ImportResult, MigrationRef, SlotRecordOut, SchemaDescription, StateBatch, TableEntryRecord } from '../../plugin/index.js';

export const FAKE_KEY_FIELDS = [
  { name: 'vm_addr', bits: 32 },
  { name: 'remote_addr', bits: 32 },
  { name: 'vm_port', bits: 16 },
  { name: 'remote_port', bits: 16 },
  { name: 'protocol', bits: 8 },
] as const;

type Fields = Readonly<Record<string, bigint>>;
/** A flow's key as the fake keys its maps. */
export const fakeFlowKey = (f: Fields): string =>
  FAKE_KEY_FIELDS.map((k) => String(f[k.name] ?? 0n)).join('/');
const keyOf = fakeFlowKey;

type Method = keyof DeviceApi;

/** A fake device (see the file comment). */
export class FakeDeviceApi implements DeviceApi {
  /** Flows the device serves (active). */
  readonly active = new Map<string, Fields>();
  /** Flows imported but not yet activated. */
  readonly staged = new Map<string, Fields>();
  frozen = false;
  prepared = false;
  readonly calls: Method[] = [];
  private readonly imported = new Set<string>();
  schema: Record<string, string> = { conntrack: 'ct-v1' };
  /** The slot group's registers as capabilities report them (undefined: not reported). */
  registers: { name: string; bits: number }[] | undefined = undefined;
  /** The schema in comparable form as capabilities report it (undefined: not reported). */
  schemaDescription: SchemaDescription | undefined = undefined;
  private seq = 0n;
  private exportedTo = 0n;
  private readonly log: { seq: bigint; key: string; gone?: Record<string, bigint> }[] = [];
  /** Sequences of removals already reported in a batch. */
  private readonly removalsSent = new Set<bigint>();
  private deltas$ = new Subject<StateBatch>();
  private failures = new Map<Method, { reason: DeviceFailureReason; times: number }>();
  private stalls = new Map<Method, { readonly wait: Promise<void>; readonly release: () => void }>();
  /** When set, pushed deltas skip this many sequence numbers once (a lost notification). */
  dropNextPush = false;
  /** When set, the final delta starts one sequence late (a device that loses a change). */
  lieOnFinal = false;
  /** Table entries (pinholes) the final delta carries. */
  finalEntries: TableEntryRecord[] = [];
  /** Table entries (pinholes) the snapshot carries. */
  snapshotEntries: TableEntryRecord[] = [];
  /** When set, what capabilities claim about slots instead of the truth. */
  claimedSlots: { total: number; free: number } | undefined = undefined;

  /** Present when the fake was made with `takesAhead`: the changes logged since a start, taken in the pause (DeviceApi.pauseDelta). */
  readonly pauseDelta?: (m: MigrationRef, sinceSeq: bigint) => Promise<StateBatch>;
  /** What pauseDelta took: for the final delta since `since`, the log up to `to` went ahead. */
  private tookAhead: { readonly since: bigint; readonly to: bigint } | undefined;

  /** Capabilities claim DeviceCapabilities.transferFreezes (made with `transferFreezes`). */
  private readonly transferFreezes: boolean;
  /** Capabilities claim DeviceCapabilities.abortCleansActive (made with `abortCleansActive`). */
  private readonly abortCleansActive: boolean;
  /** The options of every abort call, in order. */
  readonly abortOptions: (AbortOptions | undefined)[] = [];

  /** Present when the fake was made with `pipelines`: freeze and final delta in one call (DeviceApi.freezeFinal). */
  readonly freezeFinal?: (m: MigrationRef, sinceSeq: bigint) => Promise<StateBatch>;
  /** Present when the fake was made with `pipelines`: import and activation in one call (DeviceApi.importActivate). */
  readonly importActivate?: (m: MigrationRef, batch: StateBatch) => Promise<ImportResult>;

  constructor(
    readonly name: string,
    options: { readonly takesAhead?: boolean; readonly pipelines?: boolean; readonly transferFreezes?: boolean; readonly abortCleansActive?: boolean } = {},
  ) {
    this.transferFreezes = options.transferFreezes === true;
    this.abortCleansActive = options.abortCleansActive === true;
    if (options.pipelines) {
      // One call each, as a device over the network offers them: `calls` records one entry.
      this.freezeFinal = async (_m, sinceSeq) => {
        await this.gate('freezeFinal');
        this.doFreeze();
        return this.doFinal(sinceSeq);
      };
      this.importActivate = async (_m, batch) => {
        await this.gate('importActivate');
        const r = this.doImport(batch);
        this.doActivate();
        return r;
      };
    }
    if (options.takesAhead) {
      this.pauseDelta = async (_m, sinceSeq) => {
        await this.gate('pauseDelta');
        const b = this.batchSince(sinceSeq - 1n, 98);
        this.tookAhead = { since: sinceSeq, to: this.seq };
        return { ...b, coversSeq: { from: sinceSeq, to: sinceSeq } };
      };
    }
  }

  /** The next `times` calls of `m` fail with `reason`. */
  failNext(m: Method, reason: DeviceFailureReason = 'DEVICE_UNREACHABLE', times = 1): void {
    this.failures.set(m, { reason, times });
  }

  /** Calls of `m` do not answer until `unstall(m)` (never, without it). */
  stall(m: Method): void {
    let release: () => void = () => undefined;
    const wait = new Promise<void>((r) => (release = r));
    this.stalls.set(m, { wait, release });
  }

  /** Stalled calls of `m` go on, and later ones are not held. */
  unstall(m: Method): void {
    this.stalls.get(m)?.release();
    this.stalls.delete(m);
  }

  /** A flow's state changes in the data plane (while the VM runs). */
  change(fields: Fields): void {
    if (this.frozen) throw new Error(`fake ${this.name}: frozen, the VM is not running`);
    this.active.set(keyOf(fields), fields);
    this.seq++;
    this.log.push({ seq: this.seq, key: keyOf(fields) });
  }

  /** A flow ends in the data plane (its slot is freed): the next batch reports it removed. */
  remove(fields: Fields): void {
    if (this.frozen) throw new Error(`fake ${this.name}: frozen, the VM is not running`);
    this.active.delete(keyOf(fields));
    this.seq++;
    this.log.push({ seq: this.seq, key: keyOf(fields), gone: Object.fromEntries(FAKE_KEY_FIELDS.map((k) => [k.name, fields[k.name] ?? 0n])) });
  }

  /** Pushes the changes since the last export as one delta batch. */
  push(): void {
    const b = this.batchSince(this.exportedTo, 1);
    if (this.dropNextPush) {
      this.dropNextPush = false;
      this.exportedTo = this.seq;
      return;
    }
    this.exportedTo = this.seq;
    if (b.slots.length > 0 || b.removed.length > 0) this.deltas$.next(b);
  }

  private batchSince(from: bigint, round: number): StateBatch {
    const since = this.log.filter((e) => e.seq > from);
    const keys = new Set(since.map((e) => e.key));
    const slots: SlotRecordOut[] = [...keys].filter((k) => this.active.has(k)).map((k) => ({ fields: this.active.get(k) as Fields }));
    // A removal is reported once, by the first batch delivered with it (as the edge plugin
    // does: it forgets what it exported from a slot once it found the slot empty).
    const removed = since.flatMap((e) => (e.gone && !this.active.has(e.key) && !this.removalsSent.has(e.seq) ? [e.gone] : []));
    for (const e of since) if (e.gone) this.removalsSent.add(e.seq);
    return { migrationId: 'fake', round, slots, removed, coversSeq: { from: from + 1n, to: this.seq + 1n } };
  }

  private async gate(m: Method): Promise<void> {
    this.calls.push(m);
    const stalled = this.stalls.get(m);
    if (stalled) await stalled.wait;
    const f = this.failures.get(m);
    if (f && f.times > 0) {
      f.times--;
      throw new DeviceApiFailure(f.reason, `fake ${this.name}: ${m} failed (${f.reason})`);
    }
  }

  async capabilities(): Promise<DeviceCapabilities> {
    await this.gate('capabilities');
    return { device: this.name, apiVersion: 1, stateClasses: ['tcp-state'], schema: this.schema, slots: this.claimedSlots ?? { total: 1000, free: 1000 - this.active.size }, registerAccess: 'inband', deltas: ['push', 'pull'], maxConcurrentMigrations: 4, keyFields: FAKE_KEY_FIELDS, ...(this.transferFreezes ? { transferFreezes: true } : {}), ...(this.abortCleansActive ? { abortCleansActive: true } : {}), ...(this.registers ? { registers: this.registers } : {}), ...(this.schemaDescription ? { schemaDescription: this.schemaDescription } : {}) };
  }
  async prepare(_m: MigrationRef): Promise<void> {
    await this.gate('prepare');
    this.prepared = true;
  }
  async exportSnapshot(_m: MigrationRef): Promise<StateBatch> {
    await this.gate('exportSnapshot');
    this.exportedTo = this.seq;
    return { migrationId: 'fake', round: 0, slots: [...this.active.values()].map((fields) => ({ fields })), removed: [], coversSeq: { from: this.seq + 1n, to: this.seq + 1n }, ...(this.snapshotEntries.length > 0 ? { tableEntries: this.snapshotEntries } : {}) };
  }
  exportDeltas(_m: MigrationRef): Observable<StateBatch> {
    this.calls.push('exportDeltas');
    return this.deltas$.asObservable();
  }
  async importStaged(_m: MigrationRef, batch: StateBatch): Promise<ImportResult> {
    await this.gate('importStaged');
    return this.doImport(batch);
  }
  private doImport(batch: StateBatch): ImportResult {
    let installed = 0;
    for (const k of batch.removed) this.staged.delete(keyOf(k));
    for (const r of batch.slots) {
      this.staged.set(keyOf(r.fields), r.fields);
      this.imported.add(keyOf(r.fields));
      installed++;
    }
    return { installed, alreadyPresent: 0 };
  }
  /** Nothing to read ahead: the fake has no data-plane clock. */
  pauseStarted(_m: MigrationRef): void {}

  async freeze(_m: MigrationRef): Promise<void> {
    await this.gate('freeze');
    this.doFreeze();
  }
  private doFreeze(): void {
    this.frozen = true;
    this.endDeltas();
  }

  /** The delta stream ends at the freeze and at an abort, as a device's does. */
  private endDeltas(): void {
    this.deltas$.complete();
    this.deltas$ = new Subject<StateBatch>();
  }
  async finalDelta(_m: MigrationRef, sinceSeq: bigint): Promise<StateBatch> {
    await this.gate('finalDelta');
    return this.doFinal(sinceSeq);
  }
  private doFinal(sinceSeq: bigint): StateBatch {
    const ahead = this.tookAhead?.since === sinceSeq ? this.tookAhead.to : undefined;
    const b = this.batchSince((ahead ?? sinceSeq - 1n) + (this.lieOnFinal ? 1n : 0n), 99);
    this.exportedTo = this.seq;
    const withEntries = this.finalEntries.length > 0 ? { ...b, tableEntries: this.finalEntries } : b;
    // What went ahead is proven with the rest: the batch covers the log from `sinceSeq`.
    return ahead === undefined ? withEntries : { ...withEntries, coversSeq: { from: sinceSeq, to: b.coversSeq.to } };
  }
  async activate(_m: MigrationRef): Promise<void> {
    await this.gate('activate');
    this.doActivate();
  }
  private doActivate(): void {
    for (const [k, v] of this.staged) this.active.set(k, v);
    this.staged.clear();
  }
  async deleteAtSource(_m: MigrationRef, _graceMs: number): Promise<{ deleted: number; skipped: number }> {
    await this.gate('deleteAtSource');
    const deleted = this.active.size;
    this.active.clear();
    return { deleted, skipped: 0 };
  }
  async abort(_m: MigrationRef, o?: AbortOptions): Promise<void> {
    this.abortOptions.push(o);
    await this.gate('abort');
    this.staged.clear();
    for (const k of this.imported) this.active.delete(k);
    this.imported.clear();
    this.frozen = false;
    this.prepared = false;
    this.endDeltas();
  }
}
