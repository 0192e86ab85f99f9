/**
 * The edge plugin's pinhole learners: one PinholeLearner per migratable table that learns entries
 * from digests or expires them on idle timeout, started together, restarted together when the
 * switch comes back empty (a pushed pipeline holds none of the learned entries), and summed for
 * the plugin's health.
 */
import type { Logger, P4Switch } from 'p4runtime-ts';
import type { MigrationContract } from './contract/index.js';
import type { ParsedEdgePluginOptions } from './edge-plugin-options.js';
import type { EdgePluginError } from './errors.js';
import { PinholeLearner } from './pinhole-learner.js';
import type { PinholeStats } from './pinhole-learner.js';

const NO_PINHOLES: PinholeStats = Object.freeze({ installed: 0, alreadyPresent: 0, duplicates: 0, expired: 0, alreadyGone: 0, errors: 0, deferred: 0, lifetimeEnded: 0 });

/** The learners of one plugin's migratable tables. */
export class PinholeLearners {
  private learners: PinholeLearner[] = [];
  /** A restart() that did not finish: some learners are missing until one does. */
  private unfinished = false;

  constructor(
    private readonly contract: MigrationContract,
    private readonly options: ParsedEdgePluginOptions,
    private readonly onError: (e: EdgePluginError) => void,
  ) {}

  /** Whether the last restart() failed half-way (some learners are missing). */
  get incomplete(): boolean {
    return this.unfinished;
  }

  /** Starts a learner for each table that learns or expires entries (those started are kept if one fails: stop() ends them). */
  async start(sw: P4Switch, log: Logger): Promise<void> {
    for (const table of this.contract.tables) {
      if (!table.learn && !table.idleTimeout) continue;
      const learner = this.newLearner(sw, table, log);
      await learner.start();
      this.learners.push(learner);
    }
  }

  /** After a push the switch holds none of the learned entries: learners start over, their digests configured again. */
  async restart(sw: P4Switch, log: Logger): Promise<void> {
    this.unfinished = true;
    const old = this.learners;
    this.learners = [];
    for (const l of old) await l.stop();
    await this.start(sw, log);
    this.unfinished = false;
  }

  /** Writes each learner's digest configuration again (a switch restarted with its pipeline pushed by someone else has none). */
  async configureDigests(): Promise<void> {
    for (const l of this.learners) await l.configureDigest();
  }

  /** Stops every learner. */
  async stop(): Promise<void> {
    for (const l of this.learners) await l.stop();
    this.learners = [];
  }

  /** Pinholes learned and expired, summed over the learners. */
  stats(): PinholeStats {
    const sum = { ...NO_PINHOLES } as { -readonly [K in keyof PinholeStats]: number };
    for (const l of this.learners) {
      const s = l.stats();
      for (const k of Object.keys(sum) as (keyof PinholeStats)[]) sum[k] += s[k];
    }
    return sum;
  }

  /** Resolves when every learner has handled what it received so far. */
  async idle(): Promise<void> {
    await Promise.all(this.learners.map((l) => l.idle()));
  }

  /** The learner of `table` (the first when omitted). */
  find(table?: string): PinholeLearner | undefined {
    return table === undefined ? this.learners[0] : this.learners.find((l) => l.table === table);
  }

  private newLearner(sw: P4Switch, table: MigrationContract['tables'][number], log: Logger): PinholeLearner {
    const o = this.options;
    return new PinholeLearner({
      sw,
      table,
      idleTimeoutNs: o.pinholeIdleTimeoutNs,
      expiry: o.pinholeExpiry,
      idleTimeReport: o.pinholeIdleTimeReport,
      clock: o.scheduler,
      digest: o.learnDigest,
      logger: log,
      onError: (e) => this.onError(e),
    });
  }
}
