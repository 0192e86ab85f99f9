/**
 * The control-plane half of the firewall for one migratable table (stateful_edge: `dyn_acl`):
 * entries learned from the table's digest are inserted with an idle timeout, and entries the
 * switch reports idle are deleted. Duplicates are expected and harmless — BMv2 repeats an idle
 * notification every ~2 s until the entry is gone, and a flow sends several digests before its
 * pinhole is in — so ALREADY_EXISTS on insert and NOT_FOUND on delete count as done. Work runs
 * strictly in arrival order, so a delete and a re-learn of one key never overtake each other.
 */
import { P4RuntimeError } from 'p4runtime-ts';
import type { Clock, DigestList, IdleTimeoutNotice, Logger, P4Switch, P4Update } from 'p4runtime-ts';
import type { Subscription } from 'rxjs';
import type { MigratableTableSpec } from './contract/index.js';
import { EdgePluginError } from './errors.js';

/** Counts of the learner's work. */
export interface PinholeStats {
  /** Entries this learner inserted. */
  readonly installed: number;
  /** Inserts answered ALREADY_EXISTS (the entry was there already). */
  readonly alreadyPresent: number;
  /** Digest entries for keys installed or being installed. */
  readonly duplicates: number;
  /** Idle entries deleted. */
  readonly expired: number;
  /** Deletes answered NOT_FOUND (someone removed the entry first). */
  readonly alreadyGone: number;
  readonly errors: number;
}

/** What the learner needs. */
export interface PinholeLearnerInput {
  readonly sw: P4Switch;
  readonly table: MigratableTableSpec;
  readonly idleTimeoutNs: bigint;
  /** Notifications, or polling of time_since_last_hit every pollMs on `clock`. */
  readonly expiry: 'notify' | { readonly pollMs: number };
  readonly clock: Clock;
  readonly digest: { readonly maxListSize: number; readonly maxTimeoutNs: bigint; readonly ackTimeoutNs: bigint };
  readonly logger: Logger;
  /** Called with every failure (the plugin keeps the last one for health()). */
  readonly onError: (e: EdgePluginError) => void;
}

type KeyRecord = Record<string, bigint>;

/** Learns and expires the entries of one table. */
export class PinholeLearner {
  private readonly subs: Subscription[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** Keys we know are in the table (inserted, or found present). */
  private readonly installed = new Set<string>();
  private readonly deleting = new Set<string>();
  private readonly counts = { installed: 0, alreadyPresent: 0, duplicates: 0, expired: 0, alreadyGone: 0, errors: 0 };
  private readonly tableName: string;
  private stopped = false;

  constructor(private readonly input: PinholeLearnerInput) {
    const schema = input.sw.schema;
    if (!schema) throw new EdgePluginError('INTERNAL', 'pinhole learner: the switch has no P4Info bound');
    this.tableName = schema.table(input.table.table).name;
  }

  stats(): PinholeStats {
    return { ...this.counts };
  }

  /** Configures the learn digest (INSERT, or MODIFY when a predecessor configured it) and subscribes. */
  async start(): Promise<void> {
    const { sw, table, digest } = this.input;
    if (table.learn) {
      const handle = sw.digest(table.learn.digest);
      const config = { maxListSize: digest.maxListSize, maxTimeoutNs: digest.maxTimeoutNs, ackTimeoutNs: digest.ackTimeoutNs };
      try {
        await sw.write(handle.configure(config));
      } catch (e) {
        if (!isCode(e, 'ALREADY_EXISTS')) throw EdgePluginError.from(e, `configuring digest '${table.learn.digest}'`);
        await sw.write(handle.modify(config)).catch((e2: unknown) => {
          throw EdgePluginError.from(e2, `re-configuring digest '${table.learn?.digest}'`);
        });
      }
      this.subs.push(sw.digests$(table.learn.digest).subscribe((list) => this.enqueue(() => this.learn(list))));
    }
    if (table.idleTimeout) {
      if (this.input.expiry === 'notify') this.subs.push(sw.idleTimeouts$.subscribe((n) => this.enqueue(() => this.expire(n))));
      else this.schedulePoll(this.input.expiry.pollMs);
    }
  }

  /** Stops listening; resolves when queued work has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer !== undefined) this.input.clock.clearTimeout(this.pollTimer);
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    await this.chain;
  }

  /** Resolves when everything received so far has been handled (tests, orderly shutdown). */
  idle(): Promise<void> {
    return this.chain;
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
        this.installed.add(k.key);
        this.counts.installed++;
      } else if (f === 'ALREADY_EXISTS') {
        this.installed.add(k.key);
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
        const idle = entries.filter((e) => e.idleTimeoutNs > 0n && e.elapsedNs !== undefined && e.elapsedNs >= e.idleTimeoutNs);
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
        if (f === undefined || f === 'NOT_FOUND') this.installed.delete(d.key);
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

function isCode(e: unknown, code: string): boolean {
  const err = P4RuntimeError.from(e);
  return err.code === code || (err.updates.length > 0 && err.updates.every((u) => u.code === code));
}
