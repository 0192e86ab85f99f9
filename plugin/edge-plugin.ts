/**
 * The edge plugin: owns one switch's P4Runtime session for the stateful pipeline. `start()`
 * connects, becomes primary, settles the pipeline (pipeline-policy.ts: pushed only to a switch with
 * none), chooses the register-access backend by probing, and runs the control loop (pinholes
 * learned from digests, removed on idle timeout); `readVmState()` reads what the switch holds for
 * one VM. When the session comes back after a disconnect the pipeline is settled again (a switch
 * that restarted empty gets it pushed; another program degrades the plugin) and
 * `sessionRestored$` says so.
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
import type { ArbitrationState, DigestConfigSpec, Logger } from 'p4runtime-ts';
import { Subject } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import { readMigrationContract, slotGroup } from './contract/index.js';
import type { MigrationContract, SlotGroupSpec } from './contract/index.js';
import { DigestConfigs } from './digest-config.js';
import { parseEdgePluginOptions } from './edge-plugin-options.js';
import type { EdgePluginOptions, ParsedEdgePluginOptions } from './edge-plugin-options.js';
import { EdgePluginError } from './errors.js';
import { Lifecycle } from './lifecycle.js';
import type { EdgePluginState } from './lifecycle.js';
import type { PinholeLearner } from './pinhole-learner.js';
import { PinholeLearners } from './pinhole-learners.js';
import { PipelineMismatchError, cookieText, settlePipeline } from './pipeline-policy.js';
import { watchPipeline } from './pipeline-watch.js';
import type { PipelineWatch } from './pipeline-watch.js';
import { chooseRegisterAccess } from './state-access/index.js';
import type { RegisterAccess } from './state-access/index.js';
import { readVmState } from './vm-state.js';
import type { ReadVmStateOptions, VmState } from './vm-state.js';
import type { EdgePlugin, EdgePluginHealth, SessionRestored } from './edge-plugin-types.js';

export type { EdgePlugin, EdgePluginHealth, SessionRestored } from './edge-plugin-types.js';

class EdgePluginImpl implements EdgePlugin {
  readonly contract: MigrationContract;
  readonly group: SlotGroupSpec;
  private readonly life: Lifecycle;
  private sw: P4Switch | undefined;
  private access: RegisterAccess | undefined;
  private readonly learners: PinholeLearners;
  /** Digests other components learn from (configureDigest), written again after every reconnect. */
  private readonly digestConfigs = new DigestConfigs();
  private subs: Subscription[] = [];
  private pipelineOutcome: EdgePluginHealth['pipeline'];
  private errorCount = 0;
  private lastError: EdgePluginHealth['lastError'];
  private stopping: Promise<void> | undefined;
  /** Aborted by stop(): a connect in progress gives up at once. */
  private readonly startAbort = new AbortController();
  private readonly restored = new Subject<SessionRestored>();
  /** What degraded the plugin (its code is what calls are refused with). */
  private degradedBy: EdgePluginError | undefined;
  private recheckTimer: unknown;
  /** The pipeline check after a reconnect, while it runs (one at a time). */
  private rechecking: Promise<void> | undefined;
  private recheckAgain = false;
  /** Why the pipeline must be checked again once primary (a disconnect, or another client was primary), until it was. */
  private recheckPending: SessionRestored['after'] | undefined;
  /** Reads the pipeline's cookie every pipelineWatchMs while running (pipeline-watch.ts). */
  private watch: PipelineWatch | undefined;

  constructor(readonly options: ParsedEdgePluginOptions) {
    this.contract = readMigrationContract(options.schema);
    this.group = slotGroup(this.contract, options.group);
    this.life = new Lifecycle(options.logger.child({ component: 'edge-plugin', address: options.address }), () => options.scheduler.now());
    this.learners = new PinholeLearners(this.contract, options, (e) => this.noteError(e));
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
      }, { signal: this.startAbort.signal });
      const sw = this.sw;
      this.subs.push(sw.arbitration$.subscribe((s) => log.info('arbitration', { state: s.kind })));

      this.advance('arbitrating');
      // A lent session is the lender's to arbitrate: waiting would only hide that it lost primacy.
      if (o.session && !sw.isPrimary) throw new P4RuntimeError('NOT_PRIMARY', `the session lent to the plugin (EdgePluginOptions.session) is not primary for device ${o.deviceId} on ${o.address}; lend a primary session, or let the plugin connect with its own election id`);
      if (!o.session) await sw.waitForPrimary(o.connectTimeoutMs);

      this.advance('pipeline');
      this.pipelineOutcome = await settlePipeline(this.pipelineInput(sw, log, 'start'));

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

      await this.learners.start(sw, log);
      this.advance('running');
      this.subs.push(sw.arbitration$.subscribe((a) => this.followSession(a, sw, log)));
      this.watch = watchPipeline({
        intervalMs: o.pipelineWatchMs,
        scheduler: o.scheduler,
        logger: log,
        seen: 'cookie' in this.pipelineOutcome ? this.pipelineOutcome.cookie : undefined,
        // A recheck under way or pending reads the pipeline itself.
        due: () => this.life.state === 'running' && sw.isPrimary && !this.rechecking && this.recheckPending === undefined,
        // The same build pushed again keeps its cookie but clears the digests' configuration.
        // A target that cannot read digest configurations back is watched by its cookie alone.
        read: async () => `${cookieText((await sw.currentPipeline('COOKIE_ONLY'))?.cookie)}${(await this.digestConfigs.held(sw).catch(() => true)) ? '' : ' (digests cleared)'}`,
        changed: () => {
          this.recheckPending = 'pipeline';
          this.recheck(sw, log);
        },
      });
    } catch (e) {
      const err = EdgePluginError.from(e, 'start()');
      this.noteError(err);
      if (this.life.state !== 'stopping' && this.life.state !== 'stopped') this.life.to('failed', err.message);
      // Also when stop() came first: what this start() opened after stop() released must go too.
      await this.release();
      throw err;
    }
  }

  private pipelineInput(sw: P4Switch, log: Logger, when: 'start' | 'reconnect'): Parameters<typeof settlePipeline>[0] {
    const o = this.options;
    return { sw, schema: o.schema, p4infoSource: o.p4infoSource, deviceConfig: o.deviceConfig, replace: o.replacePipeline, push: o.pushPipeline, address: o.address, deviceId: o.deviceId, logger: log, when };
  }

  private get serving(): boolean {
    return this.life.state === 'running' || this.life.state === 'degraded';
  }

  /** Degrades the plugin with `e` as the reason (logged once per new reason). */
  private degrade(e: EdgePluginError): void {
    if (!this.serving) return;
    this.degradedBy = e;
    if (this.life.state !== 'degraded' || this.life.reason !== e.message) this.life.to('degraded', e.message);
  }

  /**
   * Follows the session while running: a disconnect degrades the plugin (nothing can be served),
   * and the session's return as primary checks the switch's pipeline again, as at start — also
   * after another client was primary, which may have pushed another program meanwhile.
   */
  private followSession(a: ArbitrationState, sw: P4Switch, log: Logger): void {
    if (!this.serving) return;
    if (a.kind === 'disconnected') {
      this.recheckPending = 'disconnect';
      this.cancelRecheck();
      this.degrade(new EdgePluginError('NOT_RUNNING', `the P4Runtime session to the switch at ${this.options.address} was lost (${a.error.message}); ${a.retrying ? 'reconnecting' : 'not reconnecting: restart the plugin'}`));
    } else if (a.kind === 'backup') {
      this.recheckPending ??= 'backup';
      this.cancelRecheck();
      if (this.recheckPending === 'disconnect') {
        const who = a.primaryElectionId === undefined ? 'a higher election id' : `election id ${a.primaryElectionId}`;
        this.degrade(new EdgePluginError('NOT_RUNNING', `the P4Runtime session to the switch at ${this.options.address} came back as backup: another client is primary with ${who} (ours: ${a.electionId}); waiting to be primary again`));
      }
    } else if (a.kind === 'primary' && this.recheckPending !== undefined) {
      this.recheck(sw, log);
    }
  }

  private cancelRecheck(): void {
    if (this.recheckTimer !== undefined) this.options.scheduler.clearTimeout(this.recheckTimer as never);
    this.recheckTimer = undefined;
  }

  /** Settles the pipeline on the re-established session; on failure stays degraded and tries again later. */
  private recheck(sw: P4Switch, log: Logger): void {
    this.cancelRecheck();
    if (this.rechecking) {
      this.recheckAgain = true;
      return;
    }
    this.rechecking = (async () => {
      let restarted = false;
      try {
        const outcome = await settlePipeline(this.pipelineInput(sw, log, 'reconnect'));
        // Pushed by another client, the pipeline came with a cleared switch, as after a restart; a
        // push made while another client was primary shows the same way: the digests it cleared.
        restarted = outcome.pushed || this.recheckPending === 'pipeline' || !(await this.digestsHeld(sw, log));
        this.pipelineOutcome = outcome;
        if ('cookie' in outcome) this.watch?.saw(outcome.cookie);
        // A restart that failed half-way (a digest refused) left learners missing: it is done again.
        if (outcome.pushed || this.learners.incomplete) await this.learners.restart(sw, log);
        // The switch may have restarted with its pipeline pushed by someone else: its digest configuration is gone then.
        else await this.learners.configureDigests();
        // Every digest, not only the learners': the slot index and the numbered deltas learn from theirs.
        await this.digestConfigs.rewrite(sw);
        const after = this.recheckPending;
        if (!this.serving || after === undefined || !sw.isPrimary) return;
        this.recheckPending = undefined;
        this.degradedBy = undefined;
        // Pushed by this plugin only when it pushed (walkthrough 21: said of a push another client made).
        if (this.life.state !== 'running') this.life.to('running', outcome.pushed ? 'session re-established; the switch had restarted empty: pipeline pushed again' : restarted ? 'session re-established; the switch had been cleared (restarted, or its pipeline pushed by another client): digests configured again' : 'session re-established; the switch runs this plugin\'s program');
        this.restored.next({ atMs: this.options.scheduler.now(), after, switchRestarted: restarted, serving: true, reason: undefined });
      } catch (e) {
        const err = EdgePluginError.from(e, 'checking the switch\'s pipeline after the session came back');
        if (!this.serving) return;
        const known = this.life.state === 'degraded' && this.life.reason === err.message;
        this.degrade(err);
        const empty = err instanceof PipelineMismatchError && err.running === undefined;
        // The periodic re-checks of one unchanged problem are neither new errors nor new events.
        if (!known) this.noteError(err);
        if (!known) this.restored.next({ atMs: this.options.scheduler.now(), after: this.recheckPending ?? 'disconnect', switchRestarted: restarted || empty, serving: false, reason: err.message });
        if (sw.isPrimary) this.recheckTimer = this.options.scheduler.setTimeout(() => this.recheck(sw, log), this.options.pipelineRecheckMs);
      } finally {
        this.rechecking = undefined;
        if (this.recheckAgain && this.serving) {
          this.recheckAgain = false;
          if (sw.isPrimary && this.recheckPending !== undefined) this.recheck(sw, log);
        }
      }
    })();
  }

  /** Whether the switch still holds the digest configuration the plugin wrote (true when it cannot tell). */
  private async digestsHeld(sw: P4Switch, log: Logger): Promise<boolean> {
    try {
      return await this.digestConfigs.held(sw);
    } catch (e) {
      log.warn('could not read a digest configuration back; assuming the switch kept its state', { error: e instanceof Error ? e.message : String(e) });
      return true;
    }
  }

  get sessionRestored$(): Observable<SessionRestored> {
    return this.restored.asObservable();
  }

  assertServing(what: string): void {
    if (this.life.state === 'running') return;
    if (this.life.state === 'degraded' && this.degradedBy) throw new EdgePluginError(this.degradedBy.code, `${what}: the plugin is degraded: ${this.degradedBy.message}`, { cause: this.degradedBy });
    this.life.require(what, 'running');
  }

  private async release(): Promise<void> {
    this.cancelRecheck();
    this.watch?.stop();
    this.watch = undefined;
    await this.learners.stop();
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    this.access?.close();
    // A lent session goes back to its lender open.
    if (!this.options.session) await this.sw?.close();
  }

  stop(): Promise<void> {
    // A connect still waiting for the switch is abandoned, not waited out to its timeout.
    this.startAbort.abort();
    this.stopping ??= (async () => {
      if (this.life.state === 'stopped') return;
      this.life.to('stopping');
      await this.release();
      this.restored.complete();
      this.life.to('stopped');
    })();
    return this.stopping;
  }

  health(): EdgePluginHealth {
    return {
      state: this.life.state,
      reason: this.life.state === 'running' ? undefined : this.life.reason,
      primary: this.sw?.isPrimary ?? false,
      address: this.options.address,
      deviceId: String(this.options.deviceId),
      program: this.contract.program,
      pipeline: this.pipelineOutcome,
      registerAccess: this.access?.capabilities(),
      registerAccessStats: this.access?.stats(),
      pinholes: this.learners.stats(),
      errors: this.errorCount,
      lastError: this.lastError,
      history: this.life.history(),
    };
  }

  async readVmState(vm: number | bigint | string, options?: ReadVmStateOptions): Promise<VmState> {
    this.assertServing('readVmState()');
    try {
      return await readVmState({ sw: this.session, contract: this.contract, group: this.group, access: this.registerAccess }, vm, options);
    } catch (e) {
      throw EdgePluginError.from(e, `readVmState(${String(vm)})`);
    }
  }

  async settled(): Promise<void> {
    await this.learners.idle();
  }

  async configureDigest(name: string, config: DigestConfigSpec): Promise<void> {
    await this.digestConfigs.add(this.session, name, config);
  }

  pinholes(table?: string): PinholeLearner | undefined {
    return this.learners.find(table);
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
