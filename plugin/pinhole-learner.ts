/**
 * The control-plane half of the firewall for one migratable table (stateful_edge: `dyn_acl`):
 * entries learned from the table's digest are inserted with an idle timeout, and entries the
 * switch reports idle are deleted. Duplicates are expected and harmless — BMv2 repeats an idle
 * notification every ~2 s until the entry is gone, and a flow sends several digests before its
 * pinhole is in — so ALREADY_EXISTS on insert and NOT_FOUND on delete count as done. Work runs
 * strictly in arrival order, so a delete and a re-learn of one key never overtake each other.
 */
import { P4RuntimeError } from 'p4runtime-ts';
import type { DigestList, IdleTimeoutNotice, P4Update, TableEntryRead } from 'p4runtime-ts';
import type { Subscription } from 'rxjs';
import { writeDigestConfig } from './digest-config.js';
import { EdgePluginError } from './errors.js';
import { CarriedLifetimes, IDLE_SCAN_SLACK_MS } from './carried-lifetimes.js';
import { remainingIdleNs, sinceLastHitNs } from './idle-time.js';
import type { PinholeExport, PinholeImportResult, PinholeLearnerInput, PinholePhase, PinholeStats } from './pinhole-types.js';

export type { PinholeExport, PinholeImportResult, PinholeLearnerInput, PinholePhase, PinholeStats } from './pinhole-types.js';

type KeyRecord = Record<string, bigint>;

