/**
 * The edge plugin: owns one switch's P4Runtime session for the stateful pipeline. `start()`
 * connects, becomes primary, pushes the pipeline only when the cookie differs, chooses the
 * register-access backend by probing, and runs the control loop (pinholes learned from digests,
 * removed on idle timeout); `readVmState()` reads what the switch holds for one VM.
 *
 * @example
 * const plugin = createEdgePlugin({ address: '127.0.0.1:9559', deviceId: 1,
 *   p4info: 'p4/stateful_edge.p4info.txtpb', deviceConfig: 'build/stateful_edge.json' });
 * await plugin.start();
 * plugin.health().registerAccess?.backend;  // 'inband' on BMv2
 * const state = await plugin.readVmState('10.0.0.5');
 * await plugin.stop();
 */
import { P4RuntimeError, P4Switch } from 'p4runtime-ts';
import type { Subscription } from 'rxjs';
import { readMigrationContract, slotGroup } from './contract/index.js';
import type { MigrationContract, SlotGroupSpec } from './contract/index.js';
import { parseEdgePluginOptions } from './edge-plugin-options.js';
import type { EdgePluginOptions, ParsedEdgePluginOptions } from './edge-plugin-options.js';
import { EdgePluginError } from './errors.js';
import type { EdgePluginErrorCode } from './errors.js';
import { Lifecycle } from './lifecycle.js';
import type { EdgePluginState, StateChange } from './lifecycle.js';
import { PinholeLearner } from './pinhole-learner.js';
import type { PinholeStats } from './pinhole-learner.js';
import { chooseRegisterAccess } from './state-access/index.js';
import type { RegisterAccess, RegisterAccessCapabilities, RegisterAccessStats } from './state-access/index.js';
import { readVmState } from './vm-state.js';
import type { ReadVmStateOptions, VmState } from './vm-state.js';

/** What health() reports. */
export interface EdgePluginHealth {
  readonly state: EdgePluginState;
  readonly primary: boolean;
  readonly address: string;
  readonly deviceId: string;
  readonly program: string;
  /** The pipeline step's outcome, once it ran. */
  readonly pipeline: { readonly pushed: boolean; readonly cookie: string } | { readonly pushed: false; readonly skipped: string } | undefined;
  /** The chosen backend and why; undefined before probing. */
  readonly registerAccess: RegisterAccessCapabilities | undefined;
  readonly registerAccessStats: RegisterAccessStats | undefined;
  /** Pinholes learned and expired, summed over the learning tables. */
  readonly pinholes: PinholeStats;
  readonly errors: number;
  readonly lastError: { readonly code: EdgePluginErrorCode; readonly message: string; readonly atMs: number } | undefined;
  readonly history: readonly StateChange[];
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
}

const NO_PINHOLES: PinholeStats = Object.freeze({ installed: 0, alreadyPresent: 0, duplicates: 0, expired: 0, alreadyGone: 0, errors: 0, deferred: 0, lifetimeEnded: 0 });

class EdgePluginImpl implements EdgePlugin {
  readonly contract: MigrationContract;
  readonly group: SlotGroupSpec;
  private readonly life: Lifecycle;
  private sw: P4Switch | undefined;
  private access: RegisterAccess | undefined;
  private learners: PinholeLearner[] = [];
  private subs: Subscription[] = [];
  private pipelineOutcome: EdgePluginHealth['pipeline'];
  private errorCount = 0;
  private lastError: EdgePluginHealth['lastError'];
  private stopping: Promise<void> | undefined;

  constructor(readonly options: ParsedEdgePluginOptions) {
    this.contract = readMigrationContract(options.schema);
    this.group = slotGroup(this.contract, options.group);
    this.life = new Lifecycle(options.logger.child({ component: 'edge-plugin', address: options.address }), () => options.scheduler.now());
  }

  get registerAccess(): RegisterAccess {
    if (!this.access) throw new EdgePluginError('NOT_RUNNING', `registerAccess is chosen during start(); the plugin is ${this.life.state}`);
    return this.access;
  }

  get session(): P4Switch {
    if (!this.sw) throw new EdgePluginError('NOT_RUNNING', `the P4Runtime session opens during start(); the plugin is ${this.life.state}`);
    return this.sw;
  }

  private noteError(e: EdgePluginError): void {
    this.errorCount++;
    this.lastError = { code: e.code, message: e.message, atMs: this.options.scheduler.now() };
  }

  /** Moves on to `next` unless stop() intervened while the previous step ran. */
  private advance(next: EdgePluginState): void {
    if (this.life.state === 'stopping' || this.life.state === 'stopped') {
      throw new EdgePluginError('CLOSED', `start() interrupted by stop() before ${next}`);
    }
    this.life.to(next);
  }

