/**
 * The edge plugin's public shapes (edge-plugin.ts implements them): the plugin itself, what its
 * health() reports, and what sessionRestored$ tells.
 */
import type { DigestConfigSpec, P4Switch } from 'p4runtime-ts';
import type { Observable } from 'rxjs';
import type { MigrationContract, SlotGroupSpec } from './contract/index.js';
import type { ParsedEdgePluginOptions } from './edge-plugin-options.js';
import type { EdgePluginErrorCode } from './errors.js';
import type { EdgePluginState, StateChange } from './lifecycle.js';
import type { PinholeLearner, PinholeStats } from './pinhole-learner.js';
import type { PipelineOutcome } from './pipeline-policy.js';
import type { RegisterAccess, RegisterAccessCapabilities, RegisterAccessStats } from './state-access/index.js';
import type { ReadVmStateOptions, VmState } from './vm-state.js';

/** What health() reports. */
export interface EdgePluginHealth {
  readonly state: EdgePluginState;
  /** Why the plugin is in that state (set when degraded or failed: what stops it serving, and the fix). */
  readonly reason: string | undefined;
  readonly primary: boolean;
  readonly address: string;
  readonly deviceId: string;
  readonly program: string;
  /** The pipeline step's outcome, once it ran. */
  readonly pipeline: PipelineOutcome | undefined;
  /** The chosen backend and why; undefined before probing. */
  readonly registerAccess: RegisterAccessCapabilities | undefined;
  readonly registerAccessStats: RegisterAccessStats | undefined;
  /** Pinholes learned and expired, summed over the learning tables. */
  readonly pinholes: PinholeStats;
  readonly errors: number;
  readonly lastError: { readonly code: EdgePluginErrorCode; readonly message: string; readonly atMs: number } | undefined;
  readonly history: readonly StateChange[];
}

/** The plugin's session came back (after a disconnect, or primary again after another client was) and the switch's pipeline was checked again. */
export interface SessionRestored {
  readonly atMs: number;
  /**
   * What preceded: the session was lost, another client was primary (and may have pushed a
   * pipeline), or the switch's pipeline cookie changed under a session that stayed primary
   * (another client pushed one in its own role: the switch's state is cleared, as by a restart).
   */
  readonly after: 'disconnect' | 'backup' | 'pipeline';
  /**
   * The switch lost every table entry, register, counter and digest configuration: it ran no
   * pipeline (restarted; the plugin pushed its deviceConfig again, if it has one), another client
   * pushed one (`after` 'pipeline'), or the digest configuration the plugin wrote was gone (a push
   * while another client was primary, or before the plugin came back). A slot index, a migration
   * under way, or anything else learned from the switch before must be rebuilt or given up.
   */
  readonly switchRestarted: boolean;
  /** Whether the plugin serves again; false: degraded, see `reason`. */
  readonly serving: boolean;
  readonly reason: string | undefined;
}

/** A running (or not yet started) edge plugin. */
export interface EdgePlugin {
  /** The migration contract read from the P4Info. */
  readonly contract: MigrationContract;
  /** The slot group this plugin serves. */
  readonly group: SlotGroupSpec;
  readonly options: ParsedEdgePluginOptions;
  /** The register-access backend (after start). @throws EdgePluginError NOT_RUNNING before. */
  readonly registerAccess: RegisterAccess;
  /** The plugin's P4Runtime session (after start), e.g. to send PacketOut as the primary. */
  readonly session: P4Switch;
  /** Connects, becomes primary, ensures the pipeline, probes register access, starts the control loop. */
  start(): Promise<void>;
  /** Stops the control loop and closes the session (not a lent one). Idempotent. */
  stop(): Promise<void>;
  health(): EdgePluginHealth;
  /** Each re-established session (after a disconnect, or primary again after another client was), once the switch's pipeline was checked again. */
  readonly sessionRestored$: Observable<SessionRestored>;
  /** Throws unless the plugin is running: NOT_RUNNING, or PIPELINE_MISMATCH while the switch runs another program, with the reason. */
  assertServing(what: string): void;
  /** One VM's slots, table entries and counters; the VM by switch-local id or by address. */
  readVmState(vm: number | bigint | string, options?: ReadVmStateOptions): Promise<VmState>;
  /** Resolves when the control loop has handled every digest and notification received so far. */
  settled(): Promise<void>;
  /**
   * The learner of a migratable table (the only one when `table` is omitted): phase-aware expiry,
   * export with remaining lifetime, import with a deadline. Undefined before start() or when the
   * program has no learned table.
   */
  pinholes(table?: string): PinholeLearner | undefined;
  /**
   * Configures digest `name` on the switch now (after start) and again each time the session comes
   * back, before the plugin runs again: a restarted switch holds no digest configuration. If that
   * write fails then, the plugin stays degraded naming the digest, and tries again.
   */
  configureDigest(name: string, config: DigestConfigSpec): Promise<void>;
}