/** Learns and expires the entries of one table. */
export class PinholeLearner {
  private readonly subs: Subscription[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** Keys we know are in the table (inserted, or found present), with their key fields. */
  private readonly installed = new Map<string, KeyRecord>();
  private readonly deleting = new Set<string>();
  private readonly counts = { installed: 0, alreadyPresent: 0, duplicates: 0, expired: 0, alreadyGone: 0, errors: 0, deferred: 0, lifetimeEnded: 0 };
  /** VMs whose entries must not expire now (migration phase), by VM id. */
  private readonly phases = new Map<number, PinholePhase>();
  /** Imported entries: when their carried lifetime ends unless traffic refreshes them. */
  private readonly lifetimes: CarriedLifetimes;
  private readonly tableName: string;
  private stopped = false;

  constructor(private readonly input: PinholeLearnerInput) {
    const schema = input.sw.schema;
    if (!schema) throw new EdgePluginError('INTERNAL', 'pinhole learner: the switch has no P4Info bound');
    this.tableName = schema.table(input.table.table).name;
    this.lifetimes = new CarriedLifetimes(input.clock, () => this.enqueue(() => this.enforceDeadlines()));
  }

  /** Alias of the table this learner serves. */
  get table(): string {
    return this.input.table.table;
  }

  stats(): PinholeStats {
    return { ...this.counts };
  }

  /** Configures the learn digest (INSERT, or MODIFY when a predecessor configured it) and subscribes. */
  async start(): Promise<void> {
    const { sw, table } = this.input;
    if (table.learn) {
      await this.configureDigest();
      this.subs.push(sw.digests$(table.learn.digest).subscribe((list) => this.enqueue(() => this.learn(list))));
    }
    if (table.idleTimeout) {
      if (this.input.expiry === 'notify') this.subs.push(sw.idleTimeouts$.subscribe((n) => this.enqueue(() => this.expire(n))));
      else this.schedulePoll(this.input.expiry.pollMs);
    }
  }

  /**
   * Configures the learn digest on the switch again: after the session came back from a disconnect
   * the switch may have restarted, losing its digest configuration (INSERT, or MODIFY when present).
   */
  async configureDigest(): Promise<void> {
    const { sw, table, digest } = this.input;
    if (!table.learn) return;
    await writeDigestConfig(sw, table.learn.digest, { maxListSize: digest.maxListSize, maxTimeoutNs: digest.maxTimeoutNs, ackTimeoutNs: digest.ackTimeoutNs });
  }

  /** Stops listening; resolves when queued work has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer !== undefined) this.input.clock.clearTimeout(this.pollTimer);
    this.lifetimes.stop();
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    await this.chain;
  }

  /** Resolves when everything received so far has been handled (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  /**
   * Sets a VM's phase. `frozen` / `staged`: idle notices for its entries are ignored (the VM sends
   * nothing, so its entries look idle). Back to `normal`: carried lifetimes are enforced again.
   */
  setPhase(vmId: number, phase: PinholePhase): void {
    if (phase === 'normal') this.phases.delete(vmId);
    else this.phases.set(vmId, phase);
    if (phase === 'normal') this.enqueue(() => this.enforceDeadlines());
  }

  /** Key fields of the entries of `vmId` this learner knows to be in the table (inserted or imported here). */
  knownKeys(vmId: number): KeyRecord[] {
    const vmField = this.input.table.vmKeyField;
    return [...this.installed.values()].filter((m) => m[vmField] === BigInt(vmId));
  }

  /**
   * The VM's entries with their remaining lifetime (idle timeout minus time since the last hit).
   * With `only`, just those keys are read (one entity each: the pause reads the VM's few entries,
   * not a table other VMs fill); a read refused for any of them falls back to the whole table.
   */
  async exportEntries(vmId: number, only?: readonly KeyRecord[]): Promise<PinholeExport[]> {
    const { sw, table } = this.input;
    const schema = sw.schema;
    const handle = sw.table(table.table);
    const opts = { withIdleTime: true, withCounters: table.directCounter !== undefined };
    const byKey = only ? [...new Map(only.map((m) => [this.keyOf(m), m])).values()] : undefined;
    const read = async (): Promise<TableEntryRead[]> => {
      if (!byKey) return sw.readAll(handle.all(opts));
      if (byKey.length === 0) return [];
      try {
        return await sw.readAll(byKey.map((m) => handle.entry(m, opts)));
      } catch {
        return sw.readAll(handle.all(opts));
      }
    };
    const entries = await read();
    const now = this.input.clock.now();
    const out: PinholeExport[] = [];
    for (const e of entries) {
      const match = this.matchOf(e.match);
      if (match[table.vmKeyField] !== BigInt(vmId) || e.action === undefined) continue;
      // Not idleTimeout - elapsed as read: BMv2 wraps the remaining time at 2^32 ns (idle-time.ts).
      // An entry imported here carries no more than its carried lifetime has left (carried-lifetimes.ts).
      const remainingNs = this.lifetimes.cap(this.keyOf(match), e, this.input.idleTimeReport, now, remainingIdleNs(e, this.input.idleTimeReport));
      const counter = e.counter ? { counter: { packets: e.counter.packets, bytes: e.counter.bytes } } : {};
      out.push({ match, action: schema?.action(e.action).alias ?? e.action, remainingNs, ...counter });
    }
    return out;
  }

  /**
   * Deletes `vmId`'s entries with these keys (key fields by name; the VM key field is set to
   * `vmId`). NOT_FOUND counts as done. Returns how many were deleted here.
   */
  async removeEntries(vmId: number, matches: readonly Readonly<Record<string, bigint>>[]): Promise<number> {
    const { sw, table } = this.input;
    if (matches.length === 0) return 0;
    const doomed = matches.map((m) => ({ ...m, [table.vmKeyField]: BigInt(vmId) }));
    const handle = sw.table(table.table);
    const failed = await this.writeTolerating(doomed.map((match) => handle.delete({ match })), 'NOT_FOUND');
    let deleted = 0;
    doomed.forEach((m, i) => {
      const f = failed.get(i);
      if (f === undefined) deleted++;
      if (f === undefined || f === 'NOT_FOUND') {
        this.installed.delete(this.keyOf(m));
        this.lifetimes.forget(this.keyOf(m));
      }
    });
    return deleted;
  }

  /**
   * Installs exported entries for `vmId` (its id here), each to live no longer than it had left
   * at the source: `ageMs` is how long ago they were exported. An entry not hit by then is deleted
   * once the VM's phase is normal; a hit makes it an ordinary entry. Idempotent (ALREADY_EXISTS
   * counts as present).
   */
  async importEntries(vmId: number, entries: readonly PinholeExport[], options: { readonly ageMs: number }): Promise<PinholeImportResult> {
    const { sw, table, idleTimeoutNs, clock } = this.input;
    const now = clock.now();
    const live: { key: string; match: Record<string, bigint>; action: string; deadlineMs: number; counter: PinholeExport['counter'] }[] = [];
    let expired = 0;
    for (const e of entries) {
      const deadlineMs = now + Number(e.remainingNs / 1_000_000n) - options.ageMs;
      if (deadlineMs <= now) {
        expired++;
        continue;
      }
      const match = { ...e.match, [table.vmKeyField]: BigInt(vmId) };
      live.push({ key: this.keyOf(match), match, action: e.action, deadlineMs, counter: e.counter });
    }
    if (live.length === 0) return { installed: 0, alreadyPresent: 0, expired };
    const handle = sw.table(table.table);
    const withCounter = (c: PinholeExport['counter']): { counterData?: { packets: bigint; bytes: bigint } } => (c && table.directCounter !== undefined ? { counterData: { packets: c.packets, bytes: c.bytes } } : {});
    const failed = await this.writeTolerating(live.map((l) => handle.insert({ match: l.match, action: l.action, idleTimeout: idleTimeoutNs, ...withCounter(l.counter) })), 'ALREADY_EXISTS');
    // Entries already here (an earlier batch of this migration) take the newer counter value.
    const refresh = live.filter((l, i) => failed.get(i) === 'ALREADY_EXISTS' && l.counter !== undefined && table.directCounter !== undefined);
    if (refresh.length > 0) await sw.write(refresh.map((l) => sw.directCounter(table.table).modify(l.match, l.counter ?? {})));
    let installed = 0;
    let alreadyPresent = 0;
    live.forEach((l, i) => {
      const f = failed.get(i);
      if (f !== undefined && f !== 'ALREADY_EXISTS') return;
      if (f === undefined) installed++;
      else alreadyPresent++;
      this.installed.set(l.key, l.match);
      this.lifetimes.record(l.key, { match: l.match, vmId, atMs: now, deadlineMs: l.deadlineMs });
    });
    this.lifetimes.arm();
    return { installed, alreadyPresent, expired };
  }

  /**
   * Moves the carried deadline of entries imported earlier to what a newer export says they have
   * left (`ageMs` ago): the source's traffic after the snapshot refreshed them there, and the
   * snapshot's deadline would end a pinhole in use right after activation. The time of import
   * stays (the "hit here since" check counts from the insert). Returns how many were renewed.
   */
  renewLifetimes(vmId: number, entries: readonly PinholeExport[], options: { readonly ageMs: number }): number {
    const { table, clock } = this.input;
    const now = clock.now();
    let renewed = 0;
    for (const e of entries) {
      const key = this.keyOf({ ...e.match, [table.vmKeyField]: BigInt(vmId) });
      if (this.lifetimes.renew(key, now + Number(e.remainingNs / 1_000_000n) - options.ageMs)) renewed++;
    }
    if (renewed > 0) this.lifetimes.arm();
    return renewed;
  }

  /** Deletes imported entries of normal-phase VMs whose carried lifetime ended without a hit since import. */
  private async enforceDeadlines(): Promise<void> {
    const { sw, table, clock } = this.input;
    const now = clock.now();
    const due = this.lifetimes.takeDue(now, (vmId) => this.phases.has(vmId));
    if (due.length > 0) {
      const handle = sw.table(table.table);
      const doomed: { key: string; match: Record<string, bigint> }[] = [];
      for (const [key, d] of due) {
        const [e] = await sw.readAll(handle.entry(d.match, { withIdleTime: true }));
        // Not hit since import: its idle time covers the whole time since (BMv2 scans idle time about once a second).
        const since = e ? sinceLastHitNs(e, this.input.idleTimeReport) : undefined;
        if (e && Number((since ?? 0n) / 1_000_000n) + IDLE_SCAN_SLACK_MS >= now - d.atMs) doomed.push({ key, match: d.match });
      }
      if (doomed.length > 0) {
        const failed = await this.writeTolerating(doomed.map((d) => handle.delete({ match: d.match })), 'NOT_FOUND');
        doomed.forEach((d, i) => {
          if (failed.get(i) === undefined) this.counts.lifetimeEnded++;
          if (failed.get(i) === undefined || failed.get(i) === 'NOT_FOUND') this.installed.delete(d.key);
        });
      }
    }
    this.lifetimes.arm();
  }

  private matchOf(m: IdleTimeoutNotice['entries'][number]['match']): Record<string, bigint> {
    const match: KeyRecord = {};
    for (const f of this.input.table.keyFields) {
      const mv = m[f.name];
      match[f.name] = mv && 'value' in mv ? mv.value : 0n;
    }
    return match;
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (e) {
        this.fail(EdgePluginError.from(e, `table '${this.input.table.table}'`));
      }
    });
  }

  private fail(e: EdgePluginError): void {
    this.counts.errors++;
    this.input.logger.warn('pinhole learner error', { table: this.input.table.table, code: e.code, message: e.message });
    this.input.onError(e);
  }

  private keyOf(rec: KeyRecord): string {
    return this.input.table.keyFields.map((f) => (rec[f.name] ?? 0n).toString(16)).join(':');
  }

  private async learn(list: DigestList): Promise<void> {
    const { sw, table, idleTimeoutNs } = this.input;
    const learn = table.learn;
    if (!learn) return;
    const keys: { key: string; match: KeyRecord }[] = [];
    for (const entry of list.entries) {
      const match: KeyRecord = {};
      for (const f of table.keyFields) match[f.name] = entry[f.name] ?? 0n;
      const key = this.keyOf(match);
      if (this.installed.has(key) || keys.some((k) => k.key === key)) {
        this.counts.duplicates++;
        continue;
      }
      keys.push({ key, match });
    }
    if (keys.length === 0) return;
    const handle = sw.table(table.table);
    const updates: P4Update[] = keys.map((k) => handle.insert({ match: k.match, action: learn.action, idleTimeout: idleTimeoutNs }));
    const failed = await this.writeTolerating(updates, 'ALREADY_EXISTS');
    keys.forEach((k, i) => {
      const f = failed.get(i);
      if (f === undefined) {
        this.installed.set(k.key, k.match);
        this.counts.installed++;
      } else if (f === 'ALREADY_EXISTS') {
        this.installed.set(k.key, k.match);
        this.counts.alreadyPresent++;
      }
    });
  }

  private pollTimer: unknown;

  /** Polling expiry: reads the table with time_since_last_hit and expires what has been idle long enough. */
  private schedulePoll(ms: number): void {
    if (this.stopped) return;
    this.pollTimer = this.input.clock.setTimeout(() => {
      this.enqueue(async () => {
        const { sw, table } = this.input;
        const entries = await sw.readAll(sw.table(table.table).all({ withIdleTime: true }));
        const idle = entries.filter((e) => {
          const since = sinceLastHitNs(e, this.input.idleTimeReport);
          return e.idleTimeoutNs > 0n && since !== undefined && since >= e.idleTimeoutNs;
        });
        if (idle.length > 0) await this.expire({ timestampNs: BigInt(this.input.clock.now()) * 1_000_000n, entries: idle });
      });
      this.enqueue(async () => this.schedulePoll(ms));
    }, ms);
  }

  private async expire(notice: IdleTimeoutNotice): Promise<void> {
    const { sw, table } = this.input;
    const handle = sw.table(table.table);
    const doomed: { key: string; update: P4Update }[] = [];
    for (const e of notice.entries) {
      if (e.table !== this.tableName) continue;
      const match: KeyRecord = {};
      for (const f of table.keyFields) {
        const mv = e.match[f.name];
        match[f.name] = mv && 'value' in mv ? mv.value : 0n;
      }
      const key = this.keyOf(match);
      if (this.phases.has(Number(match[table.vmKeyField] ?? 0n))) {
        // A frozen or staged VM's entries see no traffic by design: they expire after activation.
        this.counts.deferred++;
        continue;
      }
      if (this.deleting.has(key) || doomed.some((d) => d.key === key)) continue;
      doomed.push({ key, update: handle.delete({ match }) });
    }
    if (doomed.length === 0) return;
    for (const d of doomed) this.deleting.add(d.key);
    try {
      const failed = await this.writeTolerating(doomed.map((d) => d.update), 'NOT_FOUND');
      doomed.forEach((d, i) => {
        const f = failed.get(i);
        if (f === undefined) this.counts.expired++;
        else if (f === 'NOT_FOUND') this.counts.alreadyGone++;
        if (f === undefined || f === 'NOT_FOUND') {
          this.installed.delete(d.key);
          // Idle past the table's own timeout: gone either way, its carried deadline with it.
          this.lifetimes.forget(d.key);
        }
      });
    } finally {
      for (const d of doomed) this.deleting.delete(d.key);
    }
  }

  /**
   * Writes updates; returns the code of each failed update by position. Failures with the
   * tolerated code are expected; any other failure is reported through onError.
   */
  private async writeTolerating(updates: readonly P4Update[], tolerated: string): Promise<Map<number, string>> {
    const failed = new Map<number, string>();
    try {
      await this.input.sw.write(updates);
    } catch (e) {
      const err = P4RuntimeError.from(e);
      if (err.updates.length === 0) {
        // The whole call failed (connection, permission): every update failed with its code.
        updates.forEach((_, i) => failed.set(i, err.code));
        if (err.code !== tolerated) this.fail(EdgePluginError.from(err, `writing ${updates.length} update(s) to table '${this.input.table.table}'`));
        return failed;
      }
      const others = err.updates.filter((u) => u.code !== tolerated);
      for (const u of err.updates) failed.set(u.index, u.code);
      if (others.length > 0) {
        const first = others[0];
        this.fail(new EdgePluginError('SWITCH', `table '${this.input.table.table}': ${others.length} of ${updates.length} update(s) failed, e.g. ${first?.code} ${first?.entity}: ${first?.message}`, { cause: err }));
      }
    }
    return failed;
  }
}

