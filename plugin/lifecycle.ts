/**
 * The plugin's lifecycle as explicit states with the allowed transitions, every transition logged:
 * idle → connecting → arbitrating → pipeline → probing → running → stopping → stopped, with
 * failed reachable from any working state, and running ⇄ degraded while the switch cannot be
 * served (session lost, its pipeline gone or another program). A call that the current state does
 * not allow fails with NOT_RUNNING, naming the state's reason, rather than doing half its work.
 */
import type { Logger } from 'p4runtime-ts';
import { EdgePluginError } from './errors.js';

/** The states, in the order a successful start passes them. */
export const EDGE_PLUGIN_STATES = ['idle', 'connecting', 'arbitrating', 'pipeline', 'probing', 'running', 'degraded', 'stopping', 'stopped', 'failed'] as const;
export type EdgePluginState = (typeof EDGE_PLUGIN_STATES)[number];

const NEXT: Readonly<Record<EdgePluginState, readonly EdgePluginState[]>> = Object.freeze({
  idle: ['connecting', 'stopping'],
  connecting: ['arbitrating', 'stopping', 'failed'],
  arbitrating: ['pipeline', 'stopping', 'failed'],
  pipeline: ['probing', 'stopping', 'failed'],
  probing: ['running', 'stopping', 'failed'],
  running: ['degraded', 'stopping', 'failed'],
  // degraded → degraded: the reason changed (e.g. reconnected, but the pipeline is another program).
  degraded: ['running', 'degraded', 'stopping', 'failed'],
  stopping: ['stopped'],
  stopped: [],
  failed: ['stopping'],
});

/** One transition, as health() reports the recent ones. */
export interface StateChange {
  readonly from: EdgePluginState;
  readonly to: EdgePluginState;
  readonly atMs: number;
  readonly reason?: string;
}

/** The current state and its history. */
export class Lifecycle {
  private current: EdgePluginState = 'idle';
  private why: string | undefined;
  private readonly changes: StateChange[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  get state(): EdgePluginState {
    return this.current;
  }

  /** Why the plugin is in its current state (given with the transition), e.g. what degraded it. */
  get reason(): string | undefined {
    return this.why;
  }

  /** The last transitions, oldest first (at most 32 kept). */
  history(): readonly StateChange[] {
    return [...this.changes];
  }

  /** Moves to `next`; an illegal transition is a bug and throws INTERNAL. */
  to(next: EdgePluginState, reason?: string): void {
    const from = this.current;
    if (!NEXT[from].includes(next)) throw new EdgePluginError('INTERNAL', `edge plugin: illegal state change ${from} → ${next}`);
    this.current = next;
    this.why = reason;
    this.changes.push(reason === undefined ? { from, to: next, atMs: this.now() } : { from, to: next, atMs: this.now(), reason });
    if (this.changes.length > 32) this.changes.shift();
    const fields = reason === undefined ? { from, to: next } : { from, to: next, reason };
    if (next === 'failed') this.logger.error('edge plugin state', fields);
    else if (next === 'degraded') this.logger.warn('edge plugin state', fields);
    else this.logger.info('edge plugin state', fields);
  }

  /** Throws NOT_RUNNING unless the state is one of `allowed`. */
  require(what: string, ...allowed: EdgePluginState[]): void {
    if (!allowed.includes(this.current)) {
      const why = this.why === undefined ? '' : ` (${this.why})`;
      throw new EdgePluginError('NOT_RUNNING', `${what} needs the plugin ${allowed.join(' or ')}, but it is ${this.current}${why}${this.current === 'idle' ? '; call start() first' : ''}`);
    }
  }
}