  async start(): Promise<void> {
    this.life.require('start()', 'idle');
    const o = this.options;
    const log = o.logger.child({ component: 'edge-plugin', address: o.address });
    try {
      this.advance('connecting');
      this.sw = o.session ?? await P4Switch.connect({
        address: o.address,
        deviceId: o.deviceId,
        ...(o.electionId === undefined ? {} : { electionId: o.electionId }),
        ...(o.role === undefined ? {} : { role: o.role }),
        ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
        connectTimeoutMs: o.connectTimeoutMs,
        grpcClient: o.grpcClient,
        openStreamsAhead: o.openStreamsAhead,
        schema: o.schema,
        logger: o.logger,
      });
      const sw = this.sw;
      this.subs.push(sw.arbitration$.subscribe((s) => log.info('arbitration', { state: s.kind })));

      this.advance('arbitrating');
      // A lent session is the lender's to arbitrate: waiting would only hide that it lost primacy.
      if (o.session && !sw.isPrimary) throw new P4RuntimeError('NOT_PRIMARY', `the session lent to the plugin (EdgePluginOptions.session) is not primary for device ${o.deviceId} on ${o.address}; lend a primary session, or let the plugin connect with its own election id`);
      if (!o.session) await sw.waitForPrimary(o.connectTimeoutMs);

      this.advance('pipeline');
      if (o.deviceConfig) {
        const r = await sw.ensurePipeline({ schema: o.schema, deviceConfig: o.deviceConfig, replace: o.replacePipeline });
        this.pipelineOutcome = { pushed: r.pushed, cookie: `0x${r.cookie.toString(16)}` };
      } else {
        sw.bindSchema(o.schema);
        this.pipelineOutcome = { pushed: false, skipped: 'no deviceConfig given: the pipeline on the device is used as is' };
      }

      this.advance('probing');
      this.access = await chooseRegisterAccess({
        sw,
        contract: this.contract,
        group: this.group,
        mode: o.registerAccess,
        inband: o.inband,
        clock: o.scheduler,
        logger: log,
      });
      const caps = this.access.capabilities();
      log.info('register access chosen', { backend: caps.backend, reason: caps.reason });

      for (const table of this.contract.tables) {
        if (!table.learn && !table.idleTimeout) continue;
        const learner = new PinholeLearner({
          sw,
          table,
          idleTimeoutNs: o.pinholeIdleTimeoutNs,
          expiry: o.pinholeExpiry,
          clock: o.scheduler,
          digest: o.learnDigest,
          logger: log,
          onError: (e) => this.noteError(e),
        });
        await learner.start();
        this.learners.push(learner);
      }
      this.advance('running');
    } catch (e) {
      const err = EdgePluginError.from(e, 'start()');
      this.noteError(err);
      if (this.life.state !== 'stopping' && this.life.state !== 'stopped') this.life.to('failed', err.message);
      // Also when stop() came first: what this start() opened after stop() released must go too.
      await this.release();
      throw err;
    }
  }

  private async release(): Promise<void> {
    for (const l of this.learners) await l.stop();
    this.learners = [];
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    this.access?.close();
    // A lent session goes back to its lender open.
    if (!this.options.session) await this.sw?.close();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.life.state === 'stopped') return;
      this.life.to('stopping');
      await this.release();
      this.life.to('stopped');
    })();
    return this.stopping;
  }

  health(): EdgePluginHealth {
    const sum = { ...NO_PINHOLES } as { -readonly [K in keyof PinholeStats]: number };
    for (const l of this.learners) {
      const s = l.stats();
      for (const k of Object.keys(sum) as (keyof PinholeStats)[]) sum[k] += s[k];
    }
    return {
      state: this.life.state,
      primary: this.sw?.isPrimary ?? false,
      address: this.options.address,
      deviceId: String(this.options.deviceId),
      program: this.contract.program,
      pipeline: this.pipelineOutcome,
      registerAccess: this.access?.capabilities(),
      registerAccessStats: this.access?.stats(),
      pinholes: sum,
      errors: this.errorCount,
      lastError: this.lastError,
      history: this.life.history(),
    };
  }

  async readVmState(vm: number | bigint | string, options?: ReadVmStateOptions): Promise<VmState> {
    this.life.require('readVmState()', 'running');
    try {
      return await readVmState({ sw: this.session, contract: this.contract, group: this.group, access: this.registerAccess }, vm, options);
    } catch (e) {
      throw EdgePluginError.from(e, `readVmState(${String(vm)})`);
    }
  }

  async settled(): Promise<void> {
    await Promise.all(this.learners.map((l) => l.idle()));
  }

  pinholes(table?: string): PinholeLearner | undefined {
    return table === undefined ? this.learners[0] : this.learners.find((l) => l.table === table);
  }
}

/**
 * Creates an edge plugin; validates the options and reads the migration contract now, so bad
 * options or a P4Info that breaks the contract fail before start().
 * @throws EdgePluginError BAD_OPTIONS, CONTRACT_INVALID or CONTRACT_MISSING.
 */
export function createEdgePlugin(options: EdgePluginOptions): EdgePlugin {
  return new EdgePluginImpl(parseEdgePluginOptions(options));
}
